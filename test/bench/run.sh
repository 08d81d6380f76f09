#!/usr/bin/env bash
# test/bench/run.sh: "make bench".  Runs every benchmark script in
# test/bench/ (each *.sh but this one, in name order; each builds or finds
# its own server, see its header) and fails when any of them fails.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rc=0
for s in "$here"/*.sh; do
	[ "$(basename "$s")" = run.sh ] && continue
	echo "== $(basename "$s")"
	bash "$s" || { echo "== $(basename "$s") failed"; rc=1; }
done
exit $rc
