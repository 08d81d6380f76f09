#!/usr/bin/env bash
# test/t/guard_timeouts.sh: the guard fails closed when a statement is
# cancelled at any point.  Each public operation (asof.protect,
# asof.unprotect, asof.split, asof.unseal, asof.build_training_set,
# asof.materialize) runs again and again under statement_timeout = 1, 2,
# 3, ... ms, so that the cancel lands at a different step each time (in
# the split report, in the registry writes, in the engine's source read,
# in the snapshot write).  After every attempt, in the same session (the
# guard's per-backend state is what a cancel could leave behind), the
# invariants are checked:
#  - protect/unprotect: a table is protected (registry row), has the
#    guard's policies, and refuses a label read, all three or none;
#  - split: the rows a plain role and the owner read are exactly the rows
#    before the committed split, counted beforehand from the data;
#  - unseal: after the failed transaction, the held-out rows are hidden
#    again, and a committed audit entry exists only for completed unseals;
#  - build_training_set: no table is left behind by a cancelled build, and
#    the builder still reads training rows only (no exemption survives);
#  - materialize: a tick is published with all its entities or not at all.
# Each operation must both time out and succeed at least once in the
# sweep, or the test says the sweep did not cover it (it cannot pass
# vacuously).  Run by test/run.sh (exports ASOF_TMP, ASOF_BINDIR, PGHOST...).
# Prints TAP-style ok / not ok.
set -uo pipefail
. "$(dirname "$0")/../cluster.sh"

psql=("$ASOF_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=0 -d asof_timeouts)
"$ASOF_BINDIR/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS asof_timeouts" -c "CREATE DATABASE asof_timeouts" >/dev/null 2>&1
"${psql[@]}" -v ON_ERROR_STOP=1 >/dev/null 2>&1 <<'SQL' || { echo "not ok - fixture"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION pg_asof;
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_to_owner') THEN CREATE ROLE regress_to_owner; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_to_analyst') THEN CREATE ROLE regress_to_analyst; END IF;
END $$;
GRANT CREATE ON SCHEMA public TO regress_to_owner, regress_to_analyst;
SET ROLE regress_to_owner;
-- 40,000 flights, one every 6 minutes from 2001-01-01: 2001-01-01 to 2001-06-17
CREATE TABLE to_flights AS
  SELECT '2001-01-01'::timestamp + i * interval '6 minutes' AS dep_time,
         'A' || (i % 50) AS origin, (i * 7919) % 120 - 20 AS delay
    FROM generate_series(0, 39999) i;
-- the rows before each split the sweep uses, counted before any protection
CREATE TABLE to_expected AS
  SELECT s.test_from, (SELECT count(*) FROM to_flights WHERE dep_time < s.test_from) AS n
    FROM (VALUES ('2001-04-01'::timestamp), ('2001-05-01'::timestamp)) s(test_from);
GRANT SELECT ON to_flights, to_expected TO regress_to_analyst;
SELECT asof.protect('to_flights', 'dep_time', '{delay}', entity_columns => '{origin}');
SELECT asof.split('to_flights', '2001-04-01');
CREATE TABLE to_p AS SELECT * FROM to_flights;
GRANT SELECT ON to_p TO regress_to_analyst;
SELECT asof.create_feature_view('to_view', 'to_flights', '{origin}', event_time => 'dep_time',
         features => '{count(*) over 1 day, avg(delay) over 7 days, last(delay)}', cadence => '1 hour');
RESET ROLE;
CREATE TABLE to_spine AS SELECT origin, dep_time AS at FROM to_flights WHERE dep_time < '2001-03-01';
GRANT SELECT ON to_spine TO regress_to_analyst;
SQL

# run OP-SQL CHECK-SQL: the sweep for one operation, in one session.
# CHECK-SQL prints OK or BAD ...; each attempt prints TIMEOUT or DONE.
sweep() {
	local op=$1 check=$2 t
	{
		echo "SET client_min_messages = warning;"
		for t in $(seq 1 40) 60 100 200 400 1000 5000; do
			echo "SET statement_timeout = '${t}ms';"
			echo "$op"
			echo "RESET statement_timeout;"
			echo "ROLLBACK;"
			echo "$check"
		done
	} | "${psql[@]}" 2>&1
}

report() { # report NAME OUTPUT
	local out=$2 bad timeouts done_
	bad=$(grep -c '^BAD' <<<"$out")
	timeouts=$(grep -c 'canceling statement due to statement timeout' <<<"$out")
	done_=$(grep -c '^DONE' <<<"$out")
	if [ "$bad" -eq 0 ] && [ "$timeouts" -gt 0 ] && [ "$done_" -gt 0 ]; then
		echo "ok - $1 ($timeouts cancelled, $done_ completed, invariants held after each)"
	else
		echo "not ok - $1 ($timeouts cancelled, $done_ completed, $bad invariant failures)"
		grep -E '^BAD|ERROR' <<<"$out" | grep -v 'statement timeout' | sort | uniq -c | head -10 | sed 's/^/#   /'
	fi
}

# split: alternate between two cutoffs; the owner and a plain role read the
# rows before the committed one, in the session that was cancelled.
split_check="SET ROLE regress_to_owner;
SELECT CASE WHEN (SELECT count(*) FROM to_flights) = e.n THEN 'OK' ELSE 'BAD split owner ' || e.test_from END
  FROM to_expected e WHERE e.test_from = (SELECT test_from::timestamp FROM asof.protected_tables WHERE table_name = 'to_flights'::regclass);
SET ROLE regress_to_analyst;
SELECT CASE WHEN (SELECT count(*) FROM to_flights) = e.n THEN 'OK' ELSE 'BAD split analyst ' || e.test_from END
  FROM to_expected e WHERE e.test_from = (SELECT test_from::timestamp FROM asof.protected_tables WHERE table_name = 'to_flights'::regclass);
RESET ROLE;"
split_op="SET ROLE regress_to_owner;
SELECT 'DONE' FROM asof.split('to_flights', CASE WHEN (SELECT test_from::timestamp FROM asof.protected_tables WHERE table_name = 'to_flights'::regclass) = '2001-04-01' THEN '2001-05-01' ELSE '2001-04-01' END);
RESET ROLE;"
report "asof.split cancelled at every step" "$(sweep "$split_op" "$split_check")"

# protect / unprotect of to_p, alternately: all or nothing.
prot_check="SET ROLE regress_to_owner;
DO \$\$ DECLARE reg bool; pol bool; refused bool := false;
BEGIN
  reg := EXISTS (SELECT FROM asof.protected_tables WHERE table_name = 'to_p'::regclass);
  pol := EXISTS (SELECT FROM pg_policy WHERE polrelid = 'to_p'::regclass);
  BEGIN PERFORM sum(delay) FROM to_p; EXCEPTION WHEN insufficient_privilege THEN refused := true; END;
  RAISE WARNING '%', CASE WHEN reg = pol AND pol = refused THEN 'OK' ELSE format('BAD protect registry %s policies %s refused %s', reg, pol, refused) END;
END \$\$;
RESET ROLE;"
prot_op="SET ROLE regress_to_owner;
SELECT 'DONE' FROM (SELECT CASE WHEN EXISTS (SELECT FROM asof.protected_tables WHERE table_name = 'to_p'::regclass)
    THEN asof.unprotect('to_p')::text ELSE asof.protect('to_p', 'dep_time', '{delay}', entity_columns => '{origin}')::text END) s;
RESET ROLE;"
out=$(sweep "$prot_op" "$prot_check" | sed 's/^WARNING:  //')
report "asof.protect and asof.unprotect cancelled at every step" "$out"

# unseal inside a transaction that is then cancelled: hidden again after.
unseal_op="SET ROLE regress_to_owner;
BEGIN;
SELECT count(*) > 0 FROM asof.unseal('to_flights', 'timeout sweep');
SELECT 'DONE' FROM (SELECT count(*) FROM to_flights) s;
COMMIT;"
unseal_check="SET ROLE regress_to_owner;
SELECT CASE WHEN (SELECT count(*) FROM to_flights) = e.n THEN 'OK' ELSE 'BAD unseal still open ' || e.test_from END
  FROM to_expected e WHERE e.test_from = (SELECT test_from::timestamp FROM asof.protected_tables WHERE table_name = 'to_flights'::regclass);
RESET ROLE;"
report "asof.unseal cancelled at every step" "$(sweep "$unseal_op" "$unseal_check")"

# build_training_set by a plain role: nothing left behind, no exemption.
build_op="SET ROLE regress_to_analyst;
DROP TABLE IF EXISTS to_train;
SELECT 'DONE' FROM asof.build_training_set('to_train', 'to_spine', 'at', '{to_view}');
RESET ROLE;"
build_check="SET ROLE regress_to_analyst;
SELECT CASE WHEN (SELECT count(*) FROM to_flights) = e.n THEN 'OK' ELSE 'BAD build exemption left ' || e.test_from END
  FROM to_expected e WHERE e.test_from = (SELECT test_from::timestamp FROM asof.protected_tables WHERE table_name = 'to_flights'::regclass);
SELECT CASE WHEN to_regclass('to_train') IS NULL
            OR (SELECT count(*) FROM to_train) = (SELECT count(*) FROM to_spine)
            THEN 'OK' ELSE 'BAD partial training set' END;
RESET ROLE;"
report "asof.build_training_set cancelled at every step" "$(sweep "$build_op" "$build_check")"

# materialize: all of a tick's entities or none of them.
mat_op="SET asof.clock = '2001-03-02 00:00+00';
SELECT 'DONE' FROM asof.materialize('to_view', '2001-03-01 12:00'::timestamp, replace => true);"
mat_check="SELECT CASE WHEN coalesce((SELECT entities FROM asof.materializations WHERE feature_view = 'to_view' AND tick = '2001-03-01 12:00'), 0)
                  = (SELECT count(*) FROM asof_online.to_view WHERE tick = '2001-03-01 12:00')
            THEN 'OK' ELSE 'BAD partial snapshot' END WHERE to_regclass('asof_online.to_view') IS NOT NULL;"
report "asof.materialize cancelled at every step" "$(sweep "$mat_op" "$mat_check")"

# The checks can fail: with one expected count off by one, and with to_p's
# policies dropped behind the guard's back (guard off, as a superuser), the
# same checks report BAD.
out=$("${psql[@]}" 2>&1 <<SQL
UPDATE to_expected SET n = n + 1;
$split_check
SET asof.guard = off;
SELECT CASE WHEN EXISTS (SELECT FROM asof.protected_tables WHERE table_name = 'to_p'::regclass) THEN 'protected'
            ELSE asof.protect('to_p', 'dep_time', '{delay}')::text END;
DROP POLICY IF EXISTS asof_guard ON to_p;
DO \$\$ DECLARE p record; BEGIN FOR p IN SELECT polname FROM pg_policy WHERE polrelid = 'to_p'::regclass LOOP
  EXECUTE format('DROP POLICY %I ON to_p', p.polname); END LOOP; END \$\$;
RESET asof.guard;
$prot_check
SQL
)
if [ "$(grep -c '^BAD split' <<<"$out")" -eq 2 ] && grep -q 'BAD protect registry t policies f' <<<"$out"; then
	echo "ok - the checks report a wrong count and a half-protected table"
else
	echo "not ok - the checks did not catch a planted fault"; sed 's/^/#   /' <<<"$out" | head -20
fi

"$ASOF_BINDIR/psql" -X -q -d postgres -c "DROP DATABASE asof_timeouts" >/dev/null 2>&1
