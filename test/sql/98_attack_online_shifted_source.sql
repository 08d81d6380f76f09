--
-- 98_attack_online_shifted_source (attack round, hole): the online table
-- (and serving log) of a view over a protected table hides ticks at or
-- after the table's test_from from roles the guard applies to, and shows
-- earlier ticks.  That is only right when the source is exact under the
-- split (docs/leakage-guard.md, "Which sources are exact", issue 14).
-- The production role (asof.guard = off) materializes whatever the
-- source is; with an event time shifted earlier than the table's time
-- column (ts - 16 hours), a tick before test_from already includes
-- held-out rows (ts in [test_from, tick + 16 hours)), and a guarded reader
-- of the online table sees values computed from them.
--
-- Data: sh98 (k, ts every 2 hours from 2001-01-01 00:00, 24 rows), v = 1
-- for the 12 training rows (ts < 01-02) and 1000 for the held-out ones.
-- Source te = ts - 16 hours.  Tick 01-01 18:00 (before the split): rows
-- with te < 18:00, i.e. ts < 01-02 10:00: 12 training rows and 5 held-out
-- ones (00:00 ... 08:00): sum 5012, count 17.
-- Fail-closed: the reader sees no value computed from held-out rows (no
-- row of that tick; a guarded materialize of it is refused, 0A000).
--
-- Fixed (online_table.c, guard_sources.c): materialize refuses (0A000), with
-- the guard on or off, a source whose event time is not the protected
-- table's time column, unchanged: no online table is written.
SET TimeZone = 'UTC';
SET client_min_messages = warning;
SET asof.progress_interval = 0;
SET asof.clock = '2001-01-10 00:00+00';
CREATE ROLE regress_asof98_owner;
CREATE ROLE regress_asof98_reader;
CREATE SCHEMA a98 AUTHORIZATION regress_asof98_owner;
GRANT USAGE ON SCHEMA a98 TO regress_asof98_reader;
SET ROLE regress_asof98_owner;
CREATE TABLE a98.sh98 (k text, ts timestamp, v int, lab int);
INSERT INTO a98.sh98 SELECT 'e0', '2001-01-01'::timestamp + i * interval '2 hours',
                            CASE WHEN i >= 12 THEN 1000 ELSE 1 END, 0
  FROM generate_series(0, 23) i;
CREATE VIEW a98.shv98 AS SELECT k, ts - interval '16 hours' AS te, v FROM a98.sh98;
GRANT SELECT ON a98.sh98, a98.shv98 TO regress_asof98_reader;
SELECT asof.protect('a98.sh98', 'ts', '{lab}');
SELECT asof.create_feature_view('a98_v', 'a98.shv98', '{k}', event_time => 'te',
                                features => '{sum(v) over 2 days, count(*) over 2 days}', cadence => '1 hour');
SELECT asof.split('a98.sh98', '2001-01-02 00:00');
-- the guarded owner cannot materialize the tick (inexact source)
SELECT asof.materialize('a98_v', '2001-01-01 18:00'::timestamp);
RESET ROLE;
-- production does
SET asof.guard = off;
SELECT asof.materialize('a98_v', '2001-01-01 18:00'::timestamp);
RESET asof.guard;
SELECT asof.grant_online_read('a98_v', 'regress_asof98_reader');
SET ROLE regress_asof98_reader;
SELECT sum(v) AS visible_sum, count(*) AS visible_rows FROM a98.sh98;
-- fail-closed: no value that counts held-out rows
SELECT count(*) AS rows_with_held_out_values
  FROM asof_online.a98_v WHERE a98_v__count_2d > 12;
RESET ROLE;
SELECT asof.drop_feature_view('a98_v');
SET ROLE regress_asof98_owner;
SELECT asof.unprotect('a98.sh98');
RESET ROLE;
DROP SCHEMA a98 CASCADE;
DROP ROLE regress_asof98_owner;
DROP ROLE regress_asof98_reader;
