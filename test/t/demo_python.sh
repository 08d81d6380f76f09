#!/usr/bin/env bash
# test/t/demo_python.sh: the demo's training script and its runners find a
# python3 that has psycopg2, pandas and sklearn when another python3 (pyenv,
# a virtual environment) comes first on PATH.  The python3 without them is
# a virtual environment made here without the system's site packages (so it
# does not see Debian's python3-* modules).  Needs no server.
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/cluster.sh
unset PYTHON

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! /usr/bin/python3 -m venv --without-pip "$tmp/venv" >"$tmp/venv.log" 2>&1; then
	echo "ok - python3 selection # SKIP /usr/bin/python3 -m venv failed: $(head -n 1 "$tmp/venv.log")"
	exit 0
fi
bare=$tmp/venv/bin/python3
if "$bare" -c 'import psycopg2' 2>/dev/null; then
	echo "ok - python3 selection # SKIP the virtual environment sees psycopg2"
	exit 0
fi
# What the script and the runners must name: the first python3 with the
# modules, Debian's first, as asof_python finds it with the bare one first
# on PATH; empty when there is none.
want=$(PATH="$tmp/venv/bin:$PATH" asof_python)

# 1. The script run by the bare python3 stops with an error naming the
# interpreter that has the modules and the command to run, no traceback.
PATH="$tmp/venv/bin:$PATH" "$bare" examples/train_flights.py --save >"$tmp/out" 2>&1
rc=$?
if [ -n "$want" ]; then
	expect="$want can import psycopg2, pandas, sklearn; run the script with it:"
	cmd="    $want examples/train_flights.py --save"
	if [ "$rc" -ne 0 ] && grep -qF "$bare cannot import" "$tmp/out" &&
		grep -qxF "$expect" "$tmp/out" && grep -qxF "$cmd" "$tmp/out" &&
		! grep -q Traceback "$tmp/out"; then
		echo "ok - train_flights.py without the modules names $want and the command to run"
	else
		echo "not ok - train_flights.py without the modules names $want and the command to run (exit $rc)"
		sed 's/^/# /' "$tmp/out"
	fi
else
	if [ "$rc" -ne 0 ] && grep -qF "Neither /usr/bin/python3 nor any python3 on PATH can import" "$tmp/out" &&
		! grep -q Traceback "$tmp/out"; then
		echo "ok - train_flights.py without the modules says that no python3 has them and how to install them"
	else
		echo "not ok - train_flights.py without the modules says that no python3 has them (exit $rc)"
		sed 's/^/# /' "$tmp/out"
	fi
fi

# 2. The runners' choice (make demo, test/t/demo_train_script.sh) with the
# bare python3 first on PATH is not the bare one.
if [ "$want" != "$bare" ]; then
	echo "ok - asof_python passes over a python3 without the modules first on PATH (chose: ${want:-none})"
else
	echo "not ok - asof_python chose $bare, which cannot import the modules"
fi

# 3. Candidates are tried in order: the bare one, then one that has them.
if [ -n "$want" ]; then
	mkdir "$tmp/good" && ln -s "$want" "$tmp/good/python3"
	got=$(asof_python "$bare" "$tmp/good/python3")
	if [ "$got" = "$tmp/good/python3" ]; then
		echo "ok - asof_python takes the first candidate that has the modules"
	else
		echo "not ok - asof_python takes the first candidate that has the modules (got: ${got:-none})"
	fi
else
	echo "ok - asof_python takes the first candidate that has the modules # SKIP no python3 has them"
fi

# 4. $PYTHON is the user's choice: tried alone, never replaced.
if got=$(PYTHON=$bare asof_python); then
	echo "not ok - PYTHON=<a python3 without the modules> is refused, not replaced (got: $got)"
else
	echo "ok - PYTHON=<a python3 without the modules> is refused, not replaced"
fi
