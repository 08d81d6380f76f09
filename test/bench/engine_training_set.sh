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
# Prints, for asof.build_training_set on the full job: wall time, spine rows
# per second and the backend's peak memory (VmHWM of the backend, read from
# /proc/<pid>/status through pg_read_file: resident set including the
# shared buffers it touched).  The same job through asof.feature_view_sql
# would take hours, so both run on the same slice of the spine (every
# ENGINE_BENCH_SLICE_EVERY-th flight, default 300: 10,000 spine rows, the
# full 3M flights as the source) and the ratio is given on that slice.
#
# Server: a throwaway cluster from test/cluster.sh (default settings plus
# what cluster.sh sets), or yours when PGHOST is set (a database
# asof_bench is created and dropped there; the server must have pg_asof
# preloaded and installed, and the user must be a superuser to read
# /proc).  Data: ../shared/data/flights-3m.csv.gz beside the checkout.
set -uo pipefail
. "$(dirname "$0")/../cluster.sh"
cd "$ASOF_SRC"

every=${ENGINE_BENCH_SLICE_EVERY:-300}
data=
for d in "$ASOF_SRC/../shared/data" "$ASOF_SRC/../../shared/data"; do
	[ -f "$d/flights-3m.csv.gz" ] && data=$(cd "$d" && pwd)/flights-3m.csv.gz && break
done
[ -n "$data" ] || { echo "flights-3m.csv.gz not found in ../shared/data" >&2; exit 1; }

if [ -n "${PGHOST:-}" ]; then
	PSQL=(psql -X -q -v ON_ERROR_STOP=1)
	"${PSQL[@]}" -d postgres -c 'DROP DATABASE IF EXISTS asof_bench' -c 'CREATE DATABASE asof_bench' >/dev/null || exit 1
	trap '"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS asof_bench" >/dev/null' EXIT
	db=asof_bench
	where="your server ($PGHOST)"
else
	asof_init
	asof_install_deps || exit 1
	asof_build_install || exit 1
	asof_cluster_start bench_engine || exit 1
	PSQL=("$ASOF_BINDIR/psql" -X -q -v ON_ERROR_STOP=1)
	db=postgres
	where="a throwaway cluster (test/cluster.sh)"
fi
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
CREATE TABLE flights_slice AS
  SELECT * FROM (SELECT f.*, row_number() OVER (ORDER BY dep_time, origin, destination, distance, delay) AS rn
                   FROM flights f) x
   WHERE rn % $every = 0;
ALTER TABLE flights_slice DROP COLUMN rn;
ANALYZE flights_slice;
SELECT asof.create_feature_view(v.name, 'flights', ARRAY[v.key]::name[], 'dep_time',
  '{avg(delay) over 1 hour, avg(delay) over 6 hours, avg(delay) over 1 day, avg(delay) over 7 days, count(*) over 1 day, max(delay) over 1 day, stddev(delay) over 7 days}',
  available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
  cadence => '1 hour', delay => '10 minutes')
  FROM (VALUES ('by_origin', 'origin'), ('by_dest', 'destination')) v(name, key);
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
nspine=$(psql -At -c "SELECT count(*) FROM ts_full")
nslice=$(psql -At -c "SELECT count(*) FROM flights_slice")
echo "engine, slice..." >&2
read -r eslice_s eslice_kb < <(run_last slice "SELECT asof.build_training_set('ts_slice', 'flights_slice', 'dep_time', '{by_origin, by_dest}');")
echo "reference (feature_view_sql), slice..." >&2
read -r rslice_s rslice_kb < <(run_last ref "
SELECT format('CREATE TABLE ref_slice_origin AS %s', asof.feature_view_sql('by_origin', 'flights_slice', 'dep_time')) \gexec
SELECT format('CREATE TABLE ref_slice_dest AS %s', asof.feature_view_sql('by_dest', 'flights_slice', 'dep_time')) \gexec
")

# the slice results agree (sanity; the regression tests do this in depth)
diffs=$(psql -At <<'SQL'
SELECT count(*) FROM ts_slice t
  JOIN ref_slice_origin o ON (o.dep_time, o.origin, o.destination, o.distance, o.delay) IS NOT DISTINCT FROM (t.dep_time, t.origin, t.destination, t.distance, t.delay)
 WHERE o.by_origin__avg_delay_7d IS DISTINCT FROM t.by_origin__avg_delay_7d
    AND abs(o.by_origin__avg_delay_7d - t.by_origin__avg_delay_7d) > 1e-9 * greatest(1, abs(o.by_origin__avg_delay_7d))
    OR o.by_origin__count_1d IS DISTINCT FROM t.by_origin__count_1d
    OR o.by_origin__max_delay_1d IS DISTINCT FROM t.by_origin__max_delay_1d;
SQL
)
settings=$(psql -At -c "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ' ') FROM pg_settings WHERE name IN ('work_mem', 'shared_buffers', 'max_parallel_workers_per_gather')")

awk -v where="$where" -v settings="$settings" -v n="$nspine" -v fs="$full_s" -v fkb="$full_kb" \
	-v ns="$nslice" -v es="$eslice_s" -v ekb="$eslice_kb" -v rs="$rslice_s" -v rkb="$rslice_kb" -v diffs="$diffs" 'BEGIN {
	printf "engine benchmark on %s (%s)\n", where, settings
	printf "%-44s %10s %14s %16s\n", "run", "wall s", "spine rows/s", "peak memory MB"
	printf "%-44s %10.2f %14.0f %16s\n", "engine, full job (" n " spine rows)", fs, n / fs, (fkb == "n/a" ? "n/a" : sprintf("%.0f", fkb / 1024))
	printf "%-44s %10.2f %14.0f %16s\n", "engine, slice (" ns " spine rows)", es, ns / es, (ekb == "n/a" ? "n/a" : sprintf("%.0f", ekb / 1024))
	printf "%-44s %10.2f %14.0f %16s\n", "feature_view_sql, same slice", rs, ns / rs, (rkb == "n/a" ? "n/a" : sprintf("%.0f", rkb / 1024))
	printf "engine vs reference on the slice: %.1fx faster\n", rs / es
	printf "reference extrapolated to the full job: %.0f s (%.0fx the engine full job)\n", rs * n / ns, (rs * n / ns) / fs
	printf "slice rows where engine and reference disagree (avg 7d, count 1d, max 1d by origin): %s\n", diffs
}'
