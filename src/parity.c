/*-------------------------------------------------------------------------
 *
 * parity.c
 *	  asof.parity_values: the per-value comparison under the parity report
 *	  (docs/online.md, "Parity report").  For every request of a feature
 *	  view's serving log whose served_at is in [since, until), recomputes
 *	  offline, through the engine (the code of asof.build_training_set and
 *	  asof.features_at), on the source as it is now, what the request should
 *	  have been served, and compares it with what the log says was served.
 *
 *	  A request served from the tick k(at) (not stale) is a spine row
 *	  (entity, t = at): the engine gives it the value as of k(at), with the
 *	  TTL against "at", exactly what serving does.  A request served from an
 *	  older tick (stale: the job had not published k(at)) is not
 *	  recomputed: it is returned with stale = true and no offline value,
 *	  so staleness is never counted as a data mismatch.
 *
 *	  The leakage guard: the log is protected like the online table (time
 *	  column tick), so a role the guard applies to sees no logged request of
 *	  a held-out tick; rather than a report silently missing them, such a
 *	  role is refused (42501) a range of served_at that reaches the split of
 *	  a protected table the source reads, any visible request whose k(at)
 *	  is at or after it, and any call in a transaction that unsealed a
 *	  table (the report is production monitoring, never an opening of the
 *	  test set).  Everything else is read with the caller's privileges and
 *	  under the guard's hooks, as any query of the caller.
 *
 *	  Owns: finding the log, the guard's checks of a report, reading the
 *	  log, the spine of the engine, comparing values (float tolerance).
 *	  Must not: compute features (engine.c does), aggregate the report or
 *	  explain mismatches (sql/72_parity.sql does, over this function).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/regproc.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "engine.h"
#include "feature_view.h"
#include "guard.h"
#include "guard_registry.h"
#include "online.h"
#include "schedule.h"

PG_FUNCTION_INFO_V1(asof_parity_values);

/* relative tolerance of features of floating-point inputs (docs/online.md) */
#define PARITY_FLOAT_TOLERANCE 1e-9

/* columns of a logged request kept between reading the log and comparing */
enum
{
	R_SERVED_AT,
	R_ENTITY,
	R_AT,
	R_TICK,
	R_FEATURES,
	R_STALE,
	R_NCOLS
};

/* output columns (sql/72_parity.sql) */
enum
{
	O_SERVED_AT,
	O_ENTITY,
	O_AT,
	O_TICK,
	O_STALE,
	O_FEATURE,
	O_NUMERIC,
	O_SERVED,
	O_OFFLINE,
	O_EQUAL,
	O_ABS_DIFF,
	O_ABS_SUM,
	O_NCOLS
};

/*
 * The serving log of a view (asof.online_tables.log_table, created with
 * the online table by asof.materialize).  SPI is connected.
 */
static Oid
find_log_table(const char *name)
{
	Datum		arg = CStringGetTextDatum(name);
	Datum		d;
	bool		isnull;

	if (SPI_execute_with_args("SELECT o.log_table::pg_catalog.oid FROM asof.online_tables o "
							  "WHERE o.feature_view OPERATOR(pg_catalog.=) $1",
							  1, (Oid[]) {TEXTOID}, &arg, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read asof.online_tables");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("feature view \"%s\" has no online table yet", name),
				 errdetail("The parity report compares what was served from the online table with the engine."),
				 errhint("Materialize it with asof.materialize(%s), and serve it with asof.log_serving = on.",
						 quote_literal_cstr(name))));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		elog(ERROR, "feature view \"%s\" has no serving log in asof.online_tables", name);
	return DatumGetObjectId(d);
}

/*
 * The guard's checks before anything is read (see the header): the cutoff
 * of the source's protected tables when the guard applies, for the checks
 * of each request.
 */
static bool
guard_before_read(const AsofFeatureView *v, bool has_until, TimestampTz until,
				  int64 *cutoff)
{
	bool		exempt;
	int64		sealed_from;

	if (!asof_guard_active())
		return false;
	if (asof_guard_any_unsealed())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("parity report of feature view \"%s\" refused in a transaction that unsealed a protected table", v->name),
				 errdetail("The parity report is production monitoring; an opening of the test set with asof.unseal is an evaluation, not a way to run it."),
				 errhint("Run it in another transaction, or as the serving or monitoring role (asof.guard = off).")));
	if (!asof_guard_source_rules(v->source, v->event_time, "", cutoff, &exempt, &sealed_from))
		return false;
	if (!has_until || until > *cutoff)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("parity report of feature view \"%s\" over requests served at or after %s would read the held-out period of a protected table",
						v->name, asof_time_text(*cutoff, true)),
				 errdetail("Requests served from the split on are served from held-out ticks, hidden from roles the leakage guard applies to."),
				 errhint("Pass until => at most %s, or run the report as the serving or monitoring role (asof.guard = off).",
						 asof_time_text(*cutoff, true))));
	return true;
}

static void
refuse_heldout_request(const AsofFeatureView *v, int64 cutoff)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("parity report of feature view \"%s\" includes requests whose features are in the held-out period of a protected table", v->name),
			 errdetail("A logged request in the range has a prediction time whose effective time is at or after the split (%s).",
					   asof_time_text(cutoff, v->time_type == TIMESTAMPTZOID)),
			 errhint("Pass an earlier until, or run the report as the serving or monitoring role (asof.guard = off).")));
}

/* to_jsonb of values of one type, as asof.features_at builds its object */
static void
value_jsonb_init(FmgrInfo *fi, Oid type)
{
	fmgr_info(F_TO_JSONB, fi);
	fi->fn_expr = (Node *) makeFuncExpr(F_TO_JSONB, JSONBOID,
										list_make1(makeNullConst(type, -1, InvalidOid)),
										InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
}

/* a key of a jsonb object, NULL when absent; JSON null is returned as is */
static Jsonb *
jsonb_key(Jsonb *obj, const char *key)
{
	JsonbValue	k;
	JsonbValue *found;

	if (obj == NULL || !JB_ROOT_IS_OBJECT(obj))
		return NULL;
	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	found = findJsonbValueFromContainer(&obj->root, JB_FOBJECT, &k);
	if (found == NULL)
		return NULL;
	return JsonbValueToJsonb(found);
}

static bool
jsonb_is_null(Jsonb *j)
{
	JsonbValue	v;

	if (j == NULL)
		return true;
	return JsonbExtractScalar(&j->root, &v) && v.type == jbvNull;
}

/* a JSON number as float8; false for anything else */
static bool
jsonb_number(Jsonb *j, double *d)
{
	JsonbValue	v;

	if (j == NULL || !JsonbExtractScalar(&j->root, &v) || v.type != jbvNumeric)
		return false;
	*d = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
											NumericGetDatum(v.val.numeric)));
	return true;
}

static bool
is_float_type(Oid t)
{
	return t == FLOAT4OID || t == FLOAT8OID;
}

static bool
is_numeric_type(Oid t)
{
	return t == INT2OID || t == INT4OID || t == INT8OID || t == NUMERICOID ||
		is_float_type(t);
}

/*
 * Compare one served value with the offline one: both NULL are equal, one
 * NULL is a mismatch; features of floating-point inputs (where the
 * contract allows running sums over different spines to differ in the last
 * bits) are equal within 1e-9 of their magnitude (at least 1); everything
 * else is equal as jsonb (numbers by value), so features of integer and
 * numeric inputs must be identical (avg, stddev and var of them too, which
 * are the exact value rounded once).  For numeric features, |a - b| and
 * |a| + |b| of two numbers.
 */
static bool
compare_values(Jsonb *served, Jsonb *offline, Oid type, bool tolerant,
			   bool *has_diff, double *abs_diff, double *abs_sum)
{
	bool		sn = jsonb_is_null(served);
	bool		on = jsonb_is_null(offline);
	double		a,
				b;

	*has_diff = false;
	if (sn || on)
		return sn && on;
	if (is_numeric_type(type) && jsonb_number(served, &a) && jsonb_number(offline, &b))
	{
		*has_diff = true;
		*abs_diff = fabs(a - b);
		*abs_sum = fabs(a) + fabs(b);
		if (tolerant)
			return a == b ||
				*abs_diff <= PARITY_FLOAT_TOLERANCE * Max(1.0, Max(fabs(a), fabs(b)));
	}
	return DatumGetBool(DirectFunctionCall2(jsonb_eq, JsonbPGetDatum(served),
											JsonbPGetDatum(offline)));
}

/*
 * asof.parity_values(feature_view text, since timestamptz, until
 * timestamptz) -> setof (served_at, entity, at, tick, stale, feature,
 * numeric, served, offline, equal, abs_diff, abs_sum): one row per logged
 * request in the range and feature of the view, in the order of served_at,
 * at, entity, then the view's feature order.
 */
Datum
asof_parity_values(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *name;
	AsofFeatureView *v;
	AsofSchedule sched;
	bool		has_since = !PG_ARGISNULL(1);
	bool		has_until = !PG_ARGISNULL(2);
	TimestampTz since = has_since ? PG_GETARG_TIMESTAMPTZ(1) : 0;
	TimestampTz until = has_until ? PG_GETARG_TIMESTAMPTZ(2) : 0;
	int64		cutoff = 0;
	bool		guarded;
	Oid			log;
	char	   *logname;
	MemoryContext per_query;
	MemoryContext old;
	Tuplestorestate *reqs;
	TupleDesc	reqdesc;
	TupleTableSlot *reqslot;
	Tuplestorestate *out;
	TupleDesc	outdesc;
	AsofEngine *e = NULL;
	int64		nreq = 0;
	int64		ncompared = 0;
	Datum	   *keys;
	bool	   *keynulls;
	Oid		   *typinput;
	Oid		   *typioparam;
	Datum	   *fvals;
	bool	   *fnulls;
	FmgrInfo   *tojson;
	MemoryContext rowcxt;
	Portal		portal;
	Datum		args[2];
	char		argnulls[2] = {' ', ' '};

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("feature_view of asof.parity_values must not be null")));
	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("asof.parity_values must be called in FROM")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	per_query = rsinfo->econtext->ecxt_per_query_memory;
	v = asof_load_feature_view(name);
	if (!v->has_cadence)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("feature view \"%s\" is continuous and has no online table", name),
				 errdetail("Only a feature view with a cadence is served from snapshots and logged.")));
	sched.has_cadence = true;
	sched.cadence_us = v->cadence_us;
	sched.anchor_us = v->anchor_us;
	sched.delay_us = v->delay_us;
	if (has_since && has_until && since > until)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("since (%s) is after until (%s)", asof_time_text(since, true),
						asof_time_text(until, true))));

	guarded = guard_before_read(v, has_until, until, &cutoff);

	/* per request: key input functions, the engine, the feature values */
	keys = palloc(sizeof(Datum) * v->nkeys);
	keynulls = palloc(sizeof(bool) * v->nkeys);
	typinput = palloc(sizeof(Oid) * v->nkeys);
	typioparam = palloc(sizeof(Oid) * v->nkeys);
	for (int i = 0; i < v->nkeys; i++)
		getTypeInputInfo(v->key_types[i], &typinput[i], &typioparam[i]);
	fvals = palloc(sizeof(Datum) * Max(v->nfeatures, 1));
	fnulls = palloc(sizeof(bool) * Max(v->nfeatures, 1));
	tojson = palloc(sizeof(FmgrInfo) * Max(v->nfeatures, 1));
	for (int f = 0; f < v->nfeatures; f++)
		value_jsonb_init(&tojson[f], v->features[f].result_type);
	/* what one request needs, reset after each (tuplestores copy) */
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "pg_asof parity request",
								   ALLOCSET_DEFAULT_SIZES);

	old = MemoryContextSwitchTo(per_query);
	reqdesc = CreateTemplateTupleDesc(R_NCOLS);
	TupleDescInitEntry(reqdesc, R_SERVED_AT + 1, "served_at", TIMESTAMPTZOID, -1, 0);
	TupleDescInitEntry(reqdesc, R_ENTITY + 1, "entity", TEXTARRAYOID, -1, 0);
	TupleDescInitEntry(reqdesc, R_AT + 1, "at", TIMESTAMPTZOID, -1, 0);
	TupleDescInitEntry(reqdesc, R_TICK + 1, "tick", TIMESTAMPTZOID, -1, 0);
	TupleDescInitEntry(reqdesc, R_FEATURES + 1, "features", JSONBOID, -1, 0);
	TupleDescInitEntry(reqdesc, R_STALE + 1, "stale", BOOLOID, -1, 0);
	reqs = tuplestore_begin_heap(false, false, work_mem);
	reqslot = MakeSingleTupleTableSlot(reqdesc, &TTSOpsMinimalTuple);
	MemoryContextSwitchTo(old);

	/* the log, read with the caller's privileges and under the guard */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	log = find_log_table(name);
	logname = DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(log)));
	args[0] = TimestampTzGetDatum(since);
	args[1] = TimestampTzGetDatum(until);
	if (!has_since)
		argnulls[0] = 'n';
	if (!has_until)
		argnulls[1] = 'n';
	portal = SPI_cursor_open_with_args(NULL,
									   psprintf("SELECT l.served_at, l.entity, l.at, l.tick, l.features FROM %s l "
												"WHERE ($1 IS NULL OR l.served_at OPERATOR(pg_catalog.>=) $1) "
												"AND ($2 IS NULL OR l.served_at OPERATOR(pg_catalog.<) $2) "
												"ORDER BY l.served_at, l.at, l.entity, l.tick", logname),
									   2, (Oid[]) {TIMESTAMPTZOID, TIMESTAMPTZOID}, args, argnulls,
									   true, 0);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		isnull[5];
			Datum		d[5];
			int64		at,
						tick,
						k;
			bool		stale;
			ArrayType  *arr;
			Datum	   *elems;
			bool	   *elemnulls;
			int			nelems;
			MemoryContext spicxt = MemoryContextSwitchTo(rowcxt);

			for (int c = 0; c < 5; c++)
				d[c] = SPI_getbinval(tup, desc, c + 1, &isnull[c]);
			if (isnull[0] || isnull[1] || isnull[2] || isnull[3] || isnull[4])
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("serving log %s has a request with a null column", logname)));
			at = DatumGetInt64(d[2]);
			tick = DatumGetInt64(d[3]);
			if (!asof_effective_time(&sched, at, &k))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("serving log %s has a request time with no effective time", logname)));
			if (guarded && (k >= cutoff || tick >= cutoff))
				refuse_heldout_request(v, cutoff);
			stale = tick < k;

			arr = DatumGetArrayTypeP(d[1]);
			deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &elemnulls, &nelems);
			if (nelems != v->nkeys || (nelems > 0 && ARR_NDIM(arr) != 1))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("serving log %s has a request with %d entity values, feature view \"%s\" has %d",
								logname, nelems, name, v->nkeys)));

			if (!stale)
			{
				if (e == NULL)
				{
					MemoryContextSwitchTo(per_query);
					e = asof_engine_create(v);
					MemoryContextSwitchTo(rowcxt);
				}
				for (int i = 0; i < v->nkeys; i++)
				{
					keynulls[i] = elemnulls[i];
					if (!elemnulls[i])
						keys[i] = OidInputFunctionCall(typinput[i], TextDatumGetCString(elems[i]),
													   typioparam[i], -1);
				}
				asof_engine_add_spine(e, ncompared, keys, keynulls, at, true);
				ncompared++;
			}

			ExecClearTuple(reqslot);
			reqslot->tts_values[R_SERVED_AT] = d[0];
			reqslot->tts_values[R_ENTITY] = d[1];
			reqslot->tts_values[R_AT] = d[2];
			reqslot->tts_values[R_TICK] = d[3];
			reqslot->tts_values[R_FEATURES] = d[4];
			reqslot->tts_values[R_STALE] = BoolGetDatum(stale);
			memset(reqslot->tts_isnull, 0, sizeof(bool) * R_NCOLS);
			ExecStoreVirtualTuple(reqslot);
			tuplestore_puttupleslot(reqs, reqslot);
			ExecClearTuple(reqslot);
			MemoryContextSwitchTo(spicxt);
			MemoryContextReset(rowcxt);
			nreq++;
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_finish();

	/* offline, through the engine: one spine row (entity, at) per request */
	if (e != NULL)
	{
		if (asof_engine_heldout_rows(e) > 0)
			refuse_heldout_request(v, cutoff);
		old = MemoryContextSwitchTo(per_query);
		asof_engine_run(e, NULL);
		MemoryContextSwitchTo(old);
	}

	/* compare, feature by feature */
	old = MemoryContextSwitchTo(per_query);
	outdesc = CreateTemplateTupleDesc(O_NCOLS);
	TupleDescInitEntry(outdesc, O_SERVED_AT + 1, "served_at", TIMESTAMPTZOID, -1, 0);
	TupleDescInitEntry(outdesc, O_ENTITY + 1, "entity", TEXTARRAYOID, -1, 0);
	TupleDescInitEntry(outdesc, O_AT + 1, "at", TIMESTAMPTZOID, -1, 0);
	TupleDescInitEntry(outdesc, O_TICK + 1, "tick", TIMESTAMPTZOID, -1, 0);
	TupleDescInitEntry(outdesc, O_STALE + 1, "stale", BOOLOID, -1, 0);
	TupleDescInitEntry(outdesc, O_FEATURE + 1, "feature", TEXTOID, -1, 0);
	TupleDescInitEntry(outdesc, O_NUMERIC + 1, "is_numeric", BOOLOID, -1, 0);
	TupleDescInitEntry(outdesc, O_SERVED + 1, "served", JSONBOID, -1, 0);
	TupleDescInitEntry(outdesc, O_OFFLINE + 1, "offline", JSONBOID, -1, 0);
	TupleDescInitEntry(outdesc, O_EQUAL + 1, "equal", BOOLOID, -1, 0);
	TupleDescInitEntry(outdesc, O_ABS_DIFF + 1, "abs_diff", FLOAT8OID, -1, 0);
	TupleDescInitEntry(outdesc, O_ABS_SUM + 1, "abs_sum", FLOAT8OID, -1, 0);
	out = tuplestore_begin_heap(true, false, work_mem);
	MemoryContextSwitchTo(old);
	{
		int64		n = 0;

		while (tuplestore_gettupleslot(reqs, true, false, reqslot))
		{
			Jsonb	   *features;
			bool		stale;
			MemoryContext outer = MemoryContextSwitchTo(rowcxt);

			slot_getallattrs(reqslot);
			features = DatumGetJsonbP(reqslot->tts_values[R_FEATURES]);
			stale = DatumGetBool(reqslot->tts_values[R_STALE]);
			if (!stale)
			{
				int64		ordinal;

				if (!asof_engine_next(e, &ordinal, fvals, fnulls) || ordinal != n)
					elog(ERROR, "engine results out of step with the serving log at request " INT64_FORMAT, n);
				n++;
			}
			for (int f = 0; f < v->nfeatures; f++)
			{
				AsofFeature *feat = &v->features[f];
				Datum		o[O_NCOLS];
				bool		on[O_NCOLS];
				Jsonb	   *served = jsonb_key(features, feat->name);
				Jsonb	   *offline = NULL;
				bool		has_diff = false;
				double		abs_diff = 0,
							abs_sum = 0;

				memset(on, 0, sizeof(on));
				o[O_SERVED_AT] = reqslot->tts_values[R_SERVED_AT];
				o[O_ENTITY] = reqslot->tts_values[R_ENTITY];
				o[O_AT] = reqslot->tts_values[R_AT];
				o[O_TICK] = reqslot->tts_values[R_TICK];
				o[O_STALE] = BoolGetDatum(stale);
				o[O_FEATURE] = CStringGetTextDatum(feat->name);
				o[O_NUMERIC] = BoolGetDatum(is_numeric_type(feat->result_type));
				if (served != NULL)
					o[O_SERVED] = JsonbPGetDatum(served);
				else
					on[O_SERVED] = true;
				if (stale)
				{
					on[O_OFFLINE] = on[O_EQUAL] = true;
				}
				else
				{
					offline = fnulls[f] ? NULL :
						DatumGetJsonbP(FunctionCall1(&tojson[f], fvals[f]));
					o[O_OFFLINE] = offline ? JsonbPGetDatum(offline) :
						DirectFunctionCall1(jsonb_in, CStringGetDatum("null"));
					o[O_EQUAL] = BoolGetDatum(compare_values(served, offline, feat->result_type,
															 is_float_type(feat->input_type),
															 &has_diff, &abs_diff, &abs_sum));
				}
				o[O_ABS_DIFF] = Float8GetDatum(abs_diff);
				o[O_ABS_SUM] = Float8GetDatum(abs_sum);
				on[O_ABS_DIFF] = on[O_ABS_SUM] = !has_diff;
				tuplestore_putvalues(out, outdesc, o, on);
			}
			MemoryContextSwitchTo(outer);
			MemoryContextReset(rowcxt);
			CHECK_FOR_INTERRUPTS();
		}
		if (n != ncompared)
			elog(ERROR, "compared " INT64_FORMAT " requests of " INT64_FORMAT, n, ncompared);
	}
	if (e != NULL)
		asof_engine_end(e);
	tuplestore_end(reqs);
	ExecDropSingleTupleTableSlot(reqslot);
	MemoryContextDelete(rowcxt);
	(void) nreq;

	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = out;
	rsinfo->setDesc = outdesc;
	return (Datum) 0;
}
