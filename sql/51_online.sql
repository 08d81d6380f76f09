-- pg_asof install script, part 51: materialization and serving (state is in
-- part 50).  Code part: re-run by every upgrade script.  docs/online.md.

CREATE OR REPLACE FUNCTION asof.now() RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'asof_now'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION asof.now() IS
'"Now" for the production side (timestamptz): the superuser-only setting asof.clock when set (tests and replays only; a timestamptz literal, UTC when it has no offset), else now().  What asof.materialize, asof.run_due_materializations and asof.online_features(feature_view, entity) take as the current time.';

CREATE OR REPLACE FUNCTION asof.materialize(feature_view text, tick timestamptz DEFAULT NULL,
                                            replace boolean DEFAULT false, validate boolean DEFAULT false)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'asof_materialize'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof.materialize(text, timestamptz, boolean, boolean) IS
'Computes the snapshot of tick "tick" (timestamptz view; default NULL: the latest tick at or before now, asof.clock when set) of scheduled feature view feature_view (text) with the engine of asof.build_training_set, writes it into the view''s online table asof_online.<view> (created on first use) in the caller''s transaction, records it in asof.materializations, keeps the newest 48 ticks, and returns the number of entities written (bigint).  replace (boolean) recomputes a published tick (logged).  validate (boolean): the snapshot is first staged in a temporary table and checked against the view''s values at the 28 ticks before (asof._validate_snapshot, docs/validation.md), with the caller''s privileges (the caller needs INSERT on asof.validation_alerts); with a high-severity alert it is not published (a WARNING, the alerts in asof.validation_alerts, 0 returned) and the previous tick keeps being served.  Caller: the view''s owner or a superuser.  Errors: 22023 tick not on the schedule (hint: the nearest ticks) or in the future, 55000 continuous view (use asof.features_at), 42710 tick already published, 42804 tick of the other time type, 42501 not the owner, or a tick after the split of a protected source while asof.guard is on, 42704 unknown view.';

CREATE OR REPLACE FUNCTION asof.materialize(feature_view text, tick timestamp,
                                            replace boolean DEFAULT false, validate boolean DEFAULT false)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'asof_materialize'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof.materialize(text, timestamp, boolean, boolean) IS
'As asof.materialize(text, timestamptz, boolean, boolean), for a timestamp (without time zone) feature view: tick (timestamp) is a wall-clock tick; NULL means the latest tick at or before now() AT TIME ZONE ''UTC''.';


CREATE OR REPLACE FUNCTION asof.online_features(feature_view text, entity text[], at timestamptz)
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'asof_online_features'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION asof.online_features(text, text[], timestamptz) IS
'What production serves at "at" (timestamptz view) for one entity of scheduled feature view feature_view (text): jsonb {feature name: value}, the keys and JSON value types of asof.features_at, read from the newest retained snapshot whose tick is at or before k(at) (its publication time tick + delay is at or before "at"), TTL applied against "at".  entity (text[]): one value per entity column, in the view''s order.  An entity absent from the snapshot gets count 0 and NULL otherwise.  NULL at gives count 0 and NULL.  Needs SELECT on the online table (asof.grant_online_read).  Errors: P0002 no retained snapshot at or before k(at), 42804 at of the other time type, 22023 wrong number of entity values, 55000 continuous view or no online table yet, 42704 unknown view.';

CREATE OR REPLACE FUNCTION asof.online_features(feature_view text, entity text[], at timestamp)
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'asof_online_features'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION asof.online_features(text, text[], timestamp) IS
'As asof.online_features(text, text[], timestamptz), for a timestamp (without time zone) feature view; "at" (timestamp) is a wall-clock time.';

CREATE OR REPLACE FUNCTION asof.online_features(feature_view text, entity text[])
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'asof_online_features_now'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION asof.online_features(text, text[]) IS
'asof.online_features at "now": now() for a timestamptz view, now() AT TIME ZONE ''UTC'' for a timestamp view (asof.clock replaces now() when set); never depends on the session''s TimeZone.';

CREATE OR REPLACE FUNCTION asof.online_features_batch(feature_view text, entities text[],
                                                      at timestamptz, served anyelement)
    RETURNS SETOF anyelement
    AS 'MODULE_PATHNAME', 'asof_online_features_batch'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION asof.online_features_batch(text, text[], timestamptz, anyelement) IS
'Serves many entities of scheduled feature view feature_view (text) at "at" (timestamptz view) in one call: one row per entity, in input order, of type served (pass NULL::asof_online."<view>__served"): the entity columns, "tick" (the tick served: older than k(at) when a materialization did not run) and one column per feature named and typed as in the training set (<view>__<feature>).  entities (text[]): a 2-D array with one row of entity values per entity, or a 1-D array for a view with one entity column.  Same rules and errors as asof.online_features, plus 42804 when served is not the view''s served type.';

CREATE OR REPLACE FUNCTION asof.online_features_batch(feature_view text, entities text[],
                                                      at timestamp, served anyelement)
    RETURNS SETOF anyelement
    AS 'MODULE_PATHNAME', 'asof_online_features_batch'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION asof.online_features_batch(text, text[], timestamp, anyelement) IS
'As asof.online_features_batch(text, text[], timestamptz, anyelement), for a timestamp (without time zone) feature view.';

CREATE OR REPLACE FUNCTION asof.grant_online_read(feature_view text, role regrole)
    RETURNS void
    AS 'MODULE_PATHNAME', 'asof_grant_online_read'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof.grant_online_read(text, regrole) IS
'Lets role (regrole) read the online table of feature view feature_view (text), and so serve it with asof.online_features and asof.online_features_batch, and read its serving log (GRANT SELECT on asof_online.<view> and asof_online."<view>__log"; nobody is granted writes on the log).  Caller: the view''s owner or a superuser.  Errors: 55000 no online table yet (materialize first), 42501 not the owner, 42704 unknown view.';

CREATE OR REPLACE FUNCTION asof.revoke_online_read(feature_view text, role regrole)
    RETURNS void
    AS 'MODULE_PATHNAME', 'asof_revoke_online_read'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof.revoke_online_read(text, regrole) IS
'Takes back asof.grant_online_read(feature_view, role) (REVOKE SELECT).  Same caller and errors.';

-- Dropping a feature view (its helper view) drops its online table, served
-- type and registry rows.
CREATE OR REPLACE FUNCTION asof._online_sql_drop() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
  o record;
BEGIN
  FOR o IN SELECT t.feature_view, t.online_table, t.served_type, t.log_table
             FROM asof.online_tables t
             JOIN pg_catalog.pg_event_trigger_dropped_objects() d
               ON d.object_type OPERATOR(pg_catalog.=) 'view'
              AND d.schema_name OPERATOR(pg_catalog.=) 'asof_feature_views'
              AND d.object_name OPERATOR(pg_catalog.=) t.feature_view
  LOOP
    EXECUTE pg_catalog.format('DROP TABLE IF EXISTS %s', o.online_table);
    EXECUTE pg_catalog.format('DROP TABLE IF EXISTS %s', o.log_table);
    EXECUTE pg_catalog.format('DROP TYPE IF EXISTS %s', o.served_type);
    DELETE FROM asof.online_tables WHERE feature_view OPERATOR(pg_catalog.=) o.feature_view;
  END LOOP;
  DELETE FROM asof.materializations m
   USING pg_catalog.pg_event_trigger_dropped_objects() d
   WHERE d.object_type OPERATOR(pg_catalog.=) 'view'
     AND d.schema_name OPERATOR(pg_catalog.=) 'asof_feature_views'
     AND m.feature_view OPERATOR(pg_catalog.=) d.object_name;
  DELETE FROM asof.materialization_schedule s
   USING pg_catalog.pg_event_trigger_dropped_objects() d
   WHERE d.object_type OPERATOR(pg_catalog.=) 'view'
     AND d.schema_name OPERATOR(pg_catalog.=) 'asof_feature_views'
     AND s.feature_view OPERATOR(pg_catalog.=) d.object_name;
END $$;
REVOKE EXECUTE ON FUNCTION asof._online_sql_drop() FROM PUBLIC;
COMMENT ON FUNCTION asof._online_sql_drop() IS
'Internal event trigger function: drops the online table, serving log table and served type of every feature view whose helper view was dropped, and its materialization and schedule records.';
DROP EVENT TRIGGER IF EXISTS asof_online_sql_drop;
CREATE EVENT TRIGGER asof_online_sql_drop ON sql_drop
    EXECUTE FUNCTION asof._online_sql_drop();
COMMENT ON EVENT TRIGGER asof_online_sql_drop IS
'pg_asof: drops the online table of a feature view that is dropped (asof.drop_feature_view, DROP TABLE ... CASCADE of its source, DROP OWNED, ...).';
