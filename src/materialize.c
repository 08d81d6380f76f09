/*-------------------------------------------------------------------------
 *
 * materialize.c
 *	  asof.materialize: the snapshot of one tick of a scheduled feature view,
 *	  written into the view's online table (docs/online.md).
 *
 *	  A snapshot for tick tau is exactly what asof.build_training_set gives a
 *	  spine row whose effective time k(t) is tau: the engine (engine.c) runs
 *	  over a spine of (entity, t = tau + delay), one row per entity that has
 *	  a visible row with event time in [tau - Wmax, tau), or, for last /
 *	  last_nonnull features, a last visible row that can still be served
 *	  (any age without a TTL).  TTL depends on the request time, so the
 *	  engine runs without it and the event time of each last value is
 *	  stored beside it (an extra last / last_nonnull feature over the event
 *	  time, chosen by the engine's own tie rule); serving applies the TTL.
 *
 *	  Owns: the checks of a tick (schedule, future, published), bounding
 *	  what the engine reads to the event
 *	  times a snapshot can use (a temporary view of the source), writing a
 *	  snapshot and its record in asof.materializations, retention.  The
 *	  online table itself is online_table.c's.
 *	  Must not: aggregate anything itself (engine.c does), restructure the
 *	  engine's entry points (training_set.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/params.h"
#include "tcop/dest.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "engine.h"
#include "feature_view.h"
#include "guard.h"
#include "ingestion.h"
#include "online.h"
#include "schedule.h"

PG_FUNCTION_INFO_V1(asof_materialize);

/* advisory lock class of materialize (the bytes "asof") */
#define MATERIALIZE_LOCK_CLASS 1634955110

/* ticks an online table keeps unless asof.online_tables says otherwise */
#define DEFAULT_RETAIN_TICKS 48

/* ----------------------------------------------------------------------
 * Small helpers
 * ----------------------------------------------------------------------
 */

/* A time of a view as text for messages: UTC, with "+00" for timestamptz. */
static char *
time_text(const AsofFeatureView *v, int64 us)
{
	return asof_time_text(us, v->time_type == TIMESTAMPTZOID);
}

/* ----------------------------------------------------------------------
 * The engine's view of a snapshot: no TTL, plus the event time of every
 * last value (feature nfeatures + j for the j-th last feature)
 * ----------------------------------------------------------------------
 */
static AsofFeatureView *
snapshot_view(const AsofFeatureView *v, int *nlast)
{
	AsofFeatureView *ev = palloc(sizeof(AsofFeatureView));
	int			n = 0;

	*ev = *v;
	ev->has_ttl = false;
	for (int i = 0; i < v->nfeatures; i++)
		n += asof_feature_is_last(&v->features[i]);
	ev->features = palloc0(sizeof(AsofFeature) * (v->nfeatures + n));
	memcpy(ev->features, v->features, sizeof(AsofFeature) * v->nfeatures);
	n = 0;
	for (int i = 0; i < v->nfeatures; i++)
	{
		const AsofFeature *f = &v->features[i];
		AsofFeature *x;

		if (!asof_feature_is_last(f))
			continue;
		x = &ev->features[v->nfeatures + n++];
		x->name = psprintf("asof_event_time_%d", i + 1);
		x->agg = f->agg;
		/* the engine picks the same row: greatest event time first */
		x->expr = f->agg == ASOF_AGG_LAST ? pstrdup(v->event_time) :
			psprintf("CASE WHEN (%s) IS NOT NULL THEN (%s) END", f->expr, v->event_time);
		x->window_us = 0;
		x->input_type = v->time_type;
		x->input_typmod = -1;
		x->input_collation = InvalidOid;
		x->result_type = v->time_type;
	}
	ev->nfeatures = v->nfeatures + n;
	*nlast = n;
	return ev;
}

/* ----------------------------------------------------------------------
 * Computing a snapshot
 * ----------------------------------------------------------------------
 */
typedef struct SnapBuild
{
	const AsofFeatureView *v;
	AsofEngine *e;
	int64		t;				/* tick + delay: the spine's prediction time */
	int64		n;				/* entities */
	int64		cap;
	Datum	  **keys;			/* per entity, copied */
	MemoryContext cxt;
} SnapBuild;

typedef struct EntityReceiver
{
	DestReceiver pub;
	SnapBuild   *s;
} EntityReceiver;

static bool
entity_receive(TupleTableSlot *in, DestReceiver *self)
{
	SnapBuild   *s = ((EntityReceiver *) self)->s;
	MemoryContext old = MemoryContextSwitchTo(s->cxt);
	int			nk = s->v->nkeys;
	Datum	   *keys = palloc(sizeof(Datum) * nk);
	bool	   *nulls = palloc0(sizeof(bool) * nk);

	slot_getallattrs(in);
	for (int k = 0; k < nk; k++)
	{
		int16		len;
		bool		byval;

		get_typlenbyval(s->v->key_types[k], &len, &byval);
		keys[k] = datumCopy(in->tts_values[k], byval, len);
	}
	if (s->n == s->cap)
	{
		s->cap = s->cap * 2 + 64;
		s->keys = s->keys ? repalloc_huge(s->keys, sizeof(Datum *) * s->cap) :
			palloc(sizeof(Datum *) * s->cap);
	}
	s->keys[s->n] = keys;
	MemoryContextSwitchTo(old);
	asof_engine_add_spine(s->e, s->n, keys, nulls, s->t, true);
	s->n++;
	return true;
}

static void
entity_startup(DestReceiver *self, int operation, TupleDesc desc)
{
}

static void
entity_noop(DestReceiver *self)
{
}

/*
 * The oldest event time a snapshot of tick needs: rows older than it are in
 * no window ([tick - W, tick)) and, as last values, never served (served at
 * t >= tick + delay, a value with te < t - ttl is NULL).  False when there
 * is no bound: a last value without TTL may be of any age.
 */
static bool
snapshot_lower_bound(const AsofFeatureView *v, int64 tick, int64 *lower)
{
	int64		wmax = 0;
	bool		has_last = false;
	int128		l;

	for (int i = 0; i < v->nfeatures; i++)
	{
		if (asof_feature_is_last(&v->features[i]))
			has_last = true;
		else
			wmax = Max(wmax, v->features[i].window_us);
	}
	if (has_last && !v->has_ttl)
		return false;
	l = (int128) tick - wmax;
	if (has_last)
	{
		int128		l2 = (int128) tick + v->delay_us - v->ttl_us;

		l = wmax > 0 ? Min(l, l2) : l2;
	}
	if (l < (int128) MIN_TIMESTAMP)
		return false;
	*lower = (int64) l;
	return true;
}

/*
 * What the engine reads for a snapshot: the source itself, or, when the
 * snapshot has a lower bound, a temporary view of its rows with event time
 * in [lower, tick) -- the only rows a snapshot of tick can use, so the
 * engine's one read of the source is bounded too (through an index on the
 * event time when there is one).  Created with the caller's privileges;
 * dropped by drop_bounded_source.
 */
#define BOUNDED_SOURCE "asof_snapshot_source"

static Oid
bounded_source(const AsofFeatureView *v, int64 tick)
{
	int64		lower;
	int			nestlevel;
	bool		tz = v->time_type == TIMESTAMPTZOID;
	const char *type = tz ? "pg_catalog.timestamptz" : "pg_catalog.\"timestamp\"";
	Oid			relid;

	if (!snapshot_lower_bound(v, tick, &lower))
		return v->source;
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	SPI_connect();
	asof_online_spi(psprintf("CREATE TEMPORARY VIEW %s AS SELECT * FROM %s WHERE (%s) OPERATOR(pg_catalog.>=) %s::%s "
					 "AND (%s) OPERATOR(pg_catalog.<) %s::%s",
					 BOUNDED_SOURCE,
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(v->source)),
												get_rel_name(v->source)),
					 v->event_time, quote_literal_cstr(asof_time_text(lower, tz)), type,
					 v->event_time, quote_literal_cstr(asof_time_text(tick, tz)), type),
			0, NULL, NULL, NULL, SPI_OK_UTILITY);
	SPI_finish();
	AtEOXact_GUC(true, nestlevel);
	relid = RangeVarGetRelid(makeRangeVar("pg_temp", BOUNDED_SOURCE, -1), NoLock, false);
	return relid;
}

static void
drop_bounded_source(const AsofFeatureView *v, Oid relid)
{
	if (relid == v->source)
		return;
	SPI_connect();
	asof_online_spi("DROP VIEW pg_temp." BOUNDED_SOURCE, 0, NULL, NULL, NULL, SPI_OK_UTILITY);
	SPI_finish();
}

/*
 * The entities of the snapshot: distinct keys of visible rows (te < tick,
 * ta < tick) with te >= the oldest event time the snapshot can serve, or of
 * any age when a last value never expires.
 */
static void
read_entities(SnapBuild *s, int64 tick)
{
	const AsofFeatureView *v = s->v;
	StringInfoData sql;
	int64		lower = 0;
	bool		bounded = snapshot_lower_bound(v, tick, &lower);
	ParamListInfo params;
	EntityReceiver r;
	Oid			nsp = get_rel_namespace(v->source);
	char	   *relname = get_rel_name(v->source);

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT DISTINCT ");
	for (int k = 0; k < v->nkeys; k++)
		appendStringInfo(&sql, "%s%s", k ? ", " : "", quote_identifier(v->key_names[k]));
	appendStringInfo(&sql, " FROM %s WHERE ",
					 quote_qualified_identifier(get_namespace_name(nsp), relname));
	for (int k = 0; k < v->nkeys; k++)
		appendStringInfo(&sql, "%s IS NOT NULL AND ", quote_identifier(v->key_names[k]));
	appendStringInfo(&sql, "(%s) OPERATOR(pg_catalog.<) $1 AND (%s) OPERATOR(pg_catalog.<) $1",
					 v->event_time, v->available_time ? v->available_time : v->event_time);
	if (bounded)
		appendStringInfo(&sql, " AND (%s) OPERATOR(pg_catalog.>=) $2", v->event_time);

	params = makeParamList(2);
	for (int i = 0; i < 2; i++)
	{
		params->params[i].value = Int64GetDatum(i == 0 ? tick : lower);
		params->params[i].isnull = false;
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].ptype = v->time_type;
	}
	params->numParams = bounded ? 2 : 1;
	memset(&r, 0, sizeof(r));
	r.pub.receiveSlot = entity_receive;
	r.pub.rStartup = entity_startup;
	r.pub.rShutdown = entity_noop;
	r.pub.rDestroy = entity_noop;
	r.pub.mydest = DestNone;
	r.s = s;
	asof_engine_run_query(sql.data, params, true, true, &r.pub);
}

/* ----------------------------------------------------------------------
 * asof.materialize(feature_view text, tick timestamp[tz], replace boolean)
 * ----------------------------------------------------------------------
 */

/* The tick to materialize: checked against the schedule and the clock. */
static int64
checked_tick(FunctionCallInfo fcinfo, const AsofFeatureView *v)
{
	Oid			argtype = getBaseType(get_fn_expr_argtype(fcinfo->flinfo, 1));
	AsofSchedule floor_sched = {true, v->cadence_us, v->anchor_us, 0};
	int64		now = asof_clock_now();
	int64		tick;
	int64		floor;

	if (!v->has_cadence)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("feature view \"%s\" is continuous and has no ticks to materialize", v->name),
				 errdetail("Only a feature view with a cadence is materialized into snapshots."),
				 errhint("Serve a continuous view with asof.features_at(%s, entity, at).",
						 quote_literal_cstr(v->name))));
	if (PG_ARGISNULL(1))
	{
		/* the latest tick whose time has passed */
		if (!asof_effective_time(&floor_sched, now, &tick))
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("the current tick of feature view \"%s\" is out of range", v->name)));
		return tick;
	}
	if (argtype != v->time_type)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("tick has type %s but feature view \"%s\" has type %s",
						format_type_be(argtype), v->name, format_type_be(v->time_type)),
				 errhint("Cast the tick to %s.", format_type_be(v->time_type))));
	tick = PG_GETARG_INT64(1);
	if (TIMESTAMP_NOT_FINITE(tick) || !asof_effective_time(&floor_sched, tick, &floor))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tick must be a finite time")));
	if (floor != tick)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is not a tick of feature view \"%s\"", time_text(v, tick), v->name),
				 errdetail("Its ticks are anchor + n * cadence."),
				 errhint("The nearest ticks are %s and %s.", time_text(v, floor),
						 time_text(v, floor + v->cadence_us))));
	if (tick > now)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tick %s of feature view \"%s\" is in the future", time_text(v, tick), v->name),
				 errdetail("Now is %s.", time_text(v, now)),
				 errhint("Materialize a tick at or before now; asof.clock sets \"now\" for tests and replays.")));
	return tick;
}

/* Refuse a tick after the split of a protected table the source reads. */
static void
check_guard(const AsofFeatureView *v, int64 tick)
{
	int64		cutoff;
	bool		exempt;
	int64		sealed_from;
	char	  **inputs = palloc(sizeof(char *) * Max(v->nfeatures, 1));
	int			n = 0;

	for (int i = 0; i < v->nfeatures; i++)
		if (v->features[i].expr)
			inputs[n++] = v->features[i].expr;
	if (!asof_guard_source_rules(v->source, v->event_time,
								 asof_engine_source_sql(v, n, inputs, false),
								 &cutoff, &exempt, &sealed_from))
		return;
	if (tick > cutoff)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("tick %s of feature view \"%s\" is held out", time_text(v, tick), v->name),
				 errdetail("The view reads a protected table whose test period starts before the tick; its snapshot would hold held-out rows."),
				 errhint("Materialize as a production role with asof.guard = off (ALTER ROLE ... SET asof.guard = off).")));
}

/*
 * The quarantine (materialize(..., validate => true)).  The snapshot is
 * first written, with the caller's privileges, into a temporary table of
 * the caller's with the online table's columns; asof._validate_snapshot
 * (sql/64_quarantine.sql) checks it there, also as the caller (it computes
 * the view's values at the ticks before, running the view's expressions);
 * only a snapshot without a high-severity alert is then copied into the
 * online table.  The caller needs INSERT on asof.validation_alerts.
 */
#define STAGED_SNAPSHOT "pg_temp.asof_staged_snapshot"

static int64
stage_snapshot(SnapBuild *s, const AsofFeatureView *v, const AsofFeatureView *ev, int64 tick)
{
	StringInfoData ddl;
	StringInfoData ins;
	int			ncols = v->nkeys + 1 + ev->nfeatures;
	Oid		   *types = palloc(sizeof(Oid) * ncols);
	Datum	   *vals = palloc(sizeof(Datum) * ncols);
	char	   *nulls = palloc(sizeof(char) * ncols);
	Datum	   *fvals = palloc(sizeof(Datum) * Max(ev->nfeatures, 1));
	bool	   *fnulls = palloc(sizeof(bool) * Max(ev->nfeatures, 1));
	SPIPlanPtr	plan;
	int64		ordinal;
	int64		n = 0;
	int			c = 0;

	initStringInfo(&ddl);
	appendStringInfoString(&ddl, "CREATE TEMP TABLE asof_staged_snapshot (");
	for (int k = 0; k < v->nkeys; k++)
	{
		appendStringInfo(&ddl, "%s %s, ", quote_identifier(v->key_names[k]),
						 format_type_be_qualified(v->key_types[k]));
		types[c++] = v->key_types[k];
	}
	appendStringInfo(&ddl, "tick %s", format_type_be_qualified(v->time_type));
	types[c++] = v->time_type;
	for (int i = 0; i < ev->nfeatures; i++)
	{
		const char *name = i < v->nfeatures ?
			psprintf("%s__%s", v->name, ev->features[i].name) : ev->features[i].name;

		appendStringInfo(&ddl, ", %s %s", quote_identifier(name),
						 format_type_be_qualified(ev->features[i].result_type));
		types[c++] = ev->features[i].result_type;
	}
	appendStringInfoString(&ddl, ") ON COMMIT DROP");
	initStringInfo(&ins);
	appendStringInfoString(&ins, "INSERT INTO " STAGED_SNAPSHOT " VALUES (");
	for (int i = 0; i < ncols; i++)
		appendStringInfo(&ins, "%s$%d", i ? ", " : "", i + 1);
	appendStringInfoChar(&ins, ')');

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* one left by an earlier materialize of this transaction goes first */
	if (OidIsValid(LookupExplicitNamespace("pg_temp", true)) &&
		OidIsValid(get_relname_relid("asof_staged_snapshot", LookupExplicitNamespace("pg_temp", true))) &&
		SPI_execute("DROP TABLE " STAGED_SNAPSHOT, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not drop %s", STAGED_SNAPSHOT);
	if (SPI_execute(ddl.data, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not create %s", STAGED_SNAPSHOT);
	plan = SPI_prepare(ins.data, ncols, types);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare(\"%s\") failed", ins.data);
	while (asof_engine_next(s->e, &ordinal, fvals, fnulls))
	{
		c = 0;
		for (int k = 0; k < v->nkeys; k++)
		{
			vals[c] = s->keys[ordinal][k];
			nulls[c++] = ' ';
		}
		vals[c] = Int64GetDatum(tick);
		nulls[c++] = ' ';
		for (int i = 0; i < ev->nfeatures; i++)
		{
			vals[c] = fvals[i];
			nulls[c++] = fnulls[i] ? 'n' : ' ';
		}
		if (SPI_execute_plan(plan, vals, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not stage the snapshot");
		n++;
		CHECK_FOR_INTERRUPTS();
	}
	asof_engine_end(s->e);
	SPI_finish();
	return n;
}

/* True (with a WARNING) when the staged snapshot has a high-severity alert. */
static bool
quarantined(const AsofFeatureView *v, const char *vname, int64 tick)
{
	Oid			fn = DatumGetObjectId(DirectFunctionCall1(regprocedurein,
					CStringGetDatum("asof._validate_snapshot(pg_catalog.text, pg_catalog.timestamptz, "
									"pg_catalog.regclass, pg_catalog.int4, pg_catalog.float8)")));
	Oid			staged = DatumGetObjectId(DirectFunctionCall1(regclassin,
										   CStringGetDatum(STAGED_SNAPSHOT)));
	int32		high;

	/* a timestamp view's tick is passed as its UTC wall clock */
	high = DatumGetInt32(OidFunctionCall5(fn, CStringGetTextDatum(vname), Int64GetDatum(tick),
										  ObjectIdGetDatum(staged), Int32GetDatum(28),
										  Float8GetDatum(0.2)));
	if (high == 0)
		return false;
	ereport(WARNING,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("snapshot of tick %s of feature view \"%s\" was not published", time_text(v, tick), vname),
			 errdetail_plural("Validation raised %d high-severity alert; it is in asof.validation_alerts.",
							  "Validation raised %d high-severity alerts; they are in asof.validation_alerts.",
							  high, high),
			 errhint("The previous tick keeps being served.  Look into the alerts, then materialize the tick again.")));
	return true;
}

Datum
asof_materialize(PG_FUNCTION_ARGS)
{
	char	   *vname;
	AsofFeatureView *v;
	AsofFeatureView *ev;
	int			nlast;
	int64		tick;
	bool		replace;
	bool		validate;
	int64		staged = -1;
	Oid			owner;
	AsofAsOwner as_owner;
	Oid			read_from;
	char	   *table = NULL;
	bool		published;
	int			retain = DEFAULT_RETAIN_TICKS;
	SnapBuild	s;
	SPIPlanPtr	insert;
	int			ncols;
	Oid		   *coltypes;
	Datum	   *colvals;
	char	   *colnulls;
	Datum	   *fvals;
	bool	   *fnulls;
	int64		ordinal;
	int64		written = 0;
	int64		pub;
	MemoryContext outer = CurrentMemoryContext;

	/* 1. arguments and checks that change nothing */
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("feature_view of asof.materialize must not be null")));
	vname = text_to_cstring(PG_GETARG_TEXT_PP(0));
	replace = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	validate = PG_NARGS() > 3 && !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);
	v = asof_load_feature_view(vname);
	tick = checked_tick(fcinfo, v);
	owner = asof_feature_view_owner(vname);
	if (!superuser() && !(OidIsValid(owner) && has_privs_of_role(GetUserId(), owner)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of feature view \"%s\" to materialize it", vname),
				 OidIsValid(owner) ?
				 errdetail("Feature view \"%s\" is owned by role \"%s\".", vname,
						   GetUserNameFromId(owner, false)) : 0,
				 errhint("Materialize as the view's owner, or schedule it with asof.schedule_materialization.")));
	check_guard(v, tick);
	if (!asof_time_minus(tick, -v->delay_us, &pub))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("publication time of tick %s of feature view \"%s\" is out of range",
						time_text(v, tick), vname)));

	/*
	 * 1b. wait for the transactions writing to the source, so that a row
	 * they stamp before the tick is in the snapshot (ingestion_wait.c);
	 * before this transaction locks the view's online table, which such a
	 * writer may be reading
	 */
	asof_wait_for_source_writers(v->source, vname);

	/* 2. serialize with other materializations of the view; published? */
	asof_as_owner_begin(&as_owner, true);
	{
		Oid			types[2] = {TEXTOID, TIMESTAMPOID};
		Datum		values[2] = {CStringGetTextDatum(vname), Int64GetDatum(tick)};

		asof_online_spi(psprintf("SELECT pg_catalog.pg_advisory_xact_lock(%d, pg_catalog.hashtext($1))",
						 MATERIALIZE_LOCK_CLASS),
				1, types, values, NULL, SPI_OK_SELECT);
		asof_online_spi("SELECT o.online_table::pg_catalog.text, o.retain_ticks FROM asof.online_tables o "
				"WHERE o.feature_view OPERATOR(pg_catalog.=) $1",
				1, types, values, NULL, SPI_OK_SELECT);
		if (SPI_processed > 0)
		{
			bool		isnull;

			table = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
			retain = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		}
		asof_online_spi("SELECT 1 FROM asof.materializations m WHERE m.feature_view OPERATOR(pg_catalog.=) $1 "
				"AND m.tick OPERATOR(pg_catalog.=) $2",
				2, types, values, NULL, SPI_OK_SELECT);
		published = SPI_processed > 0;
	}
	if (published && !replace)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("tick %s of feature view \"%s\" is already published", time_text(v, tick), vname),
				 errhint("Pass replace => true to compute it again.")));
	if (table == NULL)
		table = asof_online_create_table(v, DEFAULT_RETAIN_TICKS);
	asof_online_protect_table(v, table);
	table = MemoryContextStrdup(outer, table);
	asof_as_owner_end(&as_owner);

	/* 3. compute: entities, then the engine, with the caller's privileges */
	ev = snapshot_view(v, &nlast);
	memset(&s, 0, sizeof(s));
	s.t = pub;
	s.v = v;
	s.cxt = CurrentMemoryContext;
	read_from = bounded_source(v, tick);
	ev->source = read_from;
	s.e = asof_engine_create(ev);
	read_entities(&s, tick);
	asof_engine_run(s.e, NULL);
	drop_bounded_source(v, read_from);

	/* 3b. the quarantine: staged and checked as the caller */
	if (validate)
	{
		staged = stage_snapshot(&s, v, ev, tick);
		if (quarantined(v, vname, tick))
			PG_RETURN_INT64(0);
	}

	/* 4. write the snapshot and its record, as the extension's owner */
	asof_as_owner_begin(&as_owner, true);
	ncols = v->nkeys + 1 + ev->nfeatures;
	coltypes = palloc(sizeof(Oid) * ncols);
	colvals = palloc(sizeof(Datum) * ncols);
	colnulls = palloc(sizeof(char) * ncols);
	{
		StringInfoData ins;
		int			c = 0;

		initStringInfo(&ins);
		appendStringInfo(&ins, "INSERT INTO %s VALUES (", table);
		for (int k = 0; k < v->nkeys; k++)
			coltypes[c++] = v->key_types[k];
		coltypes[c++] = v->time_type;
		for (int i = 0; i < ev->nfeatures; i++)
			coltypes[c++] = ev->features[i].result_type;
		for (int i = 0; i < ncols; i++)
			appendStringInfo(&ins, "%s$%d", i ? ", " : "", i + 1);
		appendStringInfoChar(&ins, ')');
		if (published)
		{
			Oid			types[1] = {v->time_type};
			Datum		values[1] = {Int64GetDatum(tick)};

			asof_online_spi(psprintf("DELETE FROM %s WHERE tick OPERATOR(pg_catalog.=) $1", table),
					1, types, values, NULL, SPI_OK_DELETE);
			ereport(LOG,
					(errmsg("replacing published tick %s of feature view \"%s\"",
							time_text(v, tick), vname)));
		}
		insert = SPI_prepare(ins.data, ncols, coltypes);
		if (insert == NULL)
			elog(ERROR, "SPI_prepare(\"%s\") failed", ins.data);
	}
	fvals = palloc(sizeof(Datum) * Max(ev->nfeatures, 1));
	fnulls = palloc(sizeof(bool) * Max(ev->nfeatures, 1));
	if (staged >= 0)
	{
		/* validated: publish the staged rows as they are */
		asof_online_spi(psprintf("INSERT INTO %s SELECT * FROM " STAGED_SNAPSHOT, table),
						0, NULL, NULL, NULL, SPI_OK_INSERT);
		written = (int64) SPI_processed;
	}
	else while (asof_engine_next(s.e, &ordinal, fvals, fnulls))
	{
		int			c = 0;

		for (int k = 0; k < v->nkeys; k++)
		{
			colvals[c] = s.keys[ordinal][k];
			colnulls[c++] = ' ';
		}
		colvals[c] = Int64GetDatum(tick);
		colnulls[c++] = ' ';
		for (int i = 0; i < ev->nfeatures; i++)
		{
			colvals[c] = fvals[i];
			colnulls[c++] = fnulls[i] ? 'n' : ' ';
		}
		if (SPI_execute_plan(insert, colvals, colnulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not write the snapshot into %s", table);
		written++;
		CHECK_FOR_INTERRUPTS();
	}
	if (staged < 0)
		asof_engine_end(s.e);
	{
		Oid			types[4] = {TEXTOID, TIMESTAMPOID, INT8OID, INT4OID};
		Datum		values[4] = {CStringGetTextDatum(vname), Int64GetDatum(tick),
		Int64GetDatum(written), Int32GetDatum(retain)};

		asof_online_spi(psprintf("INSERT INTO asof.materializations AS m (feature_view, tick, published, entities, "
						 "materialized_at, materialized_by, replaced) "
						 "VALUES ($1, $2, $2 OPERATOR(pg_catalog.+) '" INT64_FORMAT " microseconds'::pg_catalog.interval, "
						 "$3, CASE WHEN pg_catalog.current_setting('asof.clock', true) OPERATOR(pg_catalog.<>) '' "
						 "THEN asof.now() ELSE pg_catalog.clock_timestamp() END, %s, 0) "
						 "ON CONFLICT (feature_view, tick) DO UPDATE SET entities = EXCLUDED.entities, "
						 "materialized_at = EXCLUDED.materialized_at, materialized_by = EXCLUDED.materialized_by, "
						 "replaced = m.replaced OPERATOR(pg_catalog.+) 1",
						 v->delay_us, quote_literal_cstr(GetUserNameFromId(as_owner.userid, false))),
				3, types, values, NULL, SPI_OK_INSERT);
		/* retention: keep the newest retain_ticks ticks */
		asof_online_spi("DELETE FROM asof.materializations m WHERE m.feature_view OPERATOR(pg_catalog.=) $1 "
				"AND m.tick OPERATOR(pg_catalog.<) (SELECT x.tick FROM asof.materializations x "
				"WHERE x.feature_view OPERATOR(pg_catalog.=) $1 ORDER BY x.tick DESC "
				"OFFSET ($4 OPERATOR(pg_catalog.-) 1) LIMIT 1)",
				4, types, values, NULL, SPI_OK_DELETE);
		if (SPI_processed > 0)
			asof_online_spi(psprintf("DELETE FROM %s o WHERE NOT EXISTS (SELECT 1 FROM asof.materializations m "
							 "WHERE m.feature_view OPERATOR(pg_catalog.=) $1 AND %s)", table,
							 v->time_type == TIMESTAMPTZOID ?
							 "pg_catalog.timezone('UTC'::text, m.tick) OPERATOR(pg_catalog.=) o.tick" :
							 "m.tick OPERATOR(pg_catalog.=) o.tick"),
					1, types, values, NULL, SPI_OK_DELETE);
	}
	asof_as_owner_end(&as_owner);
	PG_RETURN_INT64(written);
}
