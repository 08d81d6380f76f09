--
-- 64_online_quarantine: asof.materialize(..., validate => true) checks a
-- snapshot before publishing it (asof._validate_snapshot): a snapshot with
-- a high-severity alert is not published, the previous tick keeps being
-- served, and the alerts are recorded.  The same tick without validate is
-- published (the legitimate twin, and proof that the check refused it).
--
-- Fixture: three sensors, one reading an hour for 12 days from 2001-01-01;
-- a daily feature view (tick 00:00, published 30 minutes later).  On 01-09
-- sensor b reports in another unit (x 60), which the tick of 01-10 covers.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
CREATE SCHEMA q64;
CREATE TABLE q64.readings (sensor text, ts timestamp, v int);
INSERT INTO q64.readings
SELECT s, timestamp '2001-01-01' + h * interval '1 hour', 10 + abs(hashint4(h * 3 + ascii(s))) % 10
  FROM unnest('{a,b,c}'::text[]) s, generate_series(0, 12 * 24 - 1) h;
UPDATE q64.readings SET v = v * 60 WHERE sensor = 'b' AND ts >= '2001-01-09' AND ts < '2001-01-10';
SELECT asof.create_feature_view('q64_sensor', 'q64.readings', '{sensor}', event_time => 'ts',
         features => '{avg(v) over 1 day, last(v)}', cadence => '1 day', delay => '30 minutes');
SET asof.clock = '2001-01-12 12:00+00';

-- Tick 01-09 covers 01-08's usual readings: checked and published.
SELECT asof.materialize('q64_sensor', '2001-01-09'::timestamp, validate => true) AS entities_01_09;
-- Tick 01-10 covers the readings in another unit: not published.
SELECT asof.materialize('q64_sensor', '2001-01-10'::timestamp, validate => true) AS entities_01_10;
SELECT tick, entities FROM asof.materializations WHERE feature_view = 'q64_sensor' ORDER BY tick;
SELECT DISTINCT tick FROM asof_online.q64_sensor ORDER BY tick;
-- At 01-10 00:30, when 01-10 would have been published, production still
-- serves the tick of 01-09 (sensor b's usual values).
SELECT asof.online_features('q64_sensor', '{b}', '2001-01-10 00:30'::timestamp) AS served;
SELECT asof.features_at('q64_sensor', '{b}', '2001-01-09 00:30'::timestamp) AS tick_01_09_offline;
-- The alerts that stopped it, all on 01-10.
SELECT DISTINCT tick, severity FROM asof.validation_alerts
 WHERE feature_view = 'q64_sensor' AND severity = 'high' ORDER BY 1;
-- Without validate the same tick is published.
SELECT asof.materialize('q64_sensor', '2001-01-10'::timestamp) AS entities_unvalidated;
SELECT tick, entities FROM asof.materializations WHERE feature_view = 'q64_sensor' ORDER BY tick;

-- Clean up.
RESET asof.clock;
SELECT asof.drop_feature_view('q64_sensor');
DELETE FROM asof.validation_alerts WHERE feature_view = 'q64_sensor';
DELETE FROM asof.materializations WHERE feature_view = 'q64_sensor';
DROP SCHEMA q64 CASCADE;
