#!/usr/bin/env bash
# test/t/online_cron.sh: scheduling through the pg_cron Debian 12 ships
# (1.4: minute granularity, GMT, installed in the database named by
# cron.database_name).  In that database: asof.schedule_materialization
# creates one job that runs every minute and calls
# asof.run_due_materializations(); scheduling a second view adds no job;
# running the job's command materializes the due ticks (the test never
# waits for the wall clock: asof.clock sets "now").  Skipped when the
# server does not preload pg_cron (make test does: test/cluster.sh).
set -uo pipefail
psql=("$ASOF_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1)
db=$("${psql[@]}" -d postgres -c "SELECT current_setting('cron.database_name', true)")
if [ -z "$db" ] || ! "${psql[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
	echo "ok 1 # SKIP pg_cron is not preloaded"
	exit 0
fi
q() { "${psql[@]}" -d "$db" "$@"; }
check() {	# check NAME EXPECTED ACTUAL
	if [ "$2" == "$3" ]; then echo "ok - $1"; else echo "not ok - $1"; echo "# expected: $2"; echo "# got:      $3"; fi
}

q -c "CREATE EXTENSION IF NOT EXISTS pg_asof" -c "CREATE EXTENSION IF NOT EXISTS pg_cron" \
  -c "CREATE TABLE oc_src (k text, te timestamp, v int)" \
  -c "INSERT INTO oc_src VALUES ('a', '2001-01-01 09:10', 1), ('b', '2001-01-01 09:20', 2)" \
  -c "SELECT asof.create_feature_view('oc_v', 'oc_src', '{k}', event_time => 'te', features => '{count(*) over 1 day}', cadence => '1 hour')" \
  -c "SELECT asof.create_feature_view('oc_w', 'oc_src', '{k}', event_time => 'te', features => '{sum(v) over 1 day}', cadence => '30 minutes')" \
  >/dev/null || { echo "not ok - setup"; exit 1; }

out=$(q -c "SELECT asof.schedule_materialization('oc_v')" -c "SELECT asof.schedule_materialization('oc_w')" 2>&1)
check "scheduling with pg_cron installed raises no warning" "" "$(printf '%s' "$out" | grep -c WARNING | sed 's/^0$//')"
check "one job, every minute, calling run_due_materializations" \
	"pg_asof: run due materializations|* * * * *|SELECT asof.run_due_materializations()|$db|1" \
	"$(q -c "SELECT jobname, schedule, command, database, count(*) OVER () FROM cron.job WHERE command LIKE '%asof%'")"
check "the job runs as the extension's owner" \
	"$(q -c "SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'asof'")" \
	"$(q -c "SELECT username FROM cron.job WHERE command LIKE '%asof%'")"
# run the job's command as pg_cron would, at a chosen "now"
cmd=$(q -c "SELECT command FROM cron.job WHERE command LIKE '%asof%'")
check "the job's command materializes every scheduled view's due tick" \
	"oc_v|2001-01-01 10:00:00|2
oc_w|2001-01-01 10:00:00|2" \
	"$(PGOPTIONS='-c asof.clock=2001-01-01T10:05+00 -c DateStyle=ISO' q -c "SELECT (x).feature_view, (x).tick, (x).entities FROM ($cmd) r(x) ORDER BY 1, 2")"
check "served after the job ran" '{"count_1d": 1}' \
	"$(q -c "SELECT asof.online_features('oc_v', '{a}', '2001-01-01 10:00'::timestamp)")"
q -c "SELECT asof.unschedule_materialization('oc_v')" -c "SELECT asof.unschedule_materialization('oc_w')" >/dev/null
check "unscheduled views are not materialized" "0" \
	"$(PGOPTIONS='-c asof.clock=2001-01-01T12:05+00' q -c "SELECT count(*) FROM ($cmd) r")"

# clean up: the job too, so that nothing runs in the background
q -c "SELECT cron.unschedule(jobid) FROM cron.job WHERE command LIKE '%asof%'" \
  -c "SELECT asof.drop_feature_view('oc_v')" -c "SELECT asof.drop_feature_view('oc_w')" \
  -c "DROP TABLE oc_src" -c "DROP EXTENSION pg_cron" -c "DROP EXTENSION pg_asof" >/dev/null ||
	echo "not ok - clean up"
