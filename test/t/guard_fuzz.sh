#!/usr/bin/env bash
# test/t/guard_fuzz.sh: the canary fuzzer (test/fuzz/) with a small, fixed
# budget inside "make test" (make fuzz runs it longer, plus sqlsmith).
#  - a control run with the guard switched off must see leaks (the oracle
#    can fail);
#  - the fixed run (seed 1, 600 cases, as a plain role, the owner and a
#    superuser) must crash nothing, leak no canary and return the same rows
#    as the reference schema.
# Each leaking case is saved as a runnable .sql file; they are printed here
# as TAP comments.  Run by test/run.sh (exports ASOF_TMP, ASOF_BINDIR,
# PGHOST...).  Prints TAP-style ok / not ok.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fuzz=$here/../fuzz
psql=("$ASOF_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d postgres)
seed=${FUZZ_SEED:-1}
budget=${FUZZ_QUERIES:-600}
out=${FUZZ_OUT:-$ASOF_TMP/fuzz-leaks}

py=$(bash "$fuzz/python.sh") || { echo "not ok - no python3 with psycopg2 (apt-get install python3-psycopg2)"; exit 1; }

cleanup() {
	"${psql[@]}" -c 'DROP DATABASE IF EXISTS regress_fuzz' \
		-c 'DROP ROLE IF EXISTS regress_fuzz_owner' -c 'DROP ROLE IF EXISTS regress_fuzz_reader' >/dev/null 2>&1
}
cleanup
trap cleanup EXIT
"${psql[@]}" -c 'CREATE DATABASE regress_fuzz' >/dev/null || { echo "not ok - create database"; exit 1; }

# tap OK DESCRIPTION
tap() { if [ "$1" = 1 ]; then echo "ok - $2"; else echo "not ok - $2"; fi; }
field() { sed -n "s/.*$1: \([0-9]*\).*/\1/p" <<<"$2" | tail -n 1; }

# The control run builds the fixture, then runs with the guard off.
ctl=$("$py" "$fuzz/run.py" --setup --control --seed "$seed" --queries 150 --out "$ASOF_TMP/fuzz-control" 2>&1)
summary=$(grep '^queries run:' <<<"$ctl")
if [ -z "$summary" ]; then
	echo "not ok - fuzzer fixture and control run"
	sed 's/^/# /' <<<"$ctl" | tail -n 20
	exit 1
fi
grep '^# ' <<<"$ctl"
c=$(field 'canaries leaked' "$summary")
d=$(field 'rows differing' "$summary")
tap "$([ "$c" -gt 0 ] && [ "$d" -gt 0 ] && echo 1)" \
	"control: with asof.guard = off the oracle sees the canaries ($c cases) and extra rows ($d cases)"

res=$("$py" "$fuzz/run.py" --seed "$seed" --queries "$budget" --out "$out" 2>&1)
summary=$(grep '^queries run:' <<<"$res")
echo "# $summary"
grep '^leaks by session history' <<<"$res" | sed 's/^/# /'
n=$(field 'queries run' "$summary")
cr=$(field 'crashes' "$summary")
c=$(field 'canaries leaked' "$summary")
d=$(field 'rows differing' "$summary")
tap "$([ -n "$n" ] && [ "$n" -gt 0 ] && [ "$cr" = 0 ] && echo 1)" "fuzz seed $seed: ${n:-0} queries, ${cr:-?} crashes"
tap "$([ "$c" = 0 ] && echo 1)" "fuzz seed $seed: no canary in any row, error or notice (${c:-?} leaked)"
tap "$([ "$d" = 0 ] && echo 1)" "fuzz seed $seed: every result equals the reference schema's (${d:-?} differ)"
if [ "${c:-1}" != 0 ] || [ "${d:-1}" != 0 ] || [ "${cr:-1}" != 0 ]; then
	grep -E '^(LEAK|CRASH)' <<<"$res" | sed 's/^/# /'
	for f in $(ls "$out"/*.sql 2>/dev/null | head -n 3); do
		echo "# ---- $f"
		{ head -n 8 "$f"; tail -n 1 "$f"; } | cut -c1-300 | sed 's/^/#   /'
	done
fi
