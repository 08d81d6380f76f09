#!/usr/bin/env bash
# test/bench/ingestion.sh: the cost of asof.track_ingestion on loads
# (docs/online.md, "Knowledge time: asof.track_ingestion"), as ratios to
# the same load into an untracked table of the same shape, measured in the
# same run.
#
# Data: the committed 30,000-flight sample (data/flights-sample.csv.gz);
# "x5" is the sample five times over (150,000 rows) in one transaction.
# Each table has one index, on (origin, dep_time), as the demo's.
#
#   copy          COPY ... FROM of the file, one transaction (its commit,
#                 where the stamps are written, included)
#   insert        INSERT ... SELECT of the same rows from a staging table
#
# Median of INGESTION_BENCH_ROUNDS (default 3) rounds, each on fresh
# tables.  Standalone: bash test/bench/ingestion.sh (on the server PGHOST
# names, in a database of its own, or on a throwaway cluster).
set -uo pipefail
. "$(dirname "$0")/../cluster.sh"
cd "$ASOF_SRC"

rounds=${INGESTION_BENCH_ROUNDS:-3}
asof_bench_db ingestion_bench || exit 1
csv=$(mktemp "${TMPDIR:-/tmp}/ingestion_bench.XXXXXX")
csv5=$csv.x5
trap 'rm -f "$csv" "$csv5"' EXIT
gzip -dc data/flights-sample.csv.gz | tail -n +2 >"$csv"
for _ in 1 2 3 4 5; do cat "$csv"; done >"$csv5"
chmod 644 "$csv" "$csv5"
"${PSQL[@]}" -d "$db" -c "CREATE EXTENSION IF NOT EXISTS pg_asof" >/dev/null || exit 1

# ms of one statement: psql's \timing, the commit included (autocommit)
ms() {
	"${PSQL[@]}" -d "$db" -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

setup() {
	"${PSQL[@]}" -d "$db" >/dev/null <<SQL || exit 1
SET client_min_messages = warning;
DROP TABLE IF EXISTS ib_plain, ib_tracked, ib_stage;
CREATE TABLE ib_plain (dep_time timestamp NOT NULL, origin text NOT NULL, destination text NOT NULL,
                       distance integer NOT NULL, delay integer);
CREATE INDEX ON ib_plain (origin, dep_time);
CREATE TABLE ib_tracked (LIKE ib_plain);
CREATE INDEX ON ib_tracked (origin, dep_time);
SELECT asof.track_ingestion('ib_tracked');
CREATE TABLE ib_stage (LIKE ib_plain);
\copy ib_stage FROM '$1' WITH (FORMAT csv)
SQL
}

cols="dep_time, origin, destination, distance, delay"
printf '%-10s %-8s %12s %12s %8s\n' load rows plain_ms tracked_ms ratio
for what in copy insert; do
	for f in "$csv" "$csv5"; do
		n=$(wc -l <"$f")
		p=()
		t=()
		for _ in $(seq "$rounds"); do
			setup "$f"
			if [ $what = copy ]; then
				p+=("$(ms "\\copy ib_plain FROM '$f' WITH (FORMAT csv)")")
				t+=("$(ms "\\copy ib_tracked ($cols) FROM '$f' WITH (FORMAT csv)")")
			else
				p+=("$(ms "INSERT INTO ib_plain SELECT * FROM ib_stage")")
				t+=("$(ms "INSERT INTO ib_tracked ($cols) SELECT * FROM ib_stage")")
			fi
		done
		pm=$(printf '%s\n' "${p[@]}" | median)
		tm=$(printf '%s\n' "${t[@]}" | median)
		printf '%-10s %-8s %12.1f %12.1f %8.2f\n' $what "$n" "$pm" "$tm" "$(echo "$tm / $pm" | bc -l)"
	done
done
"${PSQL[@]}" -d "$db" -c "SELECT count(*) AS rows, count(DISTINCT asof_ingested_at) AS stamps,
  bool_and(asof_ingested_at < 'infinity') AS all_stamped FROM ib_tracked" || exit 1
"${PSQL[@]}" -d "$db" -c "DROP TABLE ib_plain, ib_tracked, ib_stage" >/dev/null
