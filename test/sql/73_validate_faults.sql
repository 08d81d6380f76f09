--
-- 73_validate_faults: each fault kind of the validation bench, injected by
-- test/validation/inject.sql into one day of a small synthetic flights
-- table, is detected by asof.validate at the default sensitivity, on the
-- faulted column (or the row count for row faults); two clean target days
-- raise nothing.
--
\set SHOW_CONTEXT never
CREATE SCHEMA v73;
-- 24 days of 1,000 flights each, values from a hash (the same on every run):
-- origin and destination from 10 airports, distance 100..2099, delay -20..69.
CREATE TABLE v73.flights AS
SELECT timestamp '2001-02-01' + d * interval '1 day' + i * interval '86.4 seconds' AS dep_time,
       (ARRAY['ATL','ORD','DFW','LAX','DEN','SFO','PHX','IAH','LAS','DTW'])[1 + abs(hashint4(i * 7 + d * 1009)) % 10] AS origin,
       (ARRAY['ATL','ORD','DFW','LAX','DEN','SFO','PHX','IAH','LAS','DTW'])[1 + abs(hashint4(i * 11 + d * 1013)) % 10] AS destination,
       100 + abs(hashint4(i * 13 + d * 1019)) % 2000 AS distance,
       abs(hashint4(i * 17 + d * 1021)) % 90 - 20 AS delay
  FROM generate_series(0, 23) d, generate_series(0, 999) i;
\i test/validation/inject.sql
-- Reference 02-01 .. 02-14; target 02-15 .. 02-24: one fault per day from
-- 02-15 to 02-22 (case: both airport columns), 02-23 and 02-24 clean.
CREATE TABLE v73.plan (day timestamp, kind text, cols text[]);
INSERT INTO v73.plan VALUES
  ('2001-02-15', 'unit', '{delay}'), ('2001-02-16', 'null30', '{delay}'),
  ('2001-02-17', 'duplicate', '{}'), ('2001-02-18', 'half_missing', '{}'),
  ('2001-02-19', 'new_category', '{origin}'), ('2001-02-20', 'case', '{origin,destination}'),
  ('2001-02-21', 'stuck', '{distance}'), ('2001-02-22', 'shift', '{delay}');
SELECT p.kind, sum(pg_temp.inject('v73.flights', 'dep_time', p.kind, p.day, c)) AS rows_touched
  FROM v73.plan p, unnest(CASE WHEN p.cols = '{}' THEN '{delay}' ELSE p.cols END) c
 GROUP BY p.kind, p.day ORDER BY p.day;

CREATE TABLE v73.alerts AS
SELECT * FROM asof.validate('v73.flights', 'dep_time', '[2001-02-01, 2001-02-15)'::tsrange,
                            '[2001-02-15, 2001-02-25)');
-- Detected: an alert on a faulted column of that day (row faults: on the
-- row count or any column).
SELECT p.day::date, p.kind,
       EXISTS (SELECT FROM v73.alerts a
                WHERE a.partition_start = p.day
                  AND (coalesce(a.column_name::text, 'rows') = ANY (p.cols)
                       OR (p.cols = '{}' AND a.column_name IS NULL))) AS detected,
       (SELECT string_agg(DISTINCT coalesce(a.column_name::text, 'rows') || '.' || a.statistic || ' ' || a.severity, ', ')
          FROM v73.alerts a WHERE a.partition_start = p.day) AS alerts
  FROM v73.plan p ORDER BY p.day;
-- The clean days: nothing.
SELECT count(*) AS alerts_on_clean_days FROM v73.alerts WHERE partition_start >= '2001-02-23';
-- One explanation per kind of check, as a person reads them.
SELECT DISTINCT ON (statistic) statistic, explanation
  FROM v73.alerts WHERE statistic IN ('rows', 'null_fraction', 'new_value_fraction', 'mean')
 ORDER BY statistic, partition_start, column_name;

DROP SCHEMA v73 CASCADE;
DELETE FROM asof.profile_history WHERE table_name LIKE 'v73.%';
