"""test/fuzz/oracle.py: runs one test case on one side and judges it.

Owns how a case is executed (plain query, cursor, COPY, prepared
statement, CREATE TABLE AS, rolled-back DML) on a connection, what its
observable result is (rows as text, the full error text with DETAIL, HINT
and CONTEXT, every NOTICE), and the verdict comparing the protected side
with the reference side:

  canary     a canary in any row, error text or notice of the protected side
  differs    both sides succeeded with different rows: the protected side
             showed something the reference side (visible rows only) does
             not have (held-out rows in a count, a sum, a label read...)
  divergent  one side failed and the other did not, not by a refusal
  refused    the protected side refused (42501) what the reference side ran

Every case runs in its own transaction, rolled back.
"""
import io

import psycopg2
import psycopg2.extensions

from fixture import CANARY_RE


class Crash(Exception):
    """The connection was lost while running a case."""


class Result:
    def __init__(self, ok, rows=None, code=None, text=""):
        self.ok = ok
        self.rows = rows or []
        self.code = code
        self.text = text
        self.notices = []

    def observable(self):
        parts = ["|".join("\\N" if v is None else str(v) for v in row) for row in self.rows]
        return "\n".join(parts + [self.text] + self.notices)

    def summary(self, n=6):
        if not self.ok:
            return "ERROR %s: %s" % (self.code, self.text.strip())
        head = self.rows[:n]
        more = "" if len(self.rows) <= n else "\n... %d rows" % len(self.rows)
        return "\n".join("|".join("\\N" if v is None else str(v) for v in row) for row in head) + more


def text_types(conn):
    """Make psycopg2 return every value as the server's text rendering."""
    cur = conn.cursor()
    cur.execute("SELECT oid FROM pg_catalog.pg_type")
    oids = tuple(r[0] for r in cur.fetchall())
    conn.rollback()
    t = psycopg2.extensions.new_type(oids, "FZTEXT", lambda v, c: v)
    psycopg2.extensions.register_type(t, conn)


def wrapped(mode, sql):
    """The statements a case runs, as a reader would type them."""
    if mode == "training_set":
        return sql.split("\n;;\n")
    if mode == "cursor":
        return ["DECLARE fzc CURSOR FOR " + sql, "FETCH 2 FROM fzc", "FETCH ALL FROM fzc"]
    if mode == "copy":
        return ["COPY (%s) TO STDOUT" % sql]
    if mode == "prepare":
        return ["PREPARE fzp(int) AS " + sql, "EXECUTE fzp(300)", "EXECUTE fzp(300)"]
    if mode == "ctas":
        return ["CREATE TEMP TABLE fz_tmp AS " + sql, "SELECT * FROM fz_tmp"]
    return [sql]


def execute(conn, mode, sql, feature_view="fzfv", settings=()):
    """Run a case; @fv@ in its text names the side's feature view;
    settings are SET LOCAL statements run first."""
    sql = sql.replace("@fv@", feature_view)
    cur = conn.cursor()
    del conn.notices[:]
    rows = []
    try:
        for st in settings:
            cur.execute(st)
        stmts = wrapped(mode, sql)
        if mode == "training_set" and feature_view != "fzfv":
            # the reference side's columns get the protected side's names
            stmts[1:1] = ["ALTER TABLE fzf.fz_tmp_ts RENAME COLUMN %s__%s TO fzfv__%s"
                          % (feature_view, c, c) for c in ("n7", "dist30")]
        for i, st in enumerate(stmts):
            if st.startswith("COPY"):
                buf = io.StringIO()
                cur.copy_expert(st, buf)
                rows += [(line,) for line in buf.getvalue().splitlines()]
            elif mode == "prepare" and st.startswith("EXECUTE"):
                cur.execute(st)
                got = sorted(cur.fetchall(), key=_key)
                if i == len(stmts) - 1 and got != rows:
                    # a second execution must give the same rows
                    rows = rows + [("<second EXECUTE differs>",)] + got
                else:
                    rows = got
            else:
                cur.execute(st)
                if cur.description is not None:
                    rows += cur.fetchall()
                elif st.split(None, 1)[0].upper() in ("UPDATE", "DELETE", "INSERT", "MERGE", "CREATE"):
                    # how many rows a write reached is a result too
                    rows.append(("<%s: %d rows>" % (st.split(None, 1)[0].upper(), cur.rowcount),))
        res = Result(True, sorted(rows, key=_key))
    except psycopg2.Error as e:
        if conn.closed:
            raise Crash(str(e))
        res = Result(False, code=e.pgcode, text=e.pgerror or str(e))
    except (psycopg2.InterfaceError, psycopg2.OperationalError) as e:  # pragma: no cover
        raise Crash(str(e))
    res.notices = [n.strip() for n in conn.notices]
    try:
        conn.rollback()
        if mode == "prepare":
            cur.execute("DEALLOCATE ALL")
            conn.rollback()
    except psycopg2.Error as e:
        if conn.closed:
            raise Crash(str(e))
        raise
    return res


def _key(row):
    return tuple("\x00" if v is None else str(v) for v in row)


def has_canary(res, sql=""):
    """The first canary in what res shows that the query text itself does
    not contain."""
    for m in CANARY_RE.finditer(res.observable()):
        if m.group(0) not in sql:
            return m.group(0)
    return None


def verdict(p, s, sql=""):
    """p: protected side's Result; s: reference side's (None: no reference)."""
    if has_canary(p, sql):
        return "canary"
    if s is None:
        return "ok"
    if p.ok and s.ok:
        return "ok" if p.rows == s.rows else "differs"
    if not p.ok and s.ok:
        if p.code == "42501":
            return "refused"
        return "divergent"
    if p.ok and not s.ok:
        return "divergent"
    return "ok"
