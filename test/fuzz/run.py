#!/usr/bin/env python3
"""test/fuzz/run.py: the canary fuzzer's driver.

Owns the run: builds the fixture (--setup), opens one connection per role
and side, generates case i from the seed alone (so any case can be re-run
with --only i), runs it on the protected side and on the reference side as
the same role, judges it (oracle.verdict), saves every leaking case to
--out, and prints

    queries run: N, crashes: C, canaries leaked: L, differs: D, ...

Exit status 1 when anything crashed or leaked (canary or differs), 0
otherwise.  --control runs the same cases with the guard switched off on the
protected side (superuser): that run must report leaks, or the oracle is
blind.  --replay FILE runs the statements of FILE (one per line, as
sqlsmith --dry-run prints them) as the plain role on the protected side,
checking for canaries and crashes only.

Environment: PGHOST, PGPORT as for psql; run as the cluster's superuser.
"""
import argparse
import collections
import os
import random
import sys
import time

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture  # noqa: E402
import grammar  # noqa: E402
import oracle  # noqa: E402
import sessions  # noqa: E402

ROLES = [fixture.READER, fixture.OWNER, fixture.SUPER]
ROLE_WEIGHTS = [45, 40, 15]
SIDES = {"P": fixture.PROTECTED, "S": fixture.SHADOW}
FAILING = ("canary", "differs")


def connect(dbname, role, schema=None, autocommit=True, guard_off=False, extra=""):
    opts = "-c statement_timeout=5000 -c lock_timeout=2000 -c client_min_messages=notice"
    opts += " " + extra if extra else ""
    if guard_off:
        opts += " -c asof.guard=off"
    if schema:
        opts += " -c search_path=%s,%s" % (schema, fixture.FUNCS)
    conn = psycopg2.connect(dbname=dbname, user=role, options=opts)
    conn.autocommit = autocommit
    return conn


class Pool:
    """One connection per (role, side), reopened after a crash."""

    def __init__(self, dbname, control=False):
        self.dbname = dbname
        self.control = control
        self.conns = {}

    def get(self, role, side):
        c = self.conns.get((role, side))
        if c is None or c.closed:
            c = connect(self.dbname, role, SIDES[side], autocommit=False,
                        guard_off=self.control and side == "P")
            oracle.text_types(c)
            self.conns[(role, side)] = c
        return c

    def reset(self, wait=60):
        for c in self.conns.values():
            try:
                c.close()
            except Exception:  # noqa: BLE001
                pass
        self.conns = {}
        deadline = time.time() + wait
        while True:
            try:
                connect(self.dbname, fixture.SUPER).close()
                return
            except psycopg2.OperationalError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)


def save(out, name, role, mode, sql, verdict, p, s, history=None, sets=()):
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, name + ".sql")
    with open(path, "w") as f:
        f.write("-- pg_asof canary fuzzer: %s\n-- role: %s; mode: %s\n" % (verdict, role, mode))
        f.write("-- run with: SET ROLE %s; SET search_path = fz, fzf;\n" % role)
        if history:
            f.write("-- in a fresh session, after: %s (test/fuzz/sessions.py)\n" % history)
        if p is not None and s is not None and p.ok and s.ok:
            only_p = collections.Counter(map(tuple, p.rows)) - collections.Counter(map(tuple, s.rows))
            only_s = collections.Counter(map(tuple, s.rows)) - collections.Counter(map(tuple, p.rows))
            for label, rows in (("only on the protected side", only_p), ("only on the reference side", only_s)):
                f.write("-- %s: %d rows\n" % (label, sum(rows.values())))
                for row in list(rows)[:5]:
                    f.write("--   %s\n" % "|".join("\\N" if v is None else str(v) for v in row))
        for label, r in (("protected side (fz)", p), ("reference side (fz_shadow)", s)):
            if r is None:
                continue
            f.write("-- %s:\n" % label)
            for line in r.summary().splitlines():
                f.write("--   %s\n" % line)
            for n in r.notices[:5]:
                f.write("--   %s\n" % n)
        if sets:
            f.write("BEGIN;\n")
        for st in list(sets) + oracle.wrapped(mode, sql.replace("@fv@", "fzfv")):
            f.write(st + ";\n")
    return path


def fuzz(args, pool, counts, log):
    for i in range(args.first, args.first + args.queries):
        if args.only is not None and i != args.only:
            continue
        rng = random.Random("%d:%d" % (args.seed, i))
        role = rng.choices(ROLES, ROLE_WEIGHTS)[0]
        if args.control:
            role = fixture.SUPER
        mode, sql, _ = grammar.case(rng, args.rels, args.entities)
        sets = grammar.settings(rng)
        kind = "warm"
        if not args.control and rng.random() < args.sessions:
            kind = rng.choice(sessions.KINDS)
        history = None
        try:
            if kind == "warm":
                p = oracle.execute(pool.get(role, "P"), mode, sql, settings=sets)
            else:
                def fresh(r, opts):
                    return connect(args.dbname, r, fixture.PROTECTED, autocommit=False, extra=opts)
                conn, role, history = sessions.prepare(kind, rng, fresh, role)
                oracle.text_types(conn)
                p = oracle.execute(conn, mode, sql, settings=sets)
                conn.close()
                counts["sessions"] += 1
            s = None if mode in ("stats", "features_at") else \
                oracle.execute(pool.get(role, "S"), mode, sql, "fzfv_s", settings=sets)
        except psycopg2.Error as e:
            # the harness's own statements (session histories): not a crash
            counts["harness errors"] += 1
            log("harness error in case %d (%s): %s" % (i, kind, str(e).strip().splitlines()[0]))
            pool.reset()
            continue
        except oracle.Crash as e:
            counts["crashes"] += 1
            path = save(args.out, "crash-%d-%d" % (args.seed, i), role, mode, sql, "crash", None, None,
                        history, sets)
            log("CRASH case %d (%s): %s" % (i, path, str(e).strip()))
            pool.reset()
            continue
        counts["queries run"] += 1
        if not p.ok:
            counts["errors"] += 1
            if p.code == "57014":
                counts["timeouts"] += 1
        v = oracle.verdict(p, s, sql)
        counts[v] = counts.get(v, 0) + 1
        if v in FAILING:
            by = counts["leaks by history"]
            by[kind] = by.get(kind, 0) + 1
        if v in FAILING or (v == "divergent" and args.save_divergent):
            path = save(args.out, "%s-%d-%d" % (v, args.seed, i), role, mode, sql, v, p, s, history, sets)
            if v in FAILING:
                what = oracle.has_canary(p, sql) if v == "canary" else "rows differ"
                log("LEAK %s case %d as %s%s (%s): %s" % (
                    v, i, role, " after " + history if history else "", what, path))
        if args.verbose:
            log("case %d %s %s %s %s: %s" % (i, role, kind, mode, v, sql))


def replay(args, pool, counts, log):
    with open(args.replay) as f:
        stmts = [line.strip().rstrip(";") for line in f if line.strip()]
    for i, sql in enumerate(stmts):
        try:
            p = oracle.execute(pool.get(fixture.READER, "P"), "query", sql)
        except oracle.Crash as e:
            counts["crashes"] += 1
            save(args.out, "crash-replay-%d" % i, fixture.READER, "query", sql, "crash", None, None)
            log("CRASH replayed statement %d: %s" % (i, str(e).strip()))
            pool.reset()
            continue
        counts["queries run"] += 1
        if not p.ok:
            counts["errors"] += 1
        if oracle.has_canary(p):
            counts["canary"] += 1
            path = save(args.out, "canary-replay-%d" % i, fixture.READER, "query", sql, "canary", p, None)
            log("LEAK canary in replayed statement %d: %s" % (i, path))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dbname", default="regress_fuzz")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--only", type=int)
    ap.add_argument("--setup", action="store_true", help="create the fixture first")
    ap.add_argument("--sample", default=fixture.default_sample())
    ap.add_argument("--out", default="fuzz-leaks")
    ap.add_argument("--replay", help="statements to run as the plain role (sqlsmith --dry-run)")
    ap.add_argument("--save-divergent", action="store_true")
    ap.add_argument("--sessions", type=float, default=0.08,
                    help="share of cases run in a fresh session after a history (sessions.py)")
    ap.add_argument("--control", action="store_true",
                    help="control run: every case as the superuser with asof.guard = off on the "
                         "protected side, so the oracle must see leaks (proves it can fail)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    def log(msg):
        print(msg, flush=True)

    if args.setup:
        args.rels = fixture.setup(lambda role: connect(args.dbname, role), args.sample, log)
    else:
        conn = connect(args.dbname, fixture.SUPER)
        cur = conn.cursor()
        cur.execute("SELECT to_regclass('fz.fz_ts') IS NOT NULL")
        has_ts = cur.fetchone()[0]
        args.rels = [r for r in grammar.TABLES + list(grammar.REL_COLS)
                     if r != "fz_ts" or has_ts]
        conn.close()
    args.rels = sorted(set(args.rels))
    args.entities = fixture.entities(args.sample)
    counts = {"queries run": 0, "crashes": 0, "canary": 0, "differs": 0, "divergent": 0,
              "refused": 0, "errors": 0, "timeouts": 0, "sessions": 0, "harness errors": 0,
              "leaks by history": {}}
    pool = Pool(args.dbname, control=args.control)
    started = time.time()
    if args.replay:
        replay(args, pool, counts, log)
    else:
        fuzz(args, pool, counts, log)
    log("queries run: %d, crashes: %d, canaries leaked: %d, rows differing: %d "
        "(divergent %d, refused %d, errors %d, timeouts %d, fresh sessions %d, harness errors %d; "
        "seed %d, %.0f s)" % (
            counts["queries run"], counts["crashes"], counts["canary"], counts["differs"],
            counts["divergent"], counts["refused"], counts["errors"], counts["timeouts"],
            counts["sessions"], counts["harness errors"], args.seed, time.time() - started))
    if counts["leaks by history"]:
        log("leaks by session history: %s" % ", ".join(
            "%s %d" % kv for kv in sorted(counts["leaks by history"].items())))
    bad = counts["crashes"] + counts["canary"] + counts["differs"]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
