--
-- 96_attack_online_two_protected (attack round, hole): the online table
-- and the serving log of a view are protected and linked to ONE protected
-- table the source reads (online_table.c, protect_linked: chosen once, at
-- the first materialize, by asof_online_protected_input: a table with a
-- split first, then the earliest test_from as text), and never linked
-- again ("protected already").  When the source reads a second protected
-- table whose split is declared (or moved earlier) after that first
-- materialize, the online table and the log keep following the first
-- table's later split: a role the guard applies to reads snapshot values
-- computed from the second table's held-out rows.
--
-- Data: pa96 (split 01-05) and pb96 (protected and split at 01-02 after the
-- first materialize); source view = pa96 JOIN pb96 on (k, te), features
-- sum(v) over 1 day from pb96.  Ticks 01-03 00:00 and 06:00 are held out
-- for pb96 (k >= 01-02): their values are sums of pb96's held-out rows.
-- Fail-closed: the reader sees no row of a tick at or after 01-02 in the
-- online table nor in the log.
--
-- Fixed (online_table.c, guard_sources.c): an online table follows one
-- protected table, and asof.protect of a table that a materialized view's
-- source also reads is refused (the view is named in the context): pb96
-- stays unprotected, so its rows and the snapshot values derived from them
-- are readable as before, and nothing is read through a wrong split.
SET TimeZone = 'UTC';
SET client_min_messages = warning;
SET asof.progress_interval = 0;
CREATE ROLE regress_asof96_owner;
CREATE ROLE regress_asof96_reader;
CREATE SCHEMA a96 AUTHORIZATION regress_asof96_owner;
GRANT USAGE ON SCHEMA a96 TO regress_asof96_reader;
SET ROLE regress_asof96_owner;
CREATE TABLE a96.pa96 (k text, te timestamp, y int);
CREATE TABLE a96.pb96 (k text, te timestamp, v int, lab int);
INSERT INTO a96.pa96 SELECT 'e' || (i % 2), '2001-01-01'::timestamp + i * interval '6 hours', 1
  FROM generate_series(0, 19) i;
INSERT INTO a96.pb96 SELECT 'e' || (i % 2), '2001-01-01'::timestamp + i * interval '6 hours', 1000 + i, 0
  FROM generate_series(0, 19) i;
CREATE VIEW a96.pv96 AS
  SELECT pa.k, pa.te, pb.v AS val FROM a96.pa96 pa JOIN a96.pb96 pb ON pb.k = pa.k AND pb.te = pa.te;
GRANT SELECT ON a96.pa96, a96.pb96, a96.pv96 TO regress_asof96_reader;
SELECT asof.protect('a96.pa96', 'te', '{y}');
SELECT asof.create_feature_view('a96_v', 'a96.pv96', '{k}', event_time => 'te',
                                features => '{sum(val) over 1 day}', cadence => '6 hours');
SELECT asof.split('a96.pa96', '2001-01-05 00:00');
RESET ROLE;
-- production (guard off) materializes and serves
SET asof.clock = '2001-01-10 00:00+00';
SET asof.guard = off;
SELECT asof.materialize('a96_v', '2001-01-03 00:00'::timestamp);
RESET asof.guard;
-- the second table is protected and split after the first materialize
SET ROLE regress_asof96_owner;
SELECT asof.protect('a96.pb96', 'te', '{lab}');
SELECT asof.split('a96.pb96', '2001-01-02 00:00');
RESET ROLE;
SET asof.guard = off;
SELECT asof.materialize('a96_v', '2001-01-03 06:00'::timestamp);
SET asof.log_serving = on;
SELECT asof.online_features('a96_v', '{e0}', '2001-01-03 06:30'::timestamp) IS NOT NULL AS served;
SELECT asof.serving_log_flush();
RESET asof.log_serving;
RESET asof.guard;
SELECT asof.grant_online_read('a96_v', 'regress_asof96_reader');
SET ROLE regress_asof96_reader;
-- the reader sees pb96 only before its split
SELECT count(*) AS pb_rows, max(te) AS pb_latest FROM a96.pb96;
-- fail-closed: no snapshot row or logged request of a tick at or after 01-02
SELECT count(*) AS held_out_online_rows FROM asof_online.a96_v WHERE tick >= '2001-01-02';
SELECT count(*) AS held_out_log_rows FROM asof_online.a96_v__log WHERE tick >= '2001-01-02';
RESET ROLE;
SELECT asof.drop_feature_view('a96_v');
SET ROLE regress_asof96_owner;
SELECT asof.unprotect('a96.pa96');
SELECT asof.unprotect('a96.pb96');
RESET ROLE;
DROP SCHEMA a96 CASCADE;
DROP ROLE regress_asof96_owner;
DROP ROLE regress_asof96_reader;
