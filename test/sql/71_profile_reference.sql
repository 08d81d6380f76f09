--
-- 71_profile_reference: asof.profile (C, one scan) against its plain-SQL
-- reference on the committed sample of real flights (30,000 rows,
-- data/flights-sample.csv.gz), by day and by 6 hours, every statistic of
-- every column.  The reference shares no code with the C path: each
-- statistic is the PostgreSQL aggregate the docs name (count, count(DISTINCT
-- col::text), avg and stddev_samp over float8, percentile_disc, the first
-- partition a value appears in).
--
CREATE SCHEMA v71;
CREATE TABLE v71.flights (dep_time timestamp, origin text, destination text, distance integer, delay integer);
\copy v71.flights FROM PROGRAM 'gzip -dc data/flights-sample.csv.gz' WITH (FORMAT csv, HEADER true)
-- Some NULLs, and a numeric column, so that every path is exercised.
ALTER TABLE v71.flights ADD COLUMN ratio numeric;
UPDATE v71.flights SET delay = NULL WHERE distance % 7 = 0;
UPDATE v71.flights SET ratio = round(delay::numeric / distance, 3) WHERE delay IS NOT NULL;
SELECT count(*) AS flights, count(delay) AS delays FROM v71.flights;

-- The reference: one row per (partition, column) from plain SQL.
CREATE FUNCTION v71.reference(grain interval)
RETURNS TABLE (partition_start timestamp, column_name name, rows bigint, nulls bigint,
               distinct_count bigint, top_value text, top_fraction float8,
               mean float8, stddev float8, min float8, p05 float8, p50 float8, p95 float8, max float8,
               new_values bigint, new_value_fraction float8)
LANGUAGE plpgsql AS $$
DECLARE
  c record;
BEGIN
  FOR c IN SELECT * FROM (VALUES ('origin', false), ('destination', false), ('distance', true),
                                 ('delay', true), ('ratio', true)) v(name, num) LOOP
    RETURN QUERY EXECUTE format($q$
      WITH f AS (SELECT date_bin(%2$L, dep_time, '2000-01-03') AS p, %1$I AS v FROM v71.flights),
      first_seen AS (SELECT v, min(p) AS p FROM f WHERE v IS NOT NULL GROUP BY v),
      tops AS (SELECT DISTINCT ON (p) p, v::text AS top, count(*) AS n FROM f WHERE v IS NOT NULL
                GROUP BY p, v ORDER BY p, count(*) DESC, %3$s)
      SELECT f.p, %1$L::name, count(*), count(*) - count(f.v), count(DISTINCT f.v::text),
             t.top, t.n::float8 / nullif(count(f.v), 0),
             %4$s
        FROM f LEFT JOIN tops t ON t.p = f.p
       GROUP BY f.p, t.top, t.n $q$,
      c.name, grain,
      CASE WHEN c.num THEN 'v' ELSE 'v::text COLLATE "C"' END,
      CASE WHEN c.num THEN
        'avg(f.v::float8), stddev_samp(f.v::float8), min(f.v)::float8,
         (percentile_disc(0.05) WITHIN GROUP (ORDER BY f.v))::float8,
         (percentile_disc(0.5) WITHIN GROUP (ORDER BY f.v))::float8,
         (percentile_disc(0.95) WITHIN GROUP (ORDER BY f.v))::float8, max(f.v)::float8,
         NULL::bigint, NULL::float8'
      ELSE
        'NULL::float8, NULL::float8, NULL::float8, NULL::float8, NULL::float8, NULL::float8, NULL::float8,
         (SELECT count(*) FROM first_seen s WHERE s.p = f.p),
         (SELECT count(*) FROM f f2 JOIN first_seen s ON s.v = f2.v AND s.p = f2.p WHERE f2.p = f.p)::float8
           / nullif(count(f.v), 0)'
      END);
  END LOOP;
END $$;

-- close: equal, or both NULL, or within 1e-9 relative plus 1e-12 absolute
-- (float sums in another order; a mean of -0.017, -0.006 and 0.023 is 0
-- in one order and -5.8e-19 in another).
CREATE FUNCTION v71.close(a float8, b float8) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT (a IS NULL AND b IS NULL) OR a = b
      OR abs(a - b) <= 1e-9 * greatest(abs(a), abs(b)) + 1e-12
$$;

SELECT g.grain, c.*
  FROM (VALUES (interval '1 day'), (interval '6 hours')) g(grain)
  CROSS JOIN LATERAL (
    SELECT count(*) AS compared,
       count(*) FILTER (WHERE r.partition_start IS NULL OR p.partition_start IS NULL) AS unmatched,
       count(*) FILTER (WHERE p.rows <> r.rows OR p.nulls <> r.nulls OR p.distinct_count <> r.distinct_count
                           OR p.top_value IS DISTINCT FROM r.top_value
                           OR NOT v71.close(p.top_fraction, r.top_fraction)
                           OR NOT v71.close(p.mean, r.mean) OR NOT v71.close(p.stddev, r.stddev)
                           OR NOT v71.close(p.min, r.min) OR NOT v71.close(p.p05, r.p05)
                           OR NOT v71.close(p.p50, r.p50) OR NOT v71.close(p.p95, r.p95)
                           OR NOT v71.close(p.max, r.max)
                           OR p.new_values IS DISTINCT FROM r.new_values
                           OR NOT v71.close(p.new_value_fraction, r.new_value_fraction)) AS different,
       count(*) FILTER (WHERE p.stddev IS NOT NULL) AS with_stddev,
       count(*) FILTER (WHERE p.new_values > 0 AND p.new_values < p.distinct_count) AS with_some_new_values
      FROM (SELECT * FROM asof.profile('v71.flights', 'dep_time', g.grain) WHERE rows > 0) p
      FULL JOIN v71.reference(g.grain) r
        ON r.partition_start = p.partition_start AND r.column_name = p.column_name) c
 ORDER BY g.grain;

DROP SCHEMA v71 CASCADE;
DELETE FROM asof.profile_history WHERE table_name LIKE 'v71.%';
