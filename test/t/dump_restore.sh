#!/usr/bin/env bash
# test/t/dump_restore.sh: the registry tables are dumped by pg_dump and
# restored with the extension.  Fills a database through the extension's
# own functions (test/t/dump_fixture*.sql, one file per part of the
# extension), dumps it, restores it into a
# second database of the same throwaway cluster, and compares every registry
# table (every table pg_extension_config_dump registered) row for row.
set -uo pipefail
here=$(dirname "$0")
psql=("$ASOF_BINDIR/psql" -X -q -v ON_ERROR_STOP=1)

"${psql[@]}" -d postgres -c 'DROP DATABASE IF EXISTS asof_dump_src' -c 'DROP DATABASE IF EXISTS asof_dump_dst' \
	-c 'CREATE DATABASE asof_dump_src' -c 'CREATE DATABASE asof_dump_dst' >/dev/null || { echo "not ok - create databases"; exit 1; }
fixtures=()
for f in "$here"/dump_fixture*.sql; do fixtures+=(-f "$f"); done
"${psql[@]}" -d asof_dump_src -c 'CREATE EXTENSION pg_asof' "${fixtures[@]}" >/dev/null ||
	{ echo "not ok - fixture"; exit 1; }
"$ASOF_BINDIR/pg_dump" -Fc -d asof_dump_src -f "$ASOF_TMP/asof_dump_src.dump" || { echo "not ok - pg_dump"; exit 1; }
if "$ASOF_BINDIR/pg_restore" -d asof_dump_dst --exit-on-error "$ASOF_TMP/asof_dump_src.dump"; then
	echo "ok - pg_restore of a database using pg_asof succeeds"
else
	echo "not ok - pg_restore of a database using pg_asof succeeds"
fi

tables=$("${psql[@]}" -d asof_dump_src -Atc "SELECT c::regclass FROM pg_extension e, unnest(e.extconfig) c WHERE e.extname = 'pg_asof' ORDER BY 1::text")
for t in $tables; do
	q="SELECT * FROM $t ORDER BY 1, 2"
	# sorted as text: a regclass column orders by OID, which the restore changes
	src=$("${psql[@]}" -d asof_dump_src -Atc "$q" 2>&1 | LC_ALL=C sort)
	dst=$("${psql[@]}" -d asof_dump_dst -Atc "$q" 2>&1 | LC_ALL=C sort)
	n=$(printf '%s' "$src" | grep -c .)
	if [ "$src" == "$dst" ] && [ "$n" -gt 0 ]; then
		echo "ok - $t: $n rows restored identically"
	else
		echo "not ok - $t: $n rows in the source; the restored table differs or is empty"
		diff <(echo "$src") <(echo "$dst") | sed 's/^/# /'
	fi
done
# the triggers of asof.track_ingestion come back (on a protected table too)
q="SELECT tgrelid::regclass, tgname, tgfoid::regprocedure FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2"
if [ "$("${psql[@]}" -d asof_dump_src -Atc "$q")" == "$("${psql[@]}" -d asof_dump_dst -Atc "$q")" ]; then
	echo "ok - triggers restored identically"
else
	echo "not ok - triggers restored identically"
fi
"${psql[@]}" -d postgres -c 'DROP DATABASE asof_dump_src' -c 'DROP DATABASE asof_dump_dst' >/dev/null
