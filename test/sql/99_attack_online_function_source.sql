--
-- 99_attack_online_function_source (attack round, hole): the online table
-- and serving log are protected only when asof_online_protected_input
-- finds a protected table among the relations the source's rewrite rules
-- depend on (views walked).  A source that reaches the protected table
-- through a function (a view over a set-returning SQL function) depends
-- on the function, not on the table: the online table and the log are
-- not protected at all.  The production role (asof.guard = off)
-- materializes a held-out tick, computed from held-out rows, and a role
-- the guard applies to reads it.  (Guarded builds, features_at and
-- materialize refuse such a source: "reads a protected table ... through
-- a function".)
--
-- Data: fp99 (ts every 2 hours from 2001-01-01, 24 rows), v = 1 before the
-- split (01-02) and 1000 after.  Tick 01-02 12:00 (held out): 12 training
-- rows and 6 held-out ones: sum 6012, count 18.
-- Fail-closed: the online table is protected, linked to fp99, and the
-- reader sees no row of a tick at or after the split.
--
-- Fixed (online_table.c, guard_sources.c): materialize refuses (0A000), with
-- the guard on or off, a source that calls a function that is not built in
-- while tables are protected: no online table is written.
SET TimeZone = 'UTC';
SET client_min_messages = warning;
SET asof.progress_interval = 0;
SET asof.clock = '2001-01-10 00:00+00';
CREATE ROLE regress_asof99_owner;
CREATE ROLE regress_asof99_reader;
CREATE SCHEMA a99 AUTHORIZATION regress_asof99_owner;
GRANT USAGE ON SCHEMA a99 TO regress_asof99_reader;
SET ROLE regress_asof99_owner;
CREATE TABLE a99.fp99 (k text, ts timestamp, v int, lab int);
INSERT INTO a99.fp99 SELECT 'e0', '2001-01-01'::timestamp + i * interval '2 hours',
                            CASE WHEN i >= 12 THEN 1000 ELSE 1 END, 0
  FROM generate_series(0, 23) i;
CREATE FUNCTION a99.fp99_rows() RETURNS TABLE (k text, te timestamp, v int)
  LANGUAGE sql STABLE AS $$ SELECT k, ts, v FROM a99.fp99 $$;
CREATE VIEW a99.fpv99 AS SELECT * FROM a99.fp99_rows();
GRANT SELECT ON a99.fp99, a99.fpv99 TO regress_asof99_reader;
SELECT asof.protect('a99.fp99', 'ts', '{lab}');
SELECT asof.create_feature_view('a99_v', 'a99.fpv99', '{k}', event_time => 'te',
                                features => '{sum(v) over 2 days, count(*) over 2 days}', cadence => '1 hour');
SELECT asof.split('a99.fp99', '2001-01-02 00:00');
RESET ROLE;
SET asof.guard = off;
SELECT asof.materialize('a99_v', '2001-01-02 12:00'::timestamp);
RESET asof.guard;
SELECT asof.grant_online_read('a99_v', 'regress_asof99_reader');
-- fail-closed: protected like the online table of any protected source
SELECT table_name::text, test_from FROM asof.protected_tables
 WHERE table_name::text LIKE 'asof_online.a99_v%' ORDER BY 1;
SET ROLE regress_asof99_reader;
SELECT count(*) AS held_out_online_rows FROM asof_online.a99_v WHERE tick >= '2001-01-02';
RESET ROLE;
SELECT asof.drop_feature_view('a99_v');
SET ROLE regress_asof99_owner;
SELECT asof.unprotect('a99.fp99');
RESET ROLE;
DROP SCHEMA a99 CASCADE;
DROP ROLE regress_asof99_owner;
DROP ROLE regress_asof99_reader;
