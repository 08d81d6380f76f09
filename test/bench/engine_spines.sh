#!/usr/bin/env bash
# test/bench/engine_spines.sh: engine speed on every spine shape (issue 13).
#
# The bench job (as engine_training_set.sh): two feature views over the
# 3,000,000 flights, keyed by origin and by destination, each with
# avg(delay) over 1 hour, 6 hours, 1 day and 7 days, count(*) over 1 day,
# max(delay) over 1 day and stddev(delay) over 7 days; available time =
# landing (dep_time + (30 + distance / 8) minutes); cadence 1 hour, delay
# 10 minutes; indexes on (origin, dep_time) and (destination, dep_time).
#
# Cases, all in one run, each in a fresh backend (ENGINE_BENCH_CASES, default
# "day week sparse full", chooses; the full job always runs, it is the
# 30M case's baseline):
#   full    the spine is all 3M flights: the engine (parallel workers on,
#           the default) against the same job in
#           DuckDB (npm @duckdb/node-api 1.5.6-r.1, 2 threads, installed
#           under test/bench/.duckdb at bench time, never committed;
#           duckdb_job.mjs holds its formulation; its load is not timed),
#           and against itself without parallel workers (the two training
#           sets must be the same bytes)
#   day     the 17,005 flights of 2001-03-01 against asof.feature_view_sql
#           (both views, same indexes)
#   week    the flights of 2001-03-01 to 2001-03-07, same comparison
#   sparse  5,000 random flights over the half-year, same comparison
#   30M     (only with ENGINE_BENCH_30M=1: needs about 6 GB of disk and
#           several minutes) the flights repeated 10 times, shifted by 182
#           days each, against the full job's time
# For each: wall seconds, the backend's peak memory (VmHWM), the rows the
# engine read from the sources (both views, from its DEBUG1 line "source
# rows read") and the ratio against the baseline measured in the same run.
# The day spine's 14 features are also compared with the reference's (floats
# within 1e-9 relative): the line "day: mismatches 0" must be printed.
#
# Server: a throwaway cluster (test/cluster.sh) or yours when PGHOST is set
# (database asof_bench, created and dropped; a superuser, pg_asof preloaded).
# Data: ../shared/data/flights-3m.csv.gz beside the checkout.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cluster.sh"
cd "$ASOF_SRC"

data=$(asof_flights_csv) || { echo "flights-3m.csv.gz not found in ../shared/data" >&2; exit 1; }
asof_bench_db asof_bench || exit 1
if [ -n "${PGHOST:-}" ]; then
	tmp=$(mktemp -d)
	trap '"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS asof_bench" >/dev/null; rm -rf "$tmp"' EXIT
else
	tmp=$ASOF_TMP
fi
psql() { "${PSQL[@]}" -d "$db" "$@"; }

# DuckDB, installed here at bench time (test/bench/.duckdb is ignored by git)
duck=
if command -v node >/dev/null && command -v npm >/dev/null; then
	if [ ! -d "$here/.duckdb/node_modules/@duckdb/node-api" ]; then
		echo "installing @duckdb/node-api 1.5.6-r.1 under test/bench/.duckdb..." >&2
		mkdir -p "$here/.duckdb"
		(cd "$here/.duckdb" && npm install --no-audit --no-fund --silent @duckdb/node-api@1.5.6-r.1 >&2)
	fi
	[ -d "$here/.duckdb/node_modules/@duckdb/node-api" ] && duck=yes
fi

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
CREATE TABLE spine_day AS SELECT * FROM flights WHERE dep_time >= '2001-03-01' AND dep_time < '2001-03-02';
CREATE TABLE spine_week AS SELECT * FROM flights WHERE dep_time >= '2001-03-01' AND dep_time < '2001-03-08';
SELECT setseed(0.13);
CREATE TABLE spine_sparse AS SELECT * FROM flights ORDER BY random() LIMIT 5000;
ANALYZE spine_day; ANALYZE spine_week; ANALYZE spine_sparse;
SELECT asof.create_feature_view(v.name, 'flights', ARRAY[v.key]::name[], 'dep_time',
  '{avg(delay) over 1 hour, avg(delay) over 6 hours, avg(delay) over 1 day, avg(delay) over 7 days, count(*) over 1 day, max(delay) over 1 day, stddev(delay) over 7 days}',
  available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
  cadence => '1 hour', delay => '10 minutes')
  FROM (VALUES ('by_origin', 'origin'), ('by_dest', 'destination')) v(name, key);
SQL

# run_one SQL: in a fresh backend; writes "seconds peak_kB" to $tmp/run and
# the rows the engine read (sum over views) to $tmp/rows_read
run_one() {
	psql -At 2>"$tmp/debug.out" <<SQL | tail -n 1 | tr '|' ' ' >"$tmp/run"
SET asof.progress_interval = 0;
SELECT clock_timestamp() AS t0 \gset
SET client_min_messages = debug1;
$1
SET client_min_messages = warning;
SELECT extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric(12,3),
       coalesce((SELECT substring(pg_read_file('/proc/' || pg_backend_pid() || '/status') FROM 'VmHWM:\s*(\d+)')), 'n/a');
SQL
	sed -n 's/.*: \([0-9]*\) source rows read.*/\1/p' "$tmp/debug.out" |
		awk '{ s += $1 } END { print s + 0 }' >"$tmp/rows_read"
	grep 'source rows read' "$tmp/debug.out" | sed 's/^DEBUG: */  /' >&2
}
engine() { # NAME SPINE: prints "seconds peak_kB rows_read"
	psql -c "DROP TABLE IF EXISTS ts_$1" >/dev/null 2>&1
	run_one "SELECT asof.build_training_set('ts_$1', '$2', 'dep_time', '{by_origin, by_dest}');"
	echo "$(cat "$tmp/run") $(cat "$tmp/rows_read")"
}
reference() { # NAME SPINE: prints "seconds peak_kB"
	psql -c "DROP TABLE IF EXISTS ref_$1_o, ref_$1_d" >/dev/null 2>&1
	run_one "
SELECT format('CREATE TABLE ref_$1_o AS %s', asof.feature_view_sql('by_origin', '$2', 'dep_time')) \gexec
SELECT format('CREATE TABLE ref_$1_d AS %s', asof.feature_view_sql('by_dest', '$2', 'dep_time')) \gexec
"
	cat "$tmp/run"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
mb() { awk -v k="$1" 'BEGIN { if (k ~ /^[0-9]+$/) printf "%d", k / 1024; else print k }'; }

rows=()
row() { rows+=("$(printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |' "$@")"); }

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# the day spine runs ENGINE_BENCH_ROUNDS times (default 3), engine and
# reference alternating: its times are medians (one round slowed down by
# another job does not decide the ratio); week and sparse run once
cases=" ${ENGINE_BENCH_CASES:-day week sparse full} "
for c in day week sparse; do
	[[ $cases == *" $c "* ]] || continue
	n=$(psql -At -c "SELECT count(*) FROM spine_$c")
	rounds=1
	[ "$c" = day ] && rounds=${ENGINE_BENCH_ROUNDS:-3}
	e_all=() r_all=()
	for ((i = 1; i <= rounds; i++)); do
		echo "engine, $c spine ($n rows), round $i of $rounds..." >&2
		engine "$c" "spine_$c" >"$tmp/e"
		read -r es ekb eread <"$tmp/e"
		e_all+=("$es")
		echo "feature_view_sql, $c spine, round $i of $rounds..." >&2
		reference "$c" "spine_$c" >"$tmp/r"
		read -r rs rkb <"$tmp/r"
		r_all+=("$rs")
	done
	es=$(median "${e_all[@]}")
	rs=$(median "${r_all[@]}")
	[ "$rounds" -gt 1 ] && echo "  $c rounds: engine ${e_all[*]} s; feature_view_sql ${r_all[*]} s" >&2
	case $c in sparse) target='>= 3x' ;; *) target='>= 10x' ;; esac
	label="$c ($n spine rows)"
	[ "$rounds" -gt 1 ] && label="$label, median of $rounds"
	row "$label" "$es" "$(mb "$ekb")" "$eread" "feature_view_sql" "$rs" "$(mb "$rkb")" \
		"$(ratio "$rs" "$es")x faster" "$target"
done

# the day spine: the engine agrees with the reference on every feature
mism=n/a
[[ $cases == *" day "* ]] && mism=$(psql -At <<'SQL'
CREATE FUNCTION pg_temp.same(a float8, b float8) RETURNS boolean LANGUAGE sql IMMUTABLE AS
  $$ SELECT (a IS NULL AND b IS NULL) OR a = b OR abs(a - b) <= 1e-9 * greatest(1, abs(a), abs(b)) $$;
SELECT count(*) FILTER (WHERE NOT (pg_temp.same(t.by_origin__avg_delay_1h, o.by_origin__avg_delay_1h)
   AND pg_temp.same(t.by_origin__avg_delay_6h, o.by_origin__avg_delay_6h)
   AND pg_temp.same(t.by_origin__avg_delay_1d, o.by_origin__avg_delay_1d)
   AND pg_temp.same(t.by_origin__avg_delay_7d, o.by_origin__avg_delay_7d)
   AND t.by_origin__count_1d IS NOT DISTINCT FROM o.by_origin__count_1d
   AND t.by_origin__max_delay_1d IS NOT DISTINCT FROM o.by_origin__max_delay_1d
   AND pg_temp.same(t.by_origin__stddev_delay_7d, o.by_origin__stddev_delay_7d)
   AND pg_temp.same(t.by_dest__avg_delay_1h, d.by_dest__avg_delay_1h)
   AND pg_temp.same(t.by_dest__avg_delay_6h, d.by_dest__avg_delay_6h)
   AND pg_temp.same(t.by_dest__avg_delay_1d, d.by_dest__avg_delay_1d)
   AND pg_temp.same(t.by_dest__avg_delay_7d, d.by_dest__avg_delay_7d)
   AND t.by_dest__count_1d IS NOT DISTINCT FROM d.by_dest__count_1d
   AND t.by_dest__max_delay_1d IS NOT DISTINCT FROM d.by_dest__max_delay_1d
   AND pg_temp.same(t.by_dest__stddev_delay_7d, d.by_dest__stddev_delay_7d)))
  FROM (SELECT *, row_number() OVER (ORDER BY dep_time, origin, destination, distance, delay) AS id FROM ts_day) t
  JOIN (SELECT *, row_number() OVER (ORDER BY dep_time, origin, destination, distance, delay) AS id FROM ref_day_o) o USING (id)
  JOIN (SELECT *, row_number() OVER (ORDER BY dep_time, origin, destination, distance, delay) AS id FROM ref_day_d) d USING (id);
SQL
)

echo "engine, full job (3,000,000 spine rows)..." >&2
engine full flights >"$tmp/e"
read -r fs fkb fread <"$tmp/e"
if [ -n "$duck" ] && [[ $cases == *" full "* ]]; then
	echo "DuckDB, full job (2 threads)..." >&2
	# node resolves the package from the script's folder: run a copy there
	cp "$here/duckdb_job.mjs" "$here/.duckdb/duckdb_job.mjs"
	dj=$(cd "$here/.duckdb" && node duckdb_job.mjs "$data" 2) || dj=
	echo "  DuckDB: $dj" >&2
	ds=$(printf '%s' "$dj" | sed -n 's/.*"job_s":\([0-9.]*\).*/\1/p' | awk '{ printf "%.3f", $1 }')
	[ -n "$ds" ] || ds=n/a
else
	ds=n/a
fi
row "full (3,000,000 spine rows)" "$fs" "$(mb "$fkb")" "$fread" "DuckDB 1.5.6 (2 threads)" "$ds" "" \
	"$(ratio "$fs" "$ds")x DuckDB's time" "<= 5 s, <= 0.25x"
# the same job without parallel workers: what the second core brings
if [[ $cases == *" full "* ]]; then
	echo "engine, full job, serial (max_parallel_maintenance_workers = 0)..." >&2
	psql -c "DROP TABLE IF EXISTS ts_full_serial" >/dev/null 2>&1
	run_one "SET max_parallel_maintenance_workers = 0;
SELECT asof.build_training_set('ts_full_serial', 'flights', 'dep_time', '{by_origin, by_dest}');"
	read -r ss skb <"$tmp/run"
	same=$(psql -At -c "SELECT (SELECT md5(string_agg(md5(p::text), '' ORDER BY ctid)) FROM ts_full p) =
	                          (SELECT md5(string_agg(md5(s::text), '' ORDER BY ctid)) FROM ts_full_serial s)")
	row "full, parallel (above) against serial" "$fs" "$(mb "$fkb")" "" "the same build, no workers" "$ss" "$(mb "$skb")" \
		"$(ratio "$ss" "$fs")x faster" "both cores"
fi

if [ "${ENGINE_BENCH_30M:-0}" = 1 ]; then
	echo "30M rows: building flights30 (10 copies, shifted by 182 days)..." >&2
	psql >/dev/null <<'SQL' || exit 1
SET client_min_messages = warning;
CREATE TABLE flights30 AS
  SELECT dep_time + i * interval '182 days' AS dep_time, origin, destination, distance, delay
    FROM flights, generate_series(0, 9) i;
VACUUM ANALYZE flights30;
SELECT asof.create_feature_view(v.name || '30', 'flights30', ARRAY[v.key]::name[], 'dep_time',
  '{avg(delay) over 1 hour, avg(delay) over 6 hours, avg(delay) over 1 day, avg(delay) over 7 days, count(*) over 1 day, max(delay) over 1 day, stddev(delay) over 7 days}',
  available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
  cadence => '1 hour', delay => '10 minutes')
  FROM (VALUES ('by_origin', 'origin'), ('by_dest', 'destination')) v(name, key);
SQL
	echo "engine, 30M job..." >&2
	run_one "SELECT asof.build_training_set('ts_30m', 'flights30', 'dep_time', '{by_origin30, by_dest30}');"
	read -r s30 kb30 <"$tmp/run"
	row "30M (30,000,000 spine rows)" "$s30" "$(mb "$kb30")" "$(cat "$tmp/rows_read")" "the 3M job" "$fs" "" \
		"$(ratio "$s30" "$fs")x the 3M time" "<= 10x"
else
	row "30M" "not run" "" "" "the 3M job" "" "" "" "ENGINE_BENCH_30M=1"
fi

echo
echo "engine_spines.sh: $(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| spine | engine s | engine peak MB | source rows read | compared with | its s | its peak MB | ratio | target |"
echo "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |"
printf '%s\n' "${rows[@]}"
echo
echo "day: mismatches $mism (14 features of every spine row against feature_view_sql)"
[ -n "${same:-}" ] && echo "full: parallel and serial training sets are the same bytes: $same"
echo "(peak MB is the VmHWM of the backend that ran the build, including the shared buffers it touched; a parallel build's workers hold the sorts of their views besides)"
[ "$mism" = 0 ] || [ "$mism" = n/a ]
[ "${same:-t}" = t ]
