#!/usr/bin/env bash
# test/replay.sh: "make replay", production replayed on the real flights,
# May and June 2001, in time order under the simulated clock asof.clock.
#
# The same SQL as step 7 of "make demo" (test/demo/70_replay_*.sql, read
# their headers), over a longer period: load and protect the flights
# (test/demo/00_load.sql, 10_protect.sql, 20_split.sql), then the replay
# (setup, the tick loop, parity, served AUC).  Where it runs, what data it
# uses and how failures show are as for test/demo.sh: a throwaway cluster
# (test/cluster.sh) without PGHOST/PGDATABASE, else that server (pg_asof
# preloaded, a superuser: asof.clock is superuser-only; schema asof_demo is
# dropped and re-created); the 3M flights beside the checkout, else the
# committed sample; FLIGHTS=file.csv.gz chooses.
#   REPLAY_FROM, REPLAY_UNTIL   the period (default 2001-05-01 to 2001-07-01;
#                               whole hours)
#   REPLAY_PROGRESS             ticks between progress lines (default 24)
# Exits non-zero when a step or a check fails.
set -uo pipefail
. "$(dirname "$0")/cluster.sh"
cd "$ASOF_SRC"

REPLAY_FROM=${REPLAY_FROM:-2001-05-01 00:00}
REPLAY_UNTIL=${REPLAY_UNTIL:-2001-07-01 00:00}
REPLAY_PROGRESS=${REPLAY_PROGRESS:-24}
say() { printf '%s\n' "$*"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
die() {
	say ""
	say "make replay: FAILED in step: $*"
	exit 1
}

if [ -n "${PGHOST:-}${PGDATABASE:-}" ]; then
	MODE="your server (PGHOST=${PGHOST:-default}, PGDATABASE=${PGDATABASE:-default})"
	PSQL=$(command -v psql) || { say "make replay: psql not found"; exit 1; }
else
	MODE="a throwaway PostgreSQL $ASOF_PGVER cluster"
	asof_init
	say "Preparing: Debian packages, build, throwaway cluster..."
	asof_install_deps || { say "make replay: could not install the packages the build needs"; exit 1; }
	asof_build_install || { say "make replay: the build failed"; exit 1; }
	asof_cluster_start replay pg_asof || { say "make replay: the cluster did not start"; exit 1; }
	"$ASOF_BINDIR/createdb" asof_demo || exit 1
	export PGDATABASE=asof_demo
	PSQL=$ASOF_BINDIR/psql
fi
FLIGHTS=${FLIGHTS:-}
if [ -z "$FLIGHTS" ]; then
	FLIGHTS=$(asof_flights_csv) || FLIGHTS=$ASOF_SRC/data/flights-sample.csv.gz
fi
[ -r "$FLIGHTS" ] || { say "make replay: cannot read $FLIGHTS"; exit 1; }
FLIGHTS=$(cd "$(dirname "$FLIGHTS")" && pwd)/$(basename "$FLIGHTS")

run_sql() {
	"$PSQL" -X -q -P pager=off -v ON_ERROR_STOP=1 -v flights_file="$FLIGHTS" \
		-v replay_from="$REPLAY_FROM" -v replay_until="$REPLAY_UNTIL" \
		-v replay_progress="$REPLAY_PROGRESS" -v replay_timings=1 \
		<"test/demo/$1" 2>&1 | sed -u 's/^/   /'
	return "${PIPESTATUS[0]}"
}
step() {
	local name=$1 t
	shift
	printf '\n== %s\n' "$name"
	t=$(now)
	for f in "$@"; do
		run_sql "$f" || die "$name ($f)"
	done
	printf '   [%s s]\n' "$(secs "$t" "$(now)")"
}

T0=$(now)
say ""
say "pg_asof production replay, $(date -u '+%Y-%m-%d %H:%M UTC'), on $MODE"
say "data: $FLIGHTS; period: $REPLAY_FROM to $REPLAY_UNTIL"
step "Load, protect and split the flights" 00_load.sql 10_protect.sql 20_split.sql
step "Live tables, history, scheduled feature views, roles" 70_replay_setup.sql
step "The replay: ingestion at landing, run_due_materializations at every tick, serving at departure" 70_replay_run.sql
step "Parity: served against offline (asof.parity_report)" 70_replay_parity.sql
step "Production AUC: served against offline" 70_replay_auc.sql
say ""
say "make replay: done in $(secs "$T0" "$(now)") s"
