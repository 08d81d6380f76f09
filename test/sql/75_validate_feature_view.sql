--
-- 75_validate_feature_view: the checks over a feature view's values at its
-- ticks (asof.validate_feature_view, asof.feature_view_values), and the
-- check a new snapshot passes before it is published
-- (asof._validate_snapshot, the quarantine of asof.materialize).
--
\set SHOW_CONTEXT never
CREATE SCHEMA v75;
-- Three sensors, one reading per hour for 12 days (2001-01-01 .. 01-12);
-- on 01-09 sensor 'b' reports in another unit (x 60).
CREATE TABLE v75.readings (sensor text, ts timestamp, v int);
INSERT INTO v75.readings
SELECT s, timestamp '2001-01-01' + h * interval '1 hour', 10 + abs(hashint4(h * 3 + ascii(s))) % 10
  FROM unnest('{a,b,c}'::text[]) s, generate_series(0, 12 * 24 - 1) h;
UPDATE v75.readings SET v = v * 60 WHERE sensor = 'b' AND ts >= '2001-01-09' AND ts < '2001-01-10';
-- A daily job at 00:00 published 30 minutes later; the last reading expires
-- after 6 hours (TTL).
SELECT asof.create_feature_view('v75_sensor', 'v75.readings', '{sensor}', event_time => 'ts',
         features => '{avg(v) over 1 day, last(v)}', cadence => '1 day', delay => '30 minutes',
         ttl => '6 hours');

-- The values served: one row per sensor and tick, requested at tick + 30
-- minutes: as of the midnight tick, the day average covers the 24 readings
-- of the day before and the last reading is the one at 23:00 (inside the
-- TTL), checked against plain SQL.
SELECT asof.feature_view_values('v75_sensor', '[2001-01-02, 2001-01-05)');
SELECT count(*) AS "values", min(tick) AS first_tick, max(tick) AS last_tick,
       bool_and(at = tick + interval '30 minutes') AS at_is_tick_plus_delay,
       bool_and(v75_sensor__avg_v_1d = (SELECT avg(r.v) FROM v75.readings r
                                         WHERE r.sensor = f.sensor AND r.ts >= f.tick - interval '1 day' AND r.ts < f.tick))
         AS day_averages_match,
       bool_and(v75_sensor__last_v = (SELECT r.v FROM v75.readings r
                                       WHERE r.sensor = f.sensor AND r.ts = f.tick - interval '1 hour'))
         AS last_readings_match
  FROM pg_temp.asof_fv_values f;

-- Reference: the ticks of 01-02 .. 01-09; target 01-09 .. 01-13.  The tick
-- of 01-10 00:00 covers 01-09's readings: sensor b's day average is 60
-- times larger, so the average over the three sensors and the spread jump
-- there (and only there: 01-09's own tick sees 01-08).
SELECT partition_start, column_name, statistic, severity
  FROM asof.validate_feature_view('v75_sensor', '[2001-01-02, 2001-01-09)', '[2001-01-09, 2001-01-13)')
 WHERE statistic IN ('mean', 'p95', 'stddev');

-- Bad input.
SELECT * FROM asof.validate_feature_view('nope', '[2001-01-02, 2001-01-09)', '[2001-01-09, 2001-01-13)');
SELECT * FROM asof.validate_feature_view('v75_sensor', '[2001-01-02, 2001-01-09)', '[2001-01-09,)');
SELECT * FROM asof.validate_feature_view('v75_sensor', '[2001-01-02, 2001-01-10)', '[2001-01-09, 2001-01-13)');
SELECT asof.feature_view_values('v75_sensor', '[2001-01-02, 2001-01-05)', '1 mon');

-- The quarantine: a snapshot is published only when _validate_snapshot
-- finds no high-severity alert; otherwise the previous one keeps being
-- served.  "served" stands for what the online store serves.
CREATE TABLE v75.served (tick timestamp, sensor text, avg_v_1d float8, last_v int);
CREATE FUNCTION v75.publish(t timestamp, snap regclass) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  IF asof._validate_snapshot('v75_sensor', t AT TIME ZONE 'UTC', snap, reference_ticks => 7) > 0 THEN
    RETURN 'quarantined';
  END IF;
  DELETE FROM v75.served;
  EXECUTE format('INSERT INTO v75.served SELECT %L, sensor, avg_v_1d, last_v FROM %s', t, snap);
  RETURN 'published';
END $$;
-- A good snapshot for 01-08 (the engine's own values at that tick).
SELECT asof.feature_view_values('v75_sensor', '[2001-01-08, 2001-01-08]');
CREATE TABLE v75.snap_good AS
  SELECT sensor, v75_sensor__avg_v_1d AS avg_v_1d, v75_sensor__last_v AS last_v FROM pg_temp.asof_fv_values;
SELECT v75.publish('2001-01-08', 'v75.snap_good');
SELECT tick, count(*) FROM v75.served GROUP BY tick;
-- A bad snapshot for 01-09: a job wrote sensor values in another unit.
CREATE TABLE v75.snap_bad AS SELECT sensor, avg_v_1d * 60 AS avg_v_1d, last_v * 60 AS last_v FROM v75.snap_good;
SELECT v75.publish('2001-01-09', 'v75.snap_bad');
-- Still the 01-08 snapshot.
SELECT tick, count(*) FROM v75.served GROUP BY tick;
-- The alerts, recorded.
SELECT feature_view, tick, column_name, statistic, severity, held_out, explanation
  FROM asof.validation_alerts WHERE feature_view = 'v75_sensor' AND severity = 'high' ORDER BY column_name, statistic;
-- A snapshot without a feature's column is an error.
CREATE TABLE v75.snap_short AS SELECT sensor, avg_v_1d FROM v75.snap_good;
SELECT asof._validate_snapshot('v75_sensor', '2001-01-09 00:00+00', 'v75.snap_short', 7);
-- Internal: not callable by PUBLIC.
SELECT has_function_privilege('public', 'asof._validate_snapshot(text, timestamptz, regclass, integer, float8)', 'EXECUTE') AS public_can_call;

-- Alerts about a protected source's held-out period are protected like
-- that period: the readings are protected (v is the label) and split at
-- 01-09; the snapshot of tick 01-10 is in the held-out period.  Its alerts
-- are recorded with held_out, which a plain role cannot read.
SELECT asof.protect('v75.readings', 'ts', '{v}');
SELECT asof.split('v75.readings', '2001-01-09');
SELECT asof._validate_snapshot('v75_sensor', '2001-01-10 00:00+00', 'v75.snap_bad', 7) > 0 AS refused;
SELECT held_out, count(*) FROM asof.validation_alerts
 WHERE feature_view = 'v75_sensor' GROUP BY held_out ORDER BY held_out;
CREATE ROLE regress_v75_reader;
SET ROLE regress_v75_reader;
SELECT held_out, count(*) FROM asof.validation_alerts
 WHERE feature_view = 'v75_sensor' GROUP BY held_out ORDER BY held_out;
RESET ROLE;
DROP ROLE regress_v75_reader;
SELECT asof.unprotect('v75.readings');

SELECT asof.drop_feature_view('v75_sensor');
DROP SCHEMA v75 CASCADE;
DELETE FROM asof.validation_alerts WHERE feature_view = 'v75_sensor';
DELETE FROM asof.profile_history WHERE table_name LIKE 'pg_temp%.asof_fv_values';
DELETE FROM asof.training_sets WHERE name LIKE 'pg_temp%.asof_fv_values';
DELETE FROM asof.holdout_log WHERE table_name = 'v75.readings';
