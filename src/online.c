/*-------------------------------------------------------------------------
 *
 * online.c
 *	  Serving from online tables: asof.online_features and
 *	  asof.online_features_batch (docs/online.md).
 *
 *	  A request at time "at" is served from the newest retained snapshot
 *	  whose tick is at or before k(at) (so never before its publication
 *	  time tick + delay), by the serving queries materialize.c generated
 *	  with the online table: one statement (one snapshot) that finds the
 *	  tick and reads the entity rows through the primary key, applying the
 *	  TTL of last values against "at".  Each backend keeps, per feature
 *	  view, the schedule and the prepared plans; an entry is reloaded when
 *	  the view's online table is no longer the one it was built for.
 *
 *	  Owns: the plan cache, the checks of a request, running the queries.
 *	  Must not: compute features (the snapshot holds them) or write.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"

#include "feature_view.h"
#include "guard.h"
#include "online.h"
#include "schedule.h"
#include "serving_log.h"

PG_FUNCTION_INFO_V1(asof_online_features);
PG_FUNCTION_INFO_V1(asof_online_features_now);
PG_FUNCTION_INFO_V1(asof_online_features_batch);

typedef struct ServeEntry
{
	char		name[NAMEDATALEN];	/* hash key: the feature view */
	bool		valid;
	Oid			online_table;
	Oid			served_type;
	Oid			time_type;
	int			nkeys;
	Oid			source;			/* the view's source (leakage guard) */
	char		event_time[NAMEDATALEN * 4];	/* its event time, as the engine reads it */
	AsofSchedule sched;
	SPIPlanPtr	serve;
	SPIPlanPtr	batch;
} ServeEntry;

static HTAB *serve_cache = NULL;

/* ----------------------------------------------------------------------
 * The cache
 * ----------------------------------------------------------------------
 */
static void
load_entry(ServeEntry *e, const char *name)
{
	AsofFeatureView *v = asof_load_feature_view(name);
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	Oid			ptypes[3] = {TEXTARRAYOID, TIMESTAMPOID, TIMESTAMPOID};
	bool		isnull;
	char	   *serve;
	char	   *batch;

	if (!v->has_cadence)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("feature view \"%s\" is continuous and has no online table", name),
				 errdetail("Only a feature view with a cadence is materialized into snapshots."),
				 errhint("Serve it with asof.features_at(%s, entity, at).", quote_literal_cstr(name))));
	if (SPI_execute_with_args("SELECT o.online_table::pg_catalog.oid, o.served_type::pg_catalog.oid, "
							  "o.serve_sql, o.batch_sql FROM asof.online_tables o "
							  "WHERE o.feature_view OPERATOR(pg_catalog.=) $1",
							  1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read asof.online_tables");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("feature view \"%s\" has no online table yet", name),
				 errhint("Materialize it with asof.materialize(%s), or schedule it with asof.schedule_materialization(%s).",
						 quote_literal_cstr(name), quote_literal_cstr(name))));
	if (e->serve)
		SPI_freeplan(e->serve);
	if (e->batch)
		SPI_freeplan(e->batch);
	e->serve = e->batch = NULL;
	e->online_table = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	e->served_type = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	serve = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	batch = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);
	e->time_type = v->time_type;
	e->nkeys = v->nkeys;
	e->source = v->source;
	strlcpy(e->event_time, v->event_time ? v->event_time : "NULL", sizeof(e->event_time));
	e->sched.has_cadence = true;
	e->sched.cadence_us = v->cadence_us;
	e->sched.anchor_us = v->anchor_us;
	e->sched.delay_us = v->delay_us;
	e->serve = SPI_prepare(serve, 3, ptypes);
	e->batch = SPI_prepare(batch, 3, ptypes);
	if (e->serve == NULL || e->batch == NULL)
		elog(ERROR, "could not prepare the serving queries of feature view \"%s\"", name);
	SPI_keepplan(e->serve);
	SPI_keepplan(e->batch);
	e->valid = true;
}

/* The entry of a view, (re)loaded when its online table changed.  SPI is connected. */
static ServeEntry *
get_entry(const char *name)
{
	ServeEntry *e;
	bool		found;
	char		key[NAMEDATALEN];
	Oid			nsp;

	if (strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("feature view \"%s\" does not exist", name)));
	if (serve_cache == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = sizeof(ServeEntry);
		serve_cache = hash_create("pg_asof serving plans", 16, &ctl, HASH_ELEM | HASH_STRINGS);
	}
	memset(key, 0, sizeof(key));
	strlcpy(key, name, NAMEDATALEN);
	e = hash_search(serve_cache, key, HASH_ENTER, &found);
	if (!found)
	{
		e->valid = false;
		e->serve = e->batch = NULL;
	}
	nsp = get_namespace_oid(ONLINE_SCHEMA, true);
	if (e->valid && OidIsValid(nsp) && get_relname_relid(name, nsp) == e->online_table &&
		OidIsValid(e->online_table))
		return e;
	e->valid = false;
	load_entry(e, name);
	return e;
}

/* ----------------------------------------------------------------------
 * Requests
 * ----------------------------------------------------------------------
 */

/* k(at) as UTC wall clock; false for a NULL or out-of-range "at". */
static bool
request_tick(FunctionCallInfo fcinfo, int argno, ServeEntry *e, const char *name,
			 int64 *at, int64 *k)
{
	Oid			at_type = getBaseType(get_fn_expr_argtype(fcinfo->flinfo, argno));

	if (at_type != e->time_type)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("prediction time has type %s but feature view \"%s\" has type %s",
						format_type_be(at_type), name, format_type_be(e->time_type)),
				 errhint("Cast the prediction time to %s.", format_type_be(e->time_type))));
	if (PG_ARGISNULL(argno))
		return false;
	*at = PG_GETARG_INT64(argno);
	return asof_effective_time(&e->sched, *at, k);
}

static void
check_nkeys(const char *name, ServeEntry *e, int n)
{
	if (n != e->nkeys)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg_plural("feature view \"%s\" needs %d entity value",
							   "feature view \"%s\" needs %d entity values",
							   e->nkeys, name, e->nkeys),
				 errdetail_plural("%d value was given.", "%d values were given.", n, n),
				 errhint("Pass one value per entity column, in the order of the view's entity.")));
}

static void
no_snapshot(const char *name, ServeEntry *e, int64 k)
{
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("no snapshot of feature view \"%s\" at or before tick %s is retained",
					name, asof_time_text(k, e->time_type == TIMESTAMPTZOID)),
			 errdetail("A request is served from the newest retained snapshot whose tick is at or before k(at); asof.materializations lists them."),
			 errhint("Materialize the tick with asof.materialize(%s, ...).", quote_literal_cstr(name))));
}

/*
 * Run a serving plan; an error names the view instead of the generated
 * query, and a refused read says how to get the grant.
 */
static void
run_serving_plan(SPIPlanPtr plan, Datum *args, char *nulls, long count, const char *name)
{
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		if (SPI_execute_plan(plan, args, nulls, true, count) != SPI_OK_SELECT)
			elog(ERROR, "serving query of feature view \"%s\" failed", name);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		edata->context = psprintf("serving feature view \"%s\"", name);
		edata->internalquery = NULL;
		edata->internalpos = 0;
		if (edata->sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE && edata->hint == NULL)
			edata->hint = psprintf("The view's owner grants reads with asof.grant_online_read(%s, role).",
								   quote_literal_cstr(name));
		ReThrowError(edata);
	}
	PG_END_TRY();
}

/*
 * The leakage guard: a request whose effective time is at or after the
 * split of a protected table the source reads is refused (the snapshot of
 * such a tick is held out; its rows are hidden in the online table, which
 * is protected and linked to that table), unless the caller is exempt
 * (asof.guard = off) or the table is unsealed in this transaction.
 */
static void
check_guard(ServeEntry *e, const char *name, int64 k)
{
	int64		cutoff;
	bool		exempt;
	int64		sealed_from;

	if (asof_guard_source_rules(e->source, e->event_time, "", &cutoff, &exempt, &sealed_from) &&
		k >= cutoff)
		asof_guard_refuse_features_at(e->source, name);
}

/*
 * The serving log (serving_log.c): the request serve_one served (the
 * entity as given, the tick served, the jsonb returned).  A request
 * without a time (NULL "at") is not logged.
 */
static void
log_one(ServeEntry *e, const char *name, ArrayType *arr, int64 at, Datum tick,
		Datum features)
{
	Datum	   *elems;
	bool	   *elemnulls;
	int			n;
	AsofLogBatch *b = asof_serving_log_begin(name, e->time_type == TIMESTAMPTZOID, at);

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &elemnulls, &n);
	asof_serving_log_add(b, DatumGetInt64(tick), asof_serving_log_entity(elems, elemnulls, n),
						 PointerGetDatum(DatumGetJsonbP(features)), InvalidOid);
	asof_serving_log_end(b);
}

/*
 * The serving log of a batch: one entry per row the batch query returned
 * (SPI_tuptable, rows in input order): the entity's row of arr (2-D), the
 * row's tick, and the row itself as a value of the served type (the
 * worker turns it into the jsonb online_features returns, off the serving
 * path).
 */
static void
log_batch(ServeEntry *e, const char *name, ArrayType *arr, int64 at)
{
	Datum	   *elems;
	bool	   *elemnulls;
	int			n;
	AsofLogBatch *b = asof_serving_log_begin(name, e->time_type == TIMESTAMPTZOID, at);

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &elemnulls, &n);
	if ((uint64) n != SPI_processed * e->nkeys)
		elog(ERROR, "serving query of feature view \"%s\" returned %llu rows for %d entity values",
			 name, (unsigned long long) SPI_processed, n);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		tick = heap_getattr(SPI_tuptable->vals[i], e->nkeys + 1, SPI_tuptable->tupdesc, &isnull);
		Datum		row;

		if (isnull)
			continue;			/* no snapshot: an error was raised before */
		row = heap_copy_tuple_as_datum(SPI_tuptable->vals[i], SPI_tuptable->tupdesc);
		/* the batch query's row has the served type's columns (as the tuplestore's rows) */
		HeapTupleHeaderSetTypeId(DatumGetHeapTupleHeader(row), e->served_type);
		HeapTupleHeaderSetTypMod(DatumGetHeapTupleHeader(row), -1);
		asof_serving_log_add(b, DatumGetInt64(tick),
							 asof_serving_log_entity(elems + i * e->nkeys, elemnulls + i * e->nkeys, e->nkeys),
							 row, e->served_type);
	}
	asof_serving_log_end(b);
}

/* features of one entity; at_argno: the argument holding "at", -1: now */
static Datum
serve_one(FunctionCallInfo fcinfo, int at_argno)
{
	char	   *name;
	ArrayType  *arr;
	ServeEntry *e;
	int64		at = 0;
	int64		k = 0;
	bool		have;
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	bool		isnull;
	Datum		result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("feature_view and entity of asof.online_features must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	arr = PG_GETARG_ARRAYTYPE_P(1);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	e = get_entry(name);
	if (at_argno >= 0)
		have = request_tick(fcinfo, at_argno, e, name, &at, &k);
	else
	{
		at = asof_clock_now();	/* an instant is its UTC wall clock */
		have = asof_effective_time(&e->sched, at, &k);
	}
	check_nkeys(name, e, ARR_NDIM(arr) == 0 ? 0 :
				ARR_NDIM(arr) == 1 ? ARR_DIMS(arr)[0] : -1);
	if (have)
		check_guard(e, name, k);
	args[0] = PointerGetDatum(arr);
	args[1] = Int64GetDatum(k);
	args[2] = Int64GetDatum(at);
	if (!have)
		nulls[1] = nulls[2] = 'n';
	run_serving_plan(e->serve, args, nulls, 1, name);
	if (SPI_processed != 1)
		elog(ERROR, "serving query of feature view \"%s\" returned no row", name);
	(void) SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull && have)
		no_snapshot(name, e, k);
	result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	result = SPI_datumTransfer(result, false, -1);
	if (asof_log_serving && have)
		log_one(e, name, arr, at,
				SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull),
				result);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/* asof.online_features(feature_view text, entity text[], at timestamp[tz]) -> jsonb */
Datum
asof_online_features(PG_FUNCTION_ARGS)
{
	return serve_one(fcinfo, 2);
}

/* asof.online_features(feature_view text, entity text[]) -> jsonb, at "now" */
Datum
asof_online_features_now(PG_FUNCTION_ARGS)
{
	return serve_one(fcinfo, -1);
}

/*
 * asof.online_features_batch(feature_view text, entities text[], at
 * timestamp[tz], served anyelement) -> setof anyelement: one row per
 * entity, in input order.  entities: a 2-D array, one row of key values
 * per entity, or a 1-D array of values for a view with one entity column.
 */
Datum
asof_online_features_batch(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *name;
	ArrayType  *arr;
	ServeEntry *e;
	Oid			served = get_fn_expr_argtype(fcinfo->flinfo, 3);
	int64		at = 0;
	int64		k = 0;
	bool		have;
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	MemoryContext per_query;
	MemoryContext old;
	Tuplestorestate *store;
	TupleDesc	desc;
	int			n;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("feature_view and entities of asof.online_features_batch must not be null")));
	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("asof.online_features_batch must be called in FROM")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	arr = PG_GETARG_ARRAYTYPE_P(1);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	e = get_entry(name);
	if (served != e->served_type)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("served row type %s does not belong to feature view \"%s\"",
						format_type_be(served), name),
				 errhint("Pass NULL::%s.", format_type_be_qualified(e->served_type))));
	have = request_tick(fcinfo, 2, e, name, &at, &k);
	if (have)
		check_guard(e, name, k);
	if (ARR_NDIM(arr) == 2)
		check_nkeys(name, e, ARR_DIMS(arr)[1]);
	else if (ARR_NDIM(arr) == 1)
	{
		Datum	   *elems;
		bool	   *elemnulls;
		int			dims[2];
		int			lbs[2] = {1, 1};

		check_nkeys(name, e, 1);
		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &elemnulls, &n);
		dims[0] = n;
		dims[1] = 1;
		arr = construct_md_array(elems, elemnulls, 2, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT);
	}
	args[0] = PointerGetDatum(arr);
	args[1] = Int64GetDatum(k);
	args[2] = Int64GetDatum(at);
	if (!have)
		nulls[1] = nulls[2] = 'n';
	run_serving_plan(e->batch, args, nulls, 0, name);
	if (SPI_processed > 0 && have)
	{
		bool		isnull;

		(void) SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, e->nkeys + 1, &isnull);
		if (isnull)
			no_snapshot(name, e, k);
	}

	per_query = rsinfo->econtext->ecxt_per_query_memory;
	old = MemoryContextSwitchTo(per_query);
	desc = lookup_rowtype_tupdesc_copy(served, -1);
	store = tuplestore_begin_heap(true, false, work_mem);
	for (uint64 i = 0; i < SPI_processed; i++)
		tuplestore_puttuple(store, SPI_tuptable->vals[i]);
	MemoryContextSwitchTo(old);
	if (asof_log_serving && have)
		log_batch(e, name, arr, at);
	SPI_finish();
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = desc;
	return (Datum) 0;
}
