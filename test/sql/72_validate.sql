--
-- 72_validate: asof.validate on a hand-made table whose statistics are
-- known (docs/validation.md, "Tolerances").  Every reference day is the
-- same 400 rows, so each statistic's quartile range is 0 and the sampling
-- floors decide, at the default sensitivity 0.2 (w = floor / 0.2):
--   rows:      floor sqrt(400) = 20, w = 100: usual 300 to 500 (high
--              beyond 200 to 600)
--   fractions: floor 1/sqrt(400) = 0.05, w = 0.25 (high beyond 0.5)
--   x mean:    9.5, floor sd/sqrt(n) = 5.7735/20, w = 1.4434: 8.06 to 10.94
--   x p50 9, p95 18 (same w); x stddev 5.7735, floor sd/sqrt(2n), w = 1.0206
--
\set SHOW_CONTEXT never
CREATE SCHEMA v72;
SET TimeZone = 'Asia/Tokyo';
CREATE TABLE v72.t (ts timestamptz, x int, s text, old int);
-- Reference 2001-01-01 .. 01-10 and target 01-11 .. 01-14 (UTC days):
-- row i = 0..399 of each day at ts = day + i minutes, x = i % 20, s = 'a'
-- .. 'd' by i % 4.
INSERT INTO v72.t
SELECT d + i * interval '1 minute', i % 20, chr(97 + i % 4), 1
  FROM generate_series(timestamptz '2001-01-01 00:00+00', '2001-01-14 00:00+00', '1 day') d,
       generate_series(0, 399) i;
-- 01-11 stays clean.  01-12: rows 180 .. 399 lost (180 rows left, the
-- same distributions).  01-13: s = 'e' on 3 rows of 4 (a new value, now
-- the most frequent).  01-14: x in seconds instead of minutes (x * 60).
DELETE FROM v72.t WHERE ts >= '2001-01-12 03:00+00' AND ts < '2001-01-13 00:00+00';
UPDATE v72.t SET s = 'e' WHERE ts >= '2001-01-13 00:00+00' AND ts < '2001-01-14 00:00+00' AND s <> 'a';
UPDATE v72.t SET x = x * 60 WHERE ts >= '2001-01-14 00:00+00';

-- No earlier profile of the table: no schema check.  Expected alerts:
--   01-12 rows 180 (high: below 200);
--   01-13 s new_value_fraction 0.75 (high: beyond 0.5), top_fraction 0.75
--     (low: 0.25 to 0.5, high beyond 0.75), top_value 'e' (low);
--   01-14 x mean 570, p50 540, p95 1080, stddev 346.41 (all high); p05 stays
--     0, distinct values and the top share do not change.
SELECT partition_start, column_name, statistic, round(observed::numeric, 4) AS observed,
       round(expected_low::numeric, 4) AS expected_low, round(expected_high::numeric, 4) AS expected_high,
       severity, explanation
  FROM asof.validate('v72.t', 'ts', '[2001-01-01, 2001-01-11)'::tsrange, '[2001-01-11, 2001-01-15)');
-- The same periods as timestamptz ranges (converted to UTC): the same alerts.
SELECT count(*) AS alerts
  FROM asof.validate('v72.t', 'ts', '[2001-01-01 09:00+09, 2001-01-11 09:00+09)'::tstzrange,
                     '[2001-01-11 00:00+00, 2001-01-15 00:00+00)');
-- The sensitivity knob: fewer alerts when lower, more when higher.
SELECT s AS sensitivity, (SELECT count(*) FROM asof.validate('v72.t', 'ts', '[2001-01-01, 2001-01-11)'::tsrange,
                              '[2001-01-11, 2001-01-15)', sensitivity => s)) AS alerts
  FROM unnest('{0.01, 0.05, 0.2, 1}'::float8[]) s;
-- Only some columns.
SELECT column_name, statistic FROM asof.validate('v72.t', 'ts', '[2001-01-01, 2001-01-11)'::tsrange,
                                                '[2001-01-11, 2001-01-15)', columns => '{s}');

-- Schema: compared with the previous profile run of the table (the
-- validate just above), not with the table itself.
ALTER TABLE v72.t ADD COLUMN w int, ALTER COLUMN x TYPE bigint, DROP COLUMN old;
SELECT partition_start, column_name, severity,
       regexp_replace(explanation, 'the profile of .*', 'the profile of <run_at>') AS explanation
  FROM asof.validate('v72.t', 'ts', '[2001-01-01, 2001-01-11)'::tsrange, '[2001-01-11, 2001-01-15)')
 WHERE statistic = 'schema';
-- Once recorded, the new schema is the reference: no schema alert.
SELECT count(*) AS schema_alerts
  FROM asof.validate('v72.t', 'ts', '[2001-01-01, 2001-01-11)'::tsrange, '[2001-01-11, 2001-01-15)')
 WHERE statistic = 'schema';

-- A missing day is a partition with 0 rows.
DELETE FROM v72.t WHERE ts >= '2001-01-11 00:00+00' AND ts < '2001-01-12 00:00+00';
SELECT partition_start, column_name, statistic, observed, severity, explanation
  FROM asof.validate('v72.t', 'ts', '[2001-01-01, 2001-01-11)'::tsrange, '[2001-01-11, 2001-01-12)');
RESET TimeZone;

-- Bad input: a clear error.
SELECT * FROM asof.validate('v72.t', 'nope', '[2001-01-01, 2001-01-11)'::tsrange, '[2001-01-11, 2001-01-15)');
SELECT * FROM asof.validate('v72.t', 's', '[2001-01-01, 2001-01-11)'::tsrange, '[2001-01-11, 2001-01-15)');
SELECT * FROM asof.validate('v72.t', 'ts', '[2001-01-01, 2001-01-11)'::tsrange, '[2001-01-11, 2001-01-15)', columns => '{nope}');
SELECT * FROM asof.validate('v72.t', 'ts', 'empty'::tsrange, '[2001-01-11, 2001-01-15)');
SELECT * FROM asof.validate('v72.t', 'ts', '[2001-01-01, 2001-01-01)'::tsrange, '[2001-01-11, 2001-01-15)');
SELECT * FROM asof.validate('v72.t', 'ts', '[2001-01-11, 2001-01-01)'::tsrange, '[2001-01-11, 2001-01-15)');
SELECT * FROM asof.validate('v72.t', 'ts', '[2001-01-01,)'::tsrange, '[2001-01-11, 2001-01-15)');
SELECT * FROM asof.validate('v72.t', 'ts', '[2001-01-01, 2001-01-12)'::tsrange, '[2001-01-11, 2001-01-15)');
SELECT * FROM asof.validate('v72.t', 'ts', '[2001-01-01, 2001-01-11)'::tsrange, '[2001-01-11, 2001-01-15)', '0 days');
SELECT * FROM asof.validate('v72.t', 'ts', '[2001-01-01, 2001-01-11)'::tsrange, '[2001-01-11, 2001-01-15)', '1 mon');
SELECT * FROM asof.validate('v72.t', 'ts', '[2001-01-01, 2001-01-11)'::tsrange, '[2001-01-11, 2001-01-15)', sensitivity => 0);
SELECT * FROM asof.validate('v72.t', 'ts', '[2001-01-01, 2001-01-11)'::tsrange, '[2001-01-11, 2001-01-15)', sensitivity => 'NaN');
SELECT * FROM asof.validate('v72.t', 'ts', '[1999-01-01, 1999-01-11)'::tsrange, '[2001-01-11, 2001-01-15)');
SELECT * FROM asof.validate('v72.t', 'ts', NULL::tsrange, '[2001-01-11, 2001-01-15)');

DROP SCHEMA v72 CASCADE;
DELETE FROM asof.profile_history WHERE table_name LIKE 'v72.%';
