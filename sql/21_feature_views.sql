-- pg_asof install script, part 21: feature view functions, the listing view
-- and the event triggers (state is in part 20).  Code part: re-run by every
-- upgrade script, so every statement here is idempotent.

CREATE OR REPLACE FUNCTION asof.create_feature_view(
    name text,
    source regclass,
    entity name[],
    event_time text,
    features text[],
    available_time text DEFAULT NULL,
    cadence interval DEFAULT NULL,
    anchor timestamptz DEFAULT '2000-01-01 00:00:00+00',
    delay interval DEFAULT '0',
    ttl interval DEFAULT NULL)
RETURNS void
    AS 'MODULE_PATHNAME', 'asof_create_feature_view'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof.create_feature_view(text, regclass, name[], text, text[], text, interval, timestamptz, interval, interval) IS
'Register a feature view (the caller owns it).  name: text without "__"; source: table or view the caller can read; entity: key column names of the source (one or more); event_time, available_time (default: event_time): a column or SQL expression over the source row of type timestamp or timestamptz (both the same), no subquery, aggregate, window, set-returning or volatile function; per-row values only (functions outside pg_catalog must be IMMUTABLE; no now(), CURRENT_DATE or other clock or session value), evaluated with TimeZone = UTC and search_path = pg_catalog, pg_temp; features: "agg(expr) over W [as name]" (count, sum, avg, min, max, stddev, var), "count(*) over W", "last(expr)", "last_nonnull(expr)"; cadence (NULL: continuous), anchor, delay, ttl (NULL: never expires): absolute intervals without months (a day is 24 hours).  Effective time k(t) = t - delay (continuous) or the latest tick anchor + n*cadence with tick + delay <= t.  Errors (nothing is stored): invalid parameter value (22023) for bad intervals, syntax error (42601), invalid name (42602), undefined column (42703), datatype mismatch (42804), undefined function (42883) for a type without btree ordering, grouping error (42803), windowing error (42P20), feature not supported (0A000) for subqueries, set-returning or volatile functions, invalid object definition (42P17) for an expression that is not a per-row value, name too long (42622), duplicate column (42701), duplicate object (42710), insufficient privilege (42501).  See docs/feature-views.md.  Also, under a train/test split already declared (G5, docs/leakage-guard.md): 0A000 for a source that reads a table with a split through a shape that would give values over a partial set of rows (aggregate, DISTINCT, LIMIT, window function, set operation, outer join or subquery over it, event time that is not its time column, a function, a foreign table).';

CREATE OR REPLACE FUNCTION asof.drop_feature_view(name text) RETURNS void
    AS 'MODULE_PATHNAME', 'asof_drop_feature_view'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof.drop_feature_view(text) IS
'Remove feature view name (text) and its helper view.  Only its owner (or a member of the owning role) or a superuser may.  Errors: undefined object (42704) when there is none, insufficient privilege (42501).';

CREATE OR REPLACE FUNCTION asof._feature_view_check(name text) RETURNS void
    AS 'MODULE_PATHNAME', 'asof_feature_view_check'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION asof._feature_view_check(text) IS
'Internal: load feature view name (text) and validate it against its source as creation does; raises the error that creation would raise.  Called by the ddl_command_end event trigger after a source is altered.';

CREATE OR REPLACE FUNCTION asof.describe_feature_view(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'asof_describe_feature_view'
    LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION asof.describe_feature_view(text) IS
'The exact rule feature view name (text) follows, in words and formulas, as text: the effective time k(t) with its cadence, anchor and delay, the visibility predicate with the actual expressions, each feature with its window [k(t) - W, k(t)) and result type, the TTL rule.  Errors: undefined object (42704).';

CREATE OR REPLACE FUNCTION asof.feature_view_sql(feature_view text, spine regclass, at text) RETURNS text
    AS 'MODULE_PATHNAME', 'asof_feature_view_sql'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION asof.feature_view_sql(text, regclass, text) IS
'The plain-SQL query (text) that computes feature view feature_view (text) for every row of spine (regclass) at prediction time at (text: a spine column or expression of the view''s time type, or date for timestamp views): one row per spine row, every spine column in order, then one column "<view>__<feature>" per feature.  The reference formulation the engine is tested against; independent of the session TimeZone; entity keys compare under the source column''s collation.  Errors: undefined object (42704), undefined column (42703) when the spine lacks an entity column, datatype mismatch (42804) for an entity column of another type or a time type mix, duplicate column (42701) when a feature column name is a spine column too.  Under a train/test split that is not unsealed in the transaction, a source reading the protected table is refused (0A000), and the returned query checks again when it runs (asof.assert_exact_source).';

CREATE OR REPLACE FUNCTION asof.run_in_utc(query text) RETURNS SETOF record
    LANGUAGE plpgsql VOLATILE
    SET TimeZone = 'UTC'
    AS $$ BEGIN RETURN QUERY EXECUTE query; END $$;
COMMENT ON FUNCTION asof.run_in_utc(text) IS
'Run query (text) with TimeZone = UTC and return its rows (setof record: give a column definition list).  asof.feature_view_sql wraps its query in it when an expression of the feature view (or the prediction time) depends on TimeZone.';

CREATE OR REPLACE VIEW asof.feature_views AS
SELECT r.name,
       r.source,
       r.entity,
       r.event_time,
       coalesce(r.available_time, r.event_time) AS available_time,
       r.time_type,
       r.cadence,
       r.anchor,
       r.delay,
       r.ttl,
       ARRAY(SELECT f.definition FROM asof.feature_view_feature_registry f
              WHERE f.feature_view = r.name ORDER BY f.position) AS features,
       c.relowner::regrole AS owner,
       r.created
  FROM asof.feature_view_registry r
  LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = 'asof_feature_views'
  LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = r.name;
COMMENT ON VIEW asof.feature_views IS
'pg_asof: every feature view: name, source, entity columns, event_time and available_time expressions as written, time type, cadence (NULL: continuous), anchor, delay, ttl (NULL: never expires), features (canonical definitions "agg(expr) over W as name"), owner, creation time.';
GRANT SELECT ON asof.feature_views TO PUBLIC;

-- A helper view dropped by DROP ... CASCADE (of the source, a column, the
-- owning role's objects): the feature view goes with it.
CREATE OR REPLACE FUNCTION asof._feature_views_sql_drop() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
  DELETE FROM asof.feature_view_feature_registry f
   USING pg_event_trigger_dropped_objects() d
   WHERE d.object_type = 'view' AND d.schema_name = 'asof_feature_views'
     AND f.feature_view = d.object_name;
  DELETE FROM asof.feature_view_registry r
   USING pg_event_trigger_dropped_objects() d
   WHERE d.object_type = 'view' AND d.schema_name = 'asof_feature_views'
     AND r.name = d.object_name;
END $$;
COMMENT ON FUNCTION asof._feature_views_sql_drop() IS
'Internal event trigger function: removes the registration of every feature view whose helper view was dropped.';
DROP EVENT TRIGGER IF EXISTS asof_feature_views_sql_drop;
CREATE EVENT TRIGGER asof_feature_views_sql_drop ON sql_drop
    EXECUTE FUNCTION asof._feature_views_sql_drop();
COMMENT ON EVENT TRIGGER asof_feature_views_sql_drop IS
'pg_asof: removes the registration of a feature view whose helper view asof_feature_views.<name> was dropped (DROP TABLE ... CASCADE of its source, DROP OWNED, ...).';

-- After an ALTER: a renamed source column would leave the definitions as
-- written (and the spines, which match entity columns by name) behind, so
-- renaming a used column is refused; every other change of a source, or of
-- a function, operator, type or collation an expression uses (e.g. ALTER
-- FUNCTION ... STABLE), is refused when a feature view would no longer
-- load.  Renames of functions, types and schemas are simply followed: the
-- loader regenerates the expressions from the helper view's query tree.
CREATE OR REPLACE FUNCTION asof._feature_views_ddl_end() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
  v record;
  msg text;
BEGIN
  -- the helper view of a registered feature view replaced: the loader reads
  -- the expressions from it (asof.create_feature_view creates it before the
  -- registration, and pg_restore before the registry rows)
  FOR v IN SELECT r.name
             FROM pg_event_trigger_ddl_commands() d
             JOIN pg_class hv ON hv.oid = d.objid
             JOIN pg_namespace hn ON hn.oid = hv.relnamespace AND hn.nspname = 'asof_feature_views'
             JOIN asof.feature_view_registry r ON r.name = hv.relname
            WHERE d.classid = 'pg_class'::regclass AND d.command_tag = 'CREATE VIEW'
  LOOP
    RAISE EXCEPTION 'cannot replace view "asof_feature_views.%" of feature view "%"', v.name, v.name
      USING ERRCODE = 'object_not_in_prerequisite_state',
            DETAIL = 'The expressions of the feature view are read from it.',
            HINT = 'Drop the feature view with asof.drop_feature_view() and create it again.';
  END LOOP;
  -- a used column renamed (the command names the column: objsubid)
  FOR v IN SELECT DISTINCT r.name, c.relname, a.attname
             FROM pg_event_trigger_ddl_commands() d
             JOIN pg_class c ON c.oid = d.objid
             JOIN pg_attribute a ON a.attrelid = d.objid AND a.attnum = d.objsubid
             JOIN pg_depend dep ON dep.refclassid = 'pg_class'::regclass
                               AND dep.refobjid = d.objid AND dep.refobjsubid = d.objsubid
                               AND dep.classid = 'pg_rewrite'::regclass
             JOIN pg_rewrite rw ON rw.oid = dep.objid
             JOIN pg_class hv ON hv.oid = rw.ev_class
             JOIN pg_namespace hn ON hn.oid = hv.relnamespace AND hn.nspname = 'asof_feature_views'
             JOIN asof.feature_view_registry r ON r.name = hv.relname
            WHERE d.classid = 'pg_class'::regclass AND d.objsubid > 0
            ORDER BY r.name
  LOOP
    RAISE EXCEPTION 'cannot alter relation "%" because feature view "%" uses it', v.relname, v.name
      USING ERRCODE = 'dependent_objects_still_exist',
            DETAIL = format('The renamed column "%s" is used by the feature view, whose definition and spines refer to it by name.', v.attname),
            HINT = format('Drop the feature view first with asof.drop_feature_view(%L).', v.name);
  END LOOP;
  -- any other change of a source
  FOR v IN SELECT r.name, c.relname
             FROM asof.feature_view_registry r
             JOIN pg_class c ON c.oid = r.source
            WHERE r.source IN (SELECT d.objid FROM pg_event_trigger_ddl_commands() d
                                WHERE d.classid = 'pg_class'::regclass)
            ORDER BY r.name
  LOOP
    BEGIN
      PERFORM asof._feature_view_check(v.name);
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
      RAISE EXCEPTION 'cannot alter relation "%" because feature view "%" uses it', v.relname, v.name
        USING ERRCODE = 'dependent_objects_still_exist',
              DETAIL = format('After the change the feature view would fail: %s.', msg),
              HINT = format('Drop the feature view first with asof.drop_feature_view(%L).', v.name);
    END;
  END LOOP;
  -- a function, operator, type or collation an expression uses
  FOR v IN SELECT DISTINCT r.name, d.object_type, d.object_identity
             FROM pg_event_trigger_ddl_commands() d
             JOIN pg_depend dep ON dep.refclassid = d.classid AND dep.refobjid = d.objid
                               AND dep.classid = 'pg_rewrite'::regclass
             JOIN pg_rewrite rw ON rw.oid = dep.objid
             JOIN pg_class hv ON hv.oid = rw.ev_class
             JOIN pg_namespace hn ON hn.oid = hv.relnamespace AND hn.nspname = 'asof_feature_views'
             JOIN asof.feature_view_registry r ON r.name = hv.relname
            WHERE d.classid <> 'pg_class'::regclass
            ORDER BY r.name
  LOOP
    BEGIN
      PERFORM asof._feature_view_check(v.name);
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
      RAISE EXCEPTION 'cannot alter % % because feature view "%" uses it', v.object_type, v.object_identity, v.name
        USING ERRCODE = 'dependent_objects_still_exist',
              DETAIL = format('After the change the feature view would fail: %s.', msg),
              HINT = format('Drop the feature view first with asof.drop_feature_view(%L).', v.name);
    END;
  END LOOP;
END $$;
COMMENT ON FUNCTION asof._feature_views_ddl_end() IS
'Internal event trigger function: refuses replacing the helper view of a feature view, renaming a source column a feature view uses, and any ALTER of a source, function, operator, type or collation after which a feature view would no longer load.';
DROP EVENT TRIGGER IF EXISTS asof_feature_views_ddl_end;
CREATE EVENT TRIGGER asof_feature_views_ddl_end ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER VIEW', 'ALTER MATERIALIZED VIEW', 'ALTER FOREIGN TABLE', 'CREATE VIEW',
                 'ALTER FUNCTION', 'CREATE FUNCTION', 'ALTER OPERATOR', 'ALTER TYPE',
                 'ALTER DOMAIN', 'ALTER COLLATION')
    EXECUTE FUNCTION asof._feature_views_ddl_end();
COMMENT ON EVENT TRIGGER asof_feature_views_ddl_end IS
'pg_asof: refuses an ALTER that would break a feature view: CREATE OR REPLACE VIEW of its helper view, renaming a source column it uses, or a change of its source or of a function, operator, type or collation it uses after which it would no longer load (e.g. ALTER FUNCTION ... STABLE, or CREATE OR REPLACE FUNCTION ... STABLE).';
