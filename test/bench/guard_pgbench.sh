#!/usr/bin/env bash
# test/bench/guard_pgbench.sh: what the leakage guard costs (G8).
#
# pgbench select-only (simple protocol: every statement is parsed, planned
# and permission-checked, so the guard's hooks run every time) against
#   A  a server without pg_asof,
#   B  a server with pg_asof preloaded and the extension created, one other
#      table protected, reading the unprotected pgbench_accounts,
#   C  the same server reading a protected copy of pgbench_accounts after
#      its split (every read gets the held-out-row filter).
# Rounds run A, B and C back to back, in an order that rotates, to spread
# the noise of a shared machine; the
# median TPS of each is printed with B and C relative to A, and the median
# of the per-round differences.  Throughput on a shared machine is noisy,
# so a second measure follows: the backend's own CPU time (utime + stime
# from /proc/self/stat) per statement over GUARD_BENCH_STATEMENTS
# statements run through PL/pgSQL EXECUTE (parsed, planned and checked each
# time), which other processes on the machine disturb much less.  With
# valgrind installed, a third measure counts the instructions per statement
# (callgrind), which they cannot change at all.
#
# Standalone: bash test/bench/guard_pgbench.sh (builds and starts its own
# throwaway servers with test/cluster.sh).  test/bench/run.sh (make bench)
# can call it.  Settings: GUARD_BENCH_SECONDS (default 15),
# GUARD_BENCH_ROUNDS (3), GUARD_BENCH_CLIENTS (2), GUARD_BENCH_SCALE (2: both tables of the guard server fit in the default shared_buffers, so B and C do not evict each other),
# GUARD_BENCH_STATEMENTS (50000).
set -uo pipefail
. "$(dirname "$0")/../cluster.sh"
cd "$ASOF_SRC"

seconds=${GUARD_BENCH_SECONDS:-15}
rounds=${GUARD_BENCH_ROUNDS:-3}
clients=${GUARD_BENCH_CLIENTS:-2}
scale=${GUARD_BENCH_SCALE:-2}
statements=${GUARD_BENCH_STATEMENTS:-50000}

asof_init
asof_install_deps || exit 1
asof_build_install || exit 1

asof_cluster_start bench_plain '' || exit 1
sock_plain=$PGHOST
asof_cluster_start bench_guard pg_asof || exit 1
sock_guard=$PGHOST
psql() { "$ASOF_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

for s in "$sock_plain" "$sock_guard"; do
	"$ASOF_BINDIR/pgbench" -h "$s" -i -q -s "$scale" postgres >/dev/null 2>&1 || { echo "pgbench -i failed" >&2; exit 1; }
done
psql -h "$sock_guard" -d postgres >/dev/null <<'SQL' || exit 1
CREATE EXTENSION pg_asof;
CREATE TABLE other_protected (t timestamp, label int);
SELECT asof.protect('other_protected', 't', '{label}');
CREATE TABLE accounts_p AS
SELECT a.*, timestamp '2001-01-01' + a.aid * interval '1 second' AS t FROM pgbench_accounts a;
ALTER TABLE accounts_p ADD PRIMARY KEY (aid);
VACUUM ANALYZE accounts_p;
SELECT asof.protect('accounts_p', 't', '{abalance}');
-- 90% of the rows are training rows.
SELECT asof.split('accounts_p', (SELECT (timestamp '2001-01-01' + (0.9 * max(aid)) * interval '1 second')::text FROM accounts_p));
SQL
for s in "$sock_plain" "$sock_guard"; do
	psql -h "$s" -d postgres >/dev/null <<'SQL' || exit 1
-- Backend CPU microseconds per statement q (one int parameter), n times.
CREATE FUNCTION bench_cpu_us(n int, q text) RETURNS float8 LANGUAGE plpgsql AS $f$
DECLARE
  st text;
  t0 bigint;
  t1 bigint;
  x int;
BEGIN
  st := split_part(pg_read_file('/proc/self/stat'), ') ', 2);
  t0 := split_part(st, ' ', 12)::bigint + split_part(st, ' ', 13)::bigint;
  FOR i IN 1..n LOOP
    EXECUTE q INTO x USING 1 + (i * 7919) % 100000;
  END LOOP;
  st := split_part(pg_read_file('/proc/self/stat'), ') ', 2);
  t1 := split_part(st, ' ', 12)::bigint + split_part(st, ' ', 13)::bigint;
  RETURN (t1 - t0) * 1000000.0 / 100 / n;   -- clock ticks of 1/100 s
END $f$;
SQL
done
script=$ASOF_TMP/select_protected.sql
cat >"$script" <<EOS
\set aid random(1, 100000 * $scale)
SELECT abalance FROM accounts_p WHERE aid = :aid;
EOS

tps() { # tps SOCKET ARGS...: one run, prints its TPS
	"$ASOF_BINDIR/pgbench" -h "$1" -n -c "$clients" -j "$clients" -T "$seconds" "${@:2}" postgres 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
declare -a A B C
run_one() { # run_one A|B|C
	case $1 in
	A) A+=("$(tps "$sock_plain" -S)") ;;
	B) B+=("$(tps "$sock_guard" -S)") ;;
	C) C+=("$(tps "$sock_guard" -f "$script")") ;;
	esac
}
# The order rotates from round to round (ABC, BCA, CAB) so that no
# configuration always runs first.
orders=(ABC BCA CAB)
for ((r = 1; r <= rounds; r++)); do
	o=${orders[(r - 1) % 3]}
	for ((i = 0; i < 3; i++)); do run_one "${o:i:1}"; done
	echo "round $r ($o): A ${A[-1]}  B ${B[-1]}  C ${C[-1]} tps" >&2
done
cpu() { # cpu SOCKET TABLE: CPU microseconds per statement
	psql -h "$1" -d postgres -Atc \
		"SELECT round(bench_cpu_us($statements, 'SELECT abalance FROM $2 WHERE aid = \$1')::numeric, 2)"
}
declare -a cA cB cC
cpu_one() { # cpu_one A|B|C
	case $1 in
	A) cA+=("$(cpu "$sock_plain" pgbench_accounts)") ;;
	B) cB+=("$(cpu "$sock_guard" pgbench_accounts)") ;;
	C) cC+=("$(cpu "$sock_guard" accounts_p)") ;;
	esac
}
for ((r = 1; r <= rounds; r++)); do
	o=${orders[(r - 1) % 3]}
	for ((i = 0; i < 3; i++)); do cpu_one "${o:i:1}"; done
	echo "round $r ($o): A ${cA[-1]}  B ${cB[-1]}  C ${cC[-1]} us of backend CPU per statement" >&2
done

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
pct() { awk -v x="$1" -v y="$2" 'BEGIN {printf "%+.1f", (x - y) * 100 / y}'; }
# The machine may be shared: besides the medians of each, the median of the
# per-round differences (A, B and C of one round ran back to back).
declare -a dB dC
for ((r = 0; r < rounds; r++)); do
	dB+=("$(pct "${B[r]}" "${A[r]}")")
	dC+=("$(pct "${C[r]}" "${B[r]}")")
done
a=$(median "${A[@]}")
b=$(median "${B[@]}")
c=$(median "${C[@]}")
echo "pgbench -S (simple protocol), $clients clients, ${seconds}s x $rounds rounds, scale $scale, median tps:"
printf '  A  without pg_asof                          %10.1f\n' "$a"
printf '  B  pg_asof loaded, unprotected table        %10.1f  (%s%% vs A)\n' "$b" "$(pct "$b" "$a")"
printf '  C  pg_asof loaded, protected table, split   %10.1f  (%s%% vs A, %s%% vs B)\n' "$c" \
	"$(pct "$c" "$a")" "$(pct "$c" "$b")"
printf '  median of per-round differences: B vs A %s%%, C vs B %s%%\n' \
	"$(median "${dB[@]}")" "$(median "${dC[@]}")"
ca=$(median "${cA[@]}")
cb=$(median "${cB[@]}")
cc=$(median "${cC[@]}")
echo "backend CPU per statement (PL/pgSQL EXECUTE, $statements statements x $rounds rounds, median):"
printf '  A  without pg_asof                          %8.2f us\n' "$ca"
printf '  B  pg_asof loaded, unprotected table        %8.2f us  (%s%% vs A)\n' "$cb" "$(pct "$cb" "$ca")"
printf '  C  pg_asof loaded, protected table, split   %8.2f us  (%s%% vs A, %s%% vs B)\n' "$cc" \
	"$(pct "$cc" "$ca")" "$(pct "$cc" "$cb")"


# Instructions per statement (valgrind's callgrind, when installed): a count
# that other processes on the machine cannot change.  The guard server is
# stopped and run in single-user mode on the same data directory, with and
# without the library; the difference of a 3000- and a 500-statement run
# removes start-up costs.
if command -v valgrind >/dev/null 2>&1; then
	asof_as_postgres "$ASOF_BINDIR/pg_ctl" -D "$ASOF_TMP/bench_guard" -m fast -w stop >/dev/null
	cg() { # cg PRELOAD TABLE N: instructions of one single-user run
		local out=$ASOF_TMP/callgrind.out
		rm -f "$out"
		echo "SELECT bench_cpu_us($3, 'SELECT abalance FROM $2 WHERE aid = \$1');" |
			asof_as_postgres valgrind --tool=callgrind --callgrind-out-file="$out" \
				"$ASOF_BINDIR/postgres" --single -D "$ASOF_TMP/bench_guard" \
				-c shared_preload_libraries="$1" postgres >/dev/null 2>&1
		awk '/^(summary|totals):/ {print $2; exit}' "$out"
	}
	per_statement() { # per_statement PRELOAD TABLE
		local i1 i2
		i1=$(cg "$1" "$2" 500)
		i2=$(cg "$1" "$2" 3000)
		echo $(((i2 - i1) / 2500))
	}
	ia=$(per_statement '' pgbench_accounts)
	ib=$(per_statement pg_asof pgbench_accounts)
	ic=$(per_statement pg_asof accounts_p)
	echo "instructions per statement (callgrind, PL/pgSQL EXECUTE, single-user mode on the guard server's data):"
	printf '  A  without pg_asof                          %8d\n' "$ia"
	printf '  B  pg_asof loaded, unprotected table        %8d  (%s%% vs A)\n' "$ib" "$(pct "$ib" "$ia")"
	printf '  C  pg_asof loaded, protected table, split   %8d  (%s%% vs A, %s%% vs B)\n' "$ic" \
		"$(pct "$ic" "$ia")" "$(pct "$ic" "$ib")"
fi
