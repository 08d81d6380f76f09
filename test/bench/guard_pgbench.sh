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
# Rounds alternate A, B, C to spread the noise of a shared machine; the
# median TPS of each is printed with B and C relative to A.
#
# Standalone: bash test/bench/guard_pgbench.sh (builds and starts its own
# throwaway servers with test/cluster.sh).  test/bench/run.sh (make bench)
# can call it.  Settings: GUARD_BENCH_SECONDS (default 15),
# GUARD_BENCH_ROUNDS (3), GUARD_BENCH_CLIENTS (2), GUARD_BENCH_SCALE (5).
set -uo pipefail
. "$(dirname "$0")/../cluster.sh"
cd "$ASOF_SRC"

seconds=${GUARD_BENCH_SECONDS:-15}
rounds=${GUARD_BENCH_ROUNDS:-3}
clients=${GUARD_BENCH_CLIENTS:-2}
scale=${GUARD_BENCH_SCALE:-5}

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
for ((r = 1; r <= rounds; r++)); do
	A+=("$(tps "$sock_plain" -S)")
	B+=("$(tps "$sock_guard" -S)")
	C+=("$(tps "$sock_guard" -f "$script")")
	echo "round $r: A ${A[-1]}  B ${B[-1]}  C ${C[-1]} tps" >&2
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
a=$(median "${A[@]}")
b=$(median "${B[@]}")
c=$(median "${C[@]}")
echo "pgbench -S, $clients clients, ${seconds}s x $rounds rounds, scale $scale (median tps):"
printf '  A  without pg_asof                          %10.1f\n' "$a"
pct() { awk -v x="$1" -v y="$2" 'BEGIN {printf "%+.1f", (x - y) * 100 / y}'; }
printf '  B  pg_asof loaded, unprotected table        %10.1f  (%s%% vs A)\n' "$b" "$(pct "$b" "$a")"
printf '  C  pg_asof loaded, protected table, split   %10.1f  (%s%% vs A, %s%% vs B)\n' "$c" \
	"$(pct "$c" "$a")" "$(pct "$c" "$b")"
