#!/usr/bin/env bash
# test/demo.sh: "make demo", the flights story end to end.
#
# Without PGHOST/PGDATABASE: on a throwaway cluster, the same machinery as
# "make test" (test/cluster.sh: Debian packages, -Werror build, a private
# installation and cluster under a temporary directory, removed at exit).
# With PGHOST or PGDATABASE set: against that server (it must have pg_asof
# installed and in shared_preload_libraries; the demo works in schema
# asof_demo, which it drops and re-creates, and loads the data through the
# client with psql's \copy).
#
# Data: ../shared/data/flights-3m.csv.gz beside the checkout when it exists
# (3,000,000 flights), otherwise the committed sample data/flights-sample.csv.gz
# (30,000); FLIGHTS=/path/to/file.csv.gz chooses another file.
#
# The SQL of every step is in test/demo/*.sql (test/sql/50_demo.sql runs the
# same files on the sample, so CI keeps them working); the fitted models are
# examples/train_flights.py.  A step whose pg_asof API this build lacks is
# skipped and says so; nothing is ever faked.  Exits non-zero when a step
# fails.
set -uo pipefail
. "$(dirname "$0")/cluster.sh"
cd "$ASOF_SRC"

T_START=$(date +%s.%N)
STEP_NAMES=()
STEP_SECS=()
STEP_NOTES=()

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
# thousands N: 1234567 -> 1,234,567
thousands() { printf '%s' "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'; }
rate() { thousands "$(awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { d = b - a; if (d > 0) printf "%.0f", n / d }')" && printf ' rows/s'; }
say() { printf '%s\n' "$*"; }
wrap() { fold -s -w 76 | sed 's/^/   /'; }
header() {
	printf '\n%s\n' "== $*"
}
record() { STEP_NAMES+=("$1"); STEP_SECS+=("$2"); STEP_NOTES+=("${3:-}"); }
die() {
	say ""
	say "make demo: FAILED in step: $*"
	exit 1
}

# --- where: a throwaway cluster, or the user's server ----------------------
if [ -n "${PGHOST:-}${PGDATABASE:-}" ]; then
	MODE="your server (PGHOST=${PGHOST:-default}, PGDATABASE=${PGDATABASE:-default})"
	PSQL=$(command -v psql) || { say "make demo: psql not found"; exit 1; }
	PYTHON_OK=1
else
	MODE="a throwaway PostgreSQL $ASOF_PGVER cluster"
	asof_init
	PYTHON_OK=1
	say "Preparing: Debian packages, build, throwaway cluster..."
	# pg_cron: the production side's scheduler, preloaded as in make test
	if ! asof_install_deps python3-psycopg2 python3-sklearn python3-pandas "postgresql-$ASOF_PGVER-cron"; then
		say "   could not install python3-psycopg2, python3-sklearn, python3-pandas, postgresql-$ASOF_PGVER-cron:"
		say "   the training script (step 6) will be skipped."
		PYTHON_OK=0
		asof_install_deps || { say "make demo: could not install the packages the build needs"; exit 1; }
	fi
	asof_build_install || { say "make demo: the build failed"; exit 1; }
	preload=pg_asof
	[ -f "$("$ASOF_PG_CONFIG" --pkglibdir)/pg_cron.so" ] && preload=pg_asof,pg_cron
	asof_cluster_start demo "$preload" || { say "make demo: the cluster did not start"; exit 1; }
	"$ASOF_BINDIR/createdb" asof_demo || exit 1
	export PGDATABASE=asof_demo
	PSQL=$ASOF_BINDIR/psql
fi
# Step 6's interpreter: $PYTHON, else Debian's /usr/bin/python3 when it has
# the modules, else the first python3 on PATH that has them (asof_python).
PY=
if [ "$PYTHON_OK" = 1 ]; then
	if ! PY=$(asof_python); then
		if [ -n "${PYTHON:-}" ]; then
			say "   PYTHON=$PYTHON cannot import psycopg2, pandas and sklearn: step 6 will be skipped."
		else
			say "   neither /usr/bin/python3 nor any python3 on PATH can import psycopg2, pandas and sklearn: step 6 will be skipped."
		fi
		PYTHON_OK=0
	elif [ "$PY" != /usr/bin/python3 ]; then
		say "   step 6 runs with $PY (it has psycopg2, pandas and sklearn)."
	fi
fi

FLIGHTS=${FLIGHTS:-}
if [ -z "$FLIGHTS" ]; then
	if [ -f "$ASOF_SRC/../shared/data/flights-3m.csv.gz" ]; then
		FLIGHTS=$ASOF_SRC/../shared/data/flights-3m.csv.gz
	else
		FLIGHTS=$ASOF_SRC/data/flights-sample.csv.gz
	fi
fi
[ -r "$FLIGHTS" ] || { say "make demo: cannot read $FLIGHTS"; exit 1; }
FLIGHTS=$(cd "$(dirname "$FLIGHTS")" && pwd)/$(basename "$FLIGHTS")

# Step 7 replays production from 1 May for DEMO_REPLAY_DAYS days (default
# 1; 0 skips it); make replay runs May and June (test/replay.sh).  Its time
# is in the README (The flights demo, Production replayed).
DEMO_REPLAY_DAYS=${DEMO_REPLAY_DAYS:-1}
REPLAY_FROM='2001-05-01 00:00'
REPLAY_UNTIL=$(date -u -d "2001-05-01 + ${DEMO_REPLAY_DAYS} days" '+%Y-%m-%d %H:%M') ||
	{ say "make demo: DEMO_REPLAY_DAYS=$DEMO_REPLAY_DAYS is not a number of days"; exit 1; }

T_READY=$(now)
# run_sql FILE: one step's SQL, output indented; psql reads the file on its
# standard input so that messages carry no file:line prefix.
run_sql() {
	"$PSQL" -X -q -P pager=off -v ON_ERROR_STOP=1 -v flights_file="$FLIGHTS" \
		-v replay_from="$REPLAY_FROM" -v replay_until="$REPLAY_UNTIL" \
		<"test/demo/$1" 2>&1 | sed -u 's/^/   /'
	return "${PIPESTATUS[0]}"
}
# run_sql_ticking FILE: run_sql, printing the elapsed time every 10 s
# while it runs (long steps show that they progress).
run_sql_ticking() {
	local pid i=0
	run_sql "$1" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		i=$((i + 1))
		[ $((i % 10)) -eq 0 ] && kill -0 "$pid" 2>/dev/null && printf '   ... %d s\n' "$i"
	done
	wait "$pid"
}
# scalar QUERY: one value.
scalar() { "$PSQL" -X -qAt -v ON_ERROR_STOP=1 -c "$1"; }
# watch_progress PID QUERY LABEL: while PID runs, print QUERY's value every 5 s.
watch_progress() {
	local pid=$1 q=$2 label=$3 v i=0
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		i=$((i + 1))
		[ $((i % 5)) -eq 0 ] || continue
		kill -0 "$pid" 2>/dev/null || break
		v=$(scalar "$q" 2>/dev/null)
		[ -n "$v" ] && printf '   ... %s %s\n' "$v" "$label"
	done
}

say ""
say "pg_asof flights demo, $(date -u '+%Y-%m-%d %H:%M UTC'), on $MODE"
say "data: $FLIGHTS"
scalar "SELECT 1" >/dev/null || die "connecting to the server"

# --- 0. load ----------------------------------------------------------------
header "0. Load the flights (through the client: psql \\copy FROM PROGRAM 'gzip -dc ...')"
t=$(now)
run_sql 00_load.sql &
pid=$!
watch_progress "$pid" "SELECT to_char(tuples_processed, 'FM999,999,999') FROM pg_stat_progress_copy WHERE datname = current_database()" "rows loaded"
wait "$pid" || die "0. load"
N_FLIGHTS=$(scalar "SELECT count(*) FROM asof_demo.flights")
t2=$(now)
record "0. load $(thousands "$N_FLIGHTS") flights" "$(secs "$t" "$t2")" "$(rate "$N_FLIGHTS" "$t" "$t2")"

# --- 1. protect -------------------------------------------------------------
header "1. CREATE EXTENSION pg_asof; protect flights; the first exploratory query"
wrap <<'TXT'
flights is registered with the leakage guard: time column dep_time, label
delay (the arrival delay), label known at landing time. Before a train/test
split exists, any read of the label is refused, for every role.
TXT
t=$(now)
run_sql 10_protect.sql || die "1. protect"
record "1. extension, protect, refusal" "$(secs "$t" "$(now)")"

# --- 2. split ---------------------------------------------------------------
header "2. Declare the split: train January-April 2001, test May-June"
t=$(now)
run_sql_ticking 20_split.sql || die "2. split"
record "2. split" "$(secs "$t" "$(now)")"

# --- 3. feature views -------------------------------------------------------
header "3. Feature views: as production serves them, and as a notebook computes them"
wrap <<'TXT'
origin_lagged, route_lagged: recent arrival-delay statistics per origin and
per route; a delay is known when the flight lands (available time), and an
hourly job (cadence 1 hour) publishes its results 10 minutes after each tick.
origin_naive, route_naive: the same features by event time only: every
flight that departed before the prediction time counts, landed or not.
TXT
t=$(now)
run_sql 30_feature_views.sql || die "3. feature views"
record "3. feature views" "$(secs "$t" "$(now)")"

# --- 4. training sets -------------------------------------------------------
header "4. Training sets: one row per flight, prediction time = actual departure"
wrap <<'TXT'
train_lagged is also the evaluation set: a training set on a protected spine
is protected like it, so it holds every flight, May-June too with their
features exactly as production serves them, but those rows stay sealed until
an audited asof.unseal opens them.
train_naive is what a notebook builds; only its training rows are used.
TXT
build() {
	local file=$1 name=$2 t t2 rows
	t=$(now)
	run_sql "$file" || die "4. training set $name"
	t2=$(now)
	rows=$(scalar "SELECT row_count FROM asof.training_sets WHERE name = 'asof_demo.$name' ORDER BY version DESC LIMIT 1" 2>/dev/null)
	if [ -n "$rows" ]; then
		record "4. training set $name" "$(secs "$t" "$t2")" "$(rate "$rows" "$t" "$t2")"
	else
		record "4. training set $name" "$(secs "$t" "$t2")" "skipped"
	fi
}
build 40_train_lagged.sql train_lagged
build 41_train_naive.sql train_naive
t=$(now)
say ""
run_sql 45_compare.sql || die "4. compare"
record "4. compare naive and lagged" "$(secs "$t" "$(now)")"

# --- 5. score in SQL --------------------------------------------------------
header "5. Score a single feature in SQL (origin's 6-hour average delay; AUC, label delay > 15)"
wrap <<'TXT'
Development: April, with each set's own features. Production: May-June with
the features as production serves them (the lagged ones, for both), read
after an audited asof.unseal.
TXT
t=$(now)
run_sql_ticking 50_score.sql || die "5. score in SQL"
record "5. single-feature AUC in SQL" "$(secs "$t" "$(now)")"

# --- 6. fitted models -------------------------------------------------------
header "6. Fit a model per feature set: examples/train_flights.py (psycopg2, pandas, scikit-learn)"
t=$(now)
if [ "$PYTHON_OK" != 1 ]; then
	say "   SKIPPED: python3 with psycopg2, pandas and scikit-learn is not available."
	record "6. train_flights.py" "$(secs "$t" "$(now)")" "skipped"
elif [ -z "$(scalar "SELECT to_regclass('asof_demo.train_naive')")" ]; then
	say "   SKIPPED: no training sets to fit on (no engine in this build)."
	record "6. train_flights.py" "$(secs "$t" "$(now)")" "skipped"
else
	"$PY" -u examples/train_flights.py --save 2>&1 | sed -u 's/^/   /'
	[ "${PIPESTATUS[0]}" -eq 0 ] || die "6. train_flights.py"
	record "6. train_flights.py" "$(secs "$t" "$(now)")"
fi

# --- 7. production replay --------------------------------------------------
header "7. Production, replayed: $REPLAY_FROM to $REPLAY_UNTIL under asof.clock (test/demo/70_replay_*.sql)"
wrap <<'TXT'
Live copies of flights hold the history; then, hour after hour of simulated
time, an ingester inserts each flight when it lands, the hourly job runs
(asof.run_due_materializations), and every departing flight is served its
features (asof.online_features) as a serving role, logged. Then the log is
compared with what the engine computes offline (asof.parity_report), on
time and with 5% of the flights ingested 2 hours late, and the served values
are scored like step 5. make replay does May and June.
TXT
t=$(now)
if [ "$DEMO_REPLAY_DAYS" = 0 ]; then
	say "   SKIPPED: DEMO_REPLAY_DAYS=0."
	record "7. replay" "$(secs "$t" "$(now)")" "skipped"
else
	run_sql 70_replay_setup.sql || die "7. replay: setup"
	run_sql 70_replay_run.sql || die "7. replay: the replay"
	run_sql 70_replay_parity.sql || die "7. replay: parity"
	run_sql 70_replay_auc.sql || die "7. replay: served AUC"
	rr=$(scalar "SELECT ticks || ' ticks, ' || to_char(rows_ingested / total_s, 'FM999,999') || ' rows/s, ' || to_char(ticks / total_s, 'FM990.00') || ' ticks/s' FROM asof_demo.replay_runs ORDER BY started DESC LIMIT 1" 2>/dev/null)
	record "7. replay, $DEMO_REPLAY_DAYS day(s) of May" "$(secs "$t" "$(now)")" "${rr:-skipped}"
fi

# --- results ----------------------------------------------------------------
header "Results: area under the ROC curve, label = arrival delay > 15 minutes"
if [ "$(scalar "SELECT count(*) FROM asof_demo.results")" -gt 0 ]; then
	run_sql 60_report.sql || die "report"
	wrap <<'TXT'
development = fitted on January-March (the single feature: its mean there,
for NULLs), scored on April with the set's own features; production = the
same model on May-June with the features exactly as production serves them;
gap = development - production. The lagged set's development features are
the served ones, so its gap measures drift from April to May-June; what the
naive set's gap adds is what its features saw in development that
production cannot serve.
TXT
else
	say "   (no results: the steps that compute them were skipped)"
fi

# --- timings ----------------------------------------------------------------
T_END=$(now)
header "Time"
for i in "${!STEP_NAMES[@]}"; do
	printf '   %-40s %8s s   %s\n' "${STEP_NAMES[$i]}" "${STEP_SECS[$i]}" "${STEP_NOTES[$i]}" | sed 's/ *$//'
done
printf '   %-40s %8s s\n' "total (without setup)" "$(secs "$T_READY" "$T_END")"
printf '   %-40s %8s s\n' "setup (packages, build, cluster)" "$(secs "$T_START" "$T_READY")"
say ""
say "make demo: done"
