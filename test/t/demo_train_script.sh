#!/usr/bin/env bash
# test/t/demo_train_script.sh: the flights demo's training script
# (examples/train_flights.py) runs on the committed sample, and the demo's
# SQL AUC agrees with scikit-learn's.  Runs the demo's SQL steps
# (test/demo/*.sql, as test/demo.sh does) in a database of its own on the
# throwaway cluster of "make test", then the script.  Skipped (and said so)
# when no python3 can import psycopg2, pandas and sklearn ("make test" and
# "make demo" install Debian's python3-psycopg2, python3-pandas,
# python3-sklearn).  The interpreter is chosen as "make demo" chooses it
# (asof_python in test/cluster.sh: $PYTHON, else /usr/bin/python3, else the
# first python3 on PATH that has the modules).
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/cluster.sh
psql=("$ASOF_BINDIR/psql" -X -q -v ON_ERROR_STOP=1)
db=asof_demo_train
if ! py=$(asof_python); then
	echo "ok - train_flights.py # SKIP no python3 can import psycopg2, pandas and sklearn"
	exit 0
fi

out=$ASOF_TMP/demo_train.out
"${psql[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" \
	-c "CREATE DATABASE $db" >"$out" 2>&1 ||
	{ echo "not ok - create database"; sed 's/^/# /' "$out"; exit 1; }
export PGDATABASE=$db PGOPTIONS="-c asof.progress_interval=0"
for f in 00_load 10_protect 20_split 30_feature_views 40_train_lagged 41_train_naive 50_score; do
	if ! "${psql[@]}" -v flights_file=data/flights-sample.csv.gz <"test/demo/$f.sql" >"$out" 2>&1; then
		echo "not ok - demo step $f"
		sed 's/^/# /' "$out"
		exit 1
	fi
done

if "$py" examples/train_flights.py --save >"$out" 2>&1; then
	echo "ok - train_flights.py runs on the sample and saves its AUCs"
else
	echo "not ok - train_flights.py runs on the sample and saves its AUCs"
	sed 's/^/# /' "$out"
fi

# Both fitted models scored on the same flights as the SQL score, every AUC
# strictly between 0 and 1.
check=$("${psql[@]}" -At -c "
SELECT count(*) = 2
       AND bool_and(dev_auc > 0 AND dev_auc < 1 AND prod_auc > 0 AND prod_auc < 1)
       AND bool_and(dev_n = (SELECT dev_n FROM asof_demo.results WHERE scored_by = 'SQL' AND features = 'lagged'))
       AND bool_and(prod_n = (SELECT prod_n FROM asof_demo.results WHERE scored_by = 'SQL' AND features = 'lagged'))
  FROM asof_demo.results WHERE scored_by = 'train_flights.py'")
if [ "$check" = t ]; then
	echo "ok - both models scored on the SQL score's April and May-June flights, AUCs in (0, 1)"
else
	echo "not ok - both models scored on the SQL score's April and May-June flights, AUCs in (0, 1)"
	"${psql[@]}" -c "TABLE asof_demo.results" | sed 's/^/# /'
fi

# Differential: asof_demo.auc (ranks, ties one half) against scikit-learn's
# roc_auc_score on the same scores, for the single feature's development
# number (April, 6-hour average, NULL = January-March mean).
if "$py" - >"$out" 2>&1 <<'PY'
import io, sys
import pandas as pd, psycopg2
from sklearn.metrics import roc_auc_score
conn = psycopg2.connect("")
cur = conn.cursor()
buf = io.BytesIO()
cur.copy_expert("""COPY (SELECT coalesce(origin_lagged__avg_delay_6h,
        (SELECT avg(origin_lagged__avg_delay_6h) FROM asof_demo.train_lagged WHERE dep_time < '2001-04-01')) AS score,
        (delay > 15)::int AS late
    FROM asof_demo.train_lagged
    WHERE dep_time >= '2001-04-01' AND dep_time < '2001-05-01' AND delay IS NOT NULL)
    TO STDOUT WITH (FORMAT csv, HEADER true)""", buf)
buf.seek(0)
d = pd.read_csv(buf)
cur.execute("SELECT dev_auc, dev_n FROM asof_demo.results WHERE scored_by = 'SQL' AND features = 'lagged'")
sql_auc, sql_n = cur.fetchone()
sk = roc_auc_score(d["late"], d["score"])
ties = len(d) - d["score"].nunique()
print(f"sql {sql_auc!r} n {sql_n}, sklearn {sk!r} n {len(d)}, tied scores {ties}")
sys.exit(0 if abs(sk - sql_auc) < 1e-12 and sql_n == len(d) and ties > 0 else 1)
PY
then
	echo "ok - asof_demo.auc equals scikit-learn's roc_auc_score on tied real scores ($(cat "$out"))"
else
	echo "not ok - asof_demo.auc equals scikit-learn's roc_auc_score on tied real scores"
	sed 's/^/# /' "$out"
fi

unset PGDATABASE PGOPTIONS
"${psql[@]}" -d postgres -c "DROP DATABASE $db" >/dev/null
