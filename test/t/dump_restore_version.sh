#!/usr/bin/env bash
# test/t/dump_restore_version.sh: dump and restore across majors, from the
# PostgreSQL under test (15) into 17: pg_upgrade needs both majors in one
# place, and Debian's trixie carries no 15.  Fills a database
# (upgrade_fixture_0.1.0.sql), dumps it with the 15 pg_dump (guard off for
# the dump, as docs/leakage-guard.md says for backups), and restores it in
# the PostgreSQL 17 root (test/chroot.sh) with
# dump_restore_version.restore, which checks the registries, the guard and
# the feature values there against the ones computed here.
#
# Runs only where the major under test is 15 and the 17 root is already
# built (make test PG=17 or .ci/run builds it): plain "make test" never
# builds a root.  Run by test/run.sh.  Prints TAP-style ok / not ok.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
psql=("$ASOF_BINDIR/psql" -X -q -v ON_ERROR_STOP=1)
roots=${ASOF_ROOTS:-/var/cache/pg_asof}

if [ "${ASOF_PGVER:-15}" != 15 ]; then
	echo "ok - dump from 15, restore into 17 # SKIP runs with PostgreSQL 15 only"
	exit 0
fi
if [ ! -f "$roots/pg17-trixie/.pg_asof-root" ] || [ "$(id -u)" -ne 0 ]; then
	echo "ok - dump from 15, restore into 17 # SKIP no PostgreSQL 17 root built here (make test PG=17 builds it)"
	exit 0
fi

q() { PGOPTIONS='-c client_min_messages=warning' "${psql[@]}" -d asof_dumpver -Atc "$1" 2>&1; }
"${psql[@]}" -d postgres -c 'DROP DATABASE IF EXISTS asof_dumpver' -c 'CREATE DATABASE asof_dumpver' >/dev/null &&
	PGOPTIONS='-c client_min_messages=warning' "${psql[@]}" -d asof_dumpver -c 'CREATE EXTENSION pg_asof' \
		-f "$here/upgrade_fixture_0.1.0.sql" >/dev/null || { echo "not ok - fill the 15 database"; exit 1; }

# What the restored database must show, computed here on 15.
xfer=$src/tmp_check/dump_restore_version
rm -rf "$xfer" && mkdir -p "$xfer"
{
	q 'SELECT avg(delay) FROM public.upg_open'
	q 'SELECT count(*), sum(delay) FROM public.upg_flights'
	q 'SELECT count(*) FROM public.upg_ts'
	q "SELECT asof.features_at('upg_origin', '{SFO}', '2001-01-01 20:00'::timestamp)"
	for t in $(q "SELECT c::regclass FROM pg_extension e, unnest(e.extconfig) c WHERE e.extname = 'pg_asof' ORDER BY 1::text"); do
		q "SELECT '$t', count(*) FROM $t"
	done
} >"$xfer/expected"
if PGOPTIONS='-c asof.guard=off' "$ASOF_BINDIR/pg_dump" -Fc -d asof_dumpver -f "$xfer/asof.dump"; then
	echo "ok - pg_dump on 15 of a database using pg_asof"
else
	echo "not ok - pg_dump on 15 of a database using pg_asof"
fi
"${psql[@]}" -d postgres -c 'DROP DATABASE asof_dumpver' >/dev/null

bash "$src/test/chroot.sh" 17 bash test/t/dump_restore_version.restore tmp_check/dump_restore_version 2>&1 |
	grep -E '^(ok|not ok|#)'
rm -rf "$xfer"
