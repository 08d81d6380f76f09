#!/usr/bin/env bash
# test/t/no_preload.sh: a server started without pg_asof in
# shared_preload_libraries refuses CREATE EXTENSION pg_asof and LOAD, with a
# hint naming the setting, and nothing is created.  Run by test/run.sh,
# which exports ASOF_TMP and ASOF_BINDIR.  Prints TAP-style ok / not ok.
set -uo pipefail
. "$(dirname "$0")/../cluster.sh"
trap 'for c in "${ASOF_CLUSTERS[@]}"; do asof_as_postgres "$ASOF_BINDIR/pg_ctl" -D "$c" -m immediate stop >/dev/null 2>&1; done' EXIT

asof_cluster_start nopreload '' || { echo "not ok - could not start a server without preload"; exit 1; }
psql=("$ASOF_BINDIR/psql" -X -q -d postgres)

check() { # check DESCRIPTION ACTUAL EXPECTED-SUBSTRING
	if [[ "$2" == *"$3"* ]]; then echo "ok - $1"; else
		echo "not ok - $1"; echo "#   expected to contain: $3"; echo "#   got: $2"; fi
}

out=$("${psql[@]}" -c 'CREATE EXTENSION pg_asof' 2>&1)
check "CREATE EXTENSION fails without preload" "$out" \
	'ERROR:  pg_asof must be loaded via "shared_preload_libraries"'
check "the error has a hint naming the setting" "$out" \
	'HINT:  Add pg_asof to "shared_preload_libraries" in postgresql.conf and restart the server.'
out=$("${psql[@]}" -Atc "SELECT count(*) FROM pg_extension WHERE extname = 'pg_asof'" 2>&1)
check "nothing is created" "$out" "0"
out=$("${psql[@]}" -Atc "SELECT count(*) FROM pg_namespace WHERE nspname = 'asof'" 2>&1)
check "no schema asof is left behind" "$out" "0"
out=$("${psql[@]}" -c "LOAD 'pg_asof'" 2>&1)
check "LOAD fails without preload" "$out" \
	'ERROR:  pg_asof must be loaded via "shared_preload_libraries"'
