/*-------------------------------------------------------------------------
 *
 * reference_sql.c
 *	  asof.feature_view_sql(feature_view, spine, at): the plain-SQL query
 *	  that computes a feature view for every spine row, exactly as the
 *	  contract (docs/point-in-time.md) defines it.  It is the independent
 *	  reference the C engine is tested against and the baseline it is
 *	  benchmarked against, so it must share no code path with engine.c,
 *	  window.c or schedule.c: it only reads the definition (the loader) and
 *	  writes SQL text.
 *
 *	  Shape of the query (one row per spine row, spine columns first):
 *
 *	  - asof_k, per spine row (OFFSET 0: evaluated once): t = the prediction
 *		time; t_us = t in microseconds since 2000-01-01 00:00 UTC (numeric,
 *		exact over the whole timestamp range: EXTRACT(epoch FROM t - 2000-01-01),
 *		an interval, is; EXTRACT(epoch FROM t) is not near the top of the
 *		range; the same for every TimeZone); k_us = the effective time in integer
 *		arithmetic; k, and t - ttl, as timestamps, or NULL when out of
 *		range;
 *	  - asof_v, the features of every distinct (entity, k): spine rows of
 *		the same entity and tick see the same rows, so they are computed
 *		once and joined back (the TTL then uses each row's own t); keys are
 *		grouped and compared under the source column's collation:
 *		- one LATERAL subquery for every windowed feature together: rows of
 *		  the entity with ta < k, te < k and te >= the smallest k - W, each
 *		  aggregate FILTERed to its own window (one index range scan per
 *		  (entity, k) when the source has an index on (entity, te));
 *		- one LATERAL subquery per last value: ORDER BY te DESC, ta DESC,
 *		  value DESC NULLS LAST LIMIT 1.
 *
 *	  When an expression of the view (or the prediction time) is not
 *	  immutable its value may depend on TimeZone: the query is then wrapped
 *	  in asof.run_in_utc(), which runs it with TimeZone = UTC.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "parser/parse_relation.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "feature_spec.h"
#include "feature_view.h"
#include "guard.h"
#include "guard_sources.h"
#include "spine_check.h"

/* An absolute interval literal: hours:minutes:seconds, no day part. */
static char *
us_interval(int64 us)
{
	int64		h = us / USECS_PER_HOUR;
	int64		rest = us % USECS_PER_HOUR;
	int			m = (int) (rest / USECS_PER_MINUTE);
	int			s = (int) ((rest % USECS_PER_MINUTE) / USECS_PER_SEC);
	int			f = (int) (rest % USECS_PER_SEC);

	if (f != 0)
		return psprintf("interval '" INT64_FORMAT ":%02d:%02d.%06d'", h, m, s, f);
	return psprintf("interval '" INT64_FORMAT ":%02d:%02d'", h, m, s);
}

/*
 * " COLLATE <the source column's collation>" for a collatable entity
 * column whose spine column has another collation, "" otherwise: spine
 * keys are grouped and matched under the source's collation (as the
 * engine does), whatever the spine's is.  When both are the same the
 * query stays free of COLLATE clauses.
 */
static const char *
key_collate(AsofFeatureView *fv, int i, const Oid *spine_collations)
{
	Oid			coll = fv->key_collations[i];
	HeapTuple	tup;
	Form_pg_collation c;
	char	   *res;

	if (!OidIsValid(coll) || coll == spine_collations[i])
		return "";
	tup = SearchSysCache1(COLLOID, ObjectIdGetDatum(coll));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for collation %u", coll);
	c = (Form_pg_collation) GETSTRUCT(tup);
	res = psprintf(" COLLATE %s",
				   quote_qualified_identifier(get_namespace_name(c->collnamespace),
											  NameStr(c->collname)));
	ReleaseSysCache(tup);
	return res;
}

static const char *
cast_type(Oid type, int32 typmod)
{
	return format_type_with_typemod(type, typmod);
}

/* True when pg_catalog.<name>(type) is an aggregate taking exactly `type`. */
static bool
has_exact_agg(const char *name, Oid type)
{
	Oid			argtypes[1] = {type};

	return OidIsValid(LookupFuncName(list_make2(makeString("pg_catalog"),
												makeString(pstrdup(name))),
									 1, argtypes, true));
}

/*
 * A numeric dividend `n` (an SQL expression, evaluated twice) with its
 * scale raised by DIVIDEND_EXTRA_DIGITS decimals: numeric division gives
 * the quotient at least the dividend's scale, so a quotient by a divisor
 * below 10^20 keeps at least 40 significant digits whatever the magnitude
 * (1e-50 as well as 1e20), enough for the one rounding to double
 * precision.  A fixed round(n, 40) would round values below 1e-40 to zero.
 */
#define DIVIDEND_EXTRA_DIGITS 60

static char *
exact_dividend(const char *n)
{
	/* scale() is NULL for NaN and the infinities: they stay as they are */
	return psprintf("coalesce(round(%s, scale(%s) + %d), %s)", n, n,
					DIVIDEND_EXTRA_DIGITS, n);
}

/*
 * The SQL of one windowed aggregate over argument `x`, over the rows that
 * satisfy `cond` (NULL: every row), with the contract's result type.
 * Floating-point sums and moments depend on the order of their inputs in
 * the last bits: they take the rows in `order` (event time, available
 * time), so that the result does not change with the plan (PostgreSQL 17
 * scans them in another order than 15).
 */
static char *
window_agg_sql(AsofFeature *f, const char *x, const char *cond, const char *order)
{
	const char *flt = cond ? psprintf(" FILTER (WHERE %s)", cond) : "";
	Oid			base = OidIsValid(f->input_type) ? getBaseType(f->input_type) : InvalidOid;
	bool		is_float = (base == FLOAT4OID || base == FLOAT8OID);
	bool		is_small = (base == INT2OID || base == INT4OID);

	switch (f->agg)
	{
		case ASOF_AGG_COUNT_STAR:
			return psprintf("count(*)%s", flt);
		case ASOF_AGG_COUNT:
			return psprintf("count(%s)%s", x, flt);
		case ASOF_AGG_SUM:
			if (is_float)
				return psprintf("sum(CAST(%s AS double precision) ORDER BY %s)%s", x, order, flt);
			/* smallint, integer: bigint; bigint, numeric: numeric (exact) */
			return psprintf("sum(%s)%s", x, flt);
		case ASOF_AGG_AVG:
			if (is_float)
				return psprintf("avg(CAST(%s AS double precision) ORDER BY %s)%s", x, order, flt);
			/* exact sum / count, rounded once to double precision */
			{
				char	   *s = psprintf("CAST(sum(%s)%s AS numeric)", x, flt);

				return psprintf("CAST(%s / count(%s)%s AS double precision)",
								exact_dividend(s), x, flt);
			}
		case ASOF_AGG_STDDEV:
		case ASOF_AGG_VAR:
			if (is_float)
				return psprintf("%s(CAST(%s AS double precision) ORDER BY %s)%s",
								f->agg == ASOF_AGG_VAR ? "var_samp" : "stddev_samp",
								x, order, flt);
			else
			{
				/*
				 * Exact: (n * sum(x^2) - sum(x)^2) / (n * (n - 1)), in
				 * numeric, rounded once to double precision.
				 */
				char	   *n = psprintf("count(%s)%s", x, flt);
				char	   *s = psprintf("CAST(sum(%s)%s AS numeric)", x, flt);
				char	   *q = is_small ?
					psprintf("sum(CAST(%s AS bigint) * %s)%s", x, x, flt) :
					psprintf("sum(CAST(%s AS numeric) * %s)%s", x, x, flt);
				char	   *v = psprintf("%s / (%s * (%s - 1))",
										 exact_dividend(psprintf("(%s * %s - %s * %s)", n, q, s, s)),
										 n, n);

				return psprintf("CASE WHEN %s > 1 THEN CAST(%s%s%s AS double precision) END",
								n, f->agg == ASOF_AGG_STDDEV ? "sqrt(" : "",
								v, f->agg == ASOF_AGG_STDDEV ? ")" : "");
			}
		case ASOF_AGG_MIN:
		case ASOF_AGG_MAX:
			{
				const char *name = f->agg == ASOF_AGG_MIN ? "min" : "max";

				if (has_exact_agg(name, f->input_type))
					return psprintf("%s(%s)%s", name, x, flt);
				/* any type with a default btree ordering */
				return psprintf("CAST((array_agg(%s ORDER BY %s %s) FILTER (WHERE %s IS NOT NULL%s%s))[1] AS %s)",
								x, x, f->agg == ASOF_AGG_MIN ? "ASC" : "DESC", x,
								cond ? " AND " : "", cond ? cond : "",
								cast_type(f->input_type, f->input_typmod));
			}
		default:
			elog(ERROR, "not a window aggregate: %d", (int) f->agg);
	}
	return NULL;				/* keep compiler quiet */
}

/*
 * CROSS JOIN LATERAL (...) AS asof_k: per spine row s, the prediction time
 * t, t_us (microseconds since 2000-01-01, exact numeric, NULL for NULL or
 * infinite t), k_us (the effective time, integer arithmetic), k (NULL when
 * outside the timestamp range) and, with `ttl`, t - ttl (NULL when out of
 * range).  OFFSET 0: computed once per spine row, not inlined into scans.
 */
static void
append_k_subquery(StringInfo q, AsofFeatureView *fv, AsofSourceExpr *atx,
				  const char *T, bool ttl)
{
	char	   *minb = psprintf(INT64_FORMAT, (int64) MIN_TIMESTAMP);
	char	   *endb = psprintf(INT64_FORMAT, (int64) END_TIMESTAMP);
	char	   *kus;

	if (fv->has_cadence)
	{
		int64		a = fv->anchor_us;

		/* max { a + n*c : a + n*c + d <= t }: floor, also before the anchor */
		kus = psprintf("asof_u.t_us - " INT64_FORMAT " - mod(mod(asof_u.t_us - " INT64_FORMAT ", " INT64_FORMAT ") + " INT64_FORMAT ", " INT64_FORMAT ")",
					   fv->delay_us, fv->delay_us + a, fv->cadence_us,
					   fv->cadence_us, fv->cadence_us);
	}
	else
		kus = psprintf("asof_u.t_us - " INT64_FORMAT, fv->delay_us);

	appendStringInfo(q, "\n  CROSS JOIN LATERAL (SELECT asof_t.t, asof_u.t_us, asof_ku.k_us,");
	appendStringInfo(q, "\n                             CASE WHEN asof_ku.k_us >= %s AND asof_ku.k_us < %s THEN asof_t.t - CAST(asof_u.t_us - asof_ku.k_us AS double precision) * interval '00:00:00.000001' END AS k",
					 minb, endb);
	if (ttl && fv->has_ttl)
		appendStringInfo(q, ",\n                             CASE WHEN asof_u.t_us - " INT64_FORMAT " >= %s THEN asof_t.t - %s END AS t_minus_ttl",
						 fv->ttl_us, minb, us_interval(fv->ttl_us));
	appendStringInfo(q, "\n                        FROM (SELECT CAST(%s AS %s) AS t) AS asof_t", atx->sql, T);
	appendStringInfo(q, "\n                        CROSS JOIN LATERAL (SELECT CASE WHEN isfinite(asof_t.t) THEN EXTRACT(epoch FROM asof_t.t - %s '2000-01-01 00:00:00%s') * 1000000 END AS t_us) AS asof_u",
					 T, fv->time_type == TIMESTAMPTZOID ? "+00" : "");
	appendStringInfo(q, "\n                        CROSS JOIN LATERAL (SELECT %s AS k_us) AS asof_ku", kus);
	appendStringInfo(q, "\n                       OFFSET 0) AS asof_k");
}

/*
 * One reference query being written: the view, the spine, the prediction
 * time, and what the phases below derive from them.
 */
typedef struct RefQuery
{
	AsofFeatureView *fv;
	Relation	srel;			/* the spine, open */
	const char *at;				/* the prediction time, as given */
	AsofSourceExpr atx;			/* ... analyzed over the spine */
	const char *T;				/* the view's time type, as SQL */
	Oid		   *spine_colls;	/* collation of each entity column in the spine */
	char	  **colnames;		/* output column of each feature */
	char	   *src;			/* the source, quoted */
	char	   *spine_name;		/* the spine, quoted */
	char	   *te;				/* event time and available time expressions */
	char	   *ta;
	char	   *keys;			/* "asof_r.k = asof_g.asof_key1 AND ..." */
	int64	   *windows;		/* distinct windows, in order of first use */
	int			nwindows;
	bool		any_window;
	StringInfoData q;
} RefQuery;

/* The spine: every entity column of the view, then the prediction time. */
static void
ref_check_spine(RefQuery *r)
{
	AsofFeatureView *fv = r->fv;
	TupleDesc	sdesc = RelationGetDescr(r->srel);

	r->spine_colls = palloc(sizeof(Oid) * fv->nkeys);
	for (int i = 0; i < fv->nkeys; i++)
	{
		int			c = asof_spine_entity_column(fv, sdesc, RelationGetRelationName(r->srel), i);

		r->spine_colls[i] = TupleDescAttr(sdesc, c)->attcollation;
	}
	asof_analyze_source_expr(r->srel, r->at, "prediction time", false, false, &r->atx);
	asof_check_prediction_time_type(fv, getBaseType(r->atx.type));
}

/* Output column names: spine columns, then <view>__<feature>. */
static void
ref_name_columns(RefQuery *r)
{
	AsofFeatureView *fv = r->fv;
	TupleDesc	sdesc = RelationGetDescr(r->srel);

	r->colnames = palloc(sizeof(char *) * fv->nfeatures);
	for (int i = 0; i < fv->nfeatures; i++)
	{
		r->colnames[i] = psprintf("%s__%s", fv->name, fv->features[i].name);
		for (int j = 0; j < sdesc->natts; j++)
		{
			Form_pg_attribute att = TupleDescAttr(sdesc, j);

			if (!att->attisdropped && strcmp(NameStr(att->attname), r->colnames[i]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("spine \"%s\" already has a column \"%s\"",
								RelationGetRelationName(r->srel), r->colnames[i]),
						 errhint("Rename the feature with \"as\" (drop and re-create feature view \"%s\") or the spine column.",
								 fv->name)));
		}
	}
}

/* Names and expressions the query uses, and the distinct windows. */
static void
ref_prepare(RefQuery *r)
{
	AsofFeatureView *fv = r->fv;
	StringInfoData kb;

	r->src = quote_qualified_identifier(get_namespace_name(get_rel_namespace(fv->source)),
										get_rel_name(fv->source));
	r->spine_name = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(r->srel)),
											   RelationGetRelationName(r->srel));
	r->spine_name = asof_guard_reference_spine(fv->source, r->spine_name);	/* G5 */
	r->te = psprintf("(%s)", fv->event_time);
	r->ta = fv->available_time ? psprintf("(%s)", fv->available_time) : r->te;

	initStringInfo(&kb);
	for (int i = 0; i < fv->nkeys; i++)
		appendStringInfo(&kb, "asof_r.%s = asof_g.asof_key%d%s AND ",
						 quote_identifier(fv->key_names[i]), i + 1,
						 key_collate(fv, i, r->spine_colls));
	r->keys = kb.data;

	r->windows = palloc(sizeof(int64) * fv->nfeatures);
	for (int i = 0; i < fv->nfeatures; i++)
	{
		AsofFeature *f = &fv->features[i];
		bool		seen = false;

		if (f->agg == ASOF_AGG_LAST || f->agg == ASOF_AGG_LAST_NONNULL)
			continue;
		r->any_window = true;
		for (int j = 0; j < r->nwindows; j++)
			seen = seen || r->windows[j] == f->window_us;
		if (!seen)
			r->windows[r->nwindows++] = f->window_us;
	}
}

/*
 * The outer query: every spine row with its features, joined from asof_v
 * by (entity, k).  Every spine row of the same entity and the same k(t)
 * sees the same rows: the features are computed once per distinct
 * (entity, k) in asof_v, then joined back to the spine rows (the TTL still
 * uses each row's own t).
 */
static void
ref_write_select(RefQuery *r)
{
	AsofFeatureView *fv = r->fv;
	StringInfo	q = &r->q;

	appendStringInfo(q, "SELECT s.*");
	for (int i = 0; i < fv->nfeatures; i++)
	{
		AsofFeature *f = &fv->features[i];
		const char *col = quote_identifier(r->colnames[i]);

		if (f->agg == ASOF_AGG_LAST || f->agg == ASOF_AGG_LAST_NONNULL)
		{
			if (fv->has_ttl)
				appendStringInfo(q, ",\n       CASE WHEN asof_v.asof_l%d_te >= asof_k.t_minus_ttl THEN asof_v.asof_l%d_v END AS %s",
								 i + 1, i + 1, col);
			else
				appendStringInfo(q, ",\n       asof_v.asof_l%d_v AS %s", i + 1, col);
		}
		else if (f->agg == ASOF_AGG_COUNT || f->agg == ASOF_AGG_COUNT_STAR)
			appendStringInfo(q, ",\n       coalesce(asof_v.asof_f%d, 0) AS %s", i + 1, col);
		else
			appendStringInfo(q, ",\n       asof_v.asof_f%d AS %s", i + 1, col);
	}
	appendStringInfo(q, "\n  FROM %s AS s", r->spine_name);
	append_k_subquery(q, fv, &r->atx, r->T, true);
}

/* asof_g: the distinct (entity, k) of the spine, and k - W per window. */
static void
ref_write_groups(RefQuery *r)
{
	AsofFeatureView *fv = r->fv;
	StringInfo	q = &r->q;
	char	   *minb = psprintf(INT64_FORMAT, (int64) MIN_TIMESTAMP);

	appendStringInfo(q, "\n  LEFT JOIN (SELECT ");
	for (int i = 0; i < fv->nkeys; i++)
		appendStringInfo(q, "asof_g.asof_key%d, ", i + 1);
	appendStringInfo(q, "asof_g.asof_kk");
	for (int i = 0; i < fv->nfeatures; i++)
	{
		AsofFeature *f = &fv->features[i];

		if (f->agg == ASOF_AGG_LAST || f->agg == ASOF_AGG_LAST_NONNULL)
			appendStringInfo(q, ", asof_l%d.v AS asof_l%d_v, asof_l%d.te AS asof_l%d_te",
							 i + 1, i + 1, i + 1, i + 1);
		else
			appendStringInfo(q, ", asof_w.f%d AS asof_f%d", i + 1, i + 1);
	}
	appendStringInfo(q, "\n     FROM (SELECT DISTINCT ");
	for (int i = 0; i < fv->nkeys; i++)
		appendStringInfo(q, "s.%s%s AS asof_key%d, ", quote_identifier(fv->key_names[i]),
						 key_collate(fv, i, r->spine_colls), i + 1);
	appendStringInfo(q, "asof_k.k AS asof_kk, asof_k.k_us AS asof_kus\n             FROM %s AS s", r->spine_name);
	append_k_subquery(q, fv, &r->atx, r->T, false);
	appendStringInfo(q, "\n            WHERE ");
	for (int i = 0; i < fv->nkeys; i++)
		appendStringInfo(q, "s.%s IS NOT NULL AND ", quote_identifier(fv->key_names[i]));
	appendStringInfo(q, "asof_k.k IS NOT NULL) AS asof_g");

	/* window lower bounds k - W, NULL when out of range */
	if (r->nwindows > 0)
	{
		appendStringInfo(q, "\n     -- k - W for every window W (NULL when before the earliest timestamp)");
		appendStringInfo(q, "\n     CROSS JOIN LATERAL (SELECT ");
		for (int j = 0; j < r->nwindows; j++)
			appendStringInfo(q, "%sCASE WHEN asof_g.asof_kus - " INT64_FORMAT " >= %s THEN asof_g.asof_kk - %s END AS lo%d",
							 j ? ",\n                                " : "",
							 r->windows[j], minb, us_interval(r->windows[j]), j + 1);
		appendStringInfo(q, " OFFSET 0) AS asof_b");
	}
}

/* asof_w: every windowed feature in one LATERAL subquery. */
static void
ref_write_windows(RefQuery *r)
{
	AsofFeatureView *fv = r->fv;
	StringInfo	q = &r->q;
	StringInfoData least;

	if (!r->any_window)
		return;
	initStringInfo(&least);
	for (int j = 0; j < r->nwindows; j++)
		appendStringInfo(&least, "%sasof_b.lo%d", j ? ", " : "", j + 1);

	appendStringInfo(q, "\n     -- windowed features: visible rows of the entity with k - W <= te < k");
	appendStringInfo(q, "\n     LEFT JOIN LATERAL (SELECT ");
	for (int i = 0, n = 0; i < fv->nfeatures; i++)
	{
		AsofFeature *f = &fv->features[i];
		char	   *filter = NULL;
		int			w = 0;

		if (f->agg == ASOF_AGG_LAST || f->agg == ASOF_AGG_LAST_NONNULL)
			continue;
		while (r->windows[w] != f->window_us)
			w++;
		if (r->nwindows > 1)
			filter = psprintf("%s >= asof_b.lo%d", r->te, w + 1);
		appendStringInfo(q, "%s%s AS f%d", n++ ? ",\n                               " : "",
						 window_agg_sql(f, f->expr ? psprintf("(%s)", f->expr) : NULL, filter,
										psprintf("%s, %s", r->te, r->ta)),
						 i + 1);
	}
	appendStringInfo(q, "\n                          FROM %s AS asof_r", r->src);
	appendStringInfo(q, "\n                         WHERE %s%s < asof_g.asof_kk AND %s < asof_g.asof_kk AND %s >= %s%s%s) AS asof_w ON true",
					 r->keys, r->ta, r->te, r->te,
					 r->nwindows > 1 ? "LEAST(" : "", least.data,
					 r->nwindows > 1 ? ")" : "");
}

/* asof_lN: per last value, one LATERAL subquery; then the join back. */
static void
ref_write_last_values(RefQuery *r)
{
	AsofFeatureView *fv = r->fv;
	StringInfo	q = &r->q;

	for (int i = 0; i < fv->nfeatures; i++)
	{
		AsofFeature *f = &fv->features[i];
		char	   *x;

		if (f->agg != ASOF_AGG_LAST && f->agg != ASOF_AGG_LAST_NONNULL)
			continue;
		x = psprintf("(%s)", f->expr);
		appendStringInfo(q, "\n     -- %s: the visible row with the greatest te, then ta, then value (NULLs lowest)",
						 quote_identifier(r->colnames[i]));
		appendStringInfo(q, "\n     LEFT JOIN LATERAL (SELECT %s AS v, %s AS te FROM %s AS asof_r", x, r->te, r->src);
		appendStringInfo(q, "\n                         WHERE %s%s < asof_g.asof_kk AND %s < asof_g.asof_kk%s%s%s",
						 r->keys, r->ta, r->te,
						 f->agg == ASOF_AGG_LAST_NONNULL ? " AND " : "",
						 f->agg == ASOF_AGG_LAST_NONNULL ? x : "",
						 f->agg == ASOF_AGG_LAST_NONNULL ? " IS NOT NULL" : "");
		appendStringInfo(q, "\n                         ORDER BY %s DESC, %s DESC, %s DESC NULLS LAST LIMIT 1) AS asof_l%d ON true",
						 r->te, r->ta, x, i + 1);
	}
	appendStringInfo(q, ") AS asof_v\n    ON ");
	for (int i = 0; i < fv->nkeys; i++)
		appendStringInfo(q, "asof_v.asof_key%d = s.%s%s AND ", i + 1,
						 quote_identifier(fv->key_names[i]), key_collate(fv, i, r->spine_colls));
	appendStringInfo(q, "asof_v.asof_kk = asof_k.k");
}

/*
 * The query as it is returned: as written when every expression is
 * immutable; else wrapped in asof.run_in_utc(), since a stable expression
 * may depend on TimeZone and the contract evaluates every expression with
 * TimeZone = UTC.
 */
static char *
ref_finish(RefQuery *r)
{
	AsofFeatureView *fv = r->fv;
	TupleDesc	sdesc = RelationGetDescr(r->srel);
	StringInfoData cols;

	if (fv->immutable_exprs && r->atx.immutable &&
		!asof_relation_depends_on_session(fv->source) &&
		!asof_relation_depends_on_session(RelationGetRelid(r->srel)))
		return r->q.data;

	initStringInfo(&cols);
	for (int j = 0; j < sdesc->natts; j++)
	{
		Form_pg_attribute att = TupleDescAttr(sdesc, j);

		if (att->attisdropped)
			continue;
		appendStringInfo(&cols, "%s%s %s", cols.len ? ", " : "",
						 quote_identifier(NameStr(att->attname)),
						 format_type_with_typemod(att->atttypid, att->atttypmod));
	}
	for (int i = 0; i < fv->nfeatures; i++)
	{
		AsofFeature *f = &fv->features[i];
		bool		input_typed = (f->agg == ASOF_AGG_MIN || f->agg == ASOF_AGG_MAX ||
								   f->agg == ASOF_AGG_LAST || f->agg == ASOF_AGG_LAST_NONNULL);

		appendStringInfo(&cols, ", %s %s", quote_identifier(r->colnames[i]),
						 input_typed ? format_type_with_typemod(f->input_type, f->input_typmod) :
						 format_type_be(f->result_type));
	}
	return psprintf("-- an expression of the feature view or the prediction time depends on TimeZone: evaluated with TimeZone = UTC\nSELECT * FROM asof.run_in_utc(%s) AS asof_q(%s)",
					quote_literal_cstr(r->q.data), cols.data);
}

PG_FUNCTION_INFO_V1(asof_feature_view_sql);

/*
 * asof.feature_view_sql(feature_view text, spine regclass, at text) -> text:
 * check the spine, then write the query part by part.
 */
Datum
asof_feature_view_sql(PG_FUNCTION_ARGS)
{
	RefQuery	r = {0};
	char	   *sql;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("feature_view, spine and at cannot be null")));
	r.fv = asof_load_feature_view(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	r.T = format_type_be(r.fv->time_type);
	r.at = text_to_cstring(PG_GETARG_TEXT_PP(2));
	r.srel = relation_open(PG_GETARG_OID(1), AccessShareLock);

	ref_check_spine(&r);
	ref_name_columns(&r);
	ref_prepare(&r);

	initStringInfo(&r.q);
	ref_write_select(&r);
	ref_write_groups(&r);
	ref_write_windows(&r);
	ref_write_last_values(&r);
	sql = ref_finish(&r);

	relation_close(r.srel, NoLock);
	PG_RETURN_TEXT_P(cstring_to_text(sql));
}
