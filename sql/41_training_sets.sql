-- pg_asof install script, part 41: training-set functions (state is in part
-- 40).  Code part: re-run by every upgrade script.

CREATE OR REPLACE FUNCTION asof.build_training_set(name text, spine regclass, at text,
                                        feature_views text[])
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'asof_build_training_set'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof.build_training_set(text, regclass, text, text[]) IS
'Builds a training set: creates table "name" (schema-qualified, or in the first schema of search_path like CREATE TABLE; an existing table is an error) holding every column of "spine" (a table or view) plus one column per feature named <view>__<feature>, one row per spine row (duplicates stay, spine rows without any visible source row get NULL features and count 0).  "at" is a spine column or an SQL expression over the spine giving the prediction time t (timestamp, timestamptz, or date for timestamp views = midnight; evaluated with TimeZone UTC).  "feature_views" names the views; each view''s entity columns must exist in the spine with the same names and types.  Feature values follow docs/point-in-time.md exactly.  Returns the number of rows written and records the build in asof.training_sets.  Errors: 42P07 table exists, or is being built by another transaction that has not yet ended (refused at once, without waiting), 42703 spine lacks an entity column, 42804 type mismatch (entity column, or timestamp vs timestamptz), 42701/42622 column name collision or too long, 22023 bad argument.  Progress NOTICEs every asof.progress_interval seconds; cancellable.  Reads run with the caller''s privileges.  Parallel workers (up to max_parallel_maintenance_workers) compute the views, or parts of a view''s entities, when the average view reads at least min_parallel_table_scan_size and every source can be read by a worker (docs/engine.md, Parallel builds); the training set is the same bytes as a serial build''s.  Under a train/test split (G5, docs/leakage-guard.md): 0A000 for a source that reads a table with a split through a shape that would give values over a partial set of rows (aggregate, DISTINCT, LIMIT, window function, set operation, outer join or subquery over it, event time that is not its time column, a function, a foreign table).';

CREATE OR REPLACE FUNCTION asof.features_at(feature_view text, entity text[], at timestamptz)
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'asof_features_at'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION asof.features_at(text, text[], timestamptz) IS
'Features of one entity of a timestamptz feature view as of prediction time "at", through the same engine as asof.build_training_set: jsonb object {feature name: value}.  "entity" holds one text value per entity column, in the view''s entity order (converted with each column type''s input function).  at => now() gives what production serves now.  NULL at gives NULL features and count 0.  Errors: 42804 when the view''s time type is timestamp (convert with "at AT TIME ZONE ''<the zone the view''s data was recorded in>''", which keeps its wall clock; ''UTC'' is right only for data recorded in UTC), 22023 when the number of entity values differs from the view''s entity columns, 42704 unknown view.  Under a train/test split (G5, docs/leakage-guard.md): 0A000 for a source that reads a table with a split through a shape that would give values over a partial set of rows (aggregate, DISTINCT, LIMIT, window function, set operation, outer join or subquery over it, event time that is not its time column, a function, a foreign table).';

CREATE OR REPLACE FUNCTION asof.features_at(feature_view text, entity text[], at timestamp)
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'asof_features_at'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION asof.features_at(text, text[], timestamp) IS
'Features of one entity of a timestamp (without time zone) feature view as of prediction time "at", through the same engine as asof.build_training_set: jsonb object {feature name: value}.  "entity" holds one text value per entity column, in the view''s entity order.  at => localtimestamp gives what production serves now (for views whose times are in the session''s zone).  NULL at gives NULL features and count 0.  Errors: 42804 when the view''s time type is timestamptz, 22023 when the number of entity values differs from the view''s entity columns, 42704 unknown view.  Under a train/test split (G5, docs/leakage-guard.md): 0A000 for a source that reads a table with a split through a shape that would give values over a partial set of rows (aggregate, DISTINCT, LIMIT, window function, set operation, outer join or subquery over it, event time that is not its time column, a function, a foreign table).';
