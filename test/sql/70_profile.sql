--
-- 70_profile: asof.profile on hand-made tables whose statistics are known
-- (docs/validation.md).  Partitions are aligned in UTC for timestamptz
-- whatever the session's TimeZone; empty partitions between the first and
-- the last appear with rows = 0; NULLs count in rows, not in the
-- statistics of values; ties of the most frequent value go to the smallest.
--
CREATE SCHEMA v70;
SET TimeZone = 'America/New_York';
-- Partition 2001-01-01 UTC: x 1, 2, 3, 4, NULL; s 'a', 'a', 'b', NULL, 'c'.
-- The row at 2001-01-01 23:30 New York time is 2001-01-02 04:30 UTC:
-- partition 2001-01-02 (x 7).  Nothing on 2001-01-03 UTC.  Partition
-- 2001-01-04: x 10, 10, 20; s 'a', 'd', 'd'.
CREATE TABLE v70.t (ts timestamptz, x int, s text, n numeric);
INSERT INTO v70.t VALUES
  ('2001-01-01 00:00+00', 1, 'a', 1.0), ('2001-01-01 06:00+00', 2, 'a', 1.00),
  ('2001-01-01 12:00+00', 3, 'b', 2.5), ('2001-01-01 18:00+00', 4, NULL, NULL),
  ('2001-01-01 23:59:59.999999+00', NULL, 'c', 2.5),
  ('2001-01-01 23:30-05', 7, 'a', 3),
  ('2001-01-04 00:00+00', 10, 'a', 0), ('2001-01-04 01:00+00', 10, 'd', 0),
  ('2001-01-04 02:00+00', 20, 'd', 0),
  (NULL, 99, 'z', 99);
-- Expected, by hand:
--   01-01 x: rows 5, nulls 1 (0.2), distinct 4, top 1 (tie of four: the
--     smallest) 0.25, mean 2.5, stddev sqrt(5/3) = 1.2910, min 1,
--     p05 = 1st of 4 (ceil(0.2)), p50 = 2nd (ceil(2)), p95 = 4th, max 4.
--   01-01 s: distinct 3, top 'a' 2/4, new_values 3 (first partition:
--     everything is new), new_value_fraction 1.
--   01-01 n: 1.0 and 1.00 are two values (binary form, as ::text), 2.5
--     twice: top 2.5 (0.5), distinct 3, mean 7/4.
--   01-02: one row; stddev NULL (one value); s 'a' seen before: 0 new.
--   01-03: empty: rows 0, fractions and statistics NULL.
--   01-04 x: mean 40/3, stddev sqrt(100/3) = 5.7735, top 10 (2/3),
--     p50 = 2nd of 3 = 10, p95 = 3rd = 20; s: 'd' new (1 value, 2 rows of 3).
SELECT partition_start, column_name, column_type, rows, nulls, null_fraction,
       distinct_count, top_value, round(top_fraction::numeric, 4) AS top_fraction,
       round(mean::numeric, 4) AS mean, round(stddev::numeric, 4) AS stddev,
       min, p05, p50, p95, max, new_values, round(new_value_fraction::numeric, 4) AS new_value_fraction
  FROM asof.profile('v70.t', 'ts');

-- A grain of 6 hours, two columns, a period (a tstzrange literal read in
-- UTC): partitions 2001-01-01 06:00 and 12:00 (the row at 18:00 is outside).
SELECT partition_start, column_name, rows, distinct_count, top_value
  FROM asof.profile('v70.t', 'ts', '6 hours', '{s,x,s}',
                    during => '[2001-01-01 06:00, 2001-01-01 18:00)');
-- A period with no rows: no partitions.
SELECT count(*) FROM asof.profile('v70.t', 'ts', during => '[2002-01-01, 2003-01-01)');
RESET TimeZone;

-- Partitions start at 2000-01-03 00:00 + n * grain: weeks start on Mondays.
-- NaN sorts after every number (as in PostgreSQL): min -Infinity, max NaN.
CREATE TABLE v70.d (day date, v float8);
INSERT INTO v70.d VALUES ('2001-01-01', 1), ('2001-01-07', 3), ('2001-01-08', 5),
  ('2001-01-08', 'NaN'), ('2001-01-08', '-Infinity');
SELECT partition_start, to_char(partition_start, 'Dy') AS weekday, rows, mean, min, max
  FROM asof.profile('v70.d', 'day', '7 days');

-- Each run records the table's schema (every column, the time column too).
SELECT table_name, time_column, grain, columns, types, run_by = current_user AS by_me
  FROM asof.profile_history WHERE tbl = 'v70.t'::regclass ORDER BY run_at;

-- Bad input: a clear error, nothing recorded.
SELECT count(*) AS runs_before FROM asof.profile_history \gset
SELECT * FROM asof.profile('v70.t', 'nope');
SELECT * FROM asof.profile('v70.t', 'x');
SELECT * FROM asof.profile('v70.t', 'ts', columns => '{x,nope}');
SELECT * FROM asof.profile('v70.t', 'ts', '0 days');
SELECT * FROM asof.profile('v70.t', 'ts', '-1 hour');
SELECT * FROM asof.profile('v70.t', 'ts', '1 month');
SELECT * FROM asof.profile('v70.t', 'ts', during => 'empty');
SELECT * FROM asof.profile('v70.t', 'ts', during => '[2001-02-01, 2001-01-01)');
SELECT * FROM asof.profile('v70.t', NULL);
SELECT * FROM asof.profile('v70.t', 'ts', '1 microsecond');
CREATE SEQUENCE v70.t_seq;
SELECT * FROM asof.profile('v70.t_seq', 'ts');
SELECT count(*) = :runs_before AS nothing_recorded FROM asof.profile_history;

DROP SCHEMA v70 CASCADE;
DELETE FROM asof.profile_history WHERE table_name LIKE 'v70.%';
