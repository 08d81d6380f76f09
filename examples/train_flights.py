#!/usr/bin/env python3
"""examples/train_flights.py: a data scientist's training script on pg_asof.

Reads the two training sets that `make demo` builds from the flights
(test/demo/40_train_lagged.sql, 41_train_naive.sql) with psycopg2, fits one
scikit-learn logistic regression per feature set on January to March 2001,
and reports for each:

  development AUC  on April, with the feature set's own features (what the
                   notebook shows);
  production AUC   on May and June, with the features exactly as production
                   serves them: the lagged, scheduled ones (available time =
                   landing time, hourly job, 10-minute delay), for BOTH
                   models, because production cannot serve anything else.
                   May and June are held out by the leakage guard: they are
                   read after an audited asof.unseal(), in one transaction
                   (a training set on a protected spine carries its
                   protection: it holds the held-out flights, sealed).

Label: arrival delay over 15 minutes.  Rows whose label the guard set to
NULL (it became known only after the split) are left out.

Connection: libpq's environment (PGHOST, PGPORT, PGUSER, PGDATABASE) or
--dsn.  With --save, the AUCs are also written to asof_demo.results so that
test/demo.sh can print them beside the SQL-scored ones.

Needs psycopg2, pandas and scikit-learn: Debian's python3-psycopg2,
python3-pandas and python3-sklearn, which only Debian's /usr/bin/python3
sees.  Run it with that interpreter (/usr/bin/python3
examples/train_flights.py) when another python3 (pyenv, a virtual
environment) comes first on PATH; run with one that lacks the modules, it
names an interpreter that has them.
"""
import argparse
import io
import os
import shlex
import subprocess
import sys
import time

NEEDED = ("psycopg2", "pandas", "sklearn")
DEBIAN_PYTHON = "/usr/bin/python3"


def python_with_modules():
    """The first interpreter that can import NEEDED, or None.

    Debian's /usr/bin/python3 first (Debian's python3-* packages install
    there), then every python3 on PATH, in order."""
    candidates = [DEBIAN_PYTHON] + [
        os.path.join(d, "python3")
        for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    tried = set()
    for c in candidates:
        c = os.path.abspath(c)
        if c in tried or not os.access(c, os.X_OK) or os.path.isdir(c):
            continue
        tried.add(c)
        try:
            r = subprocess.run([c, "-c", "import " + ", ".join(NEEDED)],
                               stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=120)
        except (OSError, subprocess.SubprocessError):
            continue
        if r.returncode == 0:
            return c
    return None


def missing_modules(err):
    """The error for an interpreter without NEEDED: which one has them."""
    msg = (f"train_flights.py: {sys.executable} cannot import "
           f"{getattr(err, 'name', None) or 'its modules'} ({err}).\n")
    found = python_with_modules()
    if found:
        return msg + (
            f"{found} can import {', '.join(NEEDED)}; run the script with it:\n"
            f"    {shlex.join([found] + sys.argv)}")
    return msg + (
        f"Neither {DEBIAN_PYTHON} nor any python3 on PATH can import "
        f"{', '.join(NEEDED)}.  On Debian: apt-get install python3-psycopg2 "
        f"python3-pandas python3-sklearn, then run {DEBIAN_PYTHON} "
        f"{shlex.join(sys.argv)}; with another python3: python3 -m pip "
        f"install psycopg2-binary pandas scikit-learn.")


try:
    import pandas as pd
    import psycopg2
    from psycopg2 import sql
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
except ImportError as e:
    sys.exit(missing_modules(e))

SCHEMA = "asof_demo"
LAGGED = "train_lagged"     # features as production serves them
NAIVE = "train_naive"       # features by event time only (the notebook's)
# The naive feature views and the production views that serve the same
# features: the naive model meets these in production.
SERVED_AS = {"origin_naive": "origin_lagged", "route_naive": "route_lagged"}

FIT = ("2001-01-01", "2001-04-01")     # January to March
DEV = ("2001-04-01", "2001-05-01")     # April
PROD = ("2001-05-01", "2001-07-01")    # May and June: held out by the split
LABEL = "delay > 15"


def log(msg):
    print(msg, flush=True)


def feature_columns(cur, table):
    """The training set's feature columns: <view>__<feature>."""
    cur.execute(
        "SELECT attname FROM pg_attribute"
        " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped"
        "   AND attname LIKE %s ORDER BY attnum",
        (f"{SCHEMA}.{table}", "%\\_\\_%"))
    return [r[0] for r in cur.fetchall()]


def read(cur, table, columns, period):
    """Rows of one period with a known label, through COPY (fast)."""
    query = sql.SQL(
        "COPY (SELECT ({label})::int AS late, {cols} FROM {tbl}"
        " WHERE dep_time >= {lo} AND dep_time < {hi} AND delay IS NOT NULL)"
        " TO STDOUT WITH (FORMAT csv, HEADER true)").format(
            label=sql.SQL(LABEL),
            cols=sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            tbl=sql.Identifier(SCHEMA, table),
            lo=sql.Literal(period[0]), hi=sql.Literal(period[1]))
    buf = io.BytesIO()
    cur.copy_expert(query.as_string(cur), buf)
    buf.seek(0)
    return pd.read_csv(buf)


def served_name(column):
    view, feature = column.split("__", 1)
    return SERVED_AS.get(view, view) + "__" + feature


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dsn", default="", help="libpq connection string")
    ap.add_argument("--save", action="store_true",
                    help="write the AUCs to asof_demo.results")
    args = ap.parse_args()

    t0 = time.monotonic()
    conn = psycopg2.connect(args.dsn)
    cur = conn.cursor()
    cols = {NAIVE: feature_columns(cur, NAIVE), LAGGED: feature_columns(cur, LAGGED)}
    for name, c in cols.items():
        if not c:
            sys.exit(f"train_flights.py: {SCHEMA}.{name} has no feature columns")
        missing = [served_name(x) for x in c if served_name(x) not in cols[LAGGED]]
        if missing:
            sys.exit(f"train_flights.py: production serves no {', '.join(missing)}")

    # Fit and development: January to April are training rows, readable
    # after the split without unsealing anything.
    models, dev = {}, {}
    for name in (NAIVE, LAGGED):
        fit = read(cur, name, cols[name], FIT)
        apr = read(cur, name, cols[name], DEV)
        log(f"  {name}: read {len(fit):,} rows (Jan-Mar) and {len(apr):,} (April), "
            f"{len(cols[name])} features  [{time.monotonic() - t0:.1f} s]")
        model = make_pipeline(SimpleImputer(strategy="mean", add_indicator=True),
                              StandardScaler(),
                              LogisticRegression(max_iter=1000))
        model.fit(fit[cols[name]], fit["late"])
        models[name] = model
        dev[name] = (roc_auc_score(apr["late"], model.predict_proba(apr[cols[name]])[:, 1]),
                     len(apr))
        log(f"  {name}: fitted on Jan-Mar, development AUC on April {dev[name][0]:.4f}"
            f"  [{time.monotonic() - t0:.1f} s]")

    # Production: May and June with the served (lagged) features.  Held out
    # by the guard: open the test set deliberately, for this transaction
    # only; the opening is audited in asof.holdout_log.
    conn.commit()      # a fresh transaction holds nothing but the unsealed read
    served_table = LAGGED
    cur.execute("SELECT to_regprocedure('asof.unseal(regclass,text)') IS NOT NULL")
    if cur.fetchone()[0]:
        cur.execute("SELECT asof.unseal(%s, %s)",
                    (f"{SCHEMA}.{served_table}",
                     "examples/train_flights.py: production AUC of the fitted models"))
        for n in conn.notices:
            log("\n".join("  " + line for line in n.strip().splitlines()))
        del conn.notices[:]
    else:
        log("  (no leakage guard in this build: nothing to unseal)")
    served = read(cur, served_table, cols[LAGGED], PROD)
    conn.rollback()    # ends the unsealed transaction; the audit record stays
    log(f"  {served_table}: read {len(served):,} rows (May-June, unsealed)"
        f"  [{time.monotonic() - t0:.1f} s]")
    if served.empty or served["late"].nunique() < 2:
        sys.exit(f"train_flights.py: {SCHEMA}.{served_table} has no May-June flights of both"
                 " classes to score")

    rows = []
    for name in (NAIVE, LAGGED):
        x = served[[served_name(c) for c in cols[name]]]
        x.columns = cols[name]
        prod = roc_auc_score(served["late"], models[name].predict_proba(x)[:, 1])
        rows.append((name, dev[name][0], dev[name][1], prod, len(served)))

    log("")
    log(f"  {'logistic regression on':<24} {'dev AUC (Apr)':>14} {'prod AUC (May-Jun)':>19} {'gap':>8}")
    for name, d, _, p, _ in rows:
        log(f"  {name:<24} {d:>14.4f} {p:>19.4f} {d - p:>+8.4f}")

    if args.save:
        label = f"logistic regression, {len(cols[LAGGED])} features"
        for name, d, dn, p, pn in rows:
            cur.execute(
                "INSERT INTO asof_demo.results VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (feature_set, features) DO UPDATE SET"
                " dev_auc = excluded.dev_auc, dev_n = excluded.dev_n,"
                " prod_auc = excluded.prod_auc, prod_n = excluded.prod_n",
                (label, "naive" if name == NAIVE else "lagged",
                 "train_flights.py", float(d), int(dn), float(p), int(pn)))
        conn.commit()
    conn.close()


if __name__ == "__main__":
    main()
