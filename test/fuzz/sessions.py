"""test/fuzz/sessions.py: session histories before a case.

Owns the fuzzer's second dimension: what happened earlier in the session
that runs a case.  Most cases run on a long-lived connection ("warm").  A
few run on a fresh connection after one of these histories, each of which
the guard must survive with its state intact (fail closed, restored on
abort):

  cold_timeout   the session's first statement reads a protected table and
                 is cancelled by statement_timeout while it runs (the
                 guard's first registry load may be what gets interrupted)
  cold_lock      the first statement waits for the registry, which another
                 session holds locked (maintenance: every configuration
                 table of the extension), and fails by lock_timeout
  rollback_split the owner moves a split later in a transaction that rolls
                 back
  rollback_unprotect
                 the owner unprotects a table in a transaction that fails
                 and rolls back
  unseal_rollback
                 the owner unseals a table in a transaction that rolls back
  savepoint_split, savepoint_unprotect
                 the same calls inside a subtransaction rolled back to its
                 savepoint; the case then runs in that same transaction

Then the case runs on that connection, and is judged like any other.
"""
import psycopg2

import fixture

KINDS = ["cold_timeout", "cold_lock", "rollback_split", "rollback_unprotect", "unseal_rollback",
         "savepoint_split", "savepoint_unprotect"]
ADMIN = ("rollback_split", "rollback_unprotect", "unseal_rollback", "savepoint_split",
         "savepoint_unprotect")

# A first statement whose parse analysis takes tens of milliseconds.
SLOW_FIRST = ("SELECT count(*) FROM fz_post WHERE id IN (%s)"
              % ",".join(str(i) for i in range(20000)))


def _quiet(cur, sql):
    try:
        cur.execute(sql)
        return None
    except psycopg2.Error as e:
        if cur.connection.closed:
            raise
        return e.pgcode


def _reset_timeouts(cur):
    # a pending timeout can fire at the next statement: retry; commit, or
    # the transaction's rollback would undo the SET
    for _ in range(10):
        if _quiet(cur, "SET statement_timeout = 5000") is None and \
                _quiet(cur, "SET lock_timeout = 2000") is None:
            cur.connection.commit()
            return
        cur.connection.rollback()


def prepare(kind, rng, connect, role):
    """A fresh connection (autocommit off) for role, after history kind.
    connect(role, options) opens a connection on the protected side.
    Returns (conn, role, description)."""
    if kind in ADMIN:
        role = fixture.OWNER
    table = rng.choice(["fz.fz_post", "fz.fz_part", "fz.fz_inh"])
    if kind == "cold_timeout":
        ms = rng.choice([20, 40, 80, 160, 320])
        conn = connect(role, "-c statement_timeout=%d" % ms)
        conn.autocommit = True  # the first statement on its own, as psql sends it
        cur = conn.cursor()
        _quiet(cur, SLOW_FIRST)
        conn.autocommit = False
        _reset_timeouts(cur)
        return conn, role, "first statement cancelled by statement_timeout=%dms" % ms
    if kind == "cold_lock":
        holder = connect(fixture.SUPER, "")
        hc = holder.cursor()
        # every configuration table of the extension: the registry is one,
        # whatever its name
        hc.execute("SELECT string_agg(c::regclass::text, ', ') FROM pg_extension e, "
                   "unnest(e.extconfig) c WHERE e.extname = 'pg_asof'")
        hc.execute("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE" % hc.fetchone()[0])
        conn = connect(role, "-c lock_timeout=50")
        cur = conn.cursor()
        _quiet(cur, "SELECT count(*) FROM fz_post")
        conn.rollback()
        holder.rollback()
        holder.close()
        _reset_timeouts(cur)
        return conn, role, "first statement failed by lock_timeout on the locked registry"
    conn = connect(role, "")
    cur = conn.cursor()
    # the registry is loaded (or not) before the transaction; the guard's
    # call is followed by a read of the table (or not) and by an error (or a
    # plain ROLLBACK)
    warm = rng.random() < 0.7
    read = rng.random() < 0.5
    fail = rng.random() < 0.7
    steps = []
    if warm:
        steps.append("SELECT count(*) FROM %s" % table)
        _quiet(cur, steps[-1])
        conn.commit()
    steps.append("BEGIN")
    if kind.startswith("savepoint_"):
        # the case then runs in this same transaction
        later = rng.choice(["2001-05-01", "2001-06-15", "2100-01-01"])
        call = ("SELECT asof.split('%s', '%s')" % (table, later) if kind == "savepoint_split"
                else "SELECT asof.unprotect('%s')" % table)
        steps += ["SAVEPOINT a", call] + (["SELECT count(*) FROM %s" % table] if read else []) + \
            (["SELECT 1 / 0"] if fail else []) + ["ROLLBACK TO SAVEPOINT a"]
        for st in steps[1 + warm:-1]:
            if _quiet(cur, st) is not None:
                break
        cur.execute("ROLLBACK TO SAVEPOINT a")
        return conn, role, "; ".join(steps) + "; (the case, in this transaction)"
    if kind == "rollback_split":
        later = rng.choice(["2001-05-01", "2001-06-15", "2100-01-01"])
        steps.append("SELECT asof.split('%s', '%s')" % (table, later))
    elif kind == "rollback_unprotect":
        steps.append("SELECT asof.unprotect('%s')" % table)
    else:
        steps.append("SELECT asof.unseal('%s', 'canary fuzzer')" % table)
    if read:
        steps.append("SELECT count(*) FROM %s" % table)
    if fail:
        steps.append("SELECT 1 / 0")
    for st in steps[1 + warm:]:
        if _quiet(cur, st) is not None:
            break
    steps.append("ROLLBACK")
    conn.rollback()
    return conn, role, "; ".join(steps)
