--
-- 80_serving_log: the serving log (docs/online.md, "Serving log").  With
-- asof.log_serving on, every served request of asof.online_features and
-- asof.online_features_batch is written by a background worker into
-- asof_online."<view>__log": from read-only transactions, after the
-- caller's rollback; a request that raised an error is not logged; the
-- log is readable with asof.grant_online_read, writable by nobody but the
-- worker, and protected like the online table.
--
-- The data (cadence 1 hour, no delay; available time = event time):
--   a: v=1 at 00:10, v=2 at 01:10          b: v=5 at 00:20, v=NULL at 02:20
-- tick 02:00: a count 2, max 2, lv 2;  b count 1, max 5, lv 5
-- tick 03:00: a count 2, max 2, lv 2;  b count 2, max 5, lv NULL (last(v))
--
SET TimeZone = 'UTC';
SET asof.progress_interval = 0;
CREATE TEMP TABLE sl_base AS SELECT * FROM asof.serving_log_status();
CREATE TABLE sl_src (k text, te timestamp, v int);
INSERT INTO sl_src VALUES ('a', '2001-01-01 00:10', 1), ('a', '2001-01-01 01:10', 2),
                          ('b', '2001-01-01 00:20', 5), ('b', '2001-01-01 02:20', NULL);
SELECT asof.create_feature_view('sl_v', 'sl_src', '{k}', event_time => 'te',
         features => '{count(*) over 1 day, max(v) over 1 day, last(v) as lv}', cadence => '1 hour');
SET asof.clock = '2001-01-02 00:00+00';
SELECT asof.materialize('sl_v', '2001-01-01 02:00'::timestamp);
SELECT asof.materialize('sl_v', '2001-01-01 03:00'::timestamp);

-- the log table: created with the online table, recorded in the registry
SELECT log_table FROM asof.online_tables WHERE feature_view = 'sl_v';
SELECT attname, format_type(atttypid, atttypmod), attnotnull
  FROM pg_attribute WHERE attrelid = 'asof_online.sl_v__log'::regclass AND attnum > 0 ORDER BY attnum;
SELECT obj_description('asof_online.sl_v__log'::regclass, 'pg_class') IS NOT NULL AS commented;

-- off by default: nothing is logged
SHOW asof.log_serving;
SELECT asof.online_features('sl_v', '{a}', '2001-01-01 02:30'::timestamp);
SELECT asof.serving_log_flush();
SELECT count(*) AS logged_while_off FROM asof_online.sl_v__log;

-- on: a read-only transaction that rolls back is logged; a request that
-- fails (wrong entity count, no snapshot) is not, even in a transaction
-- whose earlier request was logged
SET asof.log_serving = on;
BEGIN READ ONLY;
SELECT asof.online_features('sl_v', '{a}', '2001-01-01 02:30'::timestamp);
ROLLBACK;
BEGIN;
SELECT asof.online_features('sl_v', '{b}', '2001-01-01 03:30'::timestamp);
SELECT asof.online_features('sl_v', '{a,b}', '2001-01-01 03:30'::timestamp);
ROLLBACK;
SELECT asof.online_features('sl_v', '{a}', '2001-01-01 01:30'::timestamp);
SELECT asof.serving_log_flush();
-- two rows: {a} served from tick 02:00, {b} from tick 03:00 (lv NULL)
SELECT served_at, at, tick, entity, features, role FROM asof_online.sl_v__log ORDER BY at, entity;

-- the batch logs one row per entity with the object online_features
-- returns (an unknown entity: count 0 and NULLs); a NULL entity value is
-- kept; a NULL "at" (nothing to log against) and an empty batch log nothing
SELECT * FROM asof.online_features_batch('sl_v', '{{a},{b},{zz}}', '2001-01-01 03:45'::timestamp,
                                         NULL::asof_online.sl_v__served);
SELECT asof.online_features('sl_v', ARRAY[NULL]::text[], '2001-01-01 02:45'::timestamp);
SELECT asof.online_features('sl_v', '{a}', NULL::timestamp);
SELECT count(*) FROM asof.online_features_batch('sl_v', '{}'::text[], '2001-01-01 02:45'::timestamp,
                                                NULL::asof_online.sl_v__served);
-- "now" (asof.clock): at = 2001-01-02 00:00, served from the newest tick, 03:00
SELECT asof.online_features('sl_v', '{b}');
SELECT asof.serving_log_flush();
SELECT at, tick, entity, entity[1] IS NULL AS null_entity, features
  FROM asof_online.sl_v__log WHERE at > '2001-01-01 03:30' OR at = '2001-01-01 02:45' ORDER BY at, entity;

-- every logged object is what asof.online_features returns for the same
-- entity and time (the batch's rows become the jsonb in the worker)
SET asof.log_serving = off;
SELECT count(*) AS logged_rows,
       count(*) FILTER (WHERE features = asof.online_features('sl_v', entity, at)) AS same_as_online_features
  FROM asof_online.sl_v__log;
SET asof.log_serving = on;

-- entity values that need quoting in an array literal come back as given
SELECT asof.online_features('sl_v', ARRAY[e], '2001-01-01 02:50'::timestamp) IS NOT NULL AS served
  FROM unnest(ARRAY['a,{b}"c\d', 'NULL', '', ' x ']) e;
SELECT asof.serving_log_flush();
SELECT entity, entity[1] IS NULL AS null_entity, length(entity[1]) AS length
  FROM asof_online.sl_v__log WHERE at = '2001-01-01 02:50' ORDER BY entity[1];
SELECT count(*) AS same_as_given FROM asof_online.sl_v__log
 WHERE at = '2001-01-01 02:50' AND entity[1] IN ('a,{b}"c\d', 'NULL', '', ' x ');

-- a timestamptz view: at and tick are timestamptz; the tick served is the
-- UTC wall clock of the snapshot
CREATE TABLE sl_tz_src (k text, te timestamptz, v int);
INSERT INTO sl_tz_src VALUES ('a', '2001-01-01 00:10+00', 7);
SELECT asof.create_feature_view('sl_tz', 'sl_tz_src', '{k}', event_time => 'te',
         features => '{sum(v) over 1 day}', cadence => '1 hour');
SELECT asof.materialize('sl_tz', '2001-01-01 01:00+00'::timestamptz);
SELECT asof.online_features('sl_tz', '{a}', '2001-01-01 01:30+00'::timestamptz);
SELECT asof.serving_log_flush();
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'asof_online.sl_tz__log'::regclass AND attname IN ('at', 'tick') ORDER BY attnum;
SELECT at, tick, entity, features FROM asof_online.sl_tz__log;

-- privileges: the serving role reads the log after asof.grant_online_read
-- and logs under its own name; nobody but the worker writes; a role
-- without the grant reads nothing; the setting is the session's
CREATE ROLE regress_sl_serving;
CREATE ROLE regress_sl_plain;
SELECT asof.grant_online_read('sl_v', 'regress_sl_serving');
SELECT r AS role, t AS log_table,
       has_table_privilege(r, t, 'SELECT') AS sel, has_table_privilege(r, t, 'INSERT') AS ins,
       has_table_privilege(r, t, 'UPDATE') AS upd, has_table_privilege(r, t, 'DELETE') AS del,
       has_table_privilege(r, t, 'TRUNCATE') AS trunc, has_table_privilege(r, t, 'TRIGGER') AS trig
  FROM unnest('{regress_sl_serving,regress_sl_plain,public}'::text[]) r,
       unnest('{asof_online.sl_v__log,asof_online.sl_tz__log}'::text[]) t ORDER BY 1, 2;
SET ROLE regress_sl_serving;
SHOW asof.log_serving;
SELECT asof.online_features('sl_v', '{a}', '2001-01-01 03:05'::timestamp);
SELECT asof.serving_log_flush();
SELECT at, entity, role FROM asof_online.sl_v__log WHERE role <> 'postgres';
INSERT INTO asof_online.sl_v__log VALUES (now(), '2001-01-01', '2001-01-01', '{a}', '{}', 'postgres');
UPDATE asof_online.sl_v__log SET role = 'postgres';
DELETE FROM asof_online.sl_v__log;
TRUNCATE asof_online.sl_v__log;
SET asof.log_serving = off;
SELECT asof.online_features('sl_v', '{a}', '2001-01-01 03:06'::timestamp);
SELECT asof.serving_log_flush();
RESET ROLE;
SELECT count(*) AS logged_at_03_06 FROM asof_online.sl_v__log WHERE at = '2001-01-01 03:06';
SET ROLE regress_sl_plain;
SELECT count(*) FROM asof_online.sl_v__log;
RESET ROLE;
SET asof.log_serving = on;

-- no SQL-callable function queues an entry: the serving log's functions
-- are flush and status only
SELECT p.oid::regprocedure AS function, obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented,
       p.proconfig
  FROM pg_proc p WHERE p.pronamespace = 'asof'::regnamespace AND p.proname LIKE '%serving_log%' ORDER BY 1::text;

-- bad input
SELECT asof.serving_log_flush(-1);
SELECT asof.serving_log_flush(NULL);
SELECT asof.online_features('sl_nope', '{a}', '2001-01-01 03:30'::timestamp);
SELECT asof.online_features('sl_v', '{a}', '2001-01-01 03:30'::timestamptz);
SELECT asof.serving_log_flush(0) IS NOT NULL AS flush_returns;

-- the guard: the log of a protected source is protected and linked like
-- the online table; a role the guard applies to reads no logged row of a
-- held-out tick
SET client_min_messages = warning;
CREATE TABLE sl_g (k text, te timestamp, v int);
INSERT INTO sl_g SELECT 'e' || (i % 2), '2001-01-01 00:00'::timestamp + i * interval '1 hour', i
  FROM generate_series(0, 47) i;
SELECT asof.protect('sl_g', 'te', '{v}');
SELECT asof.split('sl_g', '2001-01-02 00:00');
SELECT asof.create_feature_view('sl_gv', 'sl_g', '{k}', event_time => 'te',
         features => '{count(*) over 1 day}', cadence => '6 hours');
GRANT SELECT ON sl_g TO regress_sl_plain;
RESET client_min_messages;
SET asof.clock = '2001-01-03 00:00+00';
SET asof.guard = off;
SELECT asof.materialize('sl_gv', '2001-01-01 18:00'::timestamp);
SELECT asof.materialize('sl_gv', '2001-01-02 12:00'::timestamp);
SELECT asof.online_features('sl_gv', '{e0}', '2001-01-01 19:00'::timestamp);
SELECT asof.online_features('sl_gv', '{e0}', '2001-01-02 13:00'::timestamp);
SELECT asof.serving_log_flush();
RESET asof.guard;
SELECT table_name, time_column, future_columns, test_from, training_set_of
  FROM asof.protected_tables WHERE table_name::text LIKE 'asof_online.sl_gv%' ORDER BY 1::text;
SELECT asof.grant_online_read('sl_gv', 'regress_sl_plain');
SET ROLE regress_sl_plain;
SELECT tick, entity, features FROM asof_online.sl_gv__log ORDER BY tick;
SELECT count(*) AS held_out_rows FROM asof_online.sl_gv__log WHERE tick >= '2001-01-02';
RESET ROLE;
SET asof.guard = off;
SELECT tick, entity, features FROM asof_online.sl_gv__log ORDER BY tick;
RESET asof.guard;

-- the counters since this test started: 15 entries logged and written
-- (2 + 3 + 1 + 1 + 4 + 1 + 1 + 2; the failed and NULL-"at" requests are
-- not entries), nothing dropped, nothing left
SELECT s.logged - b.logged AS logged, s.written - b.written AS written, s.queued,
       s.failed - b.failed AS failed, s.dropped_buffer_full - b.dropped_buffer_full AS dropped_full,
       s.dropped_standby - b.dropped_standby AS dropped_standby,
       s.dropped_no_worker - b.dropped_no_worker AS dropped_no_worker,
       s.buffer_bytes = 8 * 1024 * 1024 AS default_buffer, s.buffer_used_bytes
  FROM asof.serving_log_status() s, sl_base b;

-- dropping a feature view drops its log table
SELECT asof.drop_feature_view('sl_tz');
SELECT to_regclass('asof_online.sl_tz__log') IS NULL AS log_dropped;

SELECT asof.drop_feature_view('sl_v');
SELECT asof.drop_feature_view('sl_gv');
SET client_min_messages = warning;
SELECT asof.unprotect('sl_g');
DROP TABLE sl_src, sl_tz_src, sl_g;
DROP ROLE regress_sl_serving;
DROP ROLE regress_sl_plain;
