#!/usr/bin/env bash
# test/validation/bench.sh: "make validate-bench" (also run by "make bench"
# through test/bench/validation.sh).  Data validation on the 3,000,000
# flights (issue 12, "Measured, not asserted"):
#
#   1. cost: asof.profile of the whole table by day against a plain
#      GROUP BY day scan computing count, avg and stddev of every column
#      (count of the text columns), VALIDATE_BENCH_ROUNDS rounds (default 3)
#      alternating in one backend; medians and the ratio of the medians,
#      with the baseline both as PostgreSQL plans it (parallel workers
#      allowed) and serial (max_parallel_workers_per_gather = 0);
#   2. calibration: reference January-February, target March-April, with
#      injected faults (test/validation/inject.sql) on 6 days per fault
#      kind: the run the default sensitivity was chosen from;
#   3. evaluation at the frozen default: reference January-April, target
#      May-June: the alerts on the clean data (false alerts per 100
#      (day, column) partitions), the detection rate per fault kind, and the
#      precision/recall curve over the sensitivity.
#
# Server: a throwaway cluster (test/cluster.sh), or yours when PGHOST is
# set (a database asof_validate_bench is created and dropped there; pg_asof
# must be installed and preloaded).  FLIGHTS=file.csv.gz chooses the data
# (default ../shared/data/flights-3m.csv.gz beside the checkout).
set -uo pipefail
. "$(dirname "$0")/../cluster.sh"
cd "$ASOF_SRC"

rounds=${VALIDATE_BENCH_ROUNDS:-3}
sens='{0.05,0.1,0.15,0.2,0.25,0.3,0.4,0.5,0.75,1}'
data=$(asof_flights_csv) || { echo "flights-3m.csv.gz not found in ../shared/data (set FLIGHTS=...)" >&2; exit 1; }
asof_bench_db asof_validate_bench || exit 1
psql() { "${PSQL[@]}" -d "$db" "$@"; }

echo "pg_asof validation bench, $(date -u '+%Y-%m-%d %H:%M UTC'), on $where"
echo "data: $data; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
psql >/dev/null <<SQL || exit 1
CREATE EXTENSION IF NOT EXISTS pg_asof;
SET client_min_messages = warning;
CREATE TABLE flights (dep_time timestamp NOT NULL, origin text NOT NULL,
                      destination text NOT NULL, distance integer NOT NULL, delay integer);
\copy flights FROM PROGRAM 'gzip -dc $data' WITH (FORMAT csv, HEADER true)
VACUUM ANALYZE flights;
SQL

echo
echo "== 1. cost: asof.profile by day against a plain GROUP BY day scan, $rounds rounds"
psql <<SQL || exit 1
\pset footer off
SET client_min_messages = warning;
CREATE TEMP TABLE timing (what text, round int, seconds float8);
CREATE FUNCTION pg_temp.time_it(what text, round int, q text) RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz;
BEGIN
  PERFORM set_config('max_parallel_workers_per_gather', CASE WHEN what LIKE '%serial%' THEN '0' ELSE '2' END, true);
  t0 := clock_timestamp();
  EXECUTE q;
  INSERT INTO timing VALUES (what, round, extract(epoch FROM clock_timestamp() - t0));
END \$\$;
SELECT count(pg_temp.time_it(w.what, r, w.q)) AS timed_runs
  FROM generate_series(1, $rounds) r,
       (VALUES (1, 'group by (parallel allowed)',
                'SELECT count(*) FROM (SELECT date_bin(''1 day'', dep_time, ''2000-01-03''), count(*), count(origin), count(destination), avg(distance), stddev(distance), avg(delay), stddev(delay) FROM flights GROUP BY 1) s'),
               (2, 'group by (serial)',
                'SELECT count(*) FROM (SELECT date_bin(''1 day'', dep_time, ''2000-01-03''), count(*), count(origin), count(destination), avg(distance), stddev(distance), avg(delay), stddev(delay) FROM flights GROUP BY 1) s'),
               (3, 'asof.profile',
                'SELECT count(*) FROM asof.profile(''flights'', ''dep_time'')')) w(i, what, q)
 ORDER BY r, w.i;
SELECT what, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)::numeric, 3) AS median_s,
       round(min(seconds)::numeric, 3) AS min_s, round(max(seconds)::numeric, 3) AS max_s
  FROM timing GROUP BY what ORDER BY median_s;
SELECT round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) FROM timing WHERE what = 'asof.profile')::numeric
           / (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) FROM timing WHERE what = 'group by (parallel allowed)')::numeric, 2)
         AS ratio_vs_group_by,
       round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) FROM timing WHERE what = 'asof.profile')::numeric
           / (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) FROM timing WHERE what = 'group by (serial)')::numeric, 2)
         AS ratio_vs_serial_group_by;
SQL

echo
echo "== 2. calibration: reference 2001-01-01..2001-03-01, target 2001-03-01..2001-05-01, 6 fault-days per kind"
psql -v src=flights -v ref_lo=2001-01-01 -v ref_hi=2001-03-01 -v tgt_lo=2001-03-01 -v tgt_hi=2001-05-01 \
	-v per_kind=6 -v sensitivities="$sens" -f test/validation/evaluate.sql || exit 1

echo
echo "== 3. evaluation: reference 2001-01-01..2001-05-01, target 2001-05-01..2001-07-01, 6 fault-days per kind"
psql -v src=flights -v ref_lo=2001-01-01 -v ref_hi=2001-05-01 -v tgt_lo=2001-05-01 -v tgt_hi=2001-07-01 \
	-v per_kind=6 -v sensitivities="$sens" -f test/validation/evaluate.sql || exit 1
