-- pg_asof install script, part 62: asof.validate (code part: idempotent,
-- re-run by every upgrade script).  Contract: docs/validation.md.
--
-- asof.validate profiles the reference and target periods in one
-- asof.profile run (so it sees exactly what the caller may read, through
-- the leakage guard), learns from the reference partitions how much each
-- statistic varies, and reports the target partitions outside that range.
-- Tolerances: for each (column, statistic), q1 and q3 of its reference
-- values and spread = max(q3 - q1, sampling floor); expected range
-- [q1 - spread / sensitivity, q3 + spread / sensitivity], clipped to the
-- statistic's domain; severity high beyond twice that distance.

CREATE OR REPLACE FUNCTION asof.validate(tbl regclass, time_column name,
        reference tsrange, target tsrange,
        grain interval DEFAULT '1 day', sensitivity float8 DEFAULT 0.2, columns name[] DEFAULT NULL)
    RETURNS TABLE (partition_start timestamp, column_name name, statistic text, observed float8,
                   expected_low float8, expected_high float8, severity text, explanation text)
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  prev_run timestamptz;
  this_run timestamptz;
  origin CONSTANT timestamp := '2000-01-03 00:00';
BEGIN
  -- phase 1: arguments
  IF tbl IS NULL OR time_column IS NULL OR reference IS NULL OR target IS NULL OR grain IS NULL THEN
    RAISE EXCEPTION 'tbl, time_column, reference, target and grain must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF pg_catalog.isempty(reference) OR pg_catalog.isempty(target) THEN
    RAISE EXCEPTION 'reference and target periods must not be empty'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = pg_catalog.format('The reference is %s and the target is %s.', reference, target);
  END IF;
  IF pg_catalog.lower_inf(reference) OR pg_catalog.upper_inf(reference)
     OR pg_catalog.lower_inf(target) OR pg_catalog.upper_inf(target) THEN
    RAISE EXCEPTION 'reference and target periods must have finite bounds'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = pg_catalog.format('The reference is %s and the target is %s.', reference, target);
  END IF;
  IF reference OPERATOR(pg_catalog.&&) target THEN
    RAISE EXCEPTION 'reference and target periods overlap'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = pg_catalog.format('The reference is %s and the target is %s.', reference, target),
            HINT = 'The target is compared with the reference; a partition cannot be in both.';
  END IF;
  IF sensitivity IS NULL OR NOT (sensitivity OPERATOR(pg_catalog.>) 0)
     OR sensitivity OPERATOR(pg_catalog.=) 'Infinity'::pg_catalog.float8
     OR sensitivity OPERATOR(pg_catalog.=) 'NaN'::pg_catalog.float8 THEN
    RAISE EXCEPTION 'sensitivity must be a positive number'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = pg_catalog.format('The sensitivity given is %s.', sensitivity);
  END IF;

  -- phase 2: one profile over both periods (through the guard, as the caller)
  SELECT pg_catalog.max(h.run_at) INTO prev_run
    FROM asof.profile_history h WHERE h.tbl OPERATOR(pg_catalog.=) validate.tbl;
  IF pg_catalog.to_regclass('pg_temp.asof_validate_profile') IS NOT NULL THEN
    DROP TABLE pg_temp.asof_validate_profile;
  END IF;
  CREATE TEMP TABLE asof_validate_profile ON COMMIT DROP AS
  SELECT * FROM asof.profile(tbl, time_column, grain, columns,
      pg_catalog.tsrange(LEAST(pg_catalog.lower(reference), pg_catalog.lower(target)),
                         GREATEST(pg_catalog.upper(reference), pg_catalog.upper(target)),
                         '[]')::pg_catalog.text) p;
  SELECT pg_catalog.max(h.run_at) INTO this_run
    FROM asof.profile_history h WHERE h.tbl OPERATOR(pg_catalog.=) validate.tbl;
  IF NOT EXISTS (SELECT FROM pg_temp.asof_validate_profile p
                  WHERE reference OPERATOR(pg_catalog.@>) p.partition_start
                    AND p.rows OPERATOR(pg_catalog.>) 0) THEN
    RAISE EXCEPTION 'reference period of "%" has no rows', tbl
      USING ERRCODE = 'no_data_found',
            DETAIL = pg_catalog.format('The reference is %s.', reference),
            HINT = 'Choose a reference period with rows the caller can read (after a split, training rows only).';
  END IF;

  -- phase 3: the statistics of every partition, the reference's ranges, the alerts
  RETURN QUERY
  WITH grid AS (               -- every partition of both periods, empty ones too
    SELECT g.start, 'reference'::pg_catalog.text AS period
      FROM pg_catalog.generate_series(pg_catalog.date_bin(grain, pg_catalog.lower(reference), origin),
                                      pg_catalog.upper(reference), grain) g(start)
     WHERE reference OPERATOR(pg_catalog.@>) g.start
        OR g.start OPERATOR(pg_catalog.=) pg_catalog.date_bin(grain, pg_catalog.lower(reference), origin)
    UNION ALL
    SELECT g.start, 'target'
      FROM pg_catalog.generate_series(pg_catalog.date_bin(grain, pg_catalog.lower(target), origin),
                                      pg_catalog.upper(target), grain) g(start)
     WHERE target OPERATOR(pg_catalog.@>) g.start
        OR g.start OPERATOR(pg_catalog.=) pg_catalog.date_bin(grain, pg_catalog.lower(target), origin)
  ), stats AS (                -- (partition, column, statistic, value, non-null count)
    SELECT p.partition_start AS start, p.column_name AS col, v.stat, v.value,
           (p.rows OPERATOR(pg_catalog.-) p.nulls)::pg_catalog.float8 AS n
      FROM pg_temp.asof_validate_profile p
     CROSS JOIN LATERAL (VALUES
       ('null_fraction', p.null_fraction),
       ('distinct_count', CASE WHEN p.rows OPERATOR(pg_catalog.>) 0 THEN p.distinct_count::pg_catalog.float8 END),
       ('top_fraction', p.top_fraction),
       ('mean', p.mean), ('stddev', p.stddev),
       ('p05', p.p05), ('p50', p.p50), ('p95', p.p95),
       ('new_value_fraction', p.new_value_fraction)) v(stat, value)
     WHERE v.value IS NOT NULL
    UNION ALL
    SELECT g.start, NULL::pg_catalog.name, 'rows', COALESCE(r.rows, 0)::pg_catalog.float8,
           COALESCE(r.rows, 0)::pg_catalog.float8
      FROM grid g
      LEFT JOIN (SELECT DISTINCT p.partition_start, p.rows FROM pg_temp.asof_validate_profile p) r
        ON r.partition_start OPERATOR(pg_catalog.=) g.start
  ), ref AS (                  -- the reference's quartiles per (column, statistic)
    SELECT s.col, s.stat,
           pg_catalog.percentile_cont(0.25) WITHIN GROUP (ORDER BY s.value) AS q1,
           pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY s.value) AS med,
           pg_catalog.percentile_cont(0.75) WITHIN GROUP (ORDER BY s.value) AS q3,
           pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY s.n) AS n_med
      FROM stats s JOIN grid g ON g.start OPERATOR(pg_catalog.=) s.start AND g.period OPERATOR(pg_catalog.=) 'reference'
     GROUP BY s.col, s.stat
  ), ranges AS (               -- spread: the quartile range, at least the sampling noise
    SELECT r.col, r.stat, r.q1, r.q3,
           GREATEST(r.q3 OPERATOR(pg_catalog.-) r.q1,
             CASE
               WHEN r.stat IN ('null_fraction', 'top_fraction', 'new_value_fraction')
                 THEN 1.0 OPERATOR(pg_catalog./) pg_catalog.sqrt(GREATEST(r.n_med, 1.0))
               WHEN r.stat IN ('rows', 'distinct_count')
                 THEN pg_catalog.sqrt(GREATEST(r.med, 1.0))
               WHEN r.stat IN ('mean', 'p05', 'p50', 'p95')
                 THEN COALESCE(sd.med, 0.0) OPERATOR(pg_catalog./) pg_catalog.sqrt(GREATEST(r.n_med, 1.0))
               WHEN r.stat OPERATOR(pg_catalog.=) 'stddev'
                 THEN r.med OPERATOR(pg_catalog./) pg_catalog.sqrt(2.0 OPERATOR(pg_catalog.*) GREATEST(r.n_med, 1.0))
             END) OPERATOR(pg_catalog./) sensitivity AS w,
           CASE WHEN r.stat IN ('null_fraction', 'top_fraction', 'new_value_fraction') THEN 1.0 END AS hi_cap,
           CASE WHEN r.stat IN ('null_fraction', 'top_fraction', 'new_value_fraction',
                                'rows', 'distinct_count', 'stddev') THEN 0.0 END AS lo_cap
      FROM ref r
      LEFT JOIN ref sd ON sd.col OPERATOR(pg_catalog.=) r.col AND sd.stat OPERATOR(pg_catalog.=) 'stddev'
  ), checked AS (
    SELECT s.start, s.col, s.stat, s.value,
           GREATEST(x.q1 OPERATOR(pg_catalog.-) x.w, x.lo_cap) AS lo,
           LEAST(x.q3 OPERATOR(pg_catalog.+) x.w, x.hi_cap) AS hi,
           s.value OPERATOR(pg_catalog.<) (x.q1 OPERATOR(pg_catalog.-) (2 OPERATOR(pg_catalog.*) x.w))
             OR s.value OPERATOR(pg_catalog.>) (x.q3 OPERATOR(pg_catalog.+) (2 OPERATOR(pg_catalog.*) x.w)) AS far
      FROM stats s
      JOIN grid g ON g.start OPERATOR(pg_catalog.=) s.start AND g.period OPERATOR(pg_catalog.=) 'target'
      JOIN ranges x ON x.col IS NOT DISTINCT FROM s.col AND x.stat OPERATOR(pg_catalog.=) s.stat
  ), fmt AS (
    SELECT c.*, v.label,
           c.stat IN ('null_fraction', 'top_fraction', 'new_value_fraction') AS fraction
      FROM checked c
     CROSS JOIN LATERAL (SELECT CASE c.stat
         WHEN 'rows' THEN 'rows'
         WHEN 'null_fraction' THEN 'null fraction'
         WHEN 'distinct_count' THEN 'distinct values'
         WHEN 'top_fraction' THEN 'share of the most frequent value'
         WHEN 'mean' THEN 'mean'
         WHEN 'stddev' THEN 'standard deviation'
         WHEN 'p05' THEN '5th percentile'
         WHEN 'p50' THEN 'median'
         WHEN 'p95' THEN '95th percentile'
         WHEN 'new_value_fraction' THEN 'share of values never seen before' END) v(label)
     WHERE c.value OPERATOR(pg_catalog.<) c.lo OR c.value OPERATOR(pg_catalog.>) c.hi
  ), ref_tops AS (             -- text columns with a stable most frequent value: the same one
    SELECT t.col               -- in at least half of the reference partitions
      FROM (SELECT r.column_name AS col, pg_catalog.count(*) AS n,
                   pg_catalog.sum(pg_catalog.count(*)) OVER (PARTITION BY r.column_name) AS total
              FROM pg_temp.asof_validate_profile r
              JOIN grid g ON g.start OPERATOR(pg_catalog.=) r.partition_start
                         AND g.period OPERATOR(pg_catalog.=) 'reference'
             WHERE r.new_value_fraction IS NOT NULL
             GROUP BY r.column_name, r.top_value) t
     WHERE (t.n OPERATOR(pg_catalog.*) 2) OPERATOR(pg_catalog.>=) t.total
  ), tops AS (                 -- ... and a target partition's most frequent value never one there
    SELECT t.partition_start AS start, t.column_name AS col, t.top_value, t.top_fraction,
           (SELECT pg_catalog.string_agg(DISTINCT pg_catalog.quote_literal(r.top_value), ', ')
              FROM pg_temp.asof_validate_profile r JOIN grid g
                ON g.start OPERATOR(pg_catalog.=) r.partition_start AND g.period OPERATOR(pg_catalog.=) 'reference'
             WHERE r.column_name OPERATOR(pg_catalog.=) t.column_name) AS usual
      FROM pg_temp.asof_validate_profile t
      JOIN grid g ON g.start OPERATOR(pg_catalog.=) t.partition_start AND g.period OPERATOR(pg_catalog.=) 'target'
     WHERE t.new_value_fraction IS NOT NULL
       AND t.column_name IN (SELECT rt.col FROM ref_tops rt)
       AND NOT EXISTS (SELECT FROM pg_temp.asof_validate_profile r JOIN grid g2
                         ON g2.start OPERATOR(pg_catalog.=) r.partition_start AND g2.period OPERATOR(pg_catalog.=) 'reference'
                        WHERE r.column_name OPERATOR(pg_catalog.=) t.column_name
                          AND r.top_value OPERATOR(pg_catalog.=) t.top_value)
  ), schema_then AS (
    SELECT u.col, u.typ FROM asof.profile_history h,
           ROWS FROM (pg_catalog.unnest(h.columns), pg_catalog.unnest(h.types)) u(col, typ)
     WHERE h.tbl OPERATOR(pg_catalog.=) validate.tbl AND h.run_at OPERATOR(pg_catalog.=) prev_run
  ), schema_now AS (
    SELECT u.col, u.typ FROM asof.profile_history h,
           ROWS FROM (pg_catalog.unnest(h.columns), pg_catalog.unnest(h.types)) u(col, typ)
     WHERE h.tbl OPERATOR(pg_catalog.=) validate.tbl AND h.run_at OPERATOR(pg_catalog.=) this_run AND prev_run IS NOT NULL
  ), schema_diff AS (
    SELECT COALESCE(n.col, o.col)::pg_catalog.name AS col,
           CASE WHEN o.col IS NULL THEN pg_catalog.format('%s: column added (type %s) since the profile of %s',
                                                          n.col, n.typ, h.run_at)
                WHEN n.col IS NULL THEN pg_catalog.format('%s: column dropped (was %s) since the profile of %s',
                                                          o.col, o.typ, h.run_at)
                ELSE pg_catalog.format('%s: type changed from %s to %s since the profile of %s',
                                       n.col, o.typ, n.typ, h.run_at) END AS why
      FROM schema_now n
      FULL JOIN schema_then o ON o.col OPERATOR(pg_catalog.=) n.col
      CROSS JOIN (SELECT prev_run AS run_at) h
     WHERE o.col IS NULL OR n.col IS NULL OR o.typ OPERATOR(pg_catalog.<>) n.typ
  )
  SELECT f.start, f.col, f.stat, f.value, f.lo, f.hi,
         CASE WHEN f.far THEN 'high' ELSE 'low' END,
         pg_catalog.format('%s: %s %s, usual %s to %s',
                           COALESCE(f.col::pg_catalog.text, 'partition'), f.label,
                           asof._number_text(f.value, f.fraction), asof._number_text(f.lo, f.fraction),
                           asof._number_text(f.hi, f.fraction))
    FROM fmt f
  UNION ALL
  SELECT t.start, t.col, 'top_value', t.top_fraction, NULL, NULL, 'low',
         pg_catalog.format('%s: most frequent value %s (share %s), never the most frequent in the reference (there: %s)',
                           t.col, pg_catalog.quote_literal(t.top_value), asof._number_text(t.top_fraction, true), t.usual)
    FROM tops t
  UNION ALL
  SELECT (SELECT pg_catalog.min(g.start) FROM grid g WHERE g.period OPERATOR(pg_catalog.=) 'target'),
         d.col, 'schema', NULL, NULL, NULL, 'high', d.why
    FROM schema_diff d
  ORDER BY 1, 2 NULLS FIRST, 3;
  DROP TABLE pg_temp.asof_validate_profile;
END $$;
COMMENT ON FUNCTION asof.validate(regclass, name, tsrange, tsrange, interval, float8, name[]) IS
'Validates the partitions of a target period against a reference period of the same table.  Profiles both periods with asof.profile (same arguments: tbl, time_column, grain, columns; through the leakage guard, as the caller), then for every (column, statistic) takes the quartiles q1, q3 of its reference partitions and spread = max(q3 - q1, sampling floor: 1/sqrt(n) for fractions, sqrt(median) for counts, median stddev/sqrt(n) for mean and quantiles, stddev/sqrt(2n) for stddev); the expected range is [q1 - spread/sensitivity, q3 + spread/sensitivity] clipped to the statistic''s domain.  Statistics: rows (per partition, empty ones included), null_fraction, distinct_count, top_fraction, for numbers mean, stddev, p05, p50, p95, for text new_value_fraction and top_value (when one value was the most frequent in at least half of the reference partitions: a target partition whose most frequent value never was); schema: a column added, dropped or retyped since the previous asof.profile run of the table (asof.profile_history).  Returns one row per alert: partition_start, column_name (NULL for rows), statistic, observed, expected_low, expected_high, severity (high: beyond twice the range''s distance, and every schema change; else low) and a one-line explanation.  sensitivity: larger raises more alerts; the default 0.2 was calibrated on January to April 2001 of the flights (docs/validation.md).  Errors: NULL arguments, empty or unbounded periods, overlapping periods, sensitivity not positive, a reference without rows, and those of asof.profile.';
GRANT EXECUTE ON FUNCTION asof.validate(regclass, name, tsrange, tsrange, interval, float8, name[]) TO PUBLIC;

CREATE OR REPLACE FUNCTION asof.validate(tbl regclass, time_column name,
        reference tstzrange, target tstzrange,
        grain interval DEFAULT '1 day', sensitivity float8 DEFAULT 0.2, columns name[] DEFAULT NULL)
    RETURNS TABLE (partition_start timestamp, column_name name, statistic text, observed float8,
                   expected_low float8, expected_high float8, severity text, explanation text)
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
  SELECT * FROM asof.validate(tbl, time_column,
    CASE WHEN reference IS NOT NULL THEN pg_catalog.tsrange(
      pg_catalog.timezone('UTC', pg_catalog.lower(reference)), pg_catalog.timezone('UTC', pg_catalog.upper(reference)),
      (CASE WHEN pg_catalog.lower_inc(reference) THEN '[' ELSE '(' END) OPERATOR(pg_catalog.||)
      (CASE WHEN pg_catalog.upper_inc(reference) THEN ']' ELSE ')' END)) END,
    CASE WHEN target IS NOT NULL THEN pg_catalog.tsrange(
      pg_catalog.timezone('UTC', pg_catalog.lower(target)), pg_catalog.timezone('UTC', pg_catalog.upper(target)),
      (CASE WHEN pg_catalog.lower_inc(target) THEN '[' ELSE '(' END) OPERATOR(pg_catalog.||)
      (CASE WHEN pg_catalog.upper_inc(target) THEN ']' ELSE ')' END)) END,
    grain, sensitivity, columns)
$$;
COMMENT ON FUNCTION asof.validate(regclass, name, tstzrange, tstzrange, interval, float8, name[]) IS
'asof.validate with the periods as timestamptz ranges: they are converted to UTC wall-clock time (the partitions of a timestamptz column are aligned in UTC), then as the tsrange form.  partition_start is in UTC.';
GRANT EXECUTE ON FUNCTION asof.validate(regclass, name, tstzrange, tstzrange, interval, float8, name[]) TO PUBLIC;

-- A number in an alert's explanation.
CREATE OR REPLACE FUNCTION asof._number_text(x float8, fraction boolean) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE
    WHEN x IS NULL THEN 'NULL'
    WHEN x OPERATOR(pg_catalog.=) 'NaN'::pg_catalog.float8
      OR pg_catalog.abs(x) OPERATOR(pg_catalog.=) 'Infinity'::pg_catalog.float8 THEN x::pg_catalog.text
    WHEN fraction THEN pg_catalog.round(x::pg_catalog.numeric, 2)::pg_catalog.text
    WHEN pg_catalog.abs(x) OPERATOR(pg_catalog.>=) 100
      OR x OPERATOR(pg_catalog.=) pg_catalog.trunc(x) THEN pg_catalog.round(x::pg_catalog.numeric)::pg_catalog.text
    ELSE pg_catalog.round(x::pg_catalog.numeric, 2)::pg_catalog.text END
$$;
COMMENT ON FUNCTION asof._number_text(float8, boolean) IS
'Internal (asof.validate): a number as an alert''s explanation prints it: fractions with two decimals, whole numbers and numbers from 100 on without decimals, others with two.  Pure formatting; reads nothing.';
GRANT EXECUTE ON FUNCTION asof._number_text(float8, boolean) TO PUBLIC;
