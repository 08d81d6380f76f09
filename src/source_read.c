/*-------------------------------------------------------------------------
 *
 * source_read.c
 *	  Bounded reads of a feature view's source: which event-time range and
 *	  which entities a set of answers needs, and the query that reads only
 *	  those rows (interface and the reasoning behind each bound in
 *	  source_read.h; docs/engine.md, "Bounded reads").
 *
 *	  Owns: the bounds, the lookup of the last visible rows before each
 *	  entity's first effective time, the bounded SQL, the check for an
 *	  index on (entity columns, event time) and the NOTICE naming it.
 *	  Must not: run the bounded query (engine.c does, under the guard's
 *	  rules), sort or merge.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/transam.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "storage/bufmgr.h"
#include "tcop/dest.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "engine.h"
#include "schedule.h"
#include "source_read.h"

/*
 * A source at least this large (in 8 kB blocks, 8 MB) read without an index
 * on (entity, event time) gets a NOTICE naming the index: below it a
 * sequential scan costs about as little as an index.
 */
#define INDEX_HINT_MIN_BLOCKS 1024

/*
 * Reads by entity (source_read.h) when the range holds at most this share
 * of the source's rows: beyond it, one scan of the whole range and a sort
 * cost less than index scans that visit most of the table.
 */
#define READ_BY_ENTITY_MAX_FRACTION 0.25

/*
 * ... and when the range holds at least this many rows per entity of the
 * spine: below it the cost of a query per entity (executor start and end,
 * about as much as reading a few dozen rows) outweighs the sort it saves
 * (a spine of many entities with few rows each).
 */
#define READ_BY_ENTITY_MIN_ROWS 64

/*
 * A read that keeps at least this share of the source's rows by event time
 * and asks for at least half of its entities (the key column's n_distinct)
 * is a sequential read whatever its filter: `key = ANY ($n)` would only
 * cost a search per row (about 1 s per 3M rows for 229 text keys), and the
 * engine drops rows of other entities by its hash lookup anyway.
 */
#define ALL_ENTITIES_MIN_FRACTION 0.25

/* asof_source_read_plan names a missing index (source_read.h) */
bool		asof_source_read_notices = true;

/* The alias of the per-entity bounds in the lookup query. */
#define BOUNDS_ALIAS "asof_read_bounds"

/* What the view needs from its source, derived from its features. */
typedef struct Needs
{
	bool		windows;		/* some window feature */
	int64		wmax;			/* the longest window */
	bool		last;			/* some last/last_nonnull feature */
	int			nlast_conds;	/* distinct conditions of last features */
	const char **last_conds;	/* NULL: any row (last); else the input */
} Needs;

static void
view_needs(const AsofFeatureView *v, Needs *n)
{
	memset(n, 0, sizeof(*n));
	n->last_conds = palloc(sizeof(char *) * Max(v->nfeatures, 1));
	for (int i = 0; i < v->nfeatures; i++)
	{
		const AsofFeature *f = &v->features[i];
		const char *cond;
		bool		seen = false;

		if (f->agg != ASOF_AGG_LAST && f->agg != ASOF_AGG_LAST_NONNULL)
		{
			n->windows = true;
			n->wmax = Max(n->wmax, f->window_us);
			continue;
		}
		n->last = true;
		cond = f->agg == ASOF_AGG_LAST ? NULL : f->expr;
		for (int j = 0; j < n->nlast_conds; j++)
			if ((cond == NULL && n->last_conds[j] == NULL) ||
				(cond && n->last_conds[j] && strcmp(cond, n->last_conds[j]) == 0))
				seen = true;
		if (!seen)
			n->last_conds[n->nlast_conds++] = cond;
	}
}

AttrNumber
asof_column_of(Oid relid, const char *expr)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	AttrNumber	found = InvalidAttrNumber;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);

		if (a->attisdropped)
			continue;
		if (strcmp(expr, NameStr(a->attname)) == 0 ||
			strcmp(expr, quote_identifier(NameStr(a->attname))) == 0)
			found = a->attnum;
	}
	relation_close(rel, AccessShareLock);
	return found;
}

/*
 * Is there a valid btree index on the source whose leading columns are the
 * entity columns (in any order) followed by the event time column?
 * Returns false for sources that have no indexes of their own (views) and
 * event times that are expressions.
 */
static bool
has_entity_time_index(const AsofFeatureView *v)
{
	AttrNumber	te = asof_column_of(v->source, v->event_time);
	AttrNumber *keys = palloc(sizeof(AttrNumber) * v->nkeys);
	Relation	rel;
	List	   *indexes;
	ListCell   *lc;
	bool		found = false;

	if (te == InvalidAttrNumber)
		return false;
	for (int i = 0; i < v->nkeys; i++)
		if ((keys[i] = asof_column_of(v->source, quote_identifier(v->key_names[i]))) == InvalidAttrNumber)
			return false;
	rel = relation_open(v->source, AccessShareLock);
	indexes = RelationGetIndexList(rel);
	relation_close(rel, AccessShareLock);
	foreach(lc, indexes)
	{
		Oid			indexoid = lfirst_oid(lc);
		HeapTuple	itup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
		HeapTuple	ctup;
		Form_pg_index ind;
		bool		ok;

		if (!HeapTupleIsValid(itup))
			continue;
		ind = (Form_pg_index) GETSTRUCT(itup);
		ok = ind->indisvalid && ind->indnkeyatts > v->nkeys &&
			ind->indkey.values[v->nkeys] == te;
		for (int i = 0; ok && i < v->nkeys; i++)
		{
			bool		in = false;

			for (int j = 0; j < v->nkeys; j++)
				in |= ind->indkey.values[j] == keys[i];
			ok = in;
		}
		ReleaseSysCache(itup);
		if (!ok)
			continue;
		ctup = SearchSysCache1(RELOID, ObjectIdGetDatum(indexoid));
		if (HeapTupleIsValid(ctup))
		{
			found |= ((Form_pg_class) GETSTRUCT(ctup))->relam == BTREE_AM_OID;
			ReleaseSysCache(ctup);
		}
	}
	return found;
}

/* The source's size in blocks when it is a table or materialized view, else 0. */
static BlockNumber
source_blocks(Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	BlockNumber n = 0;

	if (rel->rd_rel->relkind == RELKIND_RELATION || rel->rd_rel->relkind == RELKIND_MATVIEW)
		n = RelationGetNumberOfBlocks(rel);
	relation_close(rel, AccessShareLock);
	return n;
}

/*
 * "OPERATOR(schema.=)" for the equality the engine hashes keys of this type
 * with; *builtin false when its function is user code (the guard's
 * exemption of the engine's read must not run user code on held-out rows).
 */
static char *
key_equality(Oid type, bool *builtin)
{
	TypeCacheEntry *tc = lookup_type_cache(type, TYPECACHE_EQ_OPR);
	HeapTuple	tp;
	Form_pg_operator op;
	char	   *out;

	tp = SearchSysCache1(OPEROID, ObjectIdGetDatum(tc->eq_opr));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for operator %u", tc->eq_opr);
	op = (Form_pg_operator) GETSTRUCT(tp);
	*builtin = tc->eq_opr < FirstNormalObjectId && op->oprcode < FirstNormalObjectId;
	out = psprintf("OPERATOR(%s.%s)", quote_identifier(get_namespace_name(op->oprnamespace)),
				   NameStr(op->oprname));
	ReleaseSysCache(tp);
	return out;
}

static void
set_param(ParamListInfo p, int i, Datum value, Oid type)
{
	p->params[i].value = value;
	p->params[i].isnull = false;
	p->params[i].pflags = PARAM_FLAG_CONST;
	p->params[i].ptype = type;
}

/* An array of one key column's values over the entities. */
static Datum
key_array(const AsofFeatureView *v, const AsofSourceRange *r, int key)
{
	Datum	   *elems = palloc(sizeof(Datum) * r->nentities);
	int16		typlen;
	bool		typbyval;
	char		typalign;

	for (int i = 0; i < r->nentities; i++)
		elems[i] = r->keys[i * v->nkeys + key];
	get_typlenbyvalalign(v->key_types[key], &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_array(elems, r->nentities, v->key_types[key],
										   typlen, typbyval, typalign));
}

/* ----------------------------------------------------------------------
 * The lookup of L (source_read.h)
 * ----------------------------------------------------------------------
 */
typedef struct ValueReceiver
{
	DestReceiver pub;
	bool		isnull;
	int64		value;
} ValueReceiver;

static bool
value_receive(TupleTableSlot *slot, DestReceiver *self)
{
	ValueReceiver *r = (ValueReceiver *) self;

	slot_getallattrs(slot);
	r->isnull = slot->tts_isnull[0];
	if (!r->isnull)
		r->value = DatumGetInt64(slot->tts_values[0]);
	return true;
}

static void
value_startup(DestReceiver *self, int operation, TupleDesc desc)
{
}

static void
value_noop(DestReceiver *self)
{
}

/* "k1 = b.k1 AND ..." against the bounds' alias */
static void
append_key_match(StringInfo sql, const AsofFeatureView *v, char **eqs)
{
	for (int i = 0; i < v->nkeys; i++)
		appendStringInfo(sql, "%s%s %s " BOUNDS_ALIAS ".k%d", i ? " AND " : "",
						 quote_identifier(v->key_names[i]), eqs[i], i + 1);
}

/*
 * The smallest event time of the last visible rows before each entity's
 * kfirst, over every last feature (source_read.h); false when there is no
 * finite answer (then no lower bound).
 */
static bool
lookup_last_bound(const AsofFeatureView *v, const Needs *n, const AsofSourceRange *r,
				  char **eqs, Oid *arraytypes, bool read_only, int64 *bound)
{
	StringInfoData sql;
	ParamListInfo params = makeParamList(v->nkeys + 1);
	char	   *rel = quote_qualified_identifier(get_namespace_name(get_rel_namespace(v->source)),
												 get_rel_name(v->source));
	const char *ta = v->available_time ? v->available_time : v->event_time;
	Datum	   *kf = palloc(sizeof(Datum) * r->nentities);
	ValueReceiver recv;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT pg_catalog.min(LEAST(");
	for (int c = 0; c < n->nlast_conds; c++)
	{
		appendStringInfo(&sql, "%sCOALESCE((SELECT pg_catalog.max((%s)) FROM %s WHERE ",
						 c ? ", " : "", v->event_time, rel);
		append_key_match(&sql, v, eqs);
		appendStringInfo(&sql, " AND (%s) OPERATOR(pg_catalog.<) " BOUNDS_ALIAS ".kf"
						 " AND (%s) OPERATOR(pg_catalog.<) " BOUNDS_ALIAS ".kf",
						 v->event_time, ta);
		if (n->last_conds[c])
			appendStringInfo(&sql, " AND (%s) IS NOT NULL", n->last_conds[c]);
		appendStringInfo(&sql, "), (SELECT pg_catalog.min((%s)) FROM %s WHERE ",
						 v->event_time, rel);
		append_key_match(&sql, v, eqs);
		appendStringInfo(&sql, " AND (%s) OPERATOR(pg_catalog.<) " BOUNDS_ALIAS ".kf), "
						 BOUNDS_ALIAS ".kf)", v->event_time);
	}
	appendStringInfoString(&sql, ")) FROM ROWS FROM (");
	for (int i = 0; i <= v->nkeys; i++)
		appendStringInfo(&sql, "%spg_catalog.unnest($%d)", i ? ", " : "", i + 1);
	appendStringInfoString(&sql, ") AS " BOUNDS_ALIAS "(");
	for (int i = 0; i < v->nkeys; i++)
		appendStringInfo(&sql, "k%d, ", i + 1);
	appendStringInfoString(&sql, "kf)");

	for (int i = 0; i < v->nkeys; i++)
		set_param(params, i, key_array(v, r, i), arraytypes[i]);
	for (int i = 0; i < r->nentities; i++)
		kf[i] = Int64GetDatum(r->kfirst[i]);
	set_param(params, v->nkeys,
			  PointerGetDatum(construct_array(kf, r->nentities, v->time_type, 8,
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)),
			  get_array_type(v->time_type));

	memset(&recv, 0, sizeof(recv));
	recv.pub.receiveSlot = value_receive;
	recv.pub.rStartup = value_startup;
	recv.pub.rShutdown = value_noop;
	recv.pub.rDestroy = value_noop;
	recv.pub.mydest = DestNone;
	recv.isnull = true;
	asof_engine_run_query(sql.data, params, read_only, true, &recv.pub);
	if (recv.isnull || TIMESTAMP_NOT_FINITE(recv.value))
		return false;
	*bound = recv.value;
	return true;
}

/* The source's estimated rows (pg_class.reltuples), 0 when unknown. */
static double
source_tuples(Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	double		n = rel->rd_rel->reltuples;

	relation_close(rel, AccessShareLock);
	return n > 0 ? n : 0;
}

/*
 * Does the range ask for at least half of the source's entities?  From the
 * statistics of a single key column (n_distinct); false when unknown.
 */
static bool
asks_most_entities(const AsofFeatureView *v, const AsofSourceRange *r)
{
	AttrNumber	key;
	HeapTuple	st;
	double		nd;

	if (v->nkeys != 1 ||
		(key = asof_column_of(v->source, quote_identifier(v->key_names[0]))) == InvalidAttrNumber)
		return false;
	st = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(v->source),
						 Int16GetDatum(key), BoolGetDatum(false));
	if (!HeapTupleIsValid(st))
		return false;
	nd = ((Form_pg_statistic) GETSTRUCT(st))->stadistinct;
	ReleaseSysCache(st);
	if (nd < 0)
		nd = -nd * source_tuples(v->source);
	return nd > 0 && 2.0 * r->nentities >= nd;
}

/*
 * The share of the source's rows with event time in [lo, hi), from the
 * histogram of the event time column (ANALYZE); -1 when there is none (an
 * expression, no statistics).
 */
double
asof_source_range_fraction(const AsofFeatureView *v, bool has_lo, int64 lo, int64 hi)
{
	AttrNumber	te = asof_column_of(v->source, v->event_time);
	HeapTuple	st;
	AttStatsSlot sslot;
	double		fraction = -1;

	if (te == InvalidAttrNumber)
		return -1;
	st = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(v->source),
						 Int16GetDatum(te), BoolGetDatum(false));
	if (!HeapTupleIsValid(st))
		st = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(v->source),
							 Int16GetDatum(te), BoolGetDatum(true));
	if (!HeapTupleIsValid(st))
		return -1;
	if (get_attstatsslot(&sslot, st, STATISTIC_KIND_HISTOGRAM, InvalidOid,
						 ATTSTATSSLOT_VALUES))
	{
		int			in = 0;

		/* bounds inside the range, over the buckets (one more each side) */
		for (int i = 0; i < sslot.nvalues; i++)
		{
			int64		x = DatumGetInt64(sslot.values[i]);

			if ((!has_lo || x >= lo) && x < hi)
				in++;
		}
		if (sslot.nvalues >= 2)
			fraction = Min(1.0, (double) (in + 1) / (double) (sslot.nvalues - 1));
		free_attstatsslot(&sslot);
	}
	ReleaseSysCache(st);
	return fraction;
}

/* The query of one entity (source_read.h), ordered by event time. */
static void
entity_query(const AsofFeatureView *v, int ninputs, char **inputs, char **eqs,
			 AsofSourceRead *p)
{
	StringInfoData sql;
	int			nk = v->nkeys;

	initStringInfo(&sql);
	appendStringInfoString(&sql, asof_engine_source_sql(v, ninputs, inputs, false));
	p->entity_types = palloc(sizeof(Oid) * (nk + 2));
	for (int i = 0; i < nk; i++)
	{
		appendStringInfo(&sql, "%s %s %s $%d", i ? " AND" : " WHERE",
						 quote_identifier(v->key_names[i]), eqs[i], i + 1);
		p->entity_types[i] = v->key_types[i];
	}
	appendStringInfo(&sql, " AND (%s) OPERATOR(pg_catalog.<) $%d"
					 " AND (%s) OPERATOR(pg_catalog.>=) $%d ORDER BY (%s)",
					 v->event_time, nk + 1, v->event_time, nk + 2, v->event_time);
	p->entity_types[nk] = v->time_type;
	p->entity_types[nk + 1] = v->time_type;
	p->entity_sql = sql.data;
}

void
asof_source_read_entity(const AsofFeatureView *v, const AsofSourceRead *p,
						const AsofSourceRange *r, int i, ParamListInfo params)
{
	int			nk = v->nkeys;
	bool		has_lo = p->has_lo;
	int64		lo = PG_INT64_MAX;
	int64		x;

	for (int j = 0; j < nk; j++)
		set_param(params, j, r->keys[i * nk + j], v->key_types[j]);
	set_param(params, nk, Int64GetDatum(r->klast[i]), v->time_type);
	if (has_lo && p->windows)
	{
		if (asof_time_minus(r->kfirst[i], p->wmax, &x))
			lo = Min(lo, x);
		else
			has_lo = false;
	}
	if (has_lo && p->last_ttl)
	{
		if (asof_time_minus(r->tfirst[i], p->ttl, &x))
			lo = Min(lo, x);
		else
			has_lo = false;
	}
	if (has_lo && p->last_lookup)
		lo = Min(lo, p->lo);
	/* -infinity: every finite event time is >= it (NULL ones never match) */
	set_param(params, nk + 1, Int64GetDatum(has_lo ? lo : DT_NOBEGIN), v->time_type);
	params->numParams = nk + 2;
}

/* ----------------------------------------------------------------------
 * The plan
 * ----------------------------------------------------------------------
 */
static void
index_notice(const AsofFeatureView *v, const AsofSourceRead *p)
{
	StringInfoData cols;
	char	   *rel = quote_qualified_identifier(get_namespace_name(get_rel_namespace(v->source)),
												 get_rel_name(v->source));
	PGFunction	out = v->time_type == TIMESTAMPTZOID ? timestamptz_out : timestamp_out;

	initStringInfo(&cols);
	for (int i = 0; i < v->nkeys; i++)
		appendStringInfo(&cols, "%s, ", quote_identifier(v->key_names[i]));
	appendStringInfoString(&cols, v->event_time);
	ereport(NOTICE,
			(errmsg("feature view \"%s\" reads source %s without an index on its entity and event time",
					v->name, rel),
			 errdetail("Only source rows with event times from %s to %s are needed, but without such an index the whole table is scanned.",
					   p->has_lo ? DatumGetCString(DirectFunctionCall1(out, Int64GetDatum(p->lo))) : "-infinity",
					   DatumGetCString(DirectFunctionCall1(out, Int64GetDatum(p->hi)))),
			 errhint("Create one with CREATE INDEX ON %s (%s).", rel, cols.data)));
}

AsofSourceRead *
asof_source_read_plan(const AsofFeatureView *v, int ninputs, char **inputs,
					  const AsofSourceRange *r, bool read_only)
{
	AsofSourceRead *p = palloc0(sizeof(AsofSourceRead));
	Needs		n;
	char	  **eqs = palloc(sizeof(char *) * v->nkeys);
	Oid		   *arraytypes = palloc(sizeof(Oid) * v->nkeys);
	bool		keys_ok = true;
	StringInfoData sql;
	int			nparams = 0;

	/* phase 1: what the features need, which index and operators exist */
	view_needs(v, &n);
	p->has_index = has_entity_time_index(v);
	for (int i = 0; i < v->nkeys; i++)
	{
		bool		builtin;

		eqs[i] = key_equality(v->key_types[i], &builtin);
		arraytypes[i] = get_array_type(v->key_types[i]);
		keys_ok &= builtin && OidIsValid(arraytypes[i]);
	}

	/* phase 2: the event-time range [lo, hi) */
	p->hi = r->kmax;
	p->has_lo = true;
	p->lo = PG_INT64_MAX;
	if (n.windows)
	{
		int64		lo;

		if (asof_time_minus(r->kmin, n.wmax, &lo))
			p->lo = Min(p->lo, lo);
		else
			p->has_lo = false;
	}
	if (n.last && v->has_ttl)
	{
		int64		lo;

		if (asof_time_minus(r->tmin, v->ttl_us, &lo))
			p->lo = Min(p->lo, lo);
		else
			p->has_lo = false;
	}
	if (n.last && !v->has_ttl)
	{
		int64		lo;

		if (p->has_lo && p->has_index && keys_ok && !r->no_lookup &&
			lookup_last_bound(v, &n, r, eqs, arraytypes, read_only, &lo))
			p->lo = Min(p->lo, lo);
		else
			p->has_lo = false;
	}
	p->windows = n.windows;
	p->wmax = n.wmax;
	p->last_ttl = n.last && v->has_ttl;
	p->ttl = v->ttl_us;
	p->last_lookup = n.last && !v->has_ttl;

	/* reads by entity: a small share of the source, through the index */
	p->fraction = asof_source_range_fraction(v, p->has_lo, p->lo, p->hi);
	if (keys_ok && r->klast && r->tfirst &&
		(asof_engine_read_by_entity == ASOF_READ_BY_ENTITY_ON ||
		 (asof_engine_read_by_entity == ASOF_READ_BY_ENTITY_AUTO && p->has_index &&
		  p->fraction >= 0 && p->fraction <= READ_BY_ENTITY_MAX_FRACTION &&
		  p->fraction * source_tuples(v->source) >=
		  (double) READ_BY_ENTITY_MIN_ROWS * r->nentities)))
		entity_query(v, ninputs, inputs, eqs, p);

	/* phase 3: the query */
	p->by_entity = keys_ok && (r->nentities == 1 || v->nkeys == 1) &&
		!(r->nentities > 1 && p->fraction >= ALL_ENTITIES_MIN_FRACTION &&
		  asks_most_entities(v, r));
	p->params = makeParamList(2 + v->nkeys);
	initStringInfo(&sql);
	appendStringInfoString(&sql, asof_engine_source_sql(v, ninputs, inputs, false));
	set_param(p->params, nparams++, Int64GetDatum(p->hi), v->time_type);
	appendStringInfo(&sql, " WHERE (%s) OPERATOR(pg_catalog.<) $%d", v->event_time, nparams);
	if (p->has_lo)
	{
		set_param(p->params, nparams++, Int64GetDatum(p->lo), v->time_type);
		appendStringInfo(&sql, " AND (%s) OPERATOR(pg_catalog.>=) $%d", v->event_time, nparams);
	}
	if (p->by_entity && r->nentities == 1)
	{
		for (int i = 0; i < v->nkeys; i++)
		{
			set_param(p->params, nparams++, r->keys[i], v->key_types[i]);
			appendStringInfo(&sql, " AND %s %s $%d", quote_identifier(v->key_names[i]),
							 eqs[i], nparams);
		}
	}
	else if (p->by_entity)
	{
		set_param(p->params, nparams++, key_array(v, r, 0), arraytypes[0]);
		appendStringInfo(&sql, " AND %s %s ANY ($%d)", quote_identifier(v->key_names[0]),
						 eqs[0], nparams);
	}
	p->params->numParams = nparams;
	p->sql = sql.data;

	/* phase 4: name the index that would help (once per view and build) */
	if (asof_source_read_notices && !p->has_index && (p->has_lo || p->by_entity) &&
		asof_column_of(v->source, v->event_time) != InvalidAttrNumber &&
		source_blocks(v->source) >= INDEX_HINT_MIN_BLOCKS)
		index_notice(v, p);
	return p;
}
