-- pg_asof install script, part 00: the schema.
--
-- The install script is assembled from sql/NN_*.sql in name order (see the
-- Makefile).  The control file sets schema = pg_catalog, so every object
-- here is schema-qualified; schema "asof" is created by this script, which
-- makes it an extension member that DROP EXTENSION removes.

\echo Use "CREATE EXTENSION pg_asof" to load this file. \quit

CREATE SCHEMA asof;
COMMENT ON SCHEMA asof IS 'pg_asof: point-in-time feature views, training sets and the train/test leakage guard';
GRANT USAGE ON SCHEMA asof TO PUBLIC;

CREATE FUNCTION asof.version() RETURNS text
    AS 'MODULE_PATHNAME', 'asof_version'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION asof.version() IS
'Version of the loaded pg_asof library (text, SemVer).  Equal to the extension version when the installed library and SQL script match.';

-- Load the library now, whatever check_function_bodies says (pg_restore turns
-- it off): a server without pg_asof in shared_preload_libraries refuses here.
DO $$ BEGIN PERFORM asof.version(); END $$;
-- pg_asof install script, part 20: feature view definitions.
--
-- Registry tables (dumped by pg_dump as extension configuration), the
-- functions that write them (C, src/feature_view.c), the listing view
-- asof.feature_views, the plain-SQL reference formulation
-- (src/reference_sql.c) and the event triggers that keep registrations in
-- step with their sources.  The contract is docs/point-in-time.md.

-- Schema of the per-feature-view helper views (see asof.create_feature_view):
-- each feature view owns a view asof_feature_views.<name> over the columns
-- of its source it uses, so PostgreSQL's dependency tracking protects them.
CREATE SCHEMA asof_feature_views;
COMMENT ON SCHEMA asof_feature_views IS
'pg_asof: one helper view per feature view, selecting the source columns and expressions it uses, so that PostgreSQL refuses to drop or retype them and DROP TABLE ... CASCADE removes the feature view; pg_asof reads the expressions from its query tree (following renames).  Managed by asof.create_feature_view and asof.drop_feature_view; never queried.';
GRANT USAGE ON SCHEMA asof_feature_views TO PUBLIC;

CREATE TABLE asof.feature_view_registry (
    name text PRIMARY KEY,
    source regclass NOT NULL,
    entity name[] NOT NULL,
    event_time text NOT NULL,
    event_time_sql text NOT NULL,
    available_time text,
    available_time_sql text,
    time_type regtype NOT NULL,
    cadence interval,
    anchor timestamptz NOT NULL,
    delay interval NOT NULL,
    ttl interval,
    created timestamptz NOT NULL
);
COMMENT ON TABLE asof.feature_view_registry IS
'pg_asof: one row per feature view (written only by asof.create_feature_view and asof.drop_feature_view).  event_time, available_time: the expressions as written; *_sql: the same, normalized (schema-qualified, ISO/UTC constants) as the engine evaluates them.  available_time NULL: the event time.  cadence NULL: continuous.  ttl NULL: no expiry.';

CREATE TABLE asof.feature_view_feature_registry (
    feature_view text NOT NULL,
    position integer NOT NULL,
    name text NOT NULL,
    definition text NOT NULL,
    aggregate text NOT NULL,
    argument text,
    argument_sql text,
    window_size interval,
    PRIMARY KEY (feature_view, position),
    UNIQUE (feature_view, name)
);
COMMENT ON TABLE asof.feature_view_feature_registry IS
'pg_asof: one row per feature of a feature view, in order.  definition: canonical text, e.g. "avg(delay) over 1h as avg_delay_1h".  aggregate: count(*), count, sum, avg, min, max, stddev, var, last or last_nonnull.  argument: as written (NULL for count(*)); argument_sql: normalized.  window_size: W in microseconds (NULL for last values).';

SELECT pg_catalog.pg_extension_config_dump('asof.feature_view_registry', '');
SELECT pg_catalog.pg_extension_config_dump('asof.feature_view_feature_registry', '');
GRANT SELECT ON asof.feature_view_registry, asof.feature_view_feature_registry TO PUBLIC;

CREATE FUNCTION asof.create_feature_view(
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
'Register a feature view (the caller owns it).  name: text without "__"; source: table or view the caller can read; entity: key column names of the source (one or more); event_time, available_time (default: event_time): a column or SQL expression over the source row of type timestamp or timestamptz (both the same), no subquery, aggregate, window, set-returning or volatile function; per-row values only (functions outside pg_catalog must be IMMUTABLE; no now(), CURRENT_DATE or other clock or session value), evaluated with TimeZone = UTC and search_path = pg_catalog, pg_temp; features: "agg(expr) over W [as name]" (count, sum, avg, min, max, stddev, var), "count(*) over W", "last(expr)", "last_nonnull(expr)"; cadence (NULL: continuous), anchor, delay, ttl (NULL: never expires): absolute intervals without months (a day is 24 hours).  Effective time k(t) = t - delay (continuous) or the latest tick anchor + n*cadence with tick + delay <= t.  Errors (nothing is stored): invalid parameter value (22023) for bad intervals, syntax error (42601), invalid name (42602), undefined column (42703), datatype mismatch (42804), undefined function (42883) for a type without btree ordering, grouping error (42803), windowing error (42P20), feature not supported (0A000) for subqueries, set-returning or volatile functions, invalid object definition (42P17) for an expression that is not a per-row value, name too long (42622), duplicate column (42701), duplicate object (42710), insufficient privilege (42501).  See docs/feature-views.md.';

CREATE FUNCTION asof.drop_feature_view(name text) RETURNS void
    AS 'MODULE_PATHNAME', 'asof_drop_feature_view'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof.drop_feature_view(text) IS
'Remove feature view name (text) and its helper view.  Only its owner (or a member of the owning role) or a superuser may.  Errors: undefined object (42704) when there is none, insufficient privilege (42501).';

CREATE FUNCTION asof._feature_view_check(name text) RETURNS void
    AS 'MODULE_PATHNAME', 'asof_feature_view_check'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION asof._feature_view_check(text) IS
'Internal: load feature view name (text) and validate it against its source as creation does; raises the error that creation would raise.  Called by the ddl_command_end event trigger after a source is altered.';

CREATE FUNCTION asof.describe_feature_view(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'asof_describe_feature_view'
    LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION asof.describe_feature_view(text) IS
'The exact rule feature view name (text) follows, in words and formulas, as text: the effective time k(t) with its cadence, anchor and delay, the visibility predicate with the actual expressions, each feature with its window [k(t) - W, k(t)) and result type, the TTL rule.  Errors: undefined object (42704).';

CREATE FUNCTION asof.feature_view_sql(feature_view text, spine regclass, at text) RETURNS text
    AS 'MODULE_PATHNAME', 'asof_feature_view_sql'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION asof.feature_view_sql(text, regclass, text) IS
'The plain-SQL query (text) that computes feature view feature_view (text) for every row of spine (regclass) at prediction time at (text: a spine column or expression of the view''s time type, or date for timestamp views): one row per spine row, every spine column in order, then one column "<view>__<feature>" per feature.  The reference formulation the engine is tested against; independent of the session TimeZone; entity keys compare under the source column''s collation.  Errors: undefined object (42704), undefined column (42703) when the spine lacks an entity column, datatype mismatch (42804) for an entity column of another type or a time type mix, duplicate column (42701) when a feature column name is a spine column too.';

CREATE FUNCTION asof.run_in_utc(query text) RETURNS SETOF record
    LANGUAGE plpgsql VOLATILE
    SET TimeZone = 'UTC'
    AS $$ BEGIN RETURN QUERY EXECUTE query; END $$;
COMMENT ON FUNCTION asof.run_in_utc(text) IS
'Run query (text) with TimeZone = UTC and return its rows (setof record: give a column definition list).  asof.feature_view_sql wraps its query in it when an expression of the feature view (or the prediction time) depends on TimeZone.';

CREATE VIEW asof.feature_views AS
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
CREATE FUNCTION asof._feature_views_sql_drop() RETURNS event_trigger
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
CREATE FUNCTION asof._feature_views_ddl_end() RETURNS event_trigger
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
CREATE EVENT TRIGGER asof_feature_views_ddl_end ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER VIEW', 'ALTER MATERIALIZED VIEW', 'ALTER FOREIGN TABLE', 'CREATE VIEW',
                 'ALTER FUNCTION', 'CREATE FUNCTION', 'ALTER OPERATOR', 'ALTER TYPE',
                 'ALTER DOMAIN', 'ALTER COLLATION')
    EXECUTE FUNCTION asof._feature_views_ddl_end();
COMMENT ON EVENT TRIGGER asof_feature_views_ddl_end IS
'pg_asof: refuses an ALTER that would break a feature view: CREATE OR REPLACE VIEW of its helper view, renaming a source column it uses, or a change of its source or of a function, operator, type or collation it uses after which it would no longer load (e.g. ALTER FUNCTION ... STABLE, or CREATE OR REPLACE FUNCTION ... STABLE).';
-- pg_asof install script, part 30: the leakage guard.
--
-- Owns: the registry of protected tables and split markers
-- (asof.protected_registry), the audit log (asof.holdout_log), the view
-- asof.protected_tables and the functions protect, split, unseal and
-- unprotect.  The guard itself (what is refused and hidden) is in C
-- (src/guard*.c); these functions validate their arguments, then change the
-- registry only through the C entry points asof._register, asof._set_split,
-- asof._unregister and asof._unseal, which check that the caller owns the
-- table, write as the extension's owner and invalidate cached plans.
-- Contract: docs/leakage-guard.md.

-- The registry: one row per protected table.
CREATE TABLE asof.protected_registry (
    tbl regclass PRIMARY KEY,
    time_column name NOT NULL,
    label_columns name[] NOT NULL,
    future_columns name[] NOT NULL,
    entity_columns name[] NOT NULL,
    label_time text,
    test_from text,
    registered_by name NOT NULL,
    registered_at timestamptz NOT NULL,
    split_by name,
    split_at timestamptz,
    rls_was_enabled boolean NOT NULL,
    permissive_policy_added boolean NOT NULL,
    linked_to regclass
);
COMMENT ON TABLE asof.protected_registry IS
'pg_asof leakage guard: one row per protected table (time, label, future and entity columns, label-time expression) and its split marker test_from (NULL: no split yet; else the cutoff as ISO 8601 text of the time column''s type).  Written only by asof.protect, asof.split and asof.unprotect; read it through asof.protected_tables.';
COMMENT ON COLUMN asof.protected_registry.test_from IS
'The split marker: rows with time < test_from are training rows, rows with time >= test_from or NULL time are held out.  ISO 8601 text (as to_json prints the time column''s type); NULL before the split.';
COMMENT ON COLUMN asof.protected_registry.linked_to IS
'For a training set built on a protected spine: the spine.  Its split follows the spine''s; it cannot be split or unprotected on its own; only the spine''s owner unseals it.';
COMMENT ON COLUMN asof.protected_registry.rls_was_enabled IS
'Whether row-level security was enabled on the table before protect (restored by unprotect).';
COMMENT ON COLUMN asof.protected_registry.permissive_policy_added IS
'Whether protect added the permissive policy asof_guard_permit because the table had no permissive policy of its own (dropped by unprotect).';

-- The audit log: every protect, split, moved split, unseal and unprotect.
-- Unseal records are written by a separate background worker in a
-- transaction of their own, so they survive a rollback of the caller.
CREATE TABLE asof.holdout_log (
    at timestamptz NOT NULL,
    tbl regclass NOT NULL,
    table_name text NOT NULL,
    event text NOT NULL CHECK (event IN ('protect', 'split', 'move split', 'unseal', 'unprotect')),
    role name NOT NULL,
    detail text
);
COMMENT ON TABLE asof.holdout_log IS
'pg_asof leakage guard audit log: one row per protect, split, move split, unseal (detail: the reason) and unprotect, with the role and the time.  Unseal rows are committed by a background worker before asof.unseal returns, so they survive a rollback.';

SELECT pg_catalog.pg_extension_config_dump('asof.protected_registry', '');
SELECT pg_catalog.pg_extension_config_dump('asof.holdout_log', '');
REVOKE ALL ON asof.protected_registry, asof.holdout_log FROM PUBLIC;
GRANT SELECT ON asof.protected_registry, asof.holdout_log TO PUBLIC;

CREATE VIEW asof.protected_tables AS
SELECT r.tbl AS table_name,
       r.time_column,
       r.label_columns,
       r.future_columns,
       r.entity_columns,
       r.label_time,
       r.test_from,
       r.test_from IS NOT NULL AS has_split,
       r.registered_by,
       r.registered_at,
       r.split_by,
       r.split_at,
       r.linked_to AS training_set_of,
       (SELECT count(*) FROM asof.holdout_log l
         WHERE l.tbl = r.tbl AND l.event = 'unseal'
           AND l.at >= r.registered_at) AS openings
  FROM asof.protected_registry r;
COMMENT ON VIEW asof.protected_tables IS
'Protected tables: time, label, future and entity columns, label-time expression, split marker (test_from, NULL before the split), who registered and split them and when, training_set_of (for a training set built on a protected spine: the spine, whose split it follows), and openings: how many times the held-out rows were opened with asof.unseal since registration.';
GRANT SELECT ON asof.protected_tables TO PUBLIC;

-- C entry points (src/guard_api.c, src/guard_unseal.c).  Each checks that
-- the caller owns the table; the public functions below call them after
-- validating their arguments.
CREATE FUNCTION asof.guard_loaded() RETURNS boolean
    AS 'MODULE_PATHNAME', 'asof_guard_loaded'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION asof.guard_loaded() IS
'True when the pg_asof library is loaded through shared_preload_libraries (the guard''s hooks are active).  Used by the restrictive policy asof_guard_deny on protected tables: without the library, calling it fails, so the tables fail closed.';

CREATE FUNCTION asof._check_label_time(tbl regclass, label_time text) RETURNS void
    AS 'MODULE_PATHNAME', 'asof_check_label_time'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION asof._check_label_time(regclass, text) IS
'Internal: errors unless label_time is an expression over the columns of tbl of type timestamp, timestamptz or date without subqueries, aggregates, window functions or volatile functions.';

CREATE FUNCTION asof._expr_reads_columns(tbl regclass, expr pg_node_tree, cols name[]) RETURNS boolean
    AS 'MODULE_PATHNAME', 'asof_expr_reads_columns'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION asof._expr_reads_columns(regclass, pg_node_tree, name[]) IS
'Internal (asof.protect): true when a stored expression over tbl (a row-level security policy''s USING or WITH CHECK) reads one of cols, the whole row, or contains a subquery; false for NULL.';

CREATE FUNCTION asof._register(tbl regclass, time_column name, label_columns name[],
        future_columns name[], entity_columns name[], label_time text,
        rls_was_enabled boolean, permissive_policy_added boolean) RETURNS void
    AS 'MODULE_PATHNAME', 'asof_register'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof._register(regclass, name, name[], name[], name[], text, boolean, boolean) IS
'Internal (called by asof.protect): the owner of tbl adds its registry row and audit record, its label and future columns'' statistics are deleted, cached plans are invalidated.';

CREATE FUNCTION asof._set_split(tbl regclass, test_from text) RETURNS text
    AS 'MODULE_PATHNAME', 'asof_set_split'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof._set_split(regclass, text) IS
'Internal (called by asof.split): the owner of tbl sets its split marker (canonical text), records it and invalidates cached plans.  Returns the previous marker or NULL.';

CREATE FUNCTION asof._unregister(tbl regclass) RETURNS void
    AS 'MODULE_PATHNAME', 'asof_unregister'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof._unregister(regclass) IS
'Internal (called by asof.unprotect): the owner of tbl removes its registry row, records it and invalidates cached plans.';

CREATE FUNCTION asof._split_report(tbl regclass, test_from text,
        OUT entity_keys_on_both_sides bigint, OUT duplicate_rows bigint)
    AS 'MODULE_PATHNAME', 'asof_split_report'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof._split_report(regclass, text) IS
'Internal (called by asof.split): for a cutoff, the number of distinct entity keys found on both sides (NULL without entity columns) and the number of held-out rows equal to a training row on every column except time and labels.  Owner only.';

-- Validation shared by the public functions: tbl is a table the caller owns.
CREATE FUNCTION asof._check_owner(tbl regclass) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
  kind "char";
  owner oid;
BEGIN
  SELECT c.relkind, c.relowner INTO kind, owner FROM pg_catalog.pg_class c WHERE c.oid = tbl;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'relation with OID % does not exist', tbl::oid USING ERRCODE = 'undefined_table';
  END IF;
  IF kind NOT IN ('r', 'p') THEN
    RAISE EXCEPTION '"%" is not a table', tbl USING ERRCODE = 'wrong_object_type',
      DETAIL = 'Only tables and partitioned tables can be protected.';
  END IF;
  IF NOT pg_catalog.pg_has_role(owner, 'USAGE') THEN
    RAISE EXCEPTION 'must be owner of table %', tbl USING ERRCODE = 'insufficient_privilege',
      DETAIL = 'Only the owner of a table can protect it, split it, unseal it or unprotect it.';
  END IF;
END $$;
COMMENT ON FUNCTION asof._check_owner(regclass) IS
'Internal: errors unless tbl is a table or partitioned table owned by the current role.';

CREATE FUNCTION asof._members(tbl regclass) RETURNS TABLE (relid regclass)
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
  WITH RECURSIVE m(relid) AS (
    SELECT tbl
    UNION
    SELECT i.inhrelid::regclass FROM pg_catalog.pg_inherits i JOIN m ON i.inhparent = m.relid)
  SELECT relid FROM m
$$;
COMMENT ON FUNCTION asof._members(regclass) IS
'Internal (asof.protect): tbl and all its partitions and inheritance children, at any depth; one row each.';

CREATE FUNCTION asof._expression_index_columns(tbl regclass, target integer) RETURNS SETOF text
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
  SELECT format('ALTER INDEX %s ALTER COLUMN %s SET STATISTICS %s', i.indexrelid::regclass, p.n, target)
    FROM pg_catalog.pg_index i
    CROSS JOIN LATERAL pg_catalog.generate_series(1, i.indnatts) AS p(n)
   WHERE i.indrelid = tbl AND i.indexprs IS NOT NULL AND i.indkey[p.n - 1] = 0
$$;
COMMENT ON FUNCTION asof._expression_index_columns(regclass, integer) IS
'Internal (asof.protect, asof.unprotect): one ALTER INDEX ... SET STATISTICS target statement per expression column of an index on tbl (expression indexes get statistics of their own at ANALYZE).';

CREATE FUNCTION asof.protect(tbl regclass, time_column name, label_columns name[],
        future_columns name[] DEFAULT '{}', entity_columns name[] DEFAULT '{}',
        label_time text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  c name;
  ttype regtype;
  seen name[] := '{}';
  rls boolean;
  permissive boolean;
  trig name;
  stmt text;
BEGIN
  IF tbl IS NULL OR time_column IS NULL OR label_columns IS NULL
     OR future_columns IS NULL OR entity_columns IS NULL THEN
    RAISE EXCEPTION 'tbl, time_column, label_columns, future_columns and entity_columns cannot be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  PERFORM asof._check_owner(tbl);
  IF EXISTS (SELECT 1 FROM asof.protected_registry r WHERE r.tbl = protect.tbl) THEN
    RAISE EXCEPTION 'table "%" is already protected', tbl USING ERRCODE = 'duplicate_object',
      HINT = format('Call asof.unprotect(%L) first to change its registration.', tbl::text);
  END IF;
  SELECT a.atttypid INTO ttype FROM pg_catalog.pg_attribute a
   WHERE a.attrelid = tbl AND a.attname = time_column AND a.attnum > 0 AND NOT a.attisdropped;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'column "%" of relation "%" does not exist', time_column, tbl USING ERRCODE = 'undefined_column';
  END IF;
  IF ttype NOT IN ('timestamp'::regtype, 'timestamptz'::regtype, 'date'::regtype) THEN
    RAISE EXCEPTION 'time column "%" of table "%" is of type %', time_column, tbl, ttype
      USING ERRCODE = 'datatype_mismatch',
      DETAIL = 'The time column must be of type timestamp, timestamp with time zone or date.';
  END IF;
  IF cardinality(label_columns) + cardinality(future_columns) = 0 THEN
    RAISE EXCEPTION 'no label or future columns given for table "%"', tbl USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Name the label columns (and the columns only known after the row''s time) to protect.';
  END IF;
  FOREACH c IN ARRAY label_columns || future_columns || entity_columns LOOP
    IF c IS NULL THEN
      RAISE EXCEPTION 'column names cannot be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = tbl
                     AND a.attname = c AND a.attnum > 0 AND NOT a.attisdropped) THEN
      RAISE EXCEPTION 'column "%" of relation "%" does not exist', c, tbl USING ERRCODE = 'undefined_column';
    END IF;
  END LOOP;
  FOREACH c IN ARRAY label_columns || future_columns LOOP
    IF c = time_column THEN
      RAISE EXCEPTION 'column "%" cannot be both the time column and a label or future column', c
        USING ERRCODE = 'invalid_parameter_value',
        DETAIL = 'The time column decides which rows are held out; it is read by every query after the split.';
    END IF;
    IF c = ANY (seen) THEN
      RAISE EXCEPTION 'column "%" is named twice among the label and future columns', c
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF c = ANY (entity_columns) THEN
      RAISE EXCEPTION 'column "%" cannot be both an entity column and a label or future column', c
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
    seen := seen || c;
  END LOOP;
  IF label_time IS NOT NULL THEN
    PERFORM asof._check_label_time(tbl, label_time);
  END IF;
  -- The table and its partitions and children (all protected with it).
  SELECT t.tgname INTO trig FROM pg_catalog.pg_trigger t
   WHERE t.tgrelid IN (SELECT m.relid FROM asof._members(tbl) m) AND NOT t.tgisinternal LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'table "%" cannot be protected while it or one of its partitions or children has triggers', tbl
      USING ERRCODE = 'object_in_use',
      DETAIL = format('Trigger "%s" would receive whole rows, labels and held-out rows included.', trig),
      HINT = 'Drop those triggers first.';
  END IF;
  SELECT r.rulename INTO trig FROM pg_catalog.pg_rewrite r
   WHERE r.ev_class IN (SELECT m.relid FROM asof._members(tbl) m) AND r.rulename <> '_RETURN' LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'table "%" cannot be protected while it or one of its partitions or children has rules', tbl
      USING ERRCODE = 'object_in_use',
      DETAIL = format('Rule "%s" can read rows that statements touch, labels and held-out rows included.', trig),
      HINT = 'Drop those rules first.';
  END IF;
  -- A policy whose expressions read a label or future column (or the whole
  -- row) would evaluate them on every row, before the split too.
  SELECT p.polname INTO trig
    FROM pg_catalog.pg_policy p
   WHERE p.polrelid IN (SELECT m.relid FROM asof._members(tbl) m)
     AND (asof._expr_reads_columns(p.polrelid, p.polqual, label_columns || future_columns)
          OR asof._expr_reads_columns(p.polrelid, p.polwithcheck, label_columns || future_columns))
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'table "%" cannot be protected while its policy "%" reads a label or future column, the whole row or a subquery', tbl, trig
      USING ERRCODE = 'object_in_use',
      DETAIL = 'A row-level security policy is evaluated on every row, held-out rows included, before the split too.',
      HINT = 'Drop the policy or rewrite it without label and future columns first.';
  END IF;
  -- Forced row-level security would run the table's policies on the
  -- owner's statements, asof.split's internal queries included.
  SELECT m.relid::text INTO stmt FROM asof._members(tbl) m
    JOIN pg_catalog.pg_class c3 ON c3.oid = m.relid WHERE c3.relforcerowsecurity LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'table "%" cannot be protected while row-level security is forced on "%"', tbl, stmt
      USING ERRCODE = 'object_in_use',
      DETAIL = 'Forced policies run on the owner''s statements, asof.split''s internal queries over every row included.',
      HINT = format('ALTER TABLE %s NO FORCE ROW LEVEL SECURITY first.', stmt);
  END IF;
  -- A partition or child is protected through its parent: queries and
  -- ANALYZE of an unprotected parent would read its rows unfiltered.
  SELECT i.inhparent::regclass::text INTO stmt FROM pg_catalog.pg_inherits i WHERE i.inhrelid = tbl LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'table "%" cannot be protected because it is a partition or child of table "%"', tbl, stmt
      USING ERRCODE = 'object_in_use',
      DETAIL = 'Queries and ANALYZE of the parent read the rows of its partitions and children.',
      HINT = 'Protect the top-level parent instead (its partitions and children are protected with it).';
  END IF;

  -- Fail closed without the library: a restrictive policy only the loaded
  -- guard lets pass (row-level security applies to roles other than the
  -- owner and superusers), and a permissive one beside it when the table
  -- has none of its own, or the restrictive policy would deny everything.
  SELECT c2.relrowsecurity INTO rls FROM pg_catalog.pg_class c2 WHERE c2.oid = tbl;
  permissive := NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid = tbl AND p.polpermissive);
  EXECUTE format('CREATE POLICY asof_guard_deny ON %s AS RESTRICTIVE USING (asof.guard_loaded())', tbl);
  IF permissive THEN
    EXECUTE format('CREATE POLICY asof_guard_permit ON %s AS PERMISSIVE USING (true) WITH CHECK (true)', tbl);
  END IF;
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);

  -- Statistics: no new ones for label and future columns (the C side
  -- deletes the existing ones, extended statistics data included).
  FOREACH c IN ARRAY label_columns || future_columns LOOP
    EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET STATISTICS 0', tbl, c);
  END LOOP;
  FOR stmt IN
    SELECT format('ALTER STATISTICS %I.%I SET STATISTICS 0', n.nspname, s.stxname) FROM pg_catalog.pg_statistic_ext s
      JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
     WHERE s.stxrelid = tbl
       AND (s.stxexprs IS NOT NULL
            OR EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid = tbl AND a.attnum = ANY (s.stxkeys)
                          AND a.attname = ANY (label_columns || future_columns)))
  LOOP
    EXECUTE stmt;
  END LOOP;

  -- Expression indexes get statistics of their own at ANALYZE: none for
  -- any expression column (they may compute a label).
  FOR stmt IN SELECT asof._expression_index_columns(tbl, 0) LOOP
    EXECUTE stmt;
  END LOOP;

  PERFORM asof._register(tbl, time_column, label_columns, future_columns, entity_columns,
                         label_time, rls, permissive);
END $$;
COMMENT ON FUNCTION asof.protect(regclass, name, name[], name[], name[], text) IS
'Registers a protected table (owner only).  tbl: the table; time_column: its prediction time (timestamp, timestamptz or date); label_columns: the labels; future_columns: values only known after the row''s time; entity_columns: the entity key (used by asof.split to report keys on both sides); label_time: an expression over the row saying when its label became known (default: the time column; no subqueries or volatile functions).  Until asof.split declares a split, every read of a label or future column is refused.  Also deletes and stops the statistics of those columns and adds the row-level-security policies asof_guard_deny (and asof_guard_permit when the table has no permissive policy).  Errors: not the owner (42501), unknown column (42703), time column of another type (42804), a label that is the time column or named twice (22023), already protected (42710), a table with triggers (55006).  Returns nothing.';

CREATE FUNCTION asof.split(tbl regclass, test_from text) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  reg asof.protected_registry;
  ttype regtype;
  canonical text;
  previous text;
  rep record;
  opened bigint;
BEGIN
  IF tbl IS NULL OR test_from IS NULL THEN
    RAISE EXCEPTION 'tbl and test_from cannot be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  PERFORM asof._check_owner(tbl);
  SELECT * INTO reg FROM asof.protected_registry r WHERE r.tbl = split.tbl;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'table "%" is not protected', tbl USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = format('Register it first with asof.protect(%L, time_column => ..., label_columns => ...).', tbl::text);
  END IF;
  IF reg.linked_to IS NOT NULL THEN
    RAISE EXCEPTION 'table "%" is a training set built on protected table "%"', tbl, reg.linked_to
      USING ERRCODE = 'object_not_in_prerequisite_state',
      DETAIL = 'Its split follows the split of the spine it was built on.',
      HINT = format('Move the split of the spine: asof.split(%L, test_from => ...).', reg.linked_to::text);
  END IF;
  SELECT a.atttypid INTO ttype FROM pg_catalog.pg_attribute a
   WHERE a.attrelid = tbl AND a.attname = reg.time_column;
  -- The cutoff, read as the time column's type, kept as ISO 8601 text
  -- (independent of DateStyle; timestamptz keeps its offset).
  EXECUTE format('SELECT to_json(%L::%s) #>> ''{}''', test_from, ttype) INTO canonical;
  IF canonical IN ('infinity', '-infinity') THEN
    RAISE EXCEPTION 'test_from cannot be %', canonical USING ERRCODE = 'invalid_parameter_value',
      DETAIL = 'An infinite cutoff leaves either no training rows or no held-out rows.';
  END IF;
  -- Wait for every transaction reading the table (cursors included), and
  -- keep new readers out until this transaction commits.
  EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', tbl);

  SELECT * INTO rep FROM asof._split_report(tbl, canonical);
  IF rep.entity_keys_on_both_sides IS NOT NULL THEN
    RAISE NOTICE 'split of "%": distinct entity keys (%) with rows on both sides of %: %',
      tbl, array_to_string(reg.entity_columns, ', '), canonical, rep.entity_keys_on_both_sides;
  END IF;
  RAISE NOTICE 'split of "%": held-out rows equal to a training row on every column except % and the labels: %',
    tbl, reg.time_column, rep.duplicate_rows;

  previous := asof._set_split(tbl, canonical);
  IF previous IS NOT NULL AND previous IS DISTINCT FROM canonical THEN
    SELECT count(*) INTO opened FROM asof.holdout_log l
     WHERE l.tbl = split.tbl AND l.event = 'unseal' AND l.at >= reg.registered_at;
    IF opened > 0 THEN
      RAISE WARNING 'moved the split of "%" from % to % after its test set was opened (openings: %)', tbl, previous, canonical, opened
        USING DETAIL = 'Rows held out before were already seen; results on the new test set are optimistic.';
    ELSE
      RAISE NOTICE 'moved the split of "%" from % to %', tbl, previous, canonical;
    END IF;
  END IF;
END $$;
COMMENT ON FUNCTION asof.split(regclass, text) IS
'Declares (or moves) the train/test split of a protected table (owner only).  test_from: the cutoff, read as the time column''s type; rows with time >= test_from or NULL time are held out and invisible on every path to every role; label and future columns of the training rows become readable.  Waits for transactions reading the table, then applies to every session and cached plan.  NOTICEs: the number of distinct entity keys with rows on both sides (when entity columns are registered) and the number of held-out rows equal to a training row on every column except time and labels.  Moving a split is logged in asof.holdout_log and warns when the test set was already opened.  Errors: not the owner (42501), not protected (55000), a value that is not of the time column''s type, an infinite cutoff (22023).  Returns nothing.';

CREATE FUNCTION asof._unseal(tbl regclass, reason text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'asof_unseal'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof._unseal(regclass, text) IS
'Internal (called by asof.unseal): owner only; commits an audit record through a background worker, makes the held-out rows of tbl visible for the rest of the current transaction.  Returns the number of earlier openings.';

CREATE FUNCTION asof.unseal(tbl regclass, reason text) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  reg asof.protected_registry;
  registered boolean;
  before bigint;
BEGIN
  IF tbl IS NULL THEN
    RAISE EXCEPTION 'tbl cannot be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF reason IS NULL OR btrim(reason) = '' THEN
    RAISE EXCEPTION 'a reason is required to open the test set' USING ERRCODE = 'invalid_parameter_value',
      HINT = format('Say why the held-out rows are opened, e.g. asof.unseal(%L, reason => ''final evaluation of model v3'').', tbl::text);
  END IF;
  SELECT * INTO reg FROM asof.protected_registry r WHERE r.tbl = unseal.tbl;
  registered := FOUND;
  -- A training set on a protected spine is opened by the spine's owner.
  PERFORM asof._check_owner(coalesce(reg.linked_to, tbl));
  IF NOT registered THEN
    RAISE EXCEPTION 'table "%" is not protected', tbl USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  IF reg.test_from IS NULL THEN
    RAISE EXCEPTION 'table "%" has no split to unseal', tbl USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = format('Declare a split with asof.split(%L, test_from => ...).', tbl::text);
  END IF;
  before := asof._unseal(tbl, reason);
  IF before > 0 THEN
    RAISE WARNING 'the test set of "%" has been opened before (openings now: %)', tbl, before + 1
      USING DETAIL = 'Each evaluation on the same held-out rows adapts the model to them: results on this test set are now optimistic.';
  ELSE
    RAISE NOTICE 'held-out rows of "%" are visible until the end of this transaction', tbl;
  END IF;
END $$;
COMMENT ON FUNCTION asof.unseal(regclass, text) IS
'Opens the test set of a protected table deliberately (owner only): its held-out rows are visible for the rest of the current transaction only.  reason (text, required) is written to asof.holdout_log with the role and time by a separate transaction, so the record survives a rollback; openings are counted in asof.protected_tables and opening again warns that results are now optimistic.  Errors: not the owner (42501), not protected or no split (55000), empty reason (22023), no background worker slot (53000).  Returns nothing.';

CREATE FUNCTION asof.unprotect(tbl regclass) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  reg asof.protected_registry;
  c name;
  s text;
BEGIN
  IF tbl IS NULL THEN
    RAISE EXCEPTION 'tbl cannot be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  PERFORM asof._check_owner(tbl);
  SELECT * INTO reg FROM asof.protected_registry r WHERE r.tbl = unprotect.tbl;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'table "%" is not protected', tbl USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  IF reg.linked_to IS NOT NULL
     AND EXISTS (SELECT 1 FROM asof.protected_registry r WHERE r.tbl = reg.linked_to) THEN
    RAISE EXCEPTION 'table "%" is a training set built on protected table "%"', tbl, reg.linked_to
      USING ERRCODE = 'object_not_in_prerequisite_state',
      DETAIL = 'It stays protected as long as the spine it was built on.',
      HINT = format('Unprotect the spine, asof.unprotect(%L), or drop the training set.', reg.linked_to::text);
  END IF;
  -- A training set whose spine was dropped keeps the spine's split for good:
  -- its sealed rows were computed from the spine's held-out rows.
  IF reg.linked_to IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = reg.linked_to::oid)
     AND pg_catalog.current_setting('is_superuser') <> 'on' THEN
    RAISE EXCEPTION 'cannot unprotect training set "%" because the spine it was built on was dropped', tbl
      USING ERRCODE = 'insufficient_privilege',
      DETAIL = 'Its sealed rows were computed from the spine''s held-out rows; it stays protected with the spine''s split.',
      HINT = 'Drop the training set, or ask a superuser to unprotect it.';
  END IF;
  -- First the registration (the guard refuses the statements below on a
  -- protected table), then the table's own state.
  PERFORM asof._unregister(tbl);
  EXECUTE format('DROP POLICY IF EXISTS asof_guard_deny ON %s', tbl);
  IF reg.permissive_policy_added THEN
    EXECUTE format('DROP POLICY IF EXISTS asof_guard_permit ON %s', tbl);
  END IF;
  IF NOT reg.rls_was_enabled THEN
    EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', tbl);
  END IF;
  FOREACH c IN ARRAY reg.label_columns || reg.future_columns LOOP
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = tbl AND a.attname = c AND NOT a.attisdropped) THEN
      EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET STATISTICS -1', tbl, c);
    END IF;
  END LOOP;
  FOR s IN
    SELECT asof._expression_index_columns(tbl, -1)
    UNION ALL
    SELECT format('ALTER STATISTICS %I.%I SET STATISTICS -1', n.nspname, x.stxname)
      FROM pg_catalog.pg_statistic_ext x JOIN pg_catalog.pg_namespace n ON n.oid = x.stxnamespace
     WHERE x.stxrelid = tbl AND x.stxstattarget = 0
  LOOP
    EXECUTE s;
  END LOOP;
  -- Training sets built on this table follow it.
  FOR s IN SELECT r.tbl::text FROM asof.protected_registry r WHERE r.linked_to = unprotect.tbl LOOP
    PERFORM asof._unprotect_orphan(s::regclass);
  END LOOP;
END $$;
COMMENT ON FUNCTION asof.unprotect(regclass) IS
'Removes the protection of a table (owner only): drops its registry row and the guard''s policies, restores its row-level-security state and the default statistics target of its label and future columns (statistics come back at the next ANALYZE), and unprotects the training sets built on it.  The audit log keeps its history.  Errors: not the owner (42501), not protected (55000), a training set whose spine is still protected (55000), a training set whose spine was dropped, unless superuser (42501).  Returns nothing.';

-- Training sets built on a protected spine (G5, called by the engine).
CREATE FUNCTION asof._link(tbl regclass, spine regclass) RETURNS void
    AS 'MODULE_PATHNAME', 'asof_link'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof._link(regclass, regclass) IS
'Internal (training sets): the owner of protected table tbl links its registration to the protected spine: tbl takes the spine''s split and follows it from then on.';

CREATE FUNCTION asof._seal_training_set(output regclass, spine regclass) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  reg asof.protected_registry;
  ttype regtype;
  n bigint := 0;
BEGIN
  SELECT * INTO reg FROM asof.protected_registry r WHERE r.tbl = spine;
  IF NOT FOUND OR reg.test_from IS NULL THEN
    RETURN 0;
  END IF;
  SELECT a.atttypid INTO ttype FROM pg_catalog.pg_attribute a
   WHERE a.attrelid = spine AND a.attname = reg.time_column;
  -- Immature labels: training rows whose label became known at or after
  -- test_from keep their features, not their labels.
  IF cardinality(reg.label_columns) > 0 THEN
    EXECUTE format('UPDATE %s SET %s WHERE %I < %L::%s AND (%s) >= %L::%s', output,
                   (SELECT string_agg(format('%I = NULL', c), ', ') FROM unnest(reg.label_columns) AS c),
                   reg.time_column, reg.test_from, ttype,
                   coalesce(reg.label_time, quote_ident(reg.time_column)), reg.test_from, ttype);
    GET DIAGNOSTICS n = ROW_COUNT;
  END IF;
  PERFORM asof.protect(output, reg.time_column, reg.label_columns, reg.future_columns,
                       reg.entity_columns, reg.label_time);
  PERFORM asof._link(output, spine);
  RETURN n;
END $$;
COMMENT ON FUNCTION asof._seal_training_set(regclass, regclass) IS
'Internal (asof.build_training_set on a protected spine with a split): sets the labels of training rows whose label time is at or after test_from to NULL, registers the training set as protected with the spine''s columns and links it to the spine.  Returns the number of labels set to NULL.';

CREATE FUNCTION asof._invalidate(tbl regclass) RETURNS void
    AS 'MODULE_PATHNAME', 'asof_invalidate'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof._invalidate(regclass) IS
'Internal: drops cached plans and every backend''s guard cache for tbl (after a registry change).  Changes nothing else.';

CREATE FUNCTION asof._unprotect_orphan(tbl regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
  reg asof.protected_registry;
  c name;
BEGIN
  SELECT * INTO reg FROM asof.protected_registry r WHERE r.tbl = _unprotect_orphan.tbl;
  IF NOT FOUND OR reg.linked_to IS NULL
     OR EXISTS (SELECT 1 FROM asof.protected_registry r WHERE r.tbl = reg.linked_to) THEN
    RAISE EXCEPTION 'table "%" is not a training set of an unprotected spine', tbl
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  DELETE FROM asof.protected_registry r WHERE r.tbl = _unprotect_orphan.tbl;
  PERFORM asof._invalidate(tbl);
  INSERT INTO asof.holdout_log (at, tbl, table_name, event, role, detail)
    VALUES (now(), tbl, tbl::text, 'unprotect', current_user, format('spine %s unprotected', reg.linked_to));
  EXECUTE format('DROP POLICY IF EXISTS asof_guard_deny ON %s', tbl);
  EXECUTE format('DROP POLICY IF EXISTS asof_guard_permit ON %s', tbl);
  EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', tbl);
  FOREACH c IN ARRAY reg.label_columns || reg.future_columns LOOP
    EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET STATISTICS -1', tbl, c);
  END LOOP;
END $$;
COMMENT ON FUNCTION asof._unprotect_orphan(regclass) IS
'Internal (asof.unprotect of a spine): unprotects a training set whose spine is no longer protected.  Refuses any other table.';

-- A dropped protected table leaves no registry row behind.
CREATE FUNCTION asof._forget_dropped() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
  DELETE FROM asof.protected_registry r
   USING pg_catalog.pg_event_trigger_dropped_objects() d
   WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = r.tbl::oid AND d.objsubid = 0;
END $$;
COMMENT ON FUNCTION asof._forget_dropped() IS
'Internal event trigger: removes the registry rows of dropped protected tables.';
CREATE EVENT TRIGGER asof_forget_dropped ON sql_drop EXECUTE FUNCTION asof._forget_dropped();
-- pg_asof install script, part 40: training sets and the point-in-time engine.
--
-- asof.build_training_set and asof.features_at are C (src/training_set.c,
-- src/engine.c); asof.training_sets records every build.  See docs/engine.md.

CREATE TABLE asof.training_sets (
    name          text        NOT NULL,  -- the table built, schema-qualified
    version       integer     NOT NULL,  -- 1, 2, ... per name
    spine         text        NOT NULL,  -- the spine relation, schema-qualified
    at            text        NOT NULL,  -- prediction time: spine column or expression
    feature_views text[]      NOT NULL,  -- as passed
    definitions   jsonb       NOT NULL,  -- every view's full definition as of the build
    row_count     bigint      NOT NULL,
    built_at      timestamptz NOT NULL,  -- when the build started
    duration      interval    NOT NULL,
    built_by      text        NOT NULL,  -- the role that ran the build
    PRIMARY KEY (name, version)
);
COMMENT ON TABLE asof.training_sets IS
'Versions of training sets built by asof.build_training_set: one row per build, with the spine, the prediction time, every feature view''s full definition as of the build, the row count, when, how long and by whom.  Written only by asof.build_training_set.';
SELECT pg_catalog.pg_extension_config_dump('asof.training_sets', '');
GRANT SELECT ON asof.training_sets TO PUBLIC;

CREATE FUNCTION asof.build_training_set(name text, spine regclass, at text,
                                        feature_views text[])
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'asof_build_training_set'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof.build_training_set(text, regclass, text, text[]) IS
'Builds a training set: creates table "name" (schema-qualified, or in the first schema of search_path like CREATE TABLE; an existing table is an error) holding every column of "spine" (a table or view) plus one column per feature named <view>__<feature>, one row per spine row (duplicates stay, spine rows without any visible source row get NULL features and count 0).  "at" is a spine column or an SQL expression over the spine giving the prediction time t (timestamp, timestamptz, or date for timestamp views = midnight; evaluated with TimeZone UTC).  "feature_views" names the views; each view''s entity columns must exist in the spine with the same names and types.  Feature values follow docs/point-in-time.md exactly.  Returns the number of rows written and records the build in asof.training_sets.  Errors: 42P07 table exists, 42703 spine lacks an entity column, 42804 type mismatch (entity column, or timestamp vs timestamptz), 42701/42622 column name collision or too long, 22023 bad argument.  Progress NOTICEs every asof.progress_interval seconds; cancellable.  Reads run with the caller''s privileges.';

CREATE FUNCTION asof.features_at(feature_view text, entity text[], at timestamptz)
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'asof_features_at'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION asof.features_at(text, text[], timestamptz) IS
'Features of one entity of a timestamptz feature view as of prediction time "at", through the same engine as asof.build_training_set: jsonb object {feature name: value}.  "entity" holds one text value per entity column, in the view''s entity order (converted with each column type''s input function).  at => now() gives what production serves now.  NULL at gives NULL features and count 0.  Errors: 42804 when the view''s time type is timestamp, 22023 when the number of entity values differs from the view''s entity columns, 42704 unknown view.';

CREATE FUNCTION asof.features_at(feature_view text, entity text[], at timestamp)
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'asof_features_at'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION asof.features_at(text, text[], timestamp) IS
'Features of one entity of a timestamp (without time zone) feature view as of prediction time "at", through the same engine as asof.build_training_set: jsonb object {feature name: value}.  "entity" holds one text value per entity column, in the view''s entity order.  at => localtimestamp gives what production serves now (for views whose times are in the session''s zone).  NULL at gives NULL features and count 0.  Errors: 42804 when the view''s time type is timestamptz, 22023 when the number of entity values differs from the view''s entity columns, 42704 unknown view.';
