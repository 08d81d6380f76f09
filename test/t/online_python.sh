#!/usr/bin/env bash
# test/t/online_python.sh: a model service in Python (psycopg2, pandas)
# gets from asof.online_features a dict with the training set's values, and
# from asof.online_features_batch the training set's column names and
# dtypes (docs/online.md, "From a model service").  On the committed flight
# sample, in a database of its own.  Skipped when python3-psycopg2 or
# python3-pandas is not installed.
set -uo pipefail
cd "$(dirname "$0")/../.."
py=${PYTHON:-/usr/bin/python3}
psql=("$ASOF_BINDIR/psql" -X -q -v ON_ERROR_STOP=1)
db=asof_online_python
if ! "$py" -c 'import psycopg2, pandas' 2>/dev/null; then
	echo "ok - online serving from Python # SKIP python3 with psycopg2 and pandas not installed"
	exit 0
fi
out=$ASOF_TMP/online_python.out
"${psql[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >"$out" 2>&1 ||
	{ echo "not ok - create database"; sed 's/^/# /' "$out"; exit 1; }
"${psql[@]}" -d $db >"$out" 2>&1 <<'SQL' || { echo "not ok - setup"; sed 's/^/# /' "$out"; exit 1; }
SET asof.progress_interval = 0;
CREATE EXTENSION pg_asof;
CREATE TABLE flights (dep_time timestamp, origin text, destination text, distance integer, delay integer);
\copy flights FROM PROGRAM 'gzip -dc data/flights-sample.csv.gz' WITH (FORMAT csv, HEADER true)
SELECT asof.create_feature_view('origin_delays', 'flights', '{origin}', 'dep_time',
         '{avg(delay) over 6 hours, count(*) over 1 day, max(delay) over 1 day, last(destination)}',
         available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
         cadence => '1 hour', delay => '10 minutes', ttl => '1 day');
SET asof.clock = '2001-04-16 00:00+00';
SELECT asof.materialize('origin_delays', '2001-04-15 09:00'::timestamp);
CREATE TABLE spine AS SELECT DISTINCT origin, timestamp '2001-04-15 09:15' AS t FROM flights;
SELECT asof.build_training_set('train', 'spine', 't', '{origin_delays}');
SQL
PGDATABASE=$db "$py" - <<'PY'
import warnings
import psycopg2
import pandas as pd
warnings.simplefilter("ignore")          # pandas' note on DBAPI2 connections
conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
at = "2001-04-15 09:15"
train = pd.read_sql("SELECT * FROM train ORDER BY origin", conn)
origins = list(train["origin"])
ok = True
def check(name, cond, detail=""):
    global ok
    print(("ok - " if cond else "not ok - ") + name)
    if not cond:
        ok = False
        print("# " + detail)
# one entity: a dict, the training set's values
cur.execute("SELECT asof.online_features('origin_delays', %s, %s::timestamp)", (["SFO"], at))
served = cur.fetchone()[0]
row = train[train.origin == "SFO"].iloc[0]
expected = {c.split("__", 1)[1]: (None if pd.isna(row[c]) else row[c]) for c in train.columns if "__" in c}
check("online_features returns a dict equal to the training set's row",
      isinstance(served, dict) and served == expected, f"{served} != {expected}")
# many entities: the training set's columns and dtypes
batch = pd.read_sql("SELECT * FROM asof.online_features_batch('origin_delays', %s, %s::timestamp, "
                    "NULL::asof_online.origin_delays__served)", conn, params=(origins, at))
feats = [c for c in train.columns if "__" in c]
check("the batch has the training set's feature columns, in order",
      [c for c in batch.columns if "__" in c] == feats, f"{list(batch.columns)}")
check("with the same dtypes", all(batch[c].dtype == train[c].dtype for c in feats),
      f"{batch.dtypes.to_dict()} vs {train.dtypes.to_dict()}")
check("and the same values, entity by entity",
      batch[["origin"] + feats].equals(train[["origin"] + feats]), "values differ")
check("the tick served is visible", str(batch["tick"].iloc[0]) == "2001-04-15 09:00:00", str(batch["tick"].iloc[0]))
PY
"${psql[@]}" -d postgres -c "DROP DATABASE $db" >/dev/null 2>&1
