#!/usr/bin/env bash
# test/bench/online_pgbench.sh: the production side (issue 8), side by side
# with a floor measured in the same run, as ratios.
#
# Data: the flights (../shared/data/flights-3m.csv.gz beside the checkout,
# or FLIGHTS=file.csv.gz; the committed 30,000-flight sample otherwise).
# The benchmark job's two views, keyed by origin and by destination: avg
# over 1h, 6h, 1d and 7d, count over 1d, max over 1d, stddev over 7d;
# available time = landing time; hourly cadence, 10-minute delay.
#
#   materialize   one tick (the last full hour of the data) of each view:
#                 wall time, source rows read (pg_stat_user_tables), rows
#                 written
#   floor         an indexed one-row SELECT from a table of the same shape
#                 as the online table (a copy of it with the same primary
#                 key): pgbench -M prepared, per-statement latency (-r)
#   online        asof.online_features, one entity, same pgbench settings;
#                 1 client (latency) and 2 clients (throughput)
#   batch         asof.online_features_batch, 100 entities x 2 views per
#                 call (two statements), against the one-row floor
#   features_at   ORD through asof.features_at (the engine over the
#                 entity's history) against online_features for ORD
#   serving log   online_features and the batch again with asof.log_serving
#                 = on (PGOPTIONS), in the same rounds, as ratios to the
#                 same calls with it off; the entries dropped (buffer full)
#                 and the worker's rate (entries written per second)
#   callgrind     instructions per call of the floor and of online_features
#                 (valgrind, when installed), also with asof.log_serving =
#                 on (the serving backend's part: the queueing; the worker
#                 does not run in single-user mode): the measure a shared
#                 machine cannot disturb
#
# Every pgbench run picks a random entity per transaction with \gset; -r
# reports the measured statement's latency on its own.  Standalone: bash
# test/bench/online_pgbench.sh (builds and starts a throwaway server with
# test/cluster.sh).  Settings: ONLINE_BENCH_SECONDS (default 10),
# ONLINE_BENCH_ROUNDS (3), FLIGHTS.
set -uo pipefail
. "$(dirname "$0")/../cluster.sh"
cd "$ASOF_SRC"

seconds=${ONLINE_BENCH_SECONDS:-10}
rounds=${ONLINE_BENCH_ROUNDS:-3}
flights=${FLIGHTS:-}
if [ -z "$flights" ]; then
	for d in ../shared/data ../../shared/data; do
		[ -f "$d/flights-3m.csv.gz" ] && flights=$(cd "$d" && pwd)/flights-3m.csv.gz && break
	done
	[ -z "$flights" ] && flights=$ASOF_SRC/data/flights-sample.csv.gz
fi

asof_init
asof_install_deps || exit 1
asof_build_install || exit 1
asof_cluster_start bench_online pg_asof || exit 1
psql() { "$ASOF_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
pgbench() { "$ASOF_BINDIR/pgbench" -n -M prepared "$@" postgres 2>/dev/null; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "data: $flights"
psql >/dev/null <<SQL || exit 1
CREATE EXTENSION pg_asof;
CREATE TABLE flights (dep_time timestamp NOT NULL, origin text NOT NULL, destination text NOT NULL,
                      distance integer NOT NULL, delay integer);
\copy flights FROM PROGRAM 'gzip -dc $flights' WITH (FORMAT csv, HEADER true)
CREATE INDEX ON flights (origin, dep_time);
CREATE INDEX ON flights (destination, dep_time);
CREATE INDEX ON flights (dep_time);   -- materialize finds a tick's entities in the window
VACUUM ANALYZE flights;
SELECT asof.create_feature_view('bench_origin', 'flights', '{origin}', 'dep_time', ARRAY[
    'avg(delay) over 1 hour', 'avg(delay) over 6 hours', 'avg(delay) over 1 day', 'avg(delay) over 7 days',
    'count(*) over 1 day', 'max(delay) over 1 day', 'stddev(delay) over 7 days'],
  available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
  cadence => '1 hour', delay => '10 minutes');
SELECT asof.create_feature_view('bench_dest', 'flights', '{destination}', 'dep_time', ARRAY[
    'avg(delay) over 1 hour', 'avg(delay) over 6 hours', 'avg(delay) over 1 day', 'avg(delay) over 7 days',
    'count(*) over 1 day', 'max(delay) over 1 day', 'stddev(delay) over 7 days'],
  available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
  cadence => '1 hour', delay => '10 minutes');
SQL
tick=$(psql -At -c "SELECT date_trunc('hour', max(dep_time)) - interval '1 hour' FROM flights")
rows=$(psql -At -c "SELECT count(*) FROM flights")
echo "flights: $rows; tick materialized: $tick; served at $tick + 15 min"

# materialize, one tick per view: wall time and source rows read
echo "materialize, one tick:"
readrows() { psql -At -c "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables WHERE relname = 'flights'"; }
for v in bench_origin bench_dest; do
	r0=$(readrows)
	t0=$(date +%s.%N)
	n=$(psql -At -c "SET asof.clock = '$tick+00'" -c "SELECT asof.materialize('$v', '$tick'::timestamp)")
	t1=$(date +%s.%N)
	sleep 1	# the session's statistics reach the collector at its exit
	r1=$(readrows)
	printf '  %s: %s entities written in %.2f s; source rows read: %s (the source has %s rows)\n' \
		"$v" "$n" "$(echo "$t1 - $t0" | bc -l)" "$((r1 - r0))" "$rows"
done
# the same snapshot as a plain table: the floor
psql >/dev/null <<'SQL' || exit 1
CREATE TABLE bench_floor AS SELECT * FROM asof_online.bench_origin;
ALTER TABLE bench_floor ADD PRIMARY KEY (origin, tick);
VACUUM ANALYZE bench_floor;
CREATE TABLE bench_ents AS SELECT row_number() OVER (ORDER BY origin) AS id, origin FROM bench_floor;
ALTER TABLE bench_ents ADD PRIMARY KEY (id);
SQL
nent=$(psql -At -c "SELECT count(*) FROM bench_ents")
at="'$tick'::timestamp + interval '15 minutes'"
cat >"$ASOF_TMP/floor.sql" <<SQL
\set i random(1, $nent)
SELECT origin AS o FROM bench_ents WHERE id = :i \gset
SELECT * FROM bench_floor WHERE origin = :o::text AND tick = '$tick';
SQL
cat >"$ASOF_TMP/online.sql" <<SQL
\set i random(1, $nent)
SELECT origin AS o FROM bench_ents WHERE id = :i \gset
SELECT asof.online_features('bench_origin', ARRAY[:o::text], $at);
SQL
origins=$(psql -At -c "SELECT array_agg(origin ORDER BY origin)::text FROM (SELECT origin FROM bench_floor ORDER BY origin LIMIT 100) x")
dests=$(psql -At -c "SELECT array_agg(destination ORDER BY destination)::text FROM (SELECT destination FROM asof_online.bench_dest ORDER BY destination LIMIT 100) x")
cat >"$ASOF_TMP/batch.sql" <<SQL
SELECT count(*) FROM asof.online_features_batch('bench_origin', '$origins', $at, NULL::asof_online.bench_origin__served);
SELECT count(*) FROM asof.online_features_batch('bench_dest', '$dests', $at, NULL::asof_online.bench_dest__served);
SQL
# per-statement latency (ms) of the last statement(s) of a pgbench -r run
lat_last() { awk '/statement latencies/ {f=1; next} f && /^ +[0-9.]+ +[0-9]+ / {l=$1} END {print l}'; }
lat_sum_select() { awk '/statement latencies/ {f=1; next} f && /online_features_batch/ {s+=$1} END {print s}'; }
tps_of() { awk '/^tps/ {print $3; exit}'; }
# the same runs with the serving log on
pgbench_log() { PGOPTIONS='-c asof.log_serving=on' pgbench "$@"; }
status0=$(psql -At -c "SELECT logged, written, dropped_buffer_full FROM asof.serving_log_status()")
F=(); O=(); B=(); T2F=(); T2O=(); OL=(); BL=(); T2OL=()
for r in $(seq 1 "$rounds"); do
	F+=("$(pgbench -r -c 1 -T "$seconds" -f "$ASOF_TMP/floor.sql" | lat_last)")
	O+=("$(pgbench -r -c 1 -T "$seconds" -f "$ASOF_TMP/online.sql" | lat_last)")
	OL+=("$(pgbench_log -r -c 1 -T "$seconds" -f "$ASOF_TMP/online.sql" | lat_last)")
	B+=("$(pgbench -r -c 1 -T "$seconds" -f "$ASOF_TMP/batch.sql" | lat_sum_select)")
	BL+=("$(pgbench_log -r -c 1 -T "$seconds" -f "$ASOF_TMP/batch.sql" | lat_sum_select)")
	T2F+=("$(pgbench -c 2 -j 2 -T "$seconds" -f "$ASOF_TMP/floor.sql" | tps_of)")
	T2O+=("$(pgbench -c 2 -j 2 -T "$seconds" -f "$ASOF_TMP/online.sql" | tps_of)")
	T2OL+=("$(pgbench_log -c 2 -j 2 -T "$seconds" -f "$ASOF_TMP/online.sql" | tps_of)")
done
f=$(median "${F[@]}"); o=$(median "${O[@]}"); b=$(median "${B[@]}")
t2f=$(median "${T2F[@]}"); t2o=$(median "${T2O[@]}")
echo "pgbench -M prepared, ${seconds}s x $rounds rounds (medians; per-statement latency from -r):"
printf '  floor (indexed one-row SELECT, same shape)      %8.3f ms\n' "$f"
printf '  online_features, one entity, 1 client           %8.3f ms   %.2fx the floor (target <= 3x)\n' "$o" "$(echo "$o / $f" | bc -l)"
printf '  online_features_batch, 100 entities x 2 views   %8.3f ms   %.1fx the one-row floor (target <= 20x)\n' "$b" "$(echo "$b / $f" | bc -l)"
printf '  2 clients, transactions/s (with the entity pick): floor %s, online_features %s (%.2fx)\n' \
	"$t2f" "$t2o" "$(echo "$t2o / $t2f" | bc -l)"
echo "  rounds: floor ${F[*]}; online ${O[*]}; batch ${B[*]}"
ol=$(median "${OL[@]}"); bl=$(median "${BL[@]}"); t2ol=$(median "${T2OL[@]}")
psql -At -c "SELECT asof.serving_log_flush(600000)" >/dev/null
status1=$(psql -At -c "SELECT logged, written, dropped_buffer_full FROM asof.serving_log_status()")
echo "serving log (asof.log_serving = on against off, same rounds):"
printf '  online_features, one entity, 1 client           %8.3f ms   %.2fx off (%.3f ms)\n' "$ol" "$(echo "$ol / $o" | bc -l)" "$o"
printf '  online_features_batch, 100 entities x 2 views   %8.3f ms   %.2fx off (%.3f ms)\n' "$bl" "$(echo "$bl / $b" | bc -l)" "$b"
printf '  2 clients, transactions/s: online_features %s with the log, %s without (%.2fx)\n' \
	"$t2ol" "$t2o" "$(echo "$t2ol / $t2o" | bc -l)"
IFS='|' read -r l0 w0 d0 <<<"$status0"
IFS='|' read -r l1 w1 d1 <<<"$status1"
echo "  entries: $((l1 - l0)) logged, $((w1 - w0)) written, $((d1 - d0)) dropped (buffer full)"
echo "  rounds: online with the log ${OL[*]}; batch with the log ${BL[*]}"
# the worker's rate: 5,000 entries queued by one batch call, then flushed
psql -At <<'SQL'
SET asof.log_serving = on;
CREATE TEMP TABLE bench_log_t AS SELECT clock_timestamp() AS t0;
SELECT count(*) FROM asof.online_features_batch('bench_origin',
         (SELECT array_agg(origin) FROM (SELECT origin FROM bench_ents, generate_series(1, 5000) g LIMIT 5000) x),
         (SELECT max(tick) FROM bench_floor) + interval '15 minutes', NULL::asof_online.bench_origin__served) \g /dev/null
SELECT format('  worker: one batch call of %s entities served and its entries written in %s ms (%s entries/s)', 5000,
              round(extract(epoch FROM clock_timestamp() - t0)::numeric * 1000),
              round(5000 / extract(epoch FROM clock_timestamp() - t0)::numeric))
  FROM bench_log_t WHERE asof.serving_log_flush(600000);
SQL

# features_at for ORD (the engine over the entity's history) against
# online_features for ORD, same time, same session, 5 calls each
echo "features_at vs online_features for ORD at $tick + 15 min (median of 5 calls, ms):"
psql -At <<SQL
CREATE FUNCTION bench_ms(q text, n int) RETURNS float8 LANGUAGE plpgsql AS \$f\$
DECLARE t timestamptz; d float8[] := '{}'; j jsonb;
BEGIN
  FOR i IN 1..n LOOP
    t := clock_timestamp(); EXECUTE q INTO j;
    d := d || extract(epoch FROM clock_timestamp() - t)::float8 * 1000;
  END LOOP;
  RETURN (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(d) x);
END \$f\$;
SELECT format('  features_at %s ms, online_features %s ms (%sx); same values: %s',
              round(a::numeric, 2), round(b::numeric, 3), round((a / b)::numeric), same)
  FROM (SELECT bench_ms(\$q\$SELECT asof.features_at('bench_origin', '{ORD}', $at)\$q\$, 5) AS a,
               bench_ms(\$q\$SELECT asof.online_features('bench_origin', '{ORD}', $at)\$q\$, 5) AS b,
               asof.features_at('bench_origin', '{ORD}', $at) = asof.online_features('bench_origin', '{ORD}', $at) AS same) x;
SQL

# Instructions per call (valgrind's callgrind, when installed): a count
# that other processes on the machine cannot change.  The server is stopped
# and run in single-user mode on its data directory; each run calls one
# statement N times from PL/pgSQL (plans cached, as a service's prepared
# statements are); the difference of a 1200- and a 200-call run removes start-up
# costs.
if command -v valgrind >/dev/null 2>&1; then
	# static SQL in PL/pgSQL: both statements planned once and cached, as
	# prepared statements of a model service are
	psql >/dev/null <<SQL
CREATE FUNCTION bench_loop_floor(n int) RETURNS void LANGUAGE plpgsql AS \$f\$
DECLARE j text; BEGIN FOR i IN 1..n LOOP
  SELECT f::text INTO j FROM bench_floor f WHERE origin = 'ORD' AND tick = '$tick'; END LOOP; END \$f\$;
CREATE FUNCTION bench_loop_online(n int) RETURNS void LANGUAGE plpgsql AS \$f\$
DECLARE j text; BEGIN FOR i IN 1..n LOOP
  SELECT asof.online_features('bench_origin', '{ORD}', $at)::text INTO j; END LOOP; END \$f\$;
CREATE FUNCTION bench_loop_logged(n int) RETURNS void LANGUAGE plpgsql SET asof.log_serving = on AS \$f\$
DECLARE j text; BEGIN FOR i IN 1..n LOOP
  SELECT asof.online_features('bench_origin', '{ORD}', $at)::text INTO j; END LOOP; END \$f\$;
CREATE FUNCTION bench_loop_batch(n int) RETURNS void LANGUAGE plpgsql AS \$f\$
DECLARE j bigint; BEGIN FOR i IN 1..n LOOP
  SELECT count(*) INTO j FROM asof.online_features_batch('bench_origin', '$origins', $at, NULL::asof_online.bench_origin__served); END LOOP; END \$f\$;
CREATE FUNCTION bench_loop_batchlogged(n int) RETURNS void LANGUAGE plpgsql SET asof.log_serving = on AS \$f\$
DECLARE j bigint; BEGIN FOR i IN 1..n LOOP
  SELECT count(*) INTO j FROM asof.online_features_batch('bench_origin', '$origins', $at, NULL::asof_online.bench_origin__served); END LOOP; END \$f\$;
SQL
	asof_as_postgres "$ASOF_BINDIR/pg_ctl" -D "$ASOF_TMP/bench_online" -m fast -w stop >/dev/null
	cg() { # cg SQL N: instructions of one single-user run
		local out=$ASOF_TMP/callgrind.out
		rm -f "$out"
		printf 'SELECT bench_loop_%s(%s);\n' "$1" "$2" |
			asof_as_postgres valgrind --tool=callgrind --callgrind-out-file="$out" \
				"$ASOF_BINDIR/postgres" --single -D "$ASOF_TMP/bench_online" \
				-c shared_preload_libraries=pg_asof postgres >/dev/null 2>&1
		awk '/^(summary|totals):/ {print $2; exit}' "$out"
	}
	per_call() { local i1 i2; i1=$(cg "$1" 200); i2=$(cg "$1" 1200); echo $(((i2 - i1) / 1000)); }
	# the batch: 10 and 60 calls (6,000 entries fit in the default buffer, so none is dropped)
	per_batch() { local i1 i2; i1=$(cg "$1" 10); i2=$(cg "$1" 60); echo $(((i2 - i1) / 50)); }
	ifl=$(per_call floor)
	ion=$(per_call online)
	ilg=$(per_call logged)
	echo "instructions per call (callgrind, cached plans in PL/pgSQL, single-user mode, entity ORD):"
	printf '  floor (indexed one-row SELECT)   %9d\n' "$ifl"
	printf '  online_features, one entity      %9d   %.2fx the floor\n' "$ion" "$(echo "$ion / $ifl" | bc -l)"
	printf '  the same with asof.log_serving   %9d   %.2fx without (the queueing only)\n' "$ilg" "$(echo "$ilg / $ion" | bc -l)"
	iba=$(per_batch batch)
	ibl=$(per_batch batchlogged)
	printf '  online_features_batch, 100       %9d\n' "$iba"
	printf '  the same with asof.log_serving   %9d   %.2fx without (the jsonb per row and the queueing)\n' "$ibl" "$(echo "$ibl / $iba" | bc -l)"
fi
