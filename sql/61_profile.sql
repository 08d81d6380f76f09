-- pg_asof install script, part 61: asof.profile (code part: idempotent,
-- re-run by every upgrade script).  The scan and statistics are in C
-- (src/profile.c, src/profile_stats.c).  Contract: docs/validation.md.

CREATE OR REPLACE FUNCTION asof.profile(tbl regclass, time_column name,
        grain interval DEFAULT '1 day', columns name[] DEFAULT NULL, during text DEFAULT NULL)
    RETURNS TABLE (partition_start timestamp, column_name name, column_type text,
                   rows bigint, nulls bigint, null_fraction float8, distinct_count bigint,
                   top_value text, top_fraction float8,
                   mean float8, stddev float8, min float8, p05 float8, p50 float8, p95 float8, max float8,
                   new_values bigint, new_value_fraction float8)
    AS 'MODULE_PATHNAME', 'asof_profile'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof.profile(regclass, name, interval, name[], text) IS
'Profile of a table: one row per (partition, column), from one scan with the caller''s privileges.  tbl: table, view or partition; time_column: timestamp, timestamptz or date; grain: partition length (an absolute interval: a day is 24 hours; no months), partitions start at 2000-01-03 00:00 + n * grain, in UTC for timestamptz (partition_start is then the UTC wall clock); columns: default every column but the time column; during: a range literal (tsrange, or tstzrange read in UTC) limiting the rows.  Every statistic is exact: rows, nulls, null_fraction (of rows), distinct_count (non-null values distinct by their binary form, as DISTINCT col::text), top_value and top_fraction (of non-null values; ties: the smallest value), for int2/int4/int8/float4/float8/numeric as float8: mean, stddev (sample), min, p05, p50, p95 (percentile_disc), max; for text-like and enum columns new_values (distinct values not seen in an earlier partition of this run) and new_value_fraction (share of non-null rows holding one).  Empty partitions between the first and last one appear with rows = 0.  Leakage guard: before the split of a protected table (or its parent), its label and future columns are left out with a NOTICE; after the split only training rows are profiled unless unsealed.  Each run records the table''s schema in asof.profile_history.  Errors: unknown column, time column of another type, grain not positive or with months, empty period.';
GRANT EXECUTE ON FUNCTION asof.profile(regclass, name, interval, name[], text) TO PUBLIC;
