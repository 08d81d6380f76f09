--
-- 85_parity_guard: the parity report and the leakage guard.  The source is
-- protected with a split at 2001-01-02 00:00; requests were served on both
-- sides of it (by production, asof.guard = off).  On the held-out period
-- the report is production monitoring: it runs for a role the guard does
-- not apply to; a role it applies to (a data scientist, or a superuser with
-- the guard on) gets 42501 for any range of served_at reaching the split,
-- for any visible request whose k(at) is at or after it, and in a
-- transaction that unsealed a table; never numbers computed from hidden
-- rows, and nothing changes.
--
-- The log is protected and linked to the source like the online table
-- (time column tick, the source's split).
--
SET TimeZone = 'UTC';
SET asof.progress_interval = 0;
SET client_min_messages = warning;
CREATE TABLE pg_src (k text, te timestamp, v int);
INSERT INTO pg_src SELECT 'e' || (i % 2), '2001-01-01 00:00'::timestamp + i * interval '1 hour', i
  FROM generate_series(0, 47) i;     -- 2001-01-01 00:00 to 2001-01-02 23:00
SELECT asof.protect('pg_src', 'te', '{v}');
SELECT asof.split('pg_src', '2001-01-02 00:00');
SELECT asof.create_feature_view('pg_v', 'pg_src', '{k}', event_time => 'te',
         features => '{count(*) over 1 day, max(v) over 1 day}', cadence => '6 hours');
CREATE ROLE regress_parity_ds;
GRANT SELECT ON pg_src TO regress_parity_ds;

-- production: every tick of the two days, with the guard off
SET asof.guard = off;
SET asof.clock = '2001-01-03 00:00+00';
SELECT count(asof.materialize('pg_v', t)) AS ticks
  FROM generate_series('2001-01-01 00:00'::timestamp, '2001-01-02 18:00', '6 hours') t;
SELECT asof.grant_online_read('pg_v', 'regress_parity_ds');
SELECT table_name, time_column, test_from, training_set_of
  FROM asof.protected_tables WHERE table_name = 'asof_online.pg_v__log'::regclass;
-- serving (logged) at t + 30 min for both entities, the clock at t + 31 min
-- (served_at), for the ticks 2001-01-01 06:00 .. 2001-01-02 18:00: 3 ticks
-- before the split, 4 at or after it (held out)
SET asof.log_serving = on;
DO $$
DECLARE t timestamp;
BEGIN
  FOR t IN SELECT generate_series('2001-01-01 06:00'::timestamp, '2001-01-02 18:00', '6 hours') LOOP
    PERFORM set_config('asof.clock', (t + interval '31 minutes')::text || '+00', false);
    PERFORM asof.online_features('pg_v', ARRAY[e], t + interval '30 minutes') FROM unnest('{e0,e1}'::text[]) e;
  END LOOP;
END $$;
RESET asof.log_serving;
SELECT asof.serving_log_flush();
SET asof.clock = '2001-01-03 00:00+00';
-- the monitoring role (guard off) sees everything: 14 requests, 0 mismatches
SELECT feature, requests, stale, compared, mismatches FROM asof.parity_report('pg_v');
CREATE TEMP TABLE pg_before AS
SELECT (SELECT count(*) FROM asof_online.pg_v__log) AS log_rows,
       (SELECT count(*) FROM asof.holdout_log) AS holdout_log,
       (SELECT count(*) FROM asof.training_sets) AS training_sets;
RESET asof.guard;
RESET client_min_messages;

-- a data scientist: the guard applies
SET ROLE regress_parity_ds;
-- the held-out requests are hidden from this role in the log itself
SELECT count(*) AS visible_log_rows FROM asof_online.pg_v__log;
-- an unbounded range, or one reaching the split, is refused
SELECT * FROM asof.parity_report('pg_v');
SELECT * FROM asof.parity_report('pg_v', until => '2001-01-02 00:00:00.000001+00');
SELECT * FROM asof.parity_mismatches('pg_v');
SELECT count(*) FROM asof.parity_values('pg_v', since => '2001-01-02 06:00+00');
-- a range before the split is the training period: allowed (6 requests)
SELECT feature, requests, stale, compared, mismatches
  FROM asof.parity_report('pg_v', until => '2001-01-02 00:00+00');
RESET ROLE;

-- a request served before the split for an "at" after it (the log's
-- served_at and at are independent) is visible to the data scientist,
-- and refused: its features are held out
INSERT INTO asof_online.pg_v__log
VALUES ('2001-01-01 23:00+00', '2001-01-02 06:30', '2001-01-01 18:00', '{e0}', '{}', current_user);
SET ROLE regress_parity_ds;
SELECT * FROM asof.parity_report('pg_v', until => '2001-01-02 00:00+00');
RESET ROLE;
DELETE FROM asof_online.pg_v__log WHERE served_at = '2001-01-01 23:00+00';

-- A late row in the training period: e0, te 2001-01-01 10:30, v 999
-- (available time = event time), inserted after every job.  It is visible
-- from tick 12:00 on and in the 1-day window up to tick 2001-01-02 06:00,
-- and 999 is above every v: count_1d and max_v_1d differ for e0 at ticks
-- 12:00 and 18:00 of 2001-01-01 (what the data scientist may see: 2 each)
-- and also at 2001-01-02 00:00 and 06:00 (held out: the monitoring role
-- sees 4 each).
INSERT INTO pg_src VALUES ('e0', '2001-01-01 10:30', 999);
SET ROLE regress_parity_ds;
SELECT feature, requests, compared, mismatches
  FROM asof.parity_report('pg_v', until => '2001-01-02 00:00+00');
-- the explanation reads the source as this role: rows before the split only
SELECT feature, tick, served, offline, explanation->'visible_offline' AS visible,
       (SELECT max(r->>'event_time') FROM jsonb_array_elements(explanation->'rows') r) AS latest_row
  FROM asof.parity_mismatches('pg_v', until => '2001-01-02 00:00+00');
RESET ROLE;
SET asof.guard = off;
SELECT feature, requests, compared, mismatches FROM asof.parity_report('pg_v');
RESET asof.guard;
DELETE FROM pg_src WHERE v = 999;

-- the guard applies to superusers too
SELECT * FROM asof.parity_report('pg_v');
-- and an opening of the test set is not a way to run it: refused in a
-- transaction that unsealed a table, even on the training period
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT asof.unseal('pg_src', reason => 'regression test of the parity report');
SELECT * FROM asof.parity_report('pg_v', until => '2001-01-02 00:00+00');
ROLLBACK;

-- nothing changed (the unseal above was rolled back with its transaction;
-- its audit record survives, as every unseal's); counted with the guard off
SET asof.guard = off;
SELECT (SELECT count(*) FROM asof_online.pg_v__log) AS log_rows,
       (SELECT count(*) FROM asof.holdout_log) - h.holdout_log AS new_holdout_records,
       (SELECT count(*) FROM asof.training_sets) - h.training_sets AS new_training_sets,
       h.log_rows AS log_rows_before
  FROM pg_before h;
RESET asof.guard;

-- clean up
RESET asof.clock;
SET client_min_messages = warning;
DROP TABLE pg_before;
SELECT asof.drop_feature_view('pg_v');
SELECT asof.unprotect('pg_src');
DROP TABLE pg_src;
DROP ROLE regress_parity_ds;
DELETE FROM asof.holdout_log;
