#!/usr/bin/env bash
# test/t/guard_fail_closed.sh: the guard cannot be off by accident.
#  - G6: a superuser switching asof.guard off is written to the server log.
#  - G7: when the library is removed from shared_preload_libraries after
#    tables were protected, a role that row-level security applies to can
#    no longer read them (the restrictive policy needs the loaded guard).
# Run by test/run.sh (exports ASOF_TMP, ASOF_BINDIR, PGHOST...).  Prints
# TAP-style ok / not ok.
set -uo pipefail
. "$(dirname "$0")/../cluster.sh"
trap 'for c in "${ASOF_CLUSTERS[@]}"; do asof_as_postgres "$ASOF_BINDIR/pg_ctl" -D "$c" -m immediate stop >/dev/null 2>&1; done' EXIT

check() { # check DESCRIPTION ACTUAL EXPECTED-SUBSTRING
	if [[ "$2" == *"$3"* ]]; then echo "ok - $1"; else
		echo "not ok - $1"; echo "#   expected to contain: $3"; echo "#   got: $2"; fi
}

# G6 on the main cluster: the switch is logged with the session user.
main_log=$ASOF_TMP/main.log
"$ASOF_BINDIR/psql" -X -q -d postgres -c "SET asof.guard = off" >/dev/null 2>&1
sleep 0.2
check "switching asof.guard off is written to the server log" "$(cat "$main_log")" \
	'pg_asof leakage guard switched off for session user "postgres"'

asof_cluster_start guardfc || { echo "not ok - could not start a server"; exit 1; }
psql=("$ASOF_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d postgres)
"${psql[@]}" >/dev/null 2>&1 <<'SQL' || { echo "not ok - fixture"; exit 1; }
CREATE EXTENSION pg_asof;
CREATE ROLE regress_fc_analyst LOGIN;
CREATE TABLE fc_flights (dep_time timestamp, delay int);
INSERT INTO fc_flights VALUES ('2001-01-01', 1), ('2001-04-01', 2);
GRANT SELECT ON fc_flights TO regress_fc_analyst;
SELECT asof.protect('fc_flights', 'dep_time', '{delay}');
SELECT asof.split('fc_flights', '2001-03-01');
SQL
out=$("${psql[@]}" -U regress_fc_analyst -Atc "SELECT count(*), sum(delay) FROM fc_flights" 2>&1)
check "with the library loaded, a plain role reads the training rows" "$out" "1|1"

# Remove the library from shared_preload_libraries and restart.
conf=$ASOF_TMP/guardfc/postgresql.conf
sed -i "s/^shared_preload_libraries = .*/shared_preload_libraries = ''/" "$conf"
asof_as_postgres "$ASOF_BINDIR/pg_ctl" -D "$ASOF_TMP/guardfc" -l "$ASOF_TMP/guardfc.log" -w restart >/dev/null ||
	{ echo "not ok - restart without the library"; exit 1; }
out=$("${psql[@]}" -U regress_fc_analyst -Atc "SELECT count(*) FROM fc_flights" 2>&1)
check "without the library, a plain role cannot read a protected table" "$out" \
	'pg_asof must be loaded via "shared_preload_libraries"'
out=$("${psql[@]}" -U regress_fc_analyst -Atc "SELECT sum(delay) FROM fc_flights" 2>&1)
check "without the library, a plain role cannot read its labels" "$out" 'ERROR'
