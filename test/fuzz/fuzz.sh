#!/usr/bin/env bash
# test/fuzz/fuzz.sh: "make fuzz", the canary fuzzer with a longer budget.
#
# On a throwaway cluster (test/cluster.sh), in database regress_fuzz:
#   1. the fixture (run.py --setup) and a control run with the guard off,
#      which must report leaks (the oracle can fail);
#   2. run.py: FUZZ_QUERIES cases (default 5000) from seed FUZZ_SEED
#      (default 2; make test's run uses seed 1);
#   3. sqlsmith (Debian package sqlsmith) as the plain role
#      regress_fuzz_reader, FUZZ_SQLSMITH queries (default 2000), with
#      catalog relations excluded (their statistics are documented
#      residue); canaries searched in the server log's messages (ERROR,
#      DETAIL, HINT, CONTEXT, NOTICE, not the statement texts), crashes
#      counted from the server log;
#   4. the same number of sqlsmith queries printed by --dry-run, replayed by
#      run.py --replay as the plain role: canaries searched in their rows,
#      errors and notices.
# Leaking cases are saved under FUZZ_OUT (default ./fuzz-leaks).  Prints
# each part's "queries run, crashes, canaries leaked" and exits 1 when
# anything crashed or leaked.
set -uo pipefail
. "$(dirname "$0")/../cluster.sh"
cd "$ASOF_SRC"
seed=${FUZZ_SEED:-2}
queries=${FUZZ_QUERIES:-5000}
smith=${FUZZ_SQLSMITH:-2000}
out=${FUZZ_OUT:-$ASOF_SRC/fuzz-leaks}
rm -rf "$out"
mkdir -p "$out"

asof_init
asof_install_deps python3-psycopg2 sqlsmith || exit 1
asof_build_install || exit 1
asof_cluster_start fuzz || exit 1
py=$(bash test/fuzz/python.sh) || exit 1
psql=("$ASOF_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d postgres)
"${psql[@]}" -c 'CREATE DATABASE regress_fuzz' >/dev/null || exit 1
status=0

echo "== control run (guard off; must leak)"
ctl=$("$py" test/fuzz/run.py --setup --control --seed "$seed" --queries 300 --out "$ASOF_TMP/control" 2>&1)
grep -E '^(#|queries run)' <<<"$ctl"
grep -q 'canaries leaked: [1-9]' <<<"$ctl" || { echo "control run saw no leak: the oracle is blind"; status=1; }

echo "== run.py seed $seed, $queries cases"
"$py" test/fuzz/run.py --seed "$seed" --queries "$queries" --out "$out" || status=1

echo "== sqlsmith as regress_fuzz_reader, $smith queries, seed $seed"
log=$ASOF_TMP/fuzz.log
before=$(wc -c <"$log")
target="host=$PGHOST port=$PGPORT dbname=regress_fuzz user=regress_fuzz_reader options='-c statement_timeout=2000'"
sqlsmith --target="$target" --seed="$seed" --max-queries="$smith" --exclude-catalog --verbose \
	>"$ASOF_TMP/sqlsmith.out" 2>"$ASOF_TMP/sqlsmith.err"
echo "sqlsmith exit status $?; its last error summary:"
# --verbose prints the summary again and again: keep the last block
awk '/^[0-9]+\t/ { if (!inblock) { n = 0 } inblock = 1; last[++n] = $0; next } { inblock = 0 }
	END { for (i = 1; i <= n && i <= 10; i++) print "  " last[i] }' "$ASOF_TMP/sqlsmith.err"
tail -c +"$((before + 1))" "$log" >"$ASOF_TMP/sqlsmith.log"
crashes=$(grep -cE 'terminated by signal|PANIC' "$ASOF_TMP/sqlsmith.log")
pattern=$("$py" -c 'import sys; sys.path.insert(0, "test/fuzz"); import fixture; print("|".join(fixture.CANARY_PATTERNS))')
grep -vE '^\S+ \S+ \S+ \[[0-9]+\] STATEMENT:' "$ASOF_TMP/sqlsmith.log" | grep -iE "$pattern" >"$out/sqlsmith-log-canaries.txt"
leaked=$(wc -l <"$out/sqlsmith-log-canaries.txt")
[ "$leaked" -gt 0 ] || rm -f "$out/sqlsmith-log-canaries.txt"
echo "queries run: $smith, crashes: $crashes, canaries leaked: $leaked (sqlsmith, server log)"
[ "$crashes" = 0 ] && [ "$leaked" = 0 ] || status=1

echo "== sqlsmith --dry-run queries replayed as regress_fuzz_reader"
sqlsmith --target="$target" --seed="$((seed + 1))" --max-queries="$smith" --exclude-catalog --dry-run \
	2>/dev/null | "$py" -c '
import sys
text = sys.stdin.read()
for q in text.split(";\n"):
    q = " ".join(q.split())
    if q:
        print(q)
' >"$ASOF_TMP/sqlsmith.sql"
"$py" test/fuzz/run.py --replay "$ASOF_TMP/sqlsmith.sql" --out "$out" || status=1

ls "$out"/* >/dev/null 2>&1 && echo "saved cases: $out" || rmdir "$out"
exit $status
