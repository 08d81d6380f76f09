"""test/fuzz/fixture.py: the fuzzer's database and its canaries.

Owns the data the fuzzer queries, built twice from the same rows:

  schema fz         the protected side: tables registered with asof.protect
                    (owned by regress_fuzz_owner, a plain role), split where
                    the fixture says so, plus views, partitions, inheritance
                    children and a training set over them;
  schema fz_shadow  the reference side: plain tables of the same names and
                    shapes holding only what the guard lets anyone see
                    (training rows only after a split; label and future
                    columns NULL before one).

Canaries are the values the guard promises to hide: every label and future
value of a table without a split, and every value of every held-out row
(time >= test_from or NULL).  They are built so that nothing computed from
visible data can produce them (see CANARY_PATTERNS and README.md): text
canaries start with "zqxw" (visible text is real airport codes and words
of the letters a-m), int canaries are 10-digit numbers 20473xxxxx, bigint
and numeric canaries 13-digit numbers 4711xxxxxxxxx, time canaries fall in
the years 2077 to 2079.  Visible numbers are real flight distances and
delays (the committed 30k sample), far below 10^9.

Nothing here depends on the fuzzer's seed: the fixture is always the same.
"""
import csv
import datetime
import gzip
import os
import re

OWNER = "regress_fuzz_owner"
READER = "regress_fuzz_reader"
SUPER = "postgres"

PROTECTED = "fz"
SHADOW = "fz_shadow"
FUNCS = "fzf"

# Every pattern here is a leak wherever it appears in what a query returns,
# raises or notices (case-insensitive).  Float renderings of the numeric
# canaries are included (2.0473e+09, 4.711e+12).
CANARY_PATTERNS = [
    r"zqxw",
    r"20473\d{5}",
    r"2\.0473\d*e\+0?9",
    r"4711\d{9}",
    r"4\.711\d*e\+12",
    r"20[7-9]\d-\d\d",
]
CANARY_RE = re.compile("|".join(CANARY_PATTERNS), re.IGNORECASE)

# Column catalogue of every fuzzed relation: (name, grammar type).  Grammar
# types: int, big, num, text, ts, bool, json.
FLIGHT_COLS = [
    ("id", "big"), ("origin", "text"), ("dest", "text"), ("dep_time", "ts"),
    ("distance", "int"), ("fare", "num"), ("night", "bool"), ("info", "json"),
    ("delay", "int"), ("status", "text"), ("arr_time", "ts"),
]
FLIGHT_DDL = """(
    id bigint NOT NULL,
    origin text,
    dest text,
    dep_time timestamp,
    distance int,
    fare numeric(16,2),
    night boolean,
    info jsonb,
    delay int,
    status text,
    arr_time timestamp
)"""
LABELS = ["delay", "status"]
FUTURE = ["arr_time"]

# Splits (NULL: protected, no split).
SPLITS = {
    "fz_pre": None,
    "fz_post": "2001-04-01 00:00:00",
    "fz_part": "2001-03-01 00:00:00",
    "fz_inh": "2001-02-15 00:00:00",
}


class Canaries:
    """Distinct canary values, one per call."""

    def __init__(self):
        self.n = 0

    def _next(self):
        self.n += 1
        return self.n

    def text(self):
        k = self._next()
        letters = "qrstuvwxyz"
        return "zqxw" + "".join(letters[int(d)] for d in "%05d" % k)

    def int4(self):
        return 2047300000 + 7 * self._next()

    def int8(self):
        return 4711000000000 + 7919 * self._next()

    def numeric(self):
        return "%d.25" % self.int8()

    def ts(self, year=2077):
        k = self._next()
        base = datetime.datetime(year, 1, 1) + datetime.timedelta(minutes=977 * k)
        return base.isoformat(sep=" ")


def _sample_rows(path):
    with gzip.open(path, "rt") as f:
        rows = list(csv.DictReader(f))
    return rows


def _visible_row(i, r, pre):
    """A training-side row from a real flight; labels and future columns are
    canaries when the table has no split (pre)."""
    dep = datetime.datetime.strptime(r["dep_time"], "%Y-%m-%d %H:%M")
    dist = int(r["distance"])
    delay = int(r["delay"])
    arr = dep + datetime.timedelta(minutes=dist // 8 + 30 + delay)
    return dict(id=i, origin=r["origin"], dest=r["destination"],
                dep_time=dep.isoformat(sep=" "), distance=dist,
                fare="%.2f" % (dist * 0.11 + 19), night=dep.hour < 6,
                info='{"route": "%s-%s", "d": %d}' % (r["origin"], r["destination"], dist),
                delay=delay, status="late" if delay > 15 else "ontime",
                arr_time=arr.isoformat(sep=" "), pre=pre)


def _held_out_row(c, dep_time):
    """A held-out row: every column a canary except the time column, which
    is at or after the cutoff (a canary itself when in 2077) or NULL."""
    t = c.text()
    return dict(id=c.int8(), origin=c.text(), dest=c.text(), dep_time=dep_time,
                distance=c.int4(), fare=c.numeric(), night=True,
                info='{"route": "%s", "d": %d}' % (t, c.int8()),
                delay=c.int4(), status=c.text(), arr_time=c.ts(2078), pre=False)


def build_rows(sample_path):
    """{table: [row dict]}: the protected side's rows; shadow() derives the
    reference side's."""
    sample = _sample_rows(sample_path)
    picked = sample[::250]  # 120 real flights spread over January-June 2001
    c = Canaries()
    tables = {}

    # fz_pre: no split; every label and future value is a canary.
    pre = []
    for i, r in enumerate(picked[::2], start=1):
        row = _visible_row(i, r, pre=True)
        row.update(delay=c.int4(), status=c.text(), arr_time=c.ts(2078))
        pre.append(row)
    tables["fz_pre"] = pre

    def split_table(cut, held_times, start):
        cutdt = datetime.datetime.fromisoformat(cut)
        rows = [_visible_row(start + i, r, pre=False)
                for i, r in enumerate(picked)
                if datetime.datetime.strptime(r["dep_time"], "%Y-%m-%d %H:%M") < cutdt]
        # the last training microsecond
        last = _visible_row(start + 900, picked[0], pre=False)
        last["dep_time"] = (cutdt - datetime.timedelta(microseconds=1)).isoformat(sep=" ")
        rows.append(last)
        held = [_held_out_row(c, t) for t in held_times]
        # interleave held-out rows among training rows (physical order)
        out = []
        step = max(1, len(rows) // max(1, len(held)))
        for i, row in enumerate(rows):
            out.append(row)
            if i % step == 0 and held:
                out.append(held.pop(0))
        return out + held

    def after(cut, days):
        return (datetime.datetime.fromisoformat(cut) + datetime.timedelta(days=days)).isoformat(sep=" ")

    cut = SPLITS["fz_post"]
    tables["fz_post"] = split_table(
        cut, [cut, None, None, after(cut, 3), after(cut, 40)] + [c.ts() for _ in range(20)], 1000)
    cut = SPLITS["fz_part"]
    tables["fz_part"] = split_table(
        cut, [cut, None, after(cut, 10), after(cut, 45), after(cut, 100)] + [c.ts() for _ in range(10)], 2000)
    cut = SPLITS["fz_inh"]
    inh = split_table(cut, [cut, None, after(cut, 20)] + [c.ts() for _ in range(8)], 3000)
    tables["fz_inh"] = inh[0::2]
    tables["fz_inh_c"] = inh[1::2]
    return tables


def entities(sample_path):
    """Origins for features_at: a few of fz_post's training rows and every
    held-out row's (canaries)."""
    rows = build_rows(sample_path)["fz_post"]
    train = sorted({r["origin"] for r in rows if not is_held_out("fz_post", r)})[:5]
    held = [r["origin"] for r in rows if is_held_out("fz_post", r)]
    return train + held


def is_held_out(table, row):
    cut = SPLITS.get("fz_inh" if table == "fz_inh_c" else table)
    if cut is None:
        return False
    return row["dep_time"] is None or row["dep_time"] >= cut


def _lit(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


def _insert_sql(schema, table, rows, shadow):
    vals = []
    for row in rows:
        if shadow and is_held_out(table, row):
            continue
        cols = []
        for name, _ in FLIGHT_COLS:
            v = row[name]
            if shadow and row["pre"] and name in LABELS + FUTURE:
                v = None
            cols.append(_lit(v))
        vals.append("(" + ", ".join(cols) + ")")
    if not vals:
        return ""
    return "INSERT INTO %s.%s VALUES\n  %s;\n" % (schema, table, ",\n  ".join(vals))


def schema_sql(schema, tables, shadow):
    """DDL and data of one side, run as the owner."""
    s = ["CREATE SCHEMA %s;" % schema, "SET search_path = %s, %s;" % (schema, FUNCS)]
    s.append("CREATE TABLE fz_pre %s;" % FLIGHT_DDL)
    s.append("CREATE TABLE fz_post %s;" % FLIGHT_DDL)
    s.append("CREATE TABLE fz_part %s PARTITION BY RANGE (dep_time);" % FLIGHT_DDL)
    s.append("CREATE TABLE fz_part_q1 PARTITION OF fz_part FOR VALUES FROM ('2001-01-01') TO ('2001-04-01');")
    s.append("CREATE TABLE fz_part_q2 PARTITION OF fz_part FOR VALUES FROM ('2001-04-01') TO ('2001-07-01');")
    s.append("CREATE TABLE fz_part_far PARTITION OF fz_part FOR VALUES FROM ('2001-07-01') TO (MAXVALUE);")
    s.append("CREATE TABLE fz_part_def PARTITION OF fz_part DEFAULT;")
    s.append("CREATE TABLE fz_inh %s;" % FLIGHT_DDL)
    s.append("CREATE TABLE fz_inh_c () INHERITS (fz_inh);")
    s.append("CREATE TABLE fz_dim (origin text PRIMARY KEY, region text, hub boolean, rank int);")
    for t in ("fz_pre", "fz_post", "fz_inh", "fz_inh_c"):
        s.append("ALTER TABLE %s ADD PRIMARY KEY (id);" % t)
        s.append("ALTER TABLE %s SET (autovacuum_enabled = false);" % t)
    for t in ("fz_part_q1", "fz_part_q2", "fz_part_far", "fz_part_def"):
        s.append("ALTER TABLE %s SET (autovacuum_enabled = false);" % t)
    for t in ("fz_pre", "fz_post", "fz_part", "fz_inh", "fz_inh_c"):
        s.append(_insert_sql(schema, t, tables[t], shadow))
    # indexes on visible columns, so that index, index-only and bitmap
    # scans happen (plan settings in grammar.py push for them)
    for t in ("fz_pre", "fz_post", "fz_part", "fz_inh"):
        s.append("CREATE INDEX ON %s (origin) INCLUDE (dep_time);" % t)
        s.append("CREATE INDEX ON %s (dep_time);" % t)
        s.append("CREATE INDEX ON %s (distance, id);" % t)
    origins = sorted({r["origin"] for rows in tables.values() for r in rows
                      if not r["origin"].startswith("zqxw")})
    dims = ["('%s', '%s', %s, %d)" % (o, "west" if o < "I" else "east",
                                       "true" if i % 3 == 0 else "false", i)
            for i, o in enumerate(origins)]
    s.append("INSERT INTO fz_dim VALUES %s;" % ", ".join(dims))
    # Views: owned by the owner, over the protected tables.
    s.append("CREATE VIEW v_post AS SELECT id, origin, dep_time, distance, delay FROM fz_post WHERE distance > 300;")
    s.append("CREATE VIEW v_post_inv WITH (security_invoker = true) AS SELECT * FROM fz_post;")
    s.append("CREATE VIEW v_pre_safe AS SELECT id, origin, dest, dep_time, distance FROM fz_pre;")
    s.append("CREATE VIEW v_pre_lab AS SELECT id, origin, delay FROM fz_pre;")
    s.append("CREATE VIEW v_join AS SELECT p.id, p.origin, p.distance, p.status, d.region "
             "FROM fz_post p JOIN fz_dim d USING (origin);")
    s.append("CREATE VIEW v_part AS SELECT id, origin, dep_time, delay FROM fz_part;")
    s.append("GRANT USAGE ON SCHEMA %s TO %s;" % (schema, READER))
    s.append("GRANT SELECT ON ALL TABLES IN SCHEMA %s TO %s;" % (schema, READER))
    return "\n".join(s)


def protect_sql(schema):
    """Registration and splits of the protected side, run as the owner."""
    s = []
    for t in ("fz_pre", "fz_post", "fz_part", "fz_inh"):
        s.append("SELECT asof.protect('%s.%s', 'dep_time', '{delay, status}', "
                 "future_columns => '{arr_time}', entity_columns => '{origin}');" % (schema, t))
    for t, cut in SPLITS.items():
        if cut:
            s.append("SELECT asof.split('%s.%s', '%s');" % (schema, t, cut))
    return "\n".join(s)


# Functions resolve tables through the caller's search_path (no SET
# search_path on purpose), so the same function reads fz or fz_shadow.
FUNCS_SQL = """
SET check_function_bodies = off;
CREATE SCHEMA fzf;
GRANT USAGE ON SCHEMA fzf TO PUBLIC;
CREATE FUNCTION fzf.sql_rows(lim int) RETURNS TABLE (id bigint, origin text, distance int, delay int)
  LANGUAGE sql STABLE AS 'SELECT id, origin, distance, delay FROM fz_post WHERE distance > lim';
CREATE FUNCTION fzf.sql_rows_ni(lim int) RETURNS SETOF bigint
  LANGUAGE sql STABLE ROWS 5 AS 'SELECT id FROM fz_post WHERE distance > lim LIMIT 1000000';
CREATE FUNCTION fzf.pl_count(tbl text) RETURNS bigint LANGUAGE plpgsql STABLE AS
  $$ DECLARE n bigint; BEGIN EXECUTE format('SELECT count(*) FROM %I', tbl) INTO n; RETURN n; END $$;
CREATE FUNCTION fzf.pl_rows(tbl text) RETURNS TABLE (id bigint, distance int, status text)
  LANGUAGE plpgsql STABLE AS
  $$ BEGIN RETURN QUERY EXECUTE format('SELECT id, distance, status FROM %I', tbl); END $$;
CREATE FUNCTION fzf.pl_max_time() RETURNS timestamp LANGUAGE plpgsql STABLE AS
  $$ BEGIN RETURN (SELECT max(dep_time) FROM fz_post); END $$;
CREATE FUNCTION fzf.def_sum() RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER AS
  'SELECT sum(distance) FROM fz_part';
"""

# The attacker's own functions, created by the reader: a cheap function that
# reports what it sees, and one that raises it in an error.
READER_FUNCS_SQL = """
CREATE FUNCTION fzf.peek(v text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS
  $$ BEGIN RAISE NOTICE 'peek %', v; RETURN true; END $$;
CREATE FUNCTION fzf.shout(v text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS
  $$ BEGIN IF v LIKE 'zqxw%' OR v ~ '^(20473|4711)' THEN
       RAISE EXCEPTION 'shout %', v USING DETAIL = 'value ' || v; END IF; RETURN true; END $$;
"""

# The training set: a feature view over fz_post and a build on its
# (protected) spine: its held-out rows are sealed and hold the spine's
# canaries.  Optional: left out (and said so) when the build fails.
TRAINING_SET_SQL = """
SET search_path = fz, fzf;
SELECT asof.create_feature_view('fzfv', 'fz.fz_post', '{origin}', 'dep_time',
    '{count(*) over 7 days as n7, sum(distance) over 30 days as dist30}');
SELECT asof.create_feature_view('fzfv_s', 'fz_shadow.fz_post', '{origin}', 'dep_time',
    '{count(*) over 7 days as n7, sum(distance) over 30 days as dist30}');
SELECT asof.build_training_set('fz.fz_ts', 'fz.fz_post', 'dep_time', '{fzfv}');
GRANT SELECT ON fz.fz_ts TO regress_fuzz_reader;
"""


def shadow_ts_sql():
    """The reference copy of the training set: its rows that are not held
    out, read with the guard off (superuser)."""
    return ("SET asof.guard = off;\n"
            "CREATE TABLE fz_shadow.fz_ts AS SELECT * FROM fz.fz_ts "
            "WHERE dep_time < '%s';\n"
            "ALTER TABLE fz_shadow.fz_ts OWNER TO %s;\n"
            "GRANT SELECT ON fz_shadow.fz_ts TO %s;\n"
            "RESET asof.guard;\n" % (SPLITS["fz_post"], OWNER, READER))


TS_COLS = FLIGHT_COLS + [("fzfv__n7", "big"), ("fzfv__dist30", "big")]


def setup(connect, sample_path, log):
    """Create roles, both sides, registrations, training set.  connect(role)
    gives an autocommit connection.  Returns the list of relation names in
    the grammar."""
    su = connect(SUPER)
    cur = su.cursor()
    for r in (OWNER, READER):
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (r,))
        if not cur.fetchone():
            cur.execute("CREATE ROLE %s LOGIN" % r)
    cur.execute("CREATE EXTENSION IF NOT EXISTS pg_asof")
    cur.execute("GRANT CREATE ON DATABASE %s TO %s" % (su.info.dbname, OWNER))
    cur.execute(FUNCS_SQL)
    cur.execute("ALTER SCHEMA fzf OWNER TO %s" % OWNER)
    cur.execute("GRANT CREATE ON SCHEMA fzf TO %s" % READER)
    cur.execute("ALTER FUNCTION fzf.def_sum() OWNER TO %s" % OWNER)
    rows = build_rows(sample_path)
    own = connect(OWNER)
    oc = own.cursor()
    oc.execute(schema_sql(PROTECTED, rows, shadow=False))
    oc.execute(schema_sql(SHADOW, rows, shadow=True))
    oc.execute(protect_sql(PROTECTED))
    rd = connect(READER)
    rd.cursor().execute(READER_FUNCS_SQL)
    rels = ["fz_pre", "fz_post", "fz_part", "fz_part_q1", "fz_part_q2", "fz_part_far",
            "fz_part_def", "fz_inh", "fz_inh_c", "fz_dim", "v_post", "v_post_inv",
            "v_pre_safe", "v_pre_lab", "v_join", "v_part"]
    try:
        oc.execute(TRAINING_SET_SQL)
        cur.execute(shadow_ts_sql())
        rels.append("fz_ts")
    except Exception as e:  # noqa: BLE001 - reported, the rest still runs
        log("# training set fixture skipped: %s" % str(e).strip().splitlines()[0])
        own.rollback() if not own.autocommit else None
    # Statistics as the superuser: the label and future columns must have
    # none (G3); other columns' statistics are documented residue.
    cur.execute("ANALYZE")
    for c in (su, own, rd):
        c.close()
    return rels


def teardown(connect):
    su = connect(SUPER)
    cur = su.cursor()
    for r in (OWNER, READER):
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (r,))
        if cur.fetchone():
            cur.execute("DROP OWNED BY %s CASCADE" % r)
    su.close()


def default_sample():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "..", "..", "data", "flights-sample.csv.gz")
