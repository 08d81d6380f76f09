#!/usr/bin/env bash
# test/run.sh: "make test".
#
# On a Debian 12 machine with nothing but the basics: installs the Debian
# packages it needs, builds with -Wall -Wextra -Werror, installs into a
# private copy of PostgreSQL, starts a throwaway cluster (private socket,
# shared_preload_libraries = pg_asof and pg_cron, run as the postgres OS
# user), runs
# every regression test (test/sql), isolation test (test/specs) and shell
# test (test/t/*.sh), stops the cluster and removes everything, even on
# failure or interrupt.  Exits non-zero on any failure and ends with the
# line "N passed, N failed".
#
# bash test/run.sh MAJOR (make test PG=MAJOR): the same suite on another
# PostgreSQL major, in a Debian root that carries it (test/chroot.sh).
set -uo pipefail
if [ -n "${1:-}" ] && [ "$1" != "${ASOF_PGVER:-15}" ]; then
	exec bash "$(dirname "$0")/chroot.sh" "$1" bash test/run.sh
fi
. "$(dirname "$0")/cluster.sh"
cd "$ASOF_SRC"
echo "== PostgreSQL $ASOF_PGVER"

asof_init
# python3-*: test/t/demo_train_script.sh runs the demo's training script;
# postgresql-15-cron: the scheduling test (test/t/online_cron.sh), the only
# one that needs pg_cron.
asof_install_deps perl python3-psycopg2 python3-pandas python3-sklearn "postgresql-$ASOF_PGVER-cron" || exit 1
asof_build_install || { echo "0 passed, 1 failed"; exit 1; }
asof_cluster_start main pg_asof,pg_cron || { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
skipped=0
diffs=()

# count_pg_regress LOGFILE STATUS: add its passed and failed tests (15:
# "test x ... ok", "... FAILED"; 16 on, TAP: "ok 1 - x", "not ok 2 - x");
# a failed run that names no failed test (pg_regress itself broke) counts as
# one failure.
count_pg_regress() {
	local ok bad
	ok=$(grep -cE '\.\.\. ok( |$)|^ok [0-9]+ ' "$1")
	bad=$(grep -cE '\.\.\. (FAILED|failed)|^not ok [0-9]+ ' "$1")
	[ "$2" -ne 0 ] && [ "$bad" -eq 0 ] && bad=1
	passed=$((passed + ok))
	failed=$((failed + bad))
}

mk=(make -s PG_CONFIG="$ASOF_PG_CONFIG")

echo "== regression tests (test/sql)"
rm -f regression.diffs
"${mk[@]}" installcheck ISOLATION= 2>&1 | tee "$ASOF_TMP/regress.out"
count_pg_regress "$ASOF_TMP/regress.out" "${PIPESTATUS[0]}"
[ -s regression.diffs ] && cp regression.diffs "$ASOF_TMP/regress.diffs" && diffs+=("$ASOF_TMP/regress.diffs")

if ls test/specs/*.spec >/dev/null 2>&1; then
	echo "== isolation tests (test/specs)"
	rm -f regression.diffs
	"${mk[@]}" installcheck REGRESS= 2>&1 | tee "$ASOF_TMP/isolation.out"
	count_pg_regress "$ASOF_TMP/isolation.out" "${PIPESTATUS[0]}"
	[ -s regression.diffs ] && cp regression.diffs "$ASOF_TMP/isolation.diffs" && diffs+=("$ASOF_TMP/isolation.diffs")
fi

echo "== shell tests (test/t)"
for t in test/t/*.sh; do
	[ -e "$t" ] || continue
	bash "$t" >"$ASOF_TMP/t.out" 2>&1
	rc=$?
	sed "s|^|  $(basename "$t"): |" "$ASOF_TMP/t.out"
	skip=$(grep -c '^ok .*# SKIP' "$ASOF_TMP/t.out")
	ok=$(($(grep -c '^ok ' "$ASOF_TMP/t.out") - skip))
	skipped=$((skipped + skip))
	bad=$(grep -c '^not ok ' "$ASOF_TMP/t.out")
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; echo "  $(basename "$t"): exited with $rc"; fi
	passed=$((passed + ok))
	failed=$((failed + bad))
done

for d in "${diffs[@]}"; do
	echo "== $d"
	cat "$d"
done
if [ "$failed" -gt 0 ]; then
	echo "== server log (last 40 lines)"
	tail -n 40 "$ASOF_TMP/main.log"
fi

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
