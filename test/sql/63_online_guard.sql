--
-- 63_online_guard: the leakage guard on the production side.  The source
-- is protected with a split at 2001-01-02: snapshots of later ticks are
-- held out.  The online table is protected and linked to the source, so a
-- plain role reads no held-out snapshot, neither directly nor through
-- asof.online_features / online_features_batch; production roles have
-- asof.guard = off; a run_as role the guard would stop is refused.
--
SET TimeZone = 'UTC';
SET asof.progress_interval = 0;
SET client_min_messages = warning;
CREATE TABLE og_src (k text, te timestamp, v int);
INSERT INTO og_src SELECT 'e' || (i % 2), '2001-01-01 00:00'::timestamp + i * interval '1 hour', i
  FROM generate_series(0, 47) i;     -- 2001-01-01 00:00 to 2001-01-02 23:00
SELECT asof.protect('og_src', 'te', '{v}');
SELECT asof.split('og_src', '2001-01-02 00:00');
SELECT asof.create_feature_view('og_v', 'og_src', '{k}', event_time => 'te',
         features => '{count(*) over 1 day, max(v) over 1 day}', cadence => '6 hours');
CREATE ROLE regress_online_ds;
CREATE ROLE regress_online_prod;
GRANT SELECT ON og_src TO regress_online_ds;
RESET client_min_messages;

-- with the guard on (it applies to superusers too), ticks after the split
-- cannot be materialized; the tick at the split can (it reads rows before it)
SET asof.clock = '2001-01-03 00:00+00';
SELECT asof.materialize('og_v', '2001-01-01 18:00'::timestamp);
SELECT asof.materialize('og_v', '2001-01-02 00:00'::timestamp);
SELECT asof.materialize('og_v', '2001-01-02 06:00'::timestamp);
-- production materializes with the guard off (superuser only, logged)
SET asof.guard = off;
SELECT asof.materialize('og_v', '2001-01-02 06:00'::timestamp);
SELECT asof.materialize('og_v', '2001-01-02 12:00'::timestamp);
RESET asof.guard;

-- the online table is protected, linked to the source, with its split
SELECT table_name, time_column, future_columns, entity_columns, test_from, training_set_of
  FROM asof.protected_tables WHERE table_name = 'asof_online.og_v'::regclass;
SELECT asof.grant_online_read('og_v', 'regress_online_ds');

-- a data scientist: only snapshots before the split, on every path
SET ROLE regress_online_ds;
SELECT DISTINCT tick FROM asof_online.og_v ORDER BY tick;
SELECT count(*) FROM asof_online.og_v WHERE tick >= '2001-01-02';
SELECT asof.online_features('og_v', '{e0}', '2001-01-01 23:59'::timestamp);
SELECT asof.online_features('og_v', '{e0}', '2001-01-02 00:00'::timestamp);
SELECT asof.online_features('og_v', '{e0}', '2001-01-02 13:00'::timestamp);
SELECT * FROM asof.online_features_batch('og_v', '{e0,e1}', '2001-01-02 13:00'::timestamp, NULL::asof_online.og_v__served);
SELECT * FROM asof.online_features_batch('og_v', '{e0,e1}', '2001-01-01 23:00'::timestamp, NULL::asof_online.og_v__served);
-- statistics of the protected online table are not readable either
SELECT count(*) FROM pg_stats WHERE schemaname = 'asof_online' AND tablename = 'og_v';
RESET ROLE;

-- the guard applies to superusers: the same refusal
SELECT asof.online_features('og_v', '{e0}', '2001-01-02 13:00'::timestamp);
-- a production serving role runs with asof.guard = off (set for it by a
-- superuser, e.g. ALTER ROLE serving SET asof.guard = off)
SET asof.guard = off;
SET ROLE regress_online_ds;
SELECT asof.online_features('og_v', '{e0}', '2001-01-02 13:00'::timestamp);
SELECT asof.online_features('og_v', '{e0}', '2001-01-02 13:00'::timestamp)
       = asof.features_at('og_v', '{e0}', '2001-01-02 13:00'::timestamp) AS same_as_features_at;
RESET ROLE;
RESET asof.guard;

-- DDL the guard refuses on protected tables is refused on the online table
SELECT asof.split('asof_online.og_v', '2001-01-01');
SELECT asof.unprotect('asof_online.og_v');

-- scheduling: a run_as role the guard would stop is refused, with the way out
-- (regress_online_prod is a member of the view's owner: it may materialize it)
DO $$ BEGIN EXECUTE format('GRANT %I TO regress_online_prod', current_user); END $$;
SELECT asof.schedule_materialization('og_v', run_as => 'regress_online_ds');
SELECT asof.schedule_materialization('og_v', run_as => 'regress_online_prod');
ALTER ROLE regress_online_prod SET asof.guard = off;
SET client_min_messages = error;
SELECT asof.schedule_materialization('og_v', run_as => 'regress_online_prod');
RESET client_min_messages;
SELECT feature_view, run_as FROM asof.materialization_schedule;
-- run_due_materializations runs as regress_online_prod with the guard off,
-- as its role setting says, although this session has it on
SET asof.clock = '2001-01-02 18:30+00';
SELECT feature_view, tick, entities, error FROM asof.run_due_materializations();

-- clean up
RESET asof.clock;
SET client_min_messages = warning;
SELECT asof.drop_feature_view('og_v');
SELECT count(*) AS online_left FROM pg_class WHERE relnamespace = 'asof_online'::regnamespace;
SELECT count(*) AS registered_left FROM asof.protected_registry WHERE tbl::text LIKE 'asof_online.%';
SELECT asof.unprotect('og_src');
DROP TABLE og_src;
DROP ROLE regress_online_ds;
ALTER ROLE regress_online_prod RESET ALL;
DROP ROLE regress_online_prod;
DELETE FROM asof.holdout_log;
