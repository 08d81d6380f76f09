"""test/fuzz/grammar.py: the random query generator.

Owns the grammar: given a random.Random, produces one test case (a mode
and SQL) over the fixture's relations.  Deterministic given the generator's
state.  Every query it writes is deterministic in its result as a multiset
of rows (the runner sorts rows): order-sensitive constructs (string_agg,
array_agg, jsonb_agg, lag, row_number, LIMIT) always carry a total order, so
the protected and the reference side must return the same rows.

Left out on purpose (documented residue or non-determinism, see README.md):
EXPLAIN, pg_stats of columns that are not labels or future columns,
pg_class.reltuples, system columns (ctid, xmin), writes other than rolled
back UPDATE/DELETE ... RETURNING, ON CONFLICT, volatile functions.
"""
from fixture import FLIGHT_COLS, TS_COLS

LABEL_COLS = ("delay", "status", "arr_time")

SUB = ["id", "origin", "dep_time", "distance", "delay"]
REL_COLS = {
    "fz_dim": [("origin", "text"), ("region", "text"), ("hub", "bool"), ("rank", "int")],
    "v_post": [c for c in FLIGHT_COLS if c[0] in SUB],
    "v_post_inv": FLIGHT_COLS,
    "v_pre_safe": [c for c in FLIGHT_COLS if c[0] in ("id", "origin", "dest", "dep_time", "distance")],
    "v_pre_lab": [c for c in FLIGHT_COLS if c[0] in ("id", "origin", "delay")],
    "v_join": [("id", "big"), ("origin", "text"), ("distance", "int"), ("status", "text"), ("region", "text")],
    "v_part": [c for c in FLIGHT_COLS if c[0] in ("id", "origin", "dep_time", "delay")],
    "fz_ts": TS_COLS,
}
TABLES = ["fz_pre", "fz_post", "fz_part", "fz_part_q1", "fz_part_q2", "fz_part_far",
          "fz_part_def", "fz_inh", "fz_inh_c", "fz_ts"]
# Relations whose rows can be UPDATEd / DELETEd (rolled back).
WRITABLE = ["fz_pre", "fz_post", "fz_part", "fz_part_q1", "fz_inh", "fz_inh_c"]

AGG_TYPES = {"big": ["count(*)", "count({any})", "sum({int})"],
             "num": ["avg({int})", "sum({num})", "sum({big})", "avg({num})"],
             "int": ["min({int})", "max({int})"],
             "text": ["min({text})", "max({text})", "string_agg({text}, ',' ORDER BY {same})"],
             "ts": ["min({ts})", "max({ts})"],
             "bool": ["bool_or({bool})", "bool_and({bool})"],
             "json": ["jsonb_agg({json} ORDER BY {same})", "to_jsonb(array_agg({int} ORDER BY {same}))"]}
TYPES = ["int", "big", "num", "text", "ts", "bool", "json"]


def cols_of(rel):
    return REL_COLS.get(rel, FLIGHT_COLS)


class Scope:
    """The relations visible to an expression: [(alias, [(col, type)], rel)]."""

    def __init__(self, items):
        self.items = items

    def cols(self, typ=None):
        out = []
        for alias, cols, _ in self.items:
            for c, t in cols:
                if typ is None or t == typ:
                    out.append(("%s.%s" % (alias, c), t))
        return out


class Gen:
    def __init__(self, rng, rels, param=False):
        self.r = rng
        self.rels = rels
        self.n = 0
        self.param = param

    def alias(self):
        self.n += 1
        return "a%d" % self.n

    def chance(self, p):
        return self.r.random() < p

    # ---------------------------------------------------------- constants
    def const(self, t):
        r = self.r
        if t == "int":
            if self.param and self.chance(0.3):
                return "$1"
            return str(r.choice([0, 1, 3, 15, 60, 300, 1000, 2500, -5]))
        if t == "big":
            return str(r.choice([1, 2, 10, 1005, 1050, 2010, 3003]))
        if t == "num":
            return r.choice(["0.5", "100.25", "2.00", "42"])
        if t == "text":
            return "'%s'" % r.choice(["SFO", "LAX", "ORD", "ATL", "late", "ontime", "a", "dfw", "JFK-LAX"])
        if t == "ts":
            return "'%s'::timestamp" % r.choice(["2001-01-15", "2001-02-15 12:00", "2001-03-01",
                                                  "2001-03-31 23:59:59.999999", "2001-04-01", "2001-06-01"])
        if t == "bool":
            return r.choice(["true", "false"])
        return "'{\"k\": 1}'::jsonb"

    # -------------------------------------------------------- expressions
    def expr(self, t, scope, depth=0):
        r = self.r
        cols = scope.cols(t)
        if depth > 2 or (cols and self.chance(0.45)):
            return r.choice(cols)[0] if cols else self.const(t)
        k = r.randrange(12)
        if k == 0:
            return self.const(t)
        if k == 1 and depth < 2 and self.rels:
            return "(%s)" % self.scalar_subquery(t, depth + 1)
        if k == 2:
            return "coalesce(%s, %s)" % (self.expr(t, scope, depth + 1), self.const(t))
        if k == 3 and t not in ("json",):
            return "CASE WHEN %s THEN %s ELSE %s END" % (
                self.cond(scope, depth + 1), self.expr(t, scope, depth + 1), self.expr(t, scope, depth + 1))
        if t == "int":
            return r.choice([
                "(%s + %s)" % (self.expr("int", scope, depth + 1), self.const("int")),
                "abs(%s)" % self.expr("int", scope, depth + 1),
                "length(%s)" % self.expr("text", scope, depth + 1),
                "extract(day from %s)::int" % self.expr("ts", scope, depth + 1),
                "(%s %% 7)" % self.expr("int", scope, depth + 1),
                "(%s * 3)" % self.expr("int", scope, depth + 1),
                "(%s ->> 'd')::int" % self.expr("json", scope, depth + 1),
                "(%s)::int" % self.expr("num", scope, depth + 1),
                "(%s / 2)" % self.expr("int", scope, depth + 1),
            ])
        if t == "big":
            return r.choice([
                "(%s)::bigint" % self.expr("int", scope, depth + 1),
                "(%s + 1)" % self.expr("big", scope, depth + 1),
                "(%s)::bigint" % self.expr("num", scope, depth + 1),
            ])
        if t == "num":
            return r.choice([
                "round(%s, 1)" % self.expr("num", scope, depth + 1),
                "(%s)::numeric" % self.expr("int", scope, depth + 1),
                "(%s * 2)" % self.expr("num", scope, depth + 1),
                "(%s)::numeric" % self.expr("big", scope, depth + 1),
            ])
        if t == "text":
            return r.choice([
                "upper(%s)" % self.expr("text", scope, depth + 1),
                "lower(%s)" % self.expr("text", scope, depth + 1),
                "(%s || '-' || %s)" % (self.expr("text", scope, depth + 1), self.expr("text", scope, depth + 1)),
                "(%s)::text" % self.expr(r.choice(["int", "big", "num", "ts", "bool"]), scope, depth + 1),
                "concat(%s, %s)" % (self.expr("text", scope, depth + 1), self.expr("int", scope, depth + 1)),
                "to_char(%s, 'YYYY-MM-DD HH24:MI')" % self.expr("ts", scope, depth + 1),
                "(%s ->> 'route')" % self.expr("json", scope, depth + 1),
                "left(%s, 6)" % self.expr("text", scope, depth + 1),
                "format('%%s/%%s', %s, %s)" % (self.expr("text", scope, depth + 1), self.expr("num", scope, depth + 1)),
                "md5(%s)" % self.expr("text", scope, depth + 1),
                "(%s)::text" % self.expr("json", scope, depth + 1),
                "to_json(%s)::text" % self.expr(r.choice(["ts", "text", "int"]), scope, depth + 1),
                "array_to_string(ARRAY[%s, %s], ';')" % (self.expr("text", scope, depth + 1), self.expr("text", scope, depth + 1)),
            ])
        if t == "ts":
            return r.choice([
                "(%s + interval '3 hours')" % self.expr("ts", scope, depth + 1),
                "date_trunc('month', %s)" % self.expr("ts", scope, depth + 1),
                "greatest(%s, %s)" % (self.expr("ts", scope, depth + 1), self.expr("ts", scope, depth + 1)),
                "(%s)::date::timestamp" % self.expr("ts", scope, depth + 1),
            ])
        if t == "bool":
            return self.cond(scope, depth + 1)
        # json
        whole = [a for a, _, _ in scope.items]
        return r.choice([
            "jsonb_build_object('v', %s)" % self.expr(r.choice(TYPES[:-1]), scope, depth + 1),
            "to_jsonb(%s)" % (r.choice(whole) if whole else self.const("text")),
            "row_to_json(%s)::jsonb" % (r.choice(whole) if whole else "row(1)"),
            "to_jsonb(ARRAY[%s])" % self.expr("int", scope, depth + 1),
            "(%s -> 'route')" % self.expr("json", scope, depth + 1),
        ])

    def cond(self, scope, depth=0):
        r = self.r
        k = r.randrange(13)
        if depth > 2:
            k = r.choice([0, 1, 2])
        if k in (0, 1):
            t = r.choice(["int", "int", "text", "ts", "big", "num"])
            op = r.choice(["=", "<", ">", "<=", ">=", "<>"])
            return "%s %s %s" % (self.expr(t, scope, depth + 1), op, self.expr(t, scope, depth + 1))
        if k == 2:
            return "%s IS %sNULL" % (self.expr(r.choice(TYPES), scope, depth + 1), r.choice(["", "NOT "]))
        if k == 3:
            return "(%s AND %s)" % (self.cond(scope, depth + 1), self.cond(scope, depth + 1))
        if k == 4:
            return "(%s OR %s)" % (self.cond(scope, depth + 1), self.cond(scope, depth + 1))
        if k == 5:
            return "NOT (%s)" % self.cond(scope, depth + 1)
        if k == 6 and self.rels:
            return self.exists(scope, depth + 1)
        if k == 7 and self.rels:
            t = r.choice(["int", "text", "big"])
            return "%s %sIN (%s)" % (self.expr(t, scope, depth + 1), r.choice(["", "NOT "]),
                                      self.column_subquery(t, depth + 1))
        if k == 8:
            return "fzf.peek((%s)::text)" % self.expr(r.choice(TYPES), scope, depth + 1)
        if k == 9:
            return "fzf.shout((%s)::text)" % self.expr(r.choice(TYPES), scope, depth + 1)
        if k == 10:
            return "%s LIKE '%s%%'" % (self.expr("text", scope, depth + 1), r.choice(["S", "L", "a", "zq", "l"]))
        if k == 11:
            return "%s BETWEEN %s AND %s" % (self.expr("int", scope, depth + 1), self.const("int"), self.const("int"))
        return self.expr("bool", scope, depth + 3) if scope.cols("bool") else "true"

    # ------------------------------------------------------ from clauses
    def rel(self):
        return self.r.choice(self.rels)

    def from_item(self, depth):
        """(sql, Scope) of one FROM item."""
        r = self.r
        a = self.alias()
        k = r.randrange(10)
        if k == 0 and depth < 2:
            types = self.types()
            sql = self.select_core(types, depth + 1)
            cols = [("c%d" % i, t) for i, t in enumerate(types)]
            return "(%s) AS %s(%s)" % (sql, a, ", ".join(c for c, _ in cols)), Scope([(a, cols, None)])
        if k == 1:
            f = r.choice([
                ("fzf.sql_rows(%s)" % r.choice([0, 500, 1500]),
                 [("id", "big"), ("origin", "text"), ("distance", "int"), ("delay", "int")]),
                ("fzf.pl_rows('%s')" % r.choice(["fz_post", "fz_part", "fz_inh", "fz_pre"]),
                 [("id", "big"), ("distance", "int"), ("status", "text")]),
                ("fzf.sql_rows_ni(%s)" % r.choice([0, 900]), [("v", "big")]),
            ])
            if f[1] == [("v", "big")]:
                return "%s AS %s(v)" % (f[0], a), Scope([(a, f[1], None)])
            return "%s AS %s" % (f[0], a), Scope([(a, f[1], None)])
        rel = self.rel()
        only = "ONLY " if rel in ("fz_inh",) and self.chance(0.3) else ""
        sample = ""
        if (rel in TABLES or rel.startswith("fzf.")) and self.chance(0.08):
            # every row (100%), so both sides agree
            sample = r.choice([" TABLESAMPLE BERNOULLI (100) REPEATABLE (7)", " TABLESAMPLE SYSTEM (100)"])
        return "%s%s AS %s%s" % (only, rel, a, sample), Scope([(a, cols_of(rel), rel)])

    def from_clause(self, depth):
        r = self.r
        sql, scope = self.from_item(depth)
        if self.chance(0.35):
            sql2, scope2 = self.from_item(depth)
            both = Scope(scope.items + scope2.items)
            kind = r.choice(["JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN", "CROSS JOIN", "LATERAL"])
            if kind == "CROSS JOIN":
                sql = "%s CROSS JOIN %s" % (sql, sql2)
            elif kind == "LATERAL":
                lat, lscope = self.lateral(scope, depth)
                sql, both = "%s, %s" % (sql, lat), Scope(scope.items + lscope.items)
            else:
                t = r.choice(["text", "big", "int"])
                left = scope.cols(t) or scope.cols()
                right = scope2.cols(left[0][1] if left else t) if left else []
                if left and right:
                    on = "%s = %s" % (r.choice(left)[0], r.choice(right)[0])
                    # FULL JOIN only with merge/hash-joinable conditions
                    if kind != "FULL JOIN" and self.chance(0.3):
                        on += " AND " + self.cond(both, 2)
                else:
                    on = "true" if kind != "FULL JOIN" else "1 = 1"
                sql = "%s %s %s ON %s" % (sql, kind, sql2, on)
            scope = both
        return sql, scope

    def lateral(self, outer, depth):
        a = self.alias()
        rel = self.rel()
        cols = cols_of(rel)
        inner = Scope([(a, cols, rel)])
        t = "text"
        oc = outer.cols(t)
        ic = inner.cols(t)
        where = "%s = %s" % (self.r.choice(ic)[0], self.r.choice(oc)[0]) if oc and ic else "true"
        out = [c for c in cols if c[0] in ("id", "origin", "distance", "delay", "status")] or cols
        key = ", ".join("%s.%s" % (a, c) for c, _ in out)
        l2 = self.alias()
        sql = "LATERAL (SELECT %s FROM %s AS %s WHERE %s ORDER BY %s LIMIT 2) AS %s" % (
            ", ".join("%s.%s" % (a, c) for c, _ in out), rel, a, where, key, l2)
        return sql, Scope([(l2, out, None)])

    # --------------------------------------------------------- subqueries
    def scalar_subquery(self, t, depth):
        a = self.alias()
        rel = self.rel()
        scope = Scope([(a, cols_of(rel), rel)])
        agg = self.agg(t, scope, depth)
        where = " WHERE " + self.cond(scope, depth + 1) if self.chance(0.5) else ""
        return "SELECT %s FROM %s AS %s%s" % (agg, rel, a, where)

    def column_subquery(self, t, depth):
        a = self.alias()
        rel = self.rel()
        scope = Scope([(a, cols_of(rel), rel)])
        where = " WHERE " + self.cond(scope, depth + 1) if self.chance(0.5) else ""
        return "SELECT %s FROM %s AS %s%s" % (self.expr(t, scope, depth + 1), rel, a, where)

    def exists(self, outer, depth):
        a = self.alias()
        rel = self.rel()
        scope = Scope([(a, cols_of(rel), rel)])
        both = Scope(outer.items + scope.items)
        return "%sEXISTS (SELECT 1 FROM %s AS %s WHERE %s)" % (
            self.r.choice(["", "NOT "]), rel, a, self.cond(both, depth + 1))

    def agg(self, t, scope, depth):
        r = self.r
        form = r.choice(AGG_TYPES[t])
        fill = {}
        for need in ("int", "num", "big", "text", "ts", "bool", "json"):
            if "{%s}" % need in form:
                fill[need] = self.expr(need, scope, depth + 1)
        fill["any"] = self.expr(r.choice(TYPES), scope, depth + 1)
        fill["same"] = fill.get("text") or fill.get("json") or fill.get("int") or ""
        out = form.format(**fill)
        if self.chance(0.2) and not out.startswith(("string_agg", "jsonb_agg", "to_jsonb")):
            out = "%s FILTER (WHERE %s)" % (out, self.cond(scope, depth + 1))
        return out

    # ------------------------------------------------------------ queries
    def types(self):
        return [self.r.choice(TYPES) for _ in range(self.r.randint(1, 3))]

    def select_core(self, types, depth=0):
        """A SELECT whose output columns have the given grammar types."""
        r = self.r
        shape = r.choice(["plain", "plain", "agg", "agg", "window", "cte", "setop", "recursive"])
        if depth > 1 and shape in ("cte", "setop", "recursive"):
            shape = "plain"
        if shape == "setop":
            op = r.choice(["UNION", "UNION ALL", "INTERSECT", "EXCEPT", "INTERSECT ALL", "EXCEPT ALL"])
            # jsonb has equality; json would not (only jsonb here)
            return "(%s) %s (%s)" % (self.select_core(types, depth + 1), op, self.select_core(types, depth + 1))
        if shape == "cte":
            cte_types = self.types()
            mat = r.choice(["", "MATERIALIZED ", "NOT MATERIALIZED "])
            body = self.select_core(cte_types, depth + 1)
            w = self.alias()
            cols = [("c%d" % i, t) for i, t in enumerate(cte_types)]
            scope = Scope([(w, cols, None)])
            outs = [self.expr(t, scope, 1) for t in types]
            where = " WHERE %s" % self.cond(scope, 1) if self.chance(0.4) else ""
            return "WITH %s(%s) AS %s(%s) SELECT %s FROM %s%s" % (
                w, ", ".join(c for c, _ in cols), mat, body, ", ".join(outs), w, where)
        if shape == "recursive":
            rel = self.rel()
            cols = cols_of(rel)
            ints = [c for c, t in cols if t == "int"] or [None]
            ic = r.choice(ints)
            a = self.alias()
            seed_where = self.cond(Scope([(a, cols, rel)]), 2) if self.chance(0.5) else "true"
            v = ("%s.%s" % (a, ic)) if ic else "0"
            w = self.alias()
            scope = Scope([(w, [("lvl", "int"), ("v", "int")], None)])
            outs = [self.expr(t, scope, 1) for t in types]
            return ("WITH RECURSIVE %s(lvl, v) AS (SELECT 1, %s FROM %s AS %s WHERE %s "
                    "UNION ALL SELECT lvl + 1, v + lvl FROM %s WHERE lvl < 3) SELECT %s FROM %s" % (
                        w, v, rel, a, seed_where, w, ", ".join(outs), w))
        fr, scope = self.from_clause(depth)
        where = " WHERE %s" % self.cond(scope) if self.chance(0.6) else ""
        if shape == "agg":
            ngroup = r.randint(0, len(types) - 1)
            outs = []
            for i, t in enumerate(types):
                outs.append(self.expr(t, scope, 1) if i < ngroup else self.agg(t, scope, 1))
            group = " GROUP BY %s" % ", ".join(str(i + 1) for i in range(ngroup)) if ngroup else ""
            having = " HAVING count(*) > %d" % r.choice([0, 1, 2]) if self.chance(0.3) else ""
            return "SELECT %s FROM %s%s%s%s" % (", ".join(outs), fr, where, group, having)
        if shape == "window" and scope.items[0][2] and any(c == "id" for c, _ in scope.items[0][1]) \
                and len(scope.items) == 1:
            a = scope.items[0][0]
            part = r.choice(scope.cols("text") or [("1", "int")])[0]
            ordc = r.choice(scope.cols())[0]
            over = "OVER (PARTITION BY %s ORDER BY %s, %s.id)" % (part, ordc, a)
            outs = []
            for t in types:
                if t == "big" and self.chance(0.6):
                    outs.append(r.choice(["row_number() %s", "rank() %s", "count(*) %s",
                                          "dense_rank() %s"]) % over)
                elif t in ("int", "text", "ts", "big", "num") and self.chance(0.6):
                    e = self.expr(t, scope, 2)
                    outs.append(r.choice(["lag(%s) %s", "lead(%s) %s", "first_value(%s) %s",
                                          "max(%s) %s"]) % (e, over))
                else:
                    outs.append(self.expr(t, scope, 1))
            return "SELECT %s FROM %s%s" % (", ".join(outs), fr, where)
        outs = [self.expr(t, scope, 1) for t in types]
        distinct = "DISTINCT " if self.chance(0.15) else ""
        limit = ""
        if self.chance(0.2):
            limit = " ORDER BY %s LIMIT %d" % (
                ", ".join("%d" % (i + 1) for i in range(len(types))), r.choice([1, 3, 10]))
        return "SELECT %s%s FROM %s%s%s" % (distinct, ", ".join(outs), fr, where, limit)

    def star_query(self):
        """Whole-row reads: SELECT *, SELECT t, row_to_json(t)."""
        r = self.r
        rel = self.rel()
        a = self.alias()
        scope = Scope([(a, cols_of(rel), rel)])
        sel = r.choice(["*", "%s" % a, "row_to_json(%s)" % a, "%s::text" % a, "count(%s.*)" % a,
                        "to_jsonb(%s) - 'id'" % a, "jsonb_agg(%s ORDER BY %s::text)" % (a, a)])
        where = " WHERE %s" % self.cond(scope) if self.chance(0.5) else ""
        return "SELECT %s FROM %s AS %s%s" % (sel, rel, a, where)


FEATURES_AT_TIMES = ["2001-03-15", "2001-03-31 23:59:59.999999", "2001-04-01", "2001-04-02",
                     "2001-06-01", "2077-06-01", "2100-01-01"]
TS_SPINES = ["fz_post", "fz_part", "fz_inh", "fz_pre", "v_post_inv"]


# Plan settings a case may run under (SET LOCAL, on both sides): other scan
# and join methods, parallel workers.
PLAN_SETTINGS = [
    ["enable_seqscan = off"],
    ["enable_seqscan = off", "enable_bitmapscan = off"],
    ["enable_indexscan = off", "enable_indexonlyscan = off"],
    ["enable_hashjoin = off", "enable_mergejoin = off"],
    ["enable_nestloop = off", "enable_hashjoin = off"],
    ["enable_hashagg = off", "enable_sort = on"],
    ["force_parallel_mode = on", "parallel_setup_cost = 0", "parallel_tuple_cost = 0",
     "min_parallel_table_scan_size = 0", "min_parallel_index_scan_size = 0",
     "max_parallel_workers_per_gather = 2"],
    ["plan_cache_mode = force_generic_plan"],
    ["plan_cache_mode = force_custom_plan"],
]


def settings(rng):
    """SET LOCAL statements for a case: none most of the time."""
    if rng.random() < 0.6:
        return []
    return ["SET LOCAL " + x for x in rng.choice(PLAN_SETTINGS)]


def case(rng, rels, entities=()):
    """One test case: (mode, sql, extra).  Modes: query, cursor, copy,
    copy_rel, prepare, ctas, dml, stats, features_at, training_set.
    entities: origins to ask features_at about (training ones and the
    held-out rows' canaries: a canary written in the query is not a leak
    when it comes back, any other canary is)."""
    r = rng
    has_fv = "fz_ts" in rels
    mode = r.choices(["query", "cursor", "copy", "copy_rel", "prepare", "ctas", "dml", "stats",
                      "features_at", "training_set"],
                     weights=[50, 8, 8, 4, 8, 5, 6, 2, 3 if has_fv else 0, 4 if has_fv else 0])[0]
    g = Gen(r, rels, param=(mode == "prepare"))
    if mode == "features_at":
        return mode, "SELECT asof.features_at('@fv@', ARRAY['%s'], '%s'::timestamp)" % (
            r.choice(list(entities) or ["SFO"]), r.choice(FEATURES_AT_TIMES)), None
    if mode == "training_set":
        spine = r.choice(TS_SPINES)
        build = ("SELECT asof.build_training_set('fzf.fz_tmp_ts', '%s', 'dep_time', '{@fv@}') "
                 "IS NOT NULL" % spine)
        g2 = Gen(r, ["fzf.fz_tmp_ts"])
        REL_COLS["fzf.fz_tmp_ts"] = [c for c in TS_COLS if c[0] in dict(cols_of(spine))
                                     or c[0].startswith("fzfv__")]
        q = g2.star_query() if r.random() < 0.4 else g2.select_core(g2.types())
        return mode, build + "\n;;\n" + q, None
    if mode == "copy_rel":
        rel = r.choice([x for x in rels if not x.startswith("v_")])
        cols = cols_of(rel)
        if r.random() < 0.5:
            pick = r.sample(cols, r.randint(1, min(3, len(cols))))
            return mode, "COPY %s (%s) TO STDOUT" % (rel, ", ".join(c for c, _ in pick)), None
        return mode, "COPY %s TO STDOUT" % rel, None
    if mode == "stats":
        cols = ", ".join("'%s'" % c for c in LABEL_COLS)
        return mode, ("SELECT tablename, attname, null_frac, n_distinct, most_common_vals::text, "
                      "histogram_bounds::text, correlation FROM pg_stats WHERE schemaname = 'fz' "
                      "AND attname IN (%s)" % cols), None
    if mode == "dml":
        rel = r.choice([x for x in WRITABLE if x in rels])
        a = g.alias()
        scope = Scope([(a, cols_of(rel), rel)])
        ret = r.choice(["id, distance", "*", "id, delay", "%s" % a, "count_me", "", "", "merge"])
        where = g.cond(scope)
        if ret == "merge":
            d = g.alias()
            both = Scope(scope.items + [(d, cols_of("fz_dim"), "fz_dim")])
            return mode, ("MERGE INTO %s AS %s USING fz_dim AS %s ON %s.origin = %s.origin "
                          "WHEN MATCHED AND %s THEN UPDATE SET distance = %s.distance "
                          "WHEN MATCHED THEN DELETE" % (rel, a, d, a, d, g.cond(both), a)), None
        if ret == "":
            if r.random() < 0.5:
                return mode, "UPDATE %s AS %s SET distance = %s.distance WHERE %s" % (rel, a, a, where), None
            return mode, "DELETE FROM %s AS %s WHERE %s" % (rel, a, where), None
        if ret == "count_me":
            return mode, ("WITH d AS (DELETE FROM %s AS %s WHERE %s RETURNING %s.id) "
                          "SELECT count(*), sum(id) FROM d" % (rel, a, where, a)), None
        if r.random() < 0.5:
            return mode, "UPDATE %s AS %s SET distance = %s.distance WHERE %s RETURNING %s" % (
                rel, a, a, where, ret), None
        return mode, "DELETE FROM %s AS %s WHERE %s RETURNING %s" % (rel, a, where, ret), None
    if r.random() < 0.12:
        q = g.star_query()
    else:
        q = g.select_core(g.types())
    return mode, q, None
