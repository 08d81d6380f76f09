#!/usr/bin/env bash
# test/t/guard_version.sh: what newer PostgreSQL majors add around the
# guard, checked on the major under test: ALTER COLUMN ... SET EXPRESSION
# (17+) is refused on a protected table, virtual generated columns (18+)
# can neither be added to a protected table nor carry a label out of one
# (asof.protect refuses the table), and each is accepted on an unprotected
# table.  On older majors the statements are syntax errors and the checks
# are skipped.  Run by test/run.sh against its cluster.  Prints TAP-style
# ok / not ok.
set -uo pipefail
export PGOPTIONS='-c client_min_messages=warning'
psql=("$ASOF_BINDIR/psql" -X -q -d asof_guard_version)
q() { "${psql[@]}" -Atc "$1" 2>&1; }
check() { # check DESCRIPTION ACTUAL EXPECTED-SUBSTRING
	if [[ "$2" == *"$3"* ]]; then echo "ok - $1"; else
		echo "not ok - $1"; echo "#   expected to contain: $3"; echo "$2" | head -n 10 | sed 's/^/#   got: /'; fi
}
is() { # is DESCRIPTION ACTUAL EXPECTED
	if [ "$2" == "$3" ]; then echo "ok - $1"; else
		echo "not ok - $1"; echo "#   expected: $3"; echo "$2" | head -n 10 | sed 's/^/#   got: /'; fi
}
skip() { echo "ok - $1 # SKIP $2"; }

"$ASOF_BINDIR/psql" -X -q -d postgres -c 'DROP DATABASE IF EXISTS asof_guard_version' \
	-c 'CREATE DATABASE asof_guard_version' || { echo "not ok - create database"; exit 1; }
q 'CREATE EXTENSION pg_asof' >/dev/null
v=$(q 'SHOW server_version_num')

q "CREATE TABLE gs (id int, ts timestamp, delay int, s int GENERATED ALWAYS AS (id * 2) STORED);
   INSERT INTO gs (id, ts, delay) VALUES (1, '2001-01-01', 5), (2, '2001-06-01', 7);
   CREATE TABLE plain (id int, ts timestamp, delay int, s int GENERATED ALWAYS AS (id * 2) STORED);
   SELECT asof.protect('gs', 'ts', '{delay}');" >/dev/null

# Every version: partition pruning that leaves one partition removes the
# Append naming the parent; from 16 on the partition's range table entry
# carries no column set of its own, so the parent's must still count.
q "CREATE TABLE pf (id int, ts timestamp, delay int) PARTITION BY RANGE (ts);
   CREATE TABLE pf_a PARTITION OF pf FOR VALUES FROM ('2001-01-01') TO ('2001-03-01');
   CREATE TABLE pf_b PARTITION OF pf FOR VALUES FROM ('2001-03-01') TO (MAXVALUE);
   INSERT INTO pf VALUES (1, '2001-01-10', 5), (2, '2001-04-10', 7);
   SELECT asof.protect('pf', 'ts', '{delay}');" >/dev/null
check "a label read through the parent, pruned to one partition, is refused" \
	"$(q "SELECT sum(delay) FROM pf WHERE ts < '2001-02-01'")" \
	'ERROR:  label column "delay" of table "pf" cannot be read before a train/test split is declared'
check "the same through a generic plan pruned at run time" \
	"$(q "SET plan_cache_mode = force_generic_plan; PREPARE p(timestamp) AS SELECT sum(delay) FROM pf WHERE ts < \$1; EXECUTE p('2001-02-01')")" \
	'cannot be read before a train/test split is declared'
is "a read of other columns pruned to one partition works" \
	"$(q "SELECT count(*) FROM pf WHERE ts < '2001-02-01'")" "1"

if [ "$v" -ge 170000 ]; then
	check "17+: SET EXPRESSION is refused on a protected table" \
		"$(q 'ALTER TABLE gs ALTER COLUMN s SET EXPRESSION AS (delay)')" \
		"ERROR:  cannot change a generated column's expression on protected table \"gs\""
	is "17+: and the expression is unchanged" "$(q 'SELECT s FROM gs ORDER BY id')" "$(printf '2\n4')"
	check "17+: SET EXPRESSION works on an unprotected table" \
		"$(q 'ALTER TABLE plain ALTER COLUMN s SET EXPRESSION AS (id * 3)'; q 'SELECT count(*) FROM plain')" "0"
else
	skip "SET EXPRESSION is refused on a protected table" "PostgreSQL $v has no SET EXPRESSION"
fi

if [ "$v" -ge 180000 ]; then
	check "18+: a virtual generated column cannot be added to a protected table" \
		"$(q 'ALTER TABLE gs ADD COLUMN v int GENERATED ALWAYS AS (delay) VIRTUAL')" \
		'ERROR:  cannot add a generated column to protected table "gs"'
	q "CREATE TABLE gv (id int, ts timestamp, delay int, v int GENERATED ALWAYS AS (delay * 1) VIRTUAL);
	   INSERT INTO gv (id, ts, delay) VALUES (1, '2001-01-01', 5), (2, '2001-06-01', 7);" >/dev/null
	check "18+: a table whose virtual column reads a label cannot be protected" \
		"$(q "SELECT asof.protect('gv', 'ts', '{delay}')")" \
		'ERROR:  table "public.gv" cannot be protected while its generated column "v" reads a label or future column'
	check "18+: ... until the virtual column is registered too, then it is refused like the label" \
		"$(q "SELECT asof.protect('gv', 'ts', '{delay,v}')"; q 'SELECT sum(v) FROM gv')" \
		'ERROR:  label column "v" of table "gv" cannot be read before a train/test split is declared'
	is "18+: after the split the virtual column shows training rows only" \
		"$(q "SELECT asof.split('gv', '2001-03-01')" >/dev/null; q 'SELECT sum(v) FROM gv')" "5"
	check "18+: a virtual generated column can be added to an unprotected table" \
		"$(q 'ALTER TABLE plain ADD COLUMN v int GENERATED ALWAYS AS (delay) VIRTUAL'; q "SELECT attgenerated FROM pg_attribute WHERE attrelid = 'plain'::regclass AND attname = 'v'")" "v"
else
	skip "virtual generated columns and the guard" "PostgreSQL $v has no virtual generated columns"
fi

"$ASOF_BINDIR/psql" -X -q -d postgres -c 'DROP DATABASE asof_guard_version'
