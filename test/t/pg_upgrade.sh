#!/usr/bin/env bash
# test/t/pg_upgrade.sh: pg_upgrade of a cluster using pg_asof (same major:
# the one under test; Debian's roots carry one major each).  The old
# cluster holds protected tables with a split, an opening, feature views and
# a training set (upgrade_fixture_0.1.0.sql through today's functions);
# pg_upgrade LOADs the library into its binary-upgrade server, which must
# work without shared_preload_libraries; the upgraded cluster keeps the
# registries and the guard stays closed.  Run by test/run.sh (ASOF_TMP,
# ASOF_BINDIR exported).  Prints TAP-style ok / not ok.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cluster.sh"
trap 'for c in "${ASOF_CLUSTERS[@]}"; do asof_as_postgres "$ASOF_BINDIR/pg_ctl" -D "$c" -m immediate stop >/dev/null 2>&1; done' EXIT
psql=("$ASOF_BINDIR/psql" -X -q -v ON_ERROR_STOP=1)

is() { # is DESCRIPTION ACTUAL EXPECTED
	if [ "$2" == "$3" ]; then echo "ok - $1"; else
		echo "not ok - $1"; echo "#   expected: $3"; echo "$2" | head -n 20 | sed 's/^/#   got: /'; fi
}
check() { # check DESCRIPTION ACTUAL EXPECTED-SUBSTRING
	if [[ "$2" == *"$3"* ]]; then echo "ok - $1"; else
		echo "not ok - $1"; echo "#   expected to contain: $3"; echo "$2" | head -n 20 | sed 's/^/#   got: /'; fi
}
q() { PGOPTIONS='-c client_min_messages=warning' "${psql[@]}" -d asof_pgu -Atc "$1" 2>&1; }

registries="SELECT (SELECT count(*) FROM asof.protected_registry) || ' protected, '
  || (SELECT count(*) FROM asof.holdout_log) || ' log entries, '
  || (SELECT count(*) FROM asof.feature_view_registry) || ' feature views, '
  || (SELECT count(*) FROM asof.training_sets) || ' training sets'"
guard_state() {
	q 'SELECT avg(delay) FROM public.upg_open'
	q 'SELECT count(*), sum(delay) FROM public.upg_flights'
	q 'SELECT count(*) FROM public.upg_ts'
	q "SELECT asof.features_at('upg_origin', '{SFO}', '2001-01-01 20:00'::timestamp)"
	q "$registries"
}

# The old cluster, filled.
asof_cluster_start pgu_old || { echo "not ok - start the old cluster"; exit 1; }
"${psql[@]}" -d postgres -c 'CREATE DATABASE asof_pgu' >/dev/null &&
	PGOPTIONS='-c client_min_messages=warning' "${psql[@]}" -d asof_pgu -c 'CREATE EXTENSION pg_asof' \
		-f "$here/upgrade_fixture_0.1.0.sql" >/dev/null || { echo "not ok - fill the old cluster"; exit 1; }
before=$(guard_state)
check "old cluster: the guard refuses a label before the split" "$before" \
	'label column "delay" of table "upg_open" cannot be read before a train/test split is declared'
asof_as_postgres "$ASOF_BINDIR/pg_ctl" -D "$ASOF_TMP/pgu_old" -w stop >/dev/null

# The new cluster: initdb, the same settings but no shared_preload_libraries
# yet (set after the upgrade), so that pg_upgrade's check that the library
# loads goes through its binary-upgrade server alone.
new=$ASOF_TMP/pgu_new
asof_as_postgres "$ASOF_BINDIR/initdb" -D "$new" -A trust -U postgres --no-sync -E UTF8 --no-locale \
	>"$ASOF_TMP/pgu_new.initdb.log" 2>&1 || { echo "not ok - initdb the new cluster"; exit 1; }
grep -E '^(listen_addresses|port|max_prepared_transactions|lc_messages|jit) ' \
	"$ASOF_TMP/pgu_old/postgresql.conf" >>"$new/postgresql.conf"
echo "unix_socket_directories = '$ASOF_TMP/pgu_old.sock'" >>"$new/postgresql.conf"

mkdir -p "$ASOF_TMP/pgu_work" && chown postgres: "$ASOF_TMP/pgu_work" 2>/dev/null
out=$(cd "$ASOF_TMP/pgu_work" && asof_as_postgres "$ASOF_BINDIR/pg_upgrade" \
	-b "$ASOF_BINDIR" -B "$ASOF_BINDIR" -d "$ASOF_TMP/pgu_old" -D "$new" \
	-s "$ASOF_TMP/pgu_work" -p 5433 -P 5434 2>&1)
rc=$?
is "pg_upgrade succeeds (the library loads in binary-upgrade mode)" "$rc" 0
[ "$rc" -eq 0 ] || { echo "$out" | tail -n 20 | sed 's/^/# /'; find "$new" -name '*.txt' -path '*pg_upgrade_output*' -exec cat {} + 2>/dev/null | head -n 20 | sed 's/^/# /'; exit 1; }

ASOF_CLUSTERS+=("$new")
echo "shared_preload_libraries = 'pg_asof'" >>"$new/postgresql.conf"
asof_as_postgres "$ASOF_BINDIR/pg_ctl" -D "$new" -l "$ASOF_TMP/pgu_new.log" -w start >/dev/null ||
	{ echo "not ok - start the upgraded cluster"; exit 1; }
after=$(guard_state)
is "upgraded cluster: every registry, refusal, hidden row and feature value as before" "$after" "$before"
check "upgraded cluster: held-out rows stay hidden" "$(q 'SELECT count(*) FROM public.upg_flights')" "3"
check "upgraded cluster: COPY t TO stays refused after the split" "$(q 'COPY public.upg_flights TO stdout')" "ERROR:"
is "upgraded cluster: a training set builds" \
	"$(q "SELECT asof.build_training_set('public.upg_ts2', 'public.upg_flights', 'dep_time', '{upg_origin}')")" "4"
