--
-- 97_attack_online_split_text_order (attack round, hole): when the source
-- of a view reads two protected tables, its online table and serving log
-- are linked to the one asof_online_protected_input picks: "ORDER BY
-- p.test_from" on the registry's ISO 8601 text.  A timestamptz split keeps
-- the offset it was given, so text order is not time order:
-- '2001-01-05T00:00:00-12:00' (12:00 UTC) sorts before
-- '2001-01-05T06:00:00+00:00' (06:00 UTC).  The online table then follows
-- the later split, and a role the guard applies to reads the snapshot of
-- tick 01-05 06:00 UTC, computed from za97 rows... and zb97 rows held out
-- since 06:00 UTC.  Both splits are declared before the first materialize.
--
-- Fail-closed: the reader sees no row of a tick at or after 06:00 UTC.
--
-- Fixed (online_table.c, guard_sources.c): a source that reads two
-- protected tables cannot be materialized at all (0A000), so no online
-- table or log exists to follow the wrong split.
SET TimeZone = 'UTC';
SET client_min_messages = warning;
SET asof.progress_interval = 0;
CREATE ROLE regress_asof97_owner;
CREATE ROLE regress_asof97_reader;
CREATE SCHEMA a97 AUTHORIZATION regress_asof97_owner;
GRANT USAGE ON SCHEMA a97 TO regress_asof97_reader;
SET ROLE regress_asof97_owner;
CREATE TABLE a97.za97 (k text, te timestamptz, y int);
CREATE TABLE a97.zb97 (k text, te timestamptz, v int, lab int);
INSERT INTO a97.za97 SELECT 'e' || (i % 2), '2001-01-01 00:00+00'::timestamptz + i * interval '6 hours', 1
  FROM generate_series(0, 39) i;
INSERT INTO a97.zb97 SELECT 'e' || (i % 2), '2001-01-01 00:00+00'::timestamptz + i * interval '6 hours', 1000 + i, 0
  FROM generate_series(0, 39) i;
CREATE VIEW a97.zv97 AS
  SELECT za.k, za.te, zb.v AS val FROM a97.za97 za JOIN a97.zb97 zb ON zb.k = za.k AND zb.te = za.te;
SELECT asof.protect('a97.za97', 'te', '{y}');
SELECT asof.protect('a97.zb97', 'te', '{lab}');
SELECT asof.create_feature_view('a97_v', 'a97.zv97', '{k}', event_time => 'te',
                                features => '{sum(val) over 1 day}', cadence => '6 hours');
SET TimeZone = 'Etc/GMT+12';
SELECT asof.split('a97.za97', '2001-01-05 00:00');   -- 2001-01-05 12:00 UTC
SET TimeZone = 'UTC';
SELECT asof.split('a97.zb97', '2001-01-05 06:00');   -- 2001-01-05 06:00 UTC, the earlier one
RESET ROLE;
SELECT table_name, test_from FROM asof.protected_tables
 WHERE table_name::text LIKE 'a97.%' ORDER BY 1::text;
SET asof.clock = '2001-01-10 00:00+00';
SET asof.guard = off;
SELECT asof.materialize('a97_v', '2001-01-05 06:00+00'::timestamptz);
RESET asof.guard;
SELECT asof.grant_online_read('a97_v', 'regress_asof97_reader');
SET ROLE regress_asof97_reader;
SELECT count(*) AS held_out_online_rows FROM asof_online.a97_v WHERE tick >= '2001-01-05 06:00+00';
RESET ROLE;
SELECT asof.drop_feature_view('a97_v');
SET ROLE regress_asof97_owner;
SELECT asof.unprotect('a97.za97');
SELECT asof.unprotect('a97.zb97');
RESET ROLE;
DROP SCHEMA a97 CASCADE;
DROP ROLE regress_asof97_owner;
DROP ROLE regress_asof97_reader;
