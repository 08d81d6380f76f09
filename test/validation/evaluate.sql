-- test/validation/evaluate.sql: one evaluation of asof.validate on the
-- flights (run by test/validation/bench.sh, twice: calibration and the
-- frozen evaluation).  psql variables:
--   src           the clean flights table
--   ref_lo ref_hi tgt_lo tgt_hi   the reference and target periods ([lo, hi))
--   per_kind      fault-days per fault kind in the target
--   sensitivities the sensitivity values of the precision/recall curve (a
--                 SQL array literal)
-- Prints: the alerts on the clean data at the default sensitivity; the
-- detection rate per fault kind at the default; the precision/recall
-- curve.  Units: a "partition" is a (day, column) pair; row-count alerts
-- are (day, rows) and count as partitions of their own.
\set ON_ERROR_STOP 1
\pset footer off
SET client_min_messages = warning;
\i test/validation/inject.sql

SELECT (SELECT pg_catalog.pg_get_function_arguments(p.oid) FROM pg_proc p
         WHERE p.proname = 'validate' AND p.pronamespace = 'asof'::regnamespace
           AND pg_get_function_arguments(p.oid) LIKE '%tsrange,%' LIMIT 1) AS sig \gset
SELECT substring(:'sig' FROM 'sensitivity double precision DEFAULT ([0-9.]+)')::float8 AS sens_default \gset
\echo sensitivity (frozen default): :sens_default

-- The fault plan: target day i (from 0) gets kind i mod 8 while i < 8 * per_kind.
DROP TABLE IF EXISTS plan;
CREATE TABLE plan AS
SELECT d.day, k.kind, k.cols
  FROM (SELECT g AS day, row_number() OVER (ORDER BY g) - 1 AS i
          FROM generate_series(:'tgt_lo'::timestamp, :'tgt_hi'::timestamp - interval '1 day', interval '1 day') g) d
  JOIN (VALUES (0, 'unit', '{delay}'::text[]), (1, 'null30', '{delay}'), (2, 'duplicate', '{}'),
               (3, 'half_missing', '{}'), (4, 'new_category', '{origin}'),
               (5, 'case', '{origin,destination}'), (6, 'stuck', '{delay}'), (7, 'shift', '{delay}')) k(j, kind, cols)
    ON d.i % 8 = k.j AND d.i < 8 * :per_kind;

DROP TABLE IF EXISTS corrupted;
CREATE TABLE corrupted AS
  SELECT * FROM :src WHERE dep_time >= :'ref_lo' AND dep_time < :'tgt_hi';
SELECT count(*) AS injections FROM plan p,
       LATERAL (SELECT pg_temp.inject('corrupted', 'dep_time', p.kind, p.day, c)
                  FROM unnest(CASE WHEN p.cols = '{}' THEN '{delay}'::text[] ELSE p.cols END) c) x;
ANALYZE corrupted;

-- The faulted partitions: a row fault (duplicate, half_missing) faults
-- every column and the row count of its day.
DROP TABLE IF EXISTS faulted;
CREATE TABLE faulted AS
SELECT p.day, p.kind, c.col
  FROM plan p, LATERAL unnest(CASE WHEN p.cols = '{}'
                                   THEN '{origin,destination,distance,delay,rows}' ELSE p.cols END) c(col);

\echo
\echo == alerts on the clean data, default sensitivity
DROP TABLE IF EXISTS clean_alerts;
CREATE TABLE clean_alerts AS
SELECT * FROM asof.validate(:'src', 'dep_time', tsrange(:'ref_lo', :'ref_hi'), tsrange(:'tgt_lo', :'tgt_hi'));
SELECT partition_start::date AS day, coalesce(column_name::text, 'rows') AS col, statistic,
       severity, explanation
  FROM clean_alerts ORDER BY 1, 2, 3;
SELECT count(*) AS alerts,
       count(DISTINCT (partition_start, column_name)) AS alerted_partitions,
       (SELECT count(*) FROM generate_series(:'tgt_lo'::timestamp, :'tgt_hi'::timestamp - interval '1 day', interval '1 day')) * 4
         AS day_column_partitions,
       round(100.0 * count(DISTINCT (partition_start, column_name))
             / ((SELECT count(*) FROM generate_series(:'tgt_lo'::timestamp, :'tgt_hi'::timestamp - interval '1 day', interval '1 day')) * 4), 2)
         AS false_alerts_per_100_partitions
  FROM clean_alerts;

-- One validate run per sensitivity on the corrupted copy.
DROP TABLE IF EXISTS runs;
CREATE TABLE runs (sensitivity float8, day timestamp, col text, statistic text, severity text, explanation text);
SELECT format('INSERT INTO runs SELECT %s, partition_start, coalesce(column_name::text, ''rows''), statistic, severity, explanation FROM asof.validate(''corrupted'', ''dep_time'', tsrange(%L, %L), tsrange(%L, %L), sensitivity => %s)',
              s, :'ref_lo', :'ref_hi', :'tgt_lo', :'tgt_hi', s)
  FROM unnest(:'sensitivities'::float8[] || :sens_default::float8) s \gexec

\echo
\echo == detection per fault kind, default sensitivity (a fault-day is detected when an alert names a faulted column of that day)
SELECT p.kind, count(*) AS fault_days, count(*) FILTER (WHERE d.stats IS NOT NULL) AS detected,
       round(count(*) FILTER (WHERE d.stats IS NOT NULL)::numeric / count(*), 3) AS rate,
       string_agg(DISTINCT d.stats, ' / ') AS caught_by
  FROM plan p
  LEFT JOIN LATERAL (SELECT string_agg(DISTINCT r.col || '.' || r.statistic, ',') AS stats
                       FROM runs r JOIN faulted f ON f.day = r.day AND f.col = r.col
                      WHERE r.sensitivity = :sens_default AND f.day = p.day) d ON true
 GROUP BY p.kind ORDER BY min(p.day);

\echo
\echo == precision / recall over the sensitivity (alerted partitions: distinct (day, column))
WITH a AS (SELECT DISTINCT r.sensitivity, r.day, r.col,
                  EXISTS (SELECT FROM faulted f WHERE f.day = r.day AND f.col = r.col) AS true_alert
             FROM runs r),
     days AS (SELECT count(*) AS n FROM generate_series(:'tgt_lo'::timestamp, :'tgt_hi'::timestamp - interval '1 day', interval '1 day')),
     s AS (SELECT DISTINCT sensitivity FROM runs)
SELECT s.sensitivity,
       (SELECT count(*) FILTER (WHERE true_alert) FROM a WHERE a.sensitivity = s.sensitivity) AS true_alerts,
       (SELECT count(*) FILTER (WHERE NOT true_alert) FROM a WHERE a.sensitivity = s.sensitivity) AS false_alerts,
       round((SELECT count(*) FILTER (WHERE true_alert)::numeric / nullif(count(*), 0) FROM a WHERE a.sensitivity = s.sensitivity), 3) AS precision,
       round((SELECT count(*) FILTER (WHERE EXISTS (SELECT FROM a JOIN faulted f ON f.day = a.day AND f.col = a.col
                                                   WHERE a.sensitivity = s.sensitivity AND a.day = p.day))::numeric
                / count(*) FROM plan p), 3) AS recall,
       round(100.0 * (SELECT count(*) FILTER (WHERE NOT true_alert) FROM a WHERE a.sensitivity = s.sensitivity)
             / ((SELECT n FROM days) * 4 - (SELECT count(*) FROM faulted WHERE col <> 'rows')), 2) AS false_per_100_clean
  FROM s ORDER BY 1;
