#!/usr/bin/env bash
# test/bench/engine_training_set.sh: the point-in-time engine against the
# plain-SQL reference (issue 3, "Performance").
#
# The job: a training set over all 3,000,000 flights (the spine is the
# flights themselves, t = dep_time) with two feature views keyed by origin
# and by destination, each with avg(delay) over 1 hour, 6 hours, 1 day and
# 7 days, count(*) over 1 day, max(delay) over 1 day and stddev(delay) over
# 7 days; available time = landing (dep_time + (30 + distance / 8) minutes);
# cadence 1 hour, delay 10 minutes.
#
# Prints wall time, spine rows per second and the backend's peak memory
# (VmHWM of the backend, read from /proc/<pid>/status through pg_read_file:
# resident set including the shared buffers it touched) for:
#   1. the engine on the full job;
#   2. the engine and asof.feature_view_sql on the same time slice of the
#      job, since the reference would need hours for the full job: views on
#      the flights of the first ENGINE_BENCH_SLICE_DAYS days (default 9,
#      about 150,000 flights) as the source, the flights of the last 2 of
#      those days (about 33,000, whose 7-day windows are nearly full) as the
#      spine; the ratio is given on that slice;
#   3. both on a sparse spine (every ENGINE_BENCH_SPARSE_EVERY-th flight,
#      default 600: 5,000 spine rows) over the full 3M-flight source: the
#      engine reads the whole source once whatever the spine's size, the
#      reference pays per spine row, so small spines are its best case.
# The slice comparison runs ENGINE_BENCH_ROUNDS times (default 3), engine
# and reference alternating; its rows give the medians and the ratio is the
# ratio of the medians.
# The reference's full-job time is also extrapolated from its per-row cost
# on the sparse spine (steady-state windows).

# Server: a throwaway cluster from test/cluster.sh (default settings plus
# what cluster.sh sets), or yours when PGHOST is set (a database
# asof_bench is created and dropped there; the server must have pg_asof
# preloaded and installed, and the user must be a superuser to read
# /proc).  Data: ../shared/data/flights-3m.csv.gz beside the checkout.
set -uo pipefail
. "$(dirname "$0")/../cluster.sh"
cd "$ASOF_SRC"

every=${ENGINE_BENCH_SPARSE_EVERY:-600}
days=${ENGINE_BENCH_SLICE_DAYS:-9}
data=$(asof_flights_csv) || { echo "flights-3m.csv.gz not found in ../shared/data" >&2; exit 1; }
asof_bench_db asof_bench || exit 1
psql() { "${PSQL[@]}" -d "$db" "$@"; }

echo "loading 3,000,000 flights..." >&2
psql >/dev/null <<SQL || exit 1
CREATE EXTENSION IF NOT EXISTS pg_asof;
SET client_min_messages = warning;
CREATE TABLE flights (dep_time timestamp NOT NULL, origin text NOT NULL,
                      destination text NOT NULL, distance integer NOT NULL, delay integer);
\copy flights FROM PROGRAM 'gzip -dc $data' WITH (FORMAT csv, HEADER true)
CREATE INDEX ON flights (origin, dep_time);
CREATE INDEX ON flights (destination, dep_time);
VACUUM ANALYZE flights;
CREATE TABLE flights_sparse AS
  SELECT * FROM (SELECT f.*, row_number() OVER (ORDER BY dep_time, origin, destination, distance, delay) AS rn
                   FROM flights f) x
   WHERE rn % $every = 0;
ALTER TABLE flights_sparse DROP COLUMN rn;
ANALYZE flights_sparse;
CREATE TABLE flights_days AS
  SELECT * FROM flights WHERE dep_time < (SELECT min(dep_time)::date + $days FROM flights);
CREATE INDEX ON flights_days (origin, dep_time);
CREATE INDEX ON flights_days (destination, dep_time);
VACUUM ANALYZE flights_days;
CREATE TABLE flights_days_spine AS
  SELECT * FROM flights_days WHERE dep_time >= (SELECT min(dep_time)::date + $days - 2 FROM flights);
ANALYZE flights_days_spine;
SELECT asof.create_feature_view(v.name || s.suffix, s.source, ARRAY[v.key]::name[], 'dep_time',
  '{avg(delay) over 1 hour, avg(delay) over 6 hours, avg(delay) over 1 day, avg(delay) over 7 days, count(*) over 1 day, max(delay) over 1 day, stddev(delay) over 7 days}',
  available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
  cadence => '1 hour', delay => '10 minutes')
  FROM (VALUES ('by_origin', 'origin'), ('by_dest', 'destination')) v(name, key),
       (VALUES ('', 'flights'::regclass), ('_days', 'flights_days'::regclass)) s(suffix, source);
SQL

# run_one LABEL SQL: runs SQL in a fresh backend; prints "seconds peak_kB"
run_one() {
	psql -At <<SQL
SET client_min_messages = warning;
SET asof.progress_interval = 0;
SELECT clock_timestamp() AS t0 \gset
$2
SELECT extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric(12,3),
       coalesce((SELECT substring(pg_read_file('/proc/' || pg_backend_pid() || '/status') FROM 'VmHWM:\s*(\d+)')), 'n/a');
SQL
}
# last line only: the timing row (the build's own result comes before it)
run_last() { run_one "$@" | tail -n 1 | tr '|' ' '; }

echo "engine, full job..." >&2
read -r full_s full_kb < <(run_last full "SELECT asof.build_training_set('ts_full', 'flights', 'dep_time', '{by_origin, by_dest}');")
nfull=$(psql -At -c "SELECT count(*) FROM ts_full")
ndays=$(psql -At -c "SELECT count(*) FROM flights_days_spine")
ndayssrc=$(psql -At -c "SELECT count(*) FROM flights_days")
nsparse=$(psql -At -c "SELECT count(*) FROM flights_sparse")
# The slice comparison is repeated ENGINE_BENCH_ROUNDS times (default 3),
# alternating engine and reference, each in a fresh backend; the medians and
# the ratio of the medians are reported, so one run slowed down by another
# job on the machine does not decide the ratio.  The last round's tables
# are kept for the agreement check below.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
rounds=${ENGINE_BENCH_ROUNDS:-3}
ed_all=() rd_all=() ed_kb=0 rd_kb=0
for ((r = 1; r <= rounds; r++)); do
	psql -c 'DROP TABLE IF EXISTS ts_days, ref_days_origin, ref_days_dest' >/dev/null 2>&1
	echo "engine, time slice (round $r of $rounds)..." >&2
	read -r s kb < <(run_last days "SELECT asof.build_training_set('ts_days', 'flights_days_spine', 'dep_time', '{by_origin_days, by_dest_days}');")
	ed_all+=("$s"); ed_kb=$kb
	echo "reference (feature_view_sql), time slice (round $r of $rounds)..." >&2
	read -r s kb < <(run_last refdays "
SELECT format('CREATE TABLE ref_days_origin AS %s', asof.feature_view_sql('by_origin_days', 'flights_days_spine', 'dep_time')) \gexec
SELECT format('CREATE TABLE ref_days_dest AS %s', asof.feature_view_sql('by_dest_days', 'flights_days_spine', 'dep_time')) \gexec
")
	rd_all+=("$s"); rd_kb=$kb
done
ed_s=$(median "${ed_all[@]}")
rd_s=$(median "${rd_all[@]}")
echo "engine, sparse spine..." >&2
read -r es_s es_kb < <(run_last sparse "SELECT asof.build_training_set('ts_sparse', 'flights_sparse', 'dep_time', '{by_origin, by_dest}');")
echo "reference (feature_view_sql), sparse spine..." >&2
read -r rs_s rs_kb < <(run_last refsparse "
SELECT format('CREATE TABLE ref_sparse_origin AS %s', asof.feature_view_sql('by_origin', 'flights_sparse', 'dep_time')) \gexec
SELECT format('CREATE TABLE ref_sparse_dest AS %s', asof.feature_view_sql('by_dest', 'flights_sparse', 'dep_time')) \gexec
")

# the results agree (sanity; the regression tests compare in depth): rows
# of the time slice where any by-origin or by-destination feature differs
diffs=$(psql -At <<'SQL'
CREATE FUNCTION pg_temp.ne(a float8, b float8) RETURNS boolean LANGUAGE sql AS
  $$ SELECT NOT ((a IS NULL AND b IS NULL) OR abs(a - b) <= 1e-9 * greatest(1, abs(a), abs(b))) $$;
WITH t AS (SELECT row_number() OVER (ORDER BY dep_time, origin, destination, distance, delay,
                                     by_origin_days__avg_delay_7d, by_dest_days__avg_delay_7d) AS n, * FROM ts_days),
     o AS (SELECT row_number() OVER (ORDER BY dep_time, origin, destination, distance, delay,
                                     by_origin_days__avg_delay_7d) AS n, * FROM ref_days_origin),
     d AS (SELECT row_number() OVER (ORDER BY dep_time, origin, destination, distance, delay,
                                     by_dest_days__avg_delay_7d) AS n, * FROM ref_days_dest)
SELECT count(*) FROM t JOIN o USING (n) JOIN d USING (n)
 WHERE pg_temp.ne(t.by_origin_days__avg_delay_1h, o.by_origin_days__avg_delay_1h)
    OR pg_temp.ne(t.by_origin_days__avg_delay_6h, o.by_origin_days__avg_delay_6h)
    OR pg_temp.ne(t.by_origin_days__avg_delay_1d, o.by_origin_days__avg_delay_1d)
    OR pg_temp.ne(t.by_origin_days__avg_delay_7d, o.by_origin_days__avg_delay_7d)
    OR t.by_origin_days__count_1d IS DISTINCT FROM o.by_origin_days__count_1d
    OR t.by_origin_days__max_delay_1d IS DISTINCT FROM o.by_origin_days__max_delay_1d
    OR pg_temp.ne(t.by_origin_days__stddev_delay_7d, o.by_origin_days__stddev_delay_7d)
    OR pg_temp.ne(t.by_dest_days__avg_delay_1h, d.by_dest_days__avg_delay_1h)
    OR pg_temp.ne(t.by_dest_days__avg_delay_7d, d.by_dest_days__avg_delay_7d)
    OR t.by_dest_days__count_1d IS DISTINCT FROM d.by_dest_days__count_1d
    OR t.by_dest_days__max_delay_1d IS DISTINCT FROM d.by_dest_days__max_delay_1d
    OR pg_temp.ne(t.by_dest_days__stddev_delay_7d, d.by_dest_days__stddev_delay_7d);
SQL
)
settings=$(psql -At -c "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ' ') FROM pg_settings WHERE name IN ('work_mem', 'shared_buffers', 'max_parallel_workers_per_gather')")

mb() { [ "$1" = n/a ] && echo n/a || echo $(( $1 / 1024 )); }
load=$(cut -d' ' -f1-3 /proc/loadavg)
awk -v where="$where" -v settings="$settings" -v load="$load" \
	-v nf="$nfull" -v fs="$full_s" -v fm="$(mb "$full_kb")" \
	-v nd="$ndays" -v nds="$ndayssrc" -v eds="$ed_s" -v edm="$(mb "$ed_kb")" -v rds="$rd_s" -v rdm="$(mb "$rd_kb")" \
	-v ns="$nsparse" -v ess="$es_s" -v esm="$(mb "$es_kb")" -v rss="$rs_s" -v rsm="$(mb "$rs_kb")" \
	-v days="$days" -v diffs="$diffs" -v rounds="$rounds" -v edall="${ed_all[*]}" -v rdall="${rd_all[*]}" 'BEGIN {
	printf "engine benchmark on %s\n(%s; load average at the end %s)\n", where, settings, load
	printf "%-52s %9s %13s %15s\n", "run", "wall s", "spine rows/s", "peak memory MB"
	printf "%-52s %9.2f %13.0f %15s\n", "engine, full job (" nf " spine rows)", fs, nf / fs, fm
	printf "%-52s %9.2f %13.0f %15s\n", "engine, " days "-day slice (" nd " spine, " nds " source rows)", eds, nd / eds, edm
	printf "%-52s %9.2f %13.0f %15s\n", "feature_view_sql, same slice", rds, nd / rds, rdm
	printf "  (slice rows: median of %s rounds; engine s: %s; feature_view_sql s: %s)\n", rounds, edall, rdall
	printf "%-52s %9.2f %13.0f %15s\n", "engine, sparse spine (" ns " rows, 3M source)", ess, ns / ess, esm
	printf "%-52s %9.2f %13.0f %15s\n", "feature_view_sql, same sparse spine", rss, ns / rss, rsm
	printf "engine vs feature_view_sql on the %s-day slice: %.1fx faster (ratio of the medians of %s rounds)\n", days, rds / eds, rounds
	printf "engine vs feature_view_sql on the sparse spine: %.1fx faster\n", rss / ess
	printf "feature_view_sql extrapolated to the full job from its sparse-spine rate: %.0f s (%.0fx the engine)\n", rss * nf / ns, (rss * nf / ns) / fs
	printf "time-slice rows where engine and reference disagree (14 features): %s\n", diffs
}'
