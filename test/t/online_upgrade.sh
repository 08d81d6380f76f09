#!/usr/bin/env bash
# test/t/online_upgrade.sh: ALTER EXTENSION pg_asof UPDATE from 0.1.0 gives
# the production side's objects (schema asof_online, the registries, the
# functions, the event trigger, configuration dumps) exactly as a fresh
# install does, and they work.
set -uo pipefail
psql=("$ASOF_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1)
objects="SELECT pg_describe_object(classid, objid, objsubid) FROM pg_depend
          WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
            AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_asof')
            AND (pg_describe_object(classid, objid, objsubid) ~ '(online|materializ|asof\.now\(\))')
          UNION ALL
         SELECT 'config ' || c::regclass::text FROM pg_extension e, unnest(e.extconfig) c
          WHERE e.extname = 'pg_asof' AND c::regclass::text ~ '(online|materializ)'
          ORDER BY 1"
"${psql[@]}" -d postgres -c 'DROP DATABASE IF EXISTS asof_up_old' -c 'DROP DATABASE IF EXISTS asof_up_new' \
	-c 'CREATE DATABASE asof_up_old' -c 'CREATE DATABASE asof_up_new' >/dev/null || { echo "not ok - create databases"; exit 1; }
"${psql[@]}" -d asof_up_old -c "CREATE EXTENSION pg_asof VERSION '0.1.0'" -c "ALTER EXTENSION pg_asof UPDATE" >/dev/null ||
	echo "not ok - ALTER EXTENSION pg_asof UPDATE from 0.1.0"
"${psql[@]}" -d asof_up_new -c "CREATE EXTENSION pg_asof" >/dev/null || echo "not ok - CREATE EXTENSION"
old=$("${psql[@]}" -d asof_up_old -c "$objects")
new=$("${psql[@]}" -d asof_up_new -c "$objects")
n=$(printf '%s\n' "$new" | grep -c .)
if [ "$old" == "$new" ] && [ "$n" -ge 20 ]; then
	echo "ok - the upgrade from 0.1.0 has the same $n production-side members as a fresh install"
else
	echo "not ok - the upgrade from 0.1.0 has the same production-side members as a fresh install ($n)"
	diff <(echo "$old") <(echo "$new") | sed 's/^/# /'
fi
got=$("${psql[@]}" -d asof_up_old \
	-c "CREATE TABLE u (k text, te timestamp, v int)" \
	-c "INSERT INTO u VALUES ('a', '2001-01-01 09:30', 7)" \
	-c "SELECT asof.create_feature_view('u_v', 'u', '{k}', event_time => 'te', features => '{sum(v) over 1 day}', cadence => '1 hour')" \
	-c "SET asof.clock = '2001-01-01 10:00+00'" \
	-c "SELECT asof.materialize('u_v')" \
	-c "SELECT asof.online_features('u_v', '{a}')" 2>&1 | tail -2 | tr '\n' ' ')
if [ "$got" == '1 {"sum_v_1d": 7} ' ]; then
	echo "ok - materialize and online_features work after the upgrade"
else
	echo "not ok - materialize and online_features work after the upgrade"
	echo "# got: $got"
fi
"${psql[@]}" -d postgres -c 'DROP DATABASE asof_up_old' -c 'DROP DATABASE asof_up_new' >/dev/null
