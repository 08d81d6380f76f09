#!/usr/bin/env bash
# test/t/upgrade.sh: ALTER EXTENSION pg_asof UPDATE from 0.1.0.
#
# Installs 0.1.0 from its frozen script (sql/pg_asof--0.1.0.sql) under the
# new library, fills every registry through 0.1.0's functions
# (upgrade_fixture_0.1.0.sql), checks that the guard stays closed while the
# schema is still 0.1.0, updates, checks that everything still works and
# that nothing was lost, and compares every extension member object with
# its definition, owner, ACL and comment (upgrade_members.sql) against a
# fresh install: they must be equal.  Run by test/run.sh against its
# cluster (PGHOST... and ASOF_BINDIR exported).  Prints TAP-style ok / not ok.
set -uo pipefail
here=$(dirname "$0")
psql=("$ASOF_BINDIR/psql" -X -q -v ON_ERROR_STOP=1)
export PGOPTIONS='-c client_min_messages=warning'
old=asof_upgrade_old
fresh=asof_upgrade_fresh

check() { # check DESCRIPTION ACTUAL EXPECTED-SUBSTRING
	if [[ "$2" == *"$3"* ]]; then echo "ok - $1"; else
		echo "not ok - $1"; echo "#   expected to contain: $3"; echo "#   got: $2" | head -n 20; fi
}
is() { # is DESCRIPTION ACTUAL EXPECTED
	if [ "$2" == "$3" ]; then echo "ok - $1"; else
		echo "not ok - $1"; echo "#   expected: $3"; echo "#   got: $2" | head -n 20; fi
}
q() { PGOPTIONS='-c client_min_messages=warning' "${psql[@]}" -d "$1" -Atc "$2" 2>&1; }

"${psql[@]}" -d postgres -c "DROP DATABASE IF EXISTS $old" -c "DROP DATABASE IF EXISTS $fresh" \
	-c "CREATE DATABASE $old" -c "CREATE DATABASE $fresh" >/dev/null || { echo "not ok - create databases"; exit 1; }

out=$("${psql[@]}" -d "$old" -c "CREATE EXTENSION pg_asof VERSION '0.1.0'" -f "$here/upgrade_fixture_0.1.0.sql" 2>&1)
rc=$?
is "0.1.0 installs under the new library and its functions fill every registry" "$rc" "0"
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/# /'
check "the schema is 0.1.0, the library $(q "$old" 'SELECT asof.version()')" \
	"$(q "$old" "SELECT extversion FROM pg_extension WHERE extname = 'pg_asof'")" "0.1.0"

# Registries before the update, to compare after it.
registries="SELECT (SELECT count(*) FROM asof.protected_registry) || ' protected, '
  || (SELECT count(*) FROM asof.holdout_log) || ' log entries, '
  || (SELECT count(*) FROM asof.feature_view_registry) || ' feature views, '
  || (SELECT count(*) FROM asof.feature_view_feature_registry) || ' features, '
  || (SELECT count(*) FROM asof.training_sets) || ' training sets'"
before=$(q "$old" "$registries")
# protect x2, split, unseal, and the training set's protect and split
is "every registry is filled" "$before" "3 protected, 6 log entries, 2 feature views, 4 features, 1 training sets"

# The new library against the old schema: the guard stays closed.
guard_checks() { # guard_checks WHEN
	check "$1: a label of a table without split is refused" \
		"$(q "$old" 'SELECT avg(delay) FROM public.upg_open')" \
		'label column "delay" of table "upg_open" cannot be read before a train/test split is declared'
	is "$1: held-out rows are hidden" "$(q "$old" 'SELECT count(*), sum(delay) FROM public.upg_flights')" "3|40"
	is "$1: the training set's held-out rows are hidden" \
		"$(q "$old" 'SELECT count(*) FROM public.upg_ts')" "3"
	check "$1: COPY t TO is refused after the split" \
		"$(q "$old" 'COPY public.upg_flights TO stdout')" "ERROR:"
}
guard_checks "0.1.0 schema, new library"

out=$("${psql[@]}" -d "$old" -c 'ALTER EXTENSION pg_asof UPDATE' 2>&1)
rc=$?
is "ALTER EXTENSION pg_asof UPDATE succeeds" "$rc" "0"
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/# /'
check "the schema is now $(q "$old" 'SELECT asof.version()')" \
	"$(q "$old" "SELECT extversion FROM pg_extension WHERE extname = 'pg_asof'")" \
	"$(q "$old" 'SELECT asof.version()')"
is "no registry row is lost" "$(q "$old" "$registries")" "$before"
guard_checks "after the update"
check "feature views still compute (features_at)" \
	"$(q "$old" "SELECT asof.features_at('upg_origin', '{SFO}', '2001-01-01 20:00'::timestamp)")" \
	'{"count_1d": 2, "last_delay": 25, "avg_delay_1d": 15}'
is "a training set builds after the update" \
	"$(q "$old" "SELECT asof.build_training_set('public.upg_ts2', 'public.upg_flights', 'dep_time', '{upg_origin,upg_plain}')")" "4"
is "a split moves after the update" \
	"$(q "$old" "SELECT asof.split('public.upg_flights', test_from => '2001-01-02') IS NULL; SELECT count(*) FROM public.upg_flights" | tail -n 1)" "2"
# the move of the split (3 rows: the table and its two training sets), the opening
is "the holdout log still takes openings" \
	"$(q "$old" "BEGIN; SELECT asof.unseal('public.upg_flights', 'after the update') IS NULL; SELECT count(*) FROM public.upg_flights; COMMIT; SELECT count(*) || ' rows, ' || count(*) FILTER (WHERE event = 'unseal') || ' openings' FROM asof.holdout_log" | tail -n 1)" "12 rows, 2 openings"

# The upgraded schema equals a fresh install, member by member.
"${psql[@]}" -d "$fresh" -c 'CREATE EXTENSION pg_asof' >/dev/null 2>&1 || echo "not ok - fresh install"
"${psql[@]}" -d "$old" -At -f "$here/upgrade_members.sql" >"$ASOF_TMP/members.upgraded" 2>&1
"${psql[@]}" -d "$fresh" -At -f "$here/upgrade_members.sql" >"$ASOF_TMP/members.fresh" 2>&1
n=$(grep -c '^[a-z]' "$ASOF_TMP/members.fresh")
if [ "$n" -gt 20 ] && diff -q "$ASOF_TMP/members.upgraded" "$ASOF_TMP/members.fresh" >/dev/null; then
	echo "ok - the upgraded schema equals a fresh install ($n member objects and config entries compared)"
else
	echo "not ok - the upgraded schema equals a fresh install ($n member objects and config entries compared)"
	diff -u "$ASOF_TMP/members.fresh" "$ASOF_TMP/members.upgraded" | head -n 60 | sed 's/^/# /'
fi

[ -n "${KEEP:-}" ] || "${psql[@]}" -d postgres -c "DROP DATABASE $old" -c "DROP DATABASE $fresh" >/dev/null
