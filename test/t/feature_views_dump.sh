#!/usr/bin/env bash
# test/t/feature_views_dump.sh: after pg_dump and pg_restore, feature views
# are whole again: registry rows, helper views (asof_feature_views.*, with
# the dependencies that protect their source columns), and definitions
# that load and compute the same reference query results.
set -uo pipefail
here=$(dirname "$0")
psql=("$ASOF_BINDIR/psql" -X -q -v ON_ERROR_STOP=1)
src=asof_fv_dump_src
dst=asof_fv_dump_dst

"${psql[@]}" -d postgres -c "DROP DATABASE IF EXISTS $src" -c "DROP DATABASE IF EXISTS $dst" \
	-c "CREATE DATABASE $src" -c "CREATE DATABASE $dst" >/dev/null 2>&1 || { echo "not ok - create databases"; exit 1; }
"${psql[@]}" -d $src -c 'CREATE EXTENSION pg_asof' -f "$here/dump_fixture.sql" \
	-f "$here/dump_fixture_feature_views.sql" >/dev/null || { echo "not ok - fixture"; exit 1; }
"$ASOF_BINDIR/pg_dump" -Fc -d $src -f "$ASOF_TMP/$src.dump" || { echo "not ok - pg_dump"; exit 1; }
if "$ASOF_BINDIR/pg_restore" -d $dst --exit-on-error "$ASOF_TMP/$src.dump"; then
	echo "ok - pg_restore of feature views succeeds"
else
	echo "not ok - pg_restore of feature views succeeds"
fi

q="SELECT string_agg(c.relname || ':' || c.relowner::regrole, ',' ORDER BY c.relname) FROM pg_class c WHERE c.relnamespace = 'asof_feature_views'::regnamespace"
a=$("${psql[@]}" -d $src -Atc "$q" 2>&1)
b=$("${psql[@]}" -d $dst -Atc "$q" 2>&1)
if [ -n "$a" ] && [ "$a" == "$b" ]; then
	echo "ok - helper views restored with their owners ($b)"
else
	echo "not ok - helper views restored with their owners: '$a' vs '$b'"
fi

if "${psql[@]}" -d $dst -c "SELECT asof._feature_view_check(name) FROM asof.feature_views" >/dev/null 2>&1; then
	echo "ok - restored definitions load"
else
	echo "not ok - restored definitions load"
fi

out=$("${psql[@]}" -d $dst -c 'ALTER TABLE public.fixture_flights DROP COLUMN delay' 2>&1)
if printf '%s' "$out" | grep -q 'depends on column delay'; then
	echo "ok - restored feature views protect their source columns"
else
	echo "not ok - restored feature views protect their source columns: $out"
fi

ref="CREATE TEMP TABLE sp AS SELECT origin, destination, dep_time + interval '3 hours' AS t FROM public.fixture_flights;
SELECT asof.feature_view_sql('fixture_origin', 'sp', 't') AS q \\gset
SELECT * FROM (:q) x ORDER BY 1, 2, 3;"
a=$(printf '%s\n' "$ref" | "${psql[@]}" -d $src -At 2>&1)
b=$(printf '%s\n' "$ref" | "${psql[@]}" -d $dst -At 2>&1)
if [ -n "$a" ] && [ "$a" == "$b" ]; then
	echo "ok - restored feature view computes the same reference values"
else
	echo "not ok - restored feature view computes the same reference values"
	diff <(echo "$a") <(echo "$b") | sed 's/^/# /'
fi

out=$("${psql[@]}" -d $dst -c 'DROP TABLE public.fixture_flights CASCADE' -Atc 'SELECT count(*) FROM asof.feature_views' 2>&1 | tail -1)
if [ "$out" == "0" ]; then
	echo "ok - DROP TABLE CASCADE removes the restored registrations"
else
	echo "not ok - DROP TABLE CASCADE removes the restored registrations: $out"
fi
"${psql[@]}" -d postgres -c "DROP DATABASE $src" -c "DROP DATABASE $dst" >/dev/null
