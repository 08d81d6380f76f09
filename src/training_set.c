/*-------------------------------------------------------------------------
 *
 * training_set.c
 *	  SQL entry points of the engine: asof.build_training_set and
 *	  asof.features_at (docs/engine.md).
 *
 *	  Owns: resolving and checking the spine against each feature view
 *	  (entity columns, time types, column names), creating the output
 *	  table, reading the spine once, writing the results in bulk, recording
 *	  the version in asof.training_sets, progress notices, the jsonb of
 *	  features_at.
 *	  Must not: compute features itself (that is engine.c), read the
 *	  feature view catalog directly (asof_load_feature_view does).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"
#include "utils/varlena.h"

#include "build_parallel.h"
#include "compat.h"
#include "engine.h"
#include "feature_view.h"
#include "source_read.h"
#include "spine_check.h"
#include "guard.h"
#include "pg_asof.h"
#include "training_set_name.h"

PG_FUNCTION_INFO_V1(asof_build_training_set);
PG_FUNCTION_INFO_V1(asof_features_at);

#define INSERT_BATCH 1000

/* asof.progress_interval: seconds between progress notices (0: none) */
static int	asof_progress_interval = 5;

static const struct config_enum_entry read_by_entity_options[] = {
	{"auto", ASOF_READ_BY_ENTITY_AUTO, false},
	{"on", ASOF_READ_BY_ENTITY_ON, false},
	{"off", ASOF_READ_BY_ENTITY_OFF, false},
	{NULL, 0, false}
};

void
asof_training_set_init(void)
{
	DefineCustomIntVariable("asof.progress_interval",
							"Seconds between progress notices of a long training set build.",
							"Zero turns the notices off.",
							&asof_progress_interval,
							5, 0, 86400,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomEnumVariable("asof.engine_read_by_entity",
							 "How the engine reads a source for a spine narrow in time.",
							 "auto: one query per entity, ordered by event time, when the spine's range holds a small share of the source and an index on (entity, event time) exists; on: whenever the keys allow it; off: never.",
							 &asof_engine_read_by_entity,
							 ASOF_READ_BY_ENTITY_AUTO, read_by_entity_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
}

/* ----------------------------------------------------------------------
 * Progress
 * ----------------------------------------------------------------------
 */
typedef struct Progress
{
	const char *table;
	const char *view;
	TimestampTz last;
} Progress;

static void
progress_report(void *arg, const char *phase, int64 done, int64 total)
{
	Progress   *p = arg;
	TimestampTz now;

	CHECK_FOR_INTERRUPTS();
	if (asof_progress_interval <= 0)
		return;
	now = GetCurrentTimestamp();
	if (!TimestampDifferenceExceeds(p->last, now, asof_progress_interval * 1000))
		return;
	p->last = now;
	if (total >= 0)
		ereport(NOTICE,
				(errmsg("building training set \"%s\": %s, " INT64_FORMAT " of " INT64_FORMAT " rows%s%s%s",
						p->table, phase, done, total,
						p->view ? " (feature view \"" : "", p->view ? p->view : "",
						p->view ? "\")" : "")));
	else
		ereport(NOTICE,
				(errmsg("building training set \"%s\": %s, " INT64_FORMAT " rows%s%s%s",
						p->table, phase, done,
						p->view ? " (feature view \"" : "", p->view ? p->view : "",
						p->view ? "\")" : "")));
}

/* ----------------------------------------------------------------------
 * Shared checks
 * ----------------------------------------------------------------------
 */

static bool
time_of(Datum d, bool isnull, Oid type, int64 *t)
{
	if (isnull)
		return false;
	if (type == DATEOID)
	{
		int			overflow = 0;
		Timestamp	ts = date2timestamp_opt_overflow(DatumGetDateADT(d), &overflow);

		if (overflow != 0 || TIMESTAMP_NOT_FINITE(ts))
			return false;
		*t = ts;
		return true;
	}
	*t = DatumGetInt64(d);
	return !TIMESTAMP_NOT_FINITE(*t);
}

static char *
qualified_relname(Oid relid)
{
	char	   *rel = get_rel_name(relid);

	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), rel);
}

/* `at` must be one expression: nothing that turns the query into another. */
static void
check_at_expression(const char *at)
{
	List	   *volatile stmts = NIL;
	SelectStmt *sel;
	MemoryContext cxt = CurrentMemoryContext;
	ErrorData  *volatile err = NULL;

	if (at[strspn(at, " \t\n\r\f\v")] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("prediction time cannot be empty"),
				 errhint("Pass a spine column name or one SQL expression over the spine's columns.")));

	/* a syntax error is reported against `at`, not the calling query */
	PG_TRY();
	{
		stmts = raw_parser(psprintf("SELECT (%s)", at), RAW_PARSE_DEFAULT);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		err = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	if (err)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("prediction time \"%s\" is not a valid expression", at),
				 errdetail("%s", err->message),
				 errhint("Pass a spine column name or one SQL expression over the spine's columns.")));
	if (list_length(stmts) == 1 &&
		IsA(((RawStmt *) linitial(stmts))->stmt, SelectStmt))
	{
		sel = (SelectStmt *) ((RawStmt *) linitial(stmts))->stmt;
		if (list_length(sel->targetList) == 1 && sel->fromClause == NIL &&
			sel->whereClause == NULL && sel->groupClause == NIL &&
			sel->havingClause == NULL && sel->windowClause == NIL &&
			sel->sortClause == NIL && sel->limitCount == NULL &&
			sel->limitOffset == NULL && sel->lockingClause == NIL &&
			sel->withClause == NULL && sel->op == SETOP_NONE &&
			sel->distinctClause == NIL && sel->intoClause == NULL)
			return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("prediction time \"%s\" is not a single expression", at),
			 errhint("Pass a spine column name or one SQL expression over the spine's columns.")));
}

/* ----------------------------------------------------------------------
 * The definition of a view as jsonb text (recorded with each build)
 * ----------------------------------------------------------------------
 */
static const char *
agg_name(AsofAgg agg)
{
	switch (agg)
	{
		case ASOF_AGG_COUNT_STAR:
			return "count(*)";
		case ASOF_AGG_COUNT:
			return "count";
		case ASOF_AGG_SUM:
			return "sum";
		case ASOF_AGG_AVG:
			return "avg";
		case ASOF_AGG_MIN:
			return "min";
		case ASOF_AGG_MAX:
			return "max";
		case ASOF_AGG_STDDEV:
			return "stddev";
		case ASOF_AGG_VAR:
			return "var";
		case ASOF_AGG_LAST:
			return "last";
		case ASOF_AGG_LAST_NONNULL:
			return "last_nonnull";
	}
	return "?";
}

static void
json_str(StringInfo b, const char *key, const char *val)
{
	escape_json(b, key);
	appendStringInfoChar(b, ':');
	if (val)
		escape_json(b, val);
	else
		appendStringInfoString(b, "null");
}

static void
json_int(StringInfo b, const char *key, bool has, int64 val)
{
	escape_json(b, key);
	if (has)
		appendStringInfo(b, ":" INT64_FORMAT, val);
	else
		appendStringInfoString(b, ":null");
}

void
asof_view_definition_json(StringInfo b, const AsofFeatureView *v)
{
	appendStringInfoChar(b, '{');
	json_str(b, "name", v->name);
	appendStringInfoChar(b, ',');
	json_str(b, "source", qualified_relname(v->source));
	appendStringInfoChar(b, ',');
	escape_json(b, "entity");
	appendStringInfoString(b, ":[");
	for (int i = 0; i < v->nkeys; i++)
	{
		if (i)
			appendStringInfoChar(b, ',');
		escape_json(b, v->key_names[i]);
	}
	appendStringInfoString(b, "],");
	json_str(b, "event_time", v->event_time);
	appendStringInfoChar(b, ',');
	json_str(b, "available_time", v->available_time);
	appendStringInfoChar(b, ',');
	json_str(b, "time_type", format_type_be(v->time_type));
	appendStringInfoChar(b, ',');
	json_int(b, "cadence_us", v->has_cadence, v->cadence_us);
	appendStringInfoChar(b, ',');
	json_int(b, "anchor_us", true, v->anchor_us);
	appendStringInfoChar(b, ',');
	json_int(b, "delay_us", true, v->delay_us);
	appendStringInfoChar(b, ',');
	json_int(b, "ttl_us", v->has_ttl, v->ttl_us);
	appendStringInfoChar(b, ',');
	escape_json(b, "features");
	appendStringInfoString(b, ":[");
	for (int i = 0; i < v->nfeatures; i++)
	{
		AsofFeature *f = &v->features[i];

		if (i)
			appendStringInfoChar(b, ',');
		appendStringInfoChar(b, '{');
		json_str(b, "name", f->name);
		appendStringInfoChar(b, ',');
		json_str(b, "agg", agg_name(f->agg));
		appendStringInfoChar(b, ',');
		json_str(b, "expr", f->expr);
		appendStringInfoChar(b, ',');
		json_int(b, "window_us", f->window_us > 0, f->window_us);
		appendStringInfoChar(b, ',');
		json_str(b, "input_type", OidIsValid(f->input_type) ? format_type_be(f->input_type) : NULL);
		appendStringInfoChar(b, ',');
		json_str(b, "result_type", format_type_be(f->result_type));
		appendStringInfoChar(b, '}');
	}
	appendStringInfoString(b, "]}");
}

/* ----------------------------------------------------------------------
 * build_training_set
 * ----------------------------------------------------------------------
 */
/*
 * The state of one build, filled phase by phase (asof_build_training_set
 * lists them): arguments, views, spine columns, output table, engines,
 * spine store, counts.
 */
typedef struct Build
{
	/* arguments (build_init) */
	ArrayType  *views_arr;
	char	   *at;
	Oid			spine;
	char	   *spine_name;		/* schema-qualified */
	RangeVar   *rv;				/* the training set's name */
	Oid			nsp;			/* and its schema */
	char	   *target;			/* schema-qualified */
	TimestampTz started;

	/* views and spine columns (build_init) */
	int			nviews;
	AsofFeatureView **views;
	int			maxfeat;
	AttrNumber **keycols;		/* per view: spine column of each key (0-based) */
	int			nspinecols;
	TupleDesc	spinedesc;		/* live columns of the spine */
	List	   *colnames;		/* output column names so far */

	/* the output table (build_create_table) */
	Oid			relid;
	char	   *definitions;	/* jsonb text recorded with the build */

	/* engines and the spine store (build_read_spine) */
	AsofEngine **engines;
	AsofParallelBuild *parallel;	/* NULL: a serial build */
	int64	   *heldout;		/* per view: spine rows held out */
	Oid			at_type;
	Tuplestorestate *store;
	TupleTableSlot *storeslot;
	int64		nrows;			/* spine rows read */
	Datum	   *keybuf;
	bool	   *keynullbuf;
	Progress	progress;

	/* rows written (build_write) */
	int64		written;
} Build;

/* errors while reading the spine name it, not the internal query */
static void
spine_error_context(void *arg)
{
	Build	   *b = arg;

	errcontext("reading spine \"%s\" with prediction time \"%s\"", b->spine_name, b->at);
}

typedef struct SpineReceiver
{
	DestReceiver pub;
	Build	   *b;
} SpineReceiver;

static void
spine_startup(DestReceiver *self, int operation, TupleDesc desc)
{
	Build	   *b = ((SpineReceiver *) self)->b;

	if (desc->natts != b->nspinecols + 1)
		elog(ERROR, "spine query returned %d columns, expected %d", desc->natts, b->nspinecols + 1);
	b->at_type = getBaseType(TupleDescAttr(desc, b->nspinecols)->atttypid);
	if (b->at_type != TIMESTAMPOID && b->at_type != TIMESTAMPTZOID && b->at_type != DATEOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("prediction time has type %s", format_type_be(b->at_type)),
				 errhint("The prediction time must be a timestamp, timestamp with time zone or date.")));
	for (int i = 0; i < b->nviews; i++)
		asof_check_prediction_time_type(b->views[i], b->at_type);
}

static bool
spine_receive(TupleTableSlot *in, DestReceiver *self)
{
	Build	   *b = ((SpineReceiver *) self)->b;
	TupleTableSlot *st = b->storeslot;
	int64		t = 0;
	bool		t_valid;

	slot_getallattrs(in);
	ExecClearTuple(st);
	memcpy(st->tts_values, in->tts_values, sizeof(Datum) * b->nspinecols);
	memcpy(st->tts_isnull, in->tts_isnull, sizeof(bool) * b->nspinecols);
	ExecStoreVirtualTuple(st);
	tuplestore_puttupleslot(b->store, st);

	t_valid = time_of(in->tts_values[b->nspinecols], in->tts_isnull[b->nspinecols],
					  b->at_type, &t);
	for (int i = 0; i < b->nviews; i++)
	{
		AsofFeatureView *v = b->views[i];

		for (int j = 0; j < v->nkeys; j++)
		{
			b->keybuf[j] = in->tts_values[b->keycols[i][j]];
			b->keynullbuf[j] = in->tts_isnull[b->keycols[i][j]];
		}
		if (asof_parallel_build_ships(b->parallel, i))
			asof_parallel_build_ship(b->parallel, i, b->nrows, b->keybuf, b->keynullbuf,
									 t, t_valid);
		else
			asof_engine_add_spine(b->engines[i], b->nrows, b->keybuf, b->keynullbuf,
								  t, t_valid);
	}
	b->nrows++;
	if (b->nrows % 65536 == 0)
		progress_report(&b->progress, "reading the spine", b->nrows, -1);
	return true;
}

static void
spine_noop(DestReceiver *self)
{
}

/* The column list of CREATE TABLE for one attribute. */
static void
append_column(StringInfo sql, const char *name, Oid type, int32 typmod, Oid collation)
{
	appendStringInfo(sql, "%s %s", quote_identifier(name),
					 format_type_with_typemod(type, typmod));
	if (OidIsValid(collation) && collation != get_typcollation(type))
	{
		HeapTuple	tp = SearchSysCache1(COLLOID, ObjectIdGetDatum(collation));

		if (HeapTupleIsValid(tp))
		{
			Form_pg_collation c = (Form_pg_collation) GETSTRUCT(tp);

			appendStringInfo(sql, " COLLATE %s",
							 quote_qualified_identifier(get_namespace_name(c->collnamespace),
														NameStr(c->collname)));
			ReleaseSysCache(tp);
		}
	}
}

static void
record_build(const char *table, const char *spine, const char *at,
			 ArrayType *views_arr, const char *definitions, int64 nrows,
			 TimestampTz started)
{
	Oid			nsp = get_namespace_oid("asof", false);
	Oid			reg = get_relname_relid("training_sets", nsp);
	HeapTuple	tp;
	Oid			owner;
	Oid			save_userid;
	int			save_sec;
	char	   *builder;
	Oid			argtypes[8] = {TEXTOID, TEXTOID, TEXTOID, TEXTARRAYOID, TEXTOID,
	INT8OID, TIMESTAMPTZOID, TEXTOID};
	Datum		args[8];
	TimestampTz now = GetCurrentTimestamp();

	if (!OidIsValid(reg))
		elog(ERROR, "registry table asof.training_sets is missing");
	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(reg));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for relation %u", reg);
	owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
	ReleaseSysCache(tp);

	GetUserIdAndSecContext(&save_userid, &save_sec);
	builder = GetUserNameFromId(save_userid, false);
	args[0] = CStringGetTextDatum(table);
	args[1] = CStringGetTextDatum(spine);
	args[2] = CStringGetTextDatum(at);
	args[3] = PointerGetDatum(views_arr);
	args[4] = CStringGetTextDatum(definitions);
	args[5] = Int64GetDatum(nrows);
	args[6] = TimestampTzGetDatum(started);
	args[7] = CStringGetTextDatum(builder);

	/* the registry is writable only by its owner (the extension's) */
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		int			rc;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		rc = SPI_execute_with_args(
								   "INSERT INTO asof.training_sets (name, version, spine, at, feature_views, "
								   "definitions, row_count, built_at, duration, built_by) "
								   "SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5::jsonb, $6, $7, "
								   "pg_catalog.make_interval(secs => $9), $8 "
								   "FROM asof.training_sets WHERE name = $1",
								   9,
								   (Oid[]) {argtypes[0], argtypes[1], argtypes[2], argtypes[3],
									   argtypes[4], argtypes[5], argtypes[6], argtypes[7], FLOAT8OID},
								   (Datum[]) {args[0], args[1], args[2], args[3], args[4], args[5],
									   args[6], args[7],
									   Float8GetDatum((now - started) / 1000000.0)},
								   NULL, false, 0);
		if (rc != SPI_OK_INSERT || SPI_processed != 1)
			elog(ERROR, "could not record the training set in asof.training_sets");
		SPI_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec);
	}
	PG_END_TRY();
}

/*
 * Phase 1: the arguments, the training set's name (new), the views, the
 * spine's live columns and every view's entity columns among them.
 */
static void
build_init(Build *b, FunctionCallInfo fcinfo)
{
	text	   *name_t;
	Oid			existing;
	Datum	   *view_datums;
	bool	   *view_nulls;
	Relation	srel;
	TupleDesc	sdesc;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("name, spine, at and feature_views of asof.build_training_set must not be null")));
	memset(b, 0, sizeof(*b));
	b->started = GetCurrentTimestamp();
	name_t = PG_GETARG_TEXT_PP(0);
	b->spine = PG_GETARG_OID(1);
	b->at = text_to_cstring(PG_GETARG_TEXT_PP(2));
	b->views_arr = PG_GETARG_ARRAYTYPE_P(3);

	/* the target table: named like CREATE TABLE would, and new */
	b->rv = makeRangeVarFromNameList(textToQualifiedNameList(name_t));
	b->nsp = RangeVarGetAndCheckCreationNamespace(b->rv, NoLock, &existing);
	existing = asof_claim_training_set_name(b->nsp, b->rv->relname);
	if (OidIsValid(existing))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists", b->rv->relname),
				 errhint("Choose another name for the training set, or drop the existing table first.")));
	b->target = quote_qualified_identifier(get_namespace_name(b->nsp), b->rv->relname);
	b->spine_name = qualified_relname(b->spine);
	check_at_expression(b->at);

	/* the views */
	deconstruct_array(b->views_arr, TEXTOID, -1, false, TYPALIGN_INT,
					  &view_datums, &view_nulls, &b->nviews);
	if (b->nviews == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("feature_views must name at least one feature view")));
	b->views = palloc(sizeof(AsofFeatureView *) * b->nviews);
	b->engines = palloc0(sizeof(AsofEngine *) * b->nviews);
	b->keycols = palloc(sizeof(AttrNumber *) * b->nviews);
	for (int i = 0; i < b->nviews; i++)
	{
		char	   *vname;

		if (view_nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("feature_views must not contain nulls")));
		vname = TextDatumGetCString(view_datums[i]);
		for (int j = 0; j < i; j++)
			if (strcmp(b->views[j]->name, vname) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("feature view \"%s\" is listed twice", vname)));
		b->views[i] = asof_load_feature_view(vname);
		b->maxfeat = Max(b->maxfeat, b->views[i]->nfeatures);
	}

	/* the spine: live columns */
	srel = relation_open(b->spine, AccessShareLock);
	sdesc = RelationGetDescr(srel);
	b->spinedesc = CreateTemplateTupleDesc(sdesc->natts);
	for (int i = 0; i < sdesc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(sdesc, i);

		if (a->attisdropped)
			continue;
		b->nspinecols++;
		TupleDescInitEntry(b->spinedesc, b->nspinecols, NameStr(a->attname),
						   a->atttypid, a->atttypmod, 0);
		TupleDescInitEntryCollation(b->spinedesc, b->nspinecols, a->attcollation);
		b->colnames = lappend(b->colnames, pstrdup(NameStr(a->attname)));
	}
	b->spinedesc->natts = b->nspinecols;
	relation_close(srel, NoLock);	/* the lock is kept until the end */

	/* every view's entity columns among them */
	for (int i = 0; i < b->nviews; i++)
	{
		AsofFeatureView *v = b->views[i];

		b->keycols[i] = palloc(sizeof(AttrNumber) * v->nkeys);
		for (int j = 0; j < v->nkeys; j++)
			b->keycols[i][j] = asof_spine_entity_column(v, b->spinedesc, b->spine_name, j);
	}
}

/*
 * Phase 2: the output table (spine columns, then <view>__<feature>),
 * created now so that permission problems surface before the work, and the
 * views' definitions as of the build.
 */
static void
build_create_table(Build *b)
{
	StringInfoData sql;
	StringInfoData defs;

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TABLE %s (", b->target);
	for (int i = 0; i < b->nspinecols; i++)
	{
		Form_pg_attribute a = TupleDescAttr(b->spinedesc, i);

		if (i)
			appendStringInfoString(&sql, ", ");
		append_column(&sql, NameStr(a->attname), a->atttypid, a->atttypmod, a->attcollation);
	}
	for (int i = 0; i < b->nviews; i++)
	{
		AsofFeatureView *v = b->views[i];

		for (int f = 0; f < v->nfeatures; f++)
		{
			char	   *col = psprintf("%s__%s", v->name, v->features[f].name);
			ListCell   *lc;

			if (strlen(col) >= NAMEDATALEN)
				ereport(ERROR,
						(errcode(ERRCODE_NAME_TOO_LONG),
						 errmsg("column name \"%s\" of feature \"%s\" of feature view \"%s\" is longer than %d bytes",
								col, v->features[f].name, v->name, NAMEDATALEN - 1),
						 errhint("Give the feature a shorter name with \"as\".")));
			foreach(lc, b->colnames)
				if (strcmp((char *) lfirst(lc), col) == 0)
					ereport(ERROR,
							(errcode(ERRCODE_DUPLICATE_COLUMN),
							 errmsg("column \"%s\" of the training set would appear twice", col),
							 errdetail("Feature \"%s\" of feature view \"%s\" has the name of a spine column or of another feature.",
									   v->features[f].name, v->name),
							 errhint("Rename the feature with \"as\" or the spine column.")));
			b->colnames = lappend(b->colnames, col);
			if (b->nspinecols > 0 || i > 0 || f > 0)
				appendStringInfoString(&sql, ", ");
			append_column(&sql, col, v->features[f].result_type, -1,
						  v->features[f].result_type == v->features[f].input_type ?
						  v->features[f].input_collation : InvalidOid);
		}
	}
	appendStringInfoChar(&sql, ')');

	initStringInfo(&defs);
	appendStringInfoChar(&defs, '[');
	for (int i = 0; i < b->nviews; i++)
	{
		if (i)
			appendStringInfoChar(&defs, ',');
		asof_view_definition_json(&defs, b->views[i]);
	}
	appendStringInfoChar(&defs, ']');
	b->definitions = defs.data;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql.data, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not create table %s", b->target);
	SPI_finish();
	CommandCounterIncrement();
	b->relid = RangeVarGetRelid(makeRangeVar(get_namespace_name(b->nsp), b->rv->relname, -1),
								NoLock, false);
}

/*
 * Phase 3: one engine per view, parallel workers when the build qualifies
 * (build_parallel.h), and the spine read once: every row into the store
 * (for the output) and, per view, its entity and k(t) into the view's
 * engine, or to the worker computing the view.
 */
static void
build_read_spine(Build *b)
{
	SpineReceiver recv;
	ErrorContextCallback errcb;
	StringInfoData q;

	b->progress.table = b->target;
	b->progress.view = NULL;
	b->progress.last = b->started;
	asof_guard_build_begin(b->spine, b->at);	/* leakage guard, G5 */
	for (int i = 0; i < b->nviews; i++)
	{
		b->engines[i] = asof_engine_create(b->views[i]);
		asof_engine_set_progress(b->engines[i], progress_report, &b->progress);
	}
	b->keybuf = palloc(sizeof(Datum) * INDEX_MAX_KEYS);
	b->keynullbuf = palloc(sizeof(bool) * INDEX_MAX_KEYS);
	b->store = tuplestore_begin_heap(false, false, maintenance_work_mem);
	b->storeslot = MakeSingleTupleTableSlot(b->spinedesc, &TTSOpsVirtual);

	memset(&recv, 0, sizeof(recv));
	recv.pub.receiveSlot = spine_receive;
	recv.pub.rStartup = spine_startup;
	recv.pub.rShutdown = spine_noop;
	recv.pub.rDestroy = spine_noop;
	recv.pub.mydest = DestNone;
	recv.b = b;
	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT ");
	for (int i = 0; i < b->nspinecols; i++)
		appendStringInfo(&q, "%s.%s, ", b->spine_name,
						 quote_identifier(NameStr(TupleDescAttr(b->spinedesc, i)->attname)));
	/* no alias: `at` may qualify columns with the spine's name */
	appendStringInfo(&q, "(%s) FROM %s", b->at, b->spine_name);
	b->heldout = palloc0(sizeof(int64) * b->nviews);
	b->parallel = asof_parallel_build_begin(b->views, b->engines, b->nviews, b->spine,
											b->at, q.data);
	if (b->parallel)
		ereport(DEBUG1,
				(errmsg_internal("training set %s: %d views, %d parallel workers",
								 b->target, b->nviews,
								 asof_parallel_build_workers(b->parallel))));
	errcb.callback = spine_error_context;
	errcb.arg = b;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	asof_guard_before_spine_read(b->spine);
	/* a parallel build reads on the snapshot its workers have */
	asof_engine_run_query(q.data, NULL, b->parallel != NULL, false, &recv.pub);
	error_context_stack = errcb.previous;
	asof_parallel_build_spine_done(b->parallel);
	ExecDropSingleTupleTableSlot(b->storeslot);
	b->storeslot = NULL;
}

/*
 * Phase 4: each view's engine reads its source (bounded) and merges; the
 * workers' views are handed over once they have finished.
 */
static void
build_run_engines(Build *b)
{
	for (int i = 0; i < b->nviews; i++)
	{
		if (asof_parallel_build_ships(b->parallel, i))
			continue;
		b->progress.view = b->views[i]->name;
		asof_engine_run(b->engines[i], NULL);
		b->heldout[i] = asof_engine_heldout_rows(b->engines[i]);
	}
	b->progress.view = NULL;
	if (b->parallel)
	{
		asof_parallel_build_finish(b->parallel);
		for (int i = 0; i < b->nviews; i++)
			if (asof_parallel_build_ships(b->parallel, i))
				b->heldout[i] = asof_parallel_build_heldout(b->parallel, i);
	}
}

/*
 * Phase 5: write each spine row with every view's next result, in spine
 * order, with table_multi_insert in batches.
 */
static void
build_write(Build *b)
{
	Relation	out = table_open(b->relid, RowExclusiveLock);
	int			nout = RelationGetDescr(out)->natts;
	TupleTableSlot **slots = palloc(sizeof(TupleTableSlot *) * INSERT_BATCH);
	TupleTableSlot *storeslot = MakeSingleTupleTableSlot(b->spinedesc, &TTSOpsMinimalTuple);
	BulkInsertState bistate = GetBulkInsertState();
	CommandId	cid = GetCurrentCommandId(true);
	Datum	   *fvals = palloc(sizeof(Datum) * Max(b->maxfeat, 1));
	bool	   *fnulls = palloc(sizeof(bool) * Max(b->maxfeat, 1));
	int			nbatch = 0;

	for (int i = 0; i < INSERT_BATCH; i++)
		slots[i] = MakeSingleTupleTableSlot(RelationGetDescr(out), table_slot_callbacks(out));
	while (tuplestore_gettupleslot(b->store, true, false, storeslot))
	{
		TupleTableSlot *s = slots[nbatch];
		int			c = b->nspinecols;

		slot_getallattrs(storeslot);
		ExecClearTuple(s);
		memcpy(s->tts_values, storeslot->tts_values, sizeof(Datum) * b->nspinecols);
		memcpy(s->tts_isnull, storeslot->tts_isnull, sizeof(bool) * b->nspinecols);
		for (int i = 0; i < b->nviews; i++)
		{
			int64		ordinal;
			int			nf = b->views[i]->nfeatures;

			if (!asof_engine_next(b->engines[i], &ordinal, fvals, fnulls) || ordinal != b->written)
				elog(ERROR, "engine results out of step with the spine at row " INT64_FORMAT, b->written);
			memcpy(s->tts_values + c, fvals, sizeof(Datum) * nf);
			memcpy(s->tts_isnull + c, fnulls, sizeof(bool) * nf);
			c += nf;
		}
		if (c != nout)
			elog(ERROR, "training set row has %d columns, table has %d", c, nout);
		ExecStoreVirtualTuple(s);
		ExecMaterializeSlot(s);
		b->written++;
		if (++nbatch == INSERT_BATCH)
		{
			table_multi_insert(out, slots, nbatch, cid, TABLE_INSERT_SKIP_FSM, bistate);
			for (int i = 0; i < nbatch; i++)
				ExecClearTuple(slots[i]);
			nbatch = 0;
			progress_report(&b->progress, "writing", b->written, b->nrows);
		}
	}
	if (nbatch > 0)
		table_multi_insert(out, slots, nbatch, cid, TABLE_INSERT_SKIP_FSM, bistate);
	FreeBulkInsertState(bistate);
	table_finish_bulk_insert(out, TABLE_INSERT_SKIP_FSM);
	for (int i = 0; i < INSERT_BATCH; i++)
		ExecDropSingleTupleTableSlot(slots[i]);
	ExecDropSingleTupleTableSlot(storeslot);
	table_close(out, NoLock);
	if (b->written != b->nrows)
		elog(ERROR, "wrote " INT64_FORMAT " rows for " INT64_FORMAT " spine rows", b->written, b->nrows);

	/* the workers' results are read: parallel mode ends before recording */
	asof_parallel_build_end(b->parallel);
	b->parallel = NULL;
}

/*
 * Phase 6: the guard's reports, the version record, the guard's rules for
 * a training set built on a protected spine.
 */
static void
build_record(Build *b)
{
	for (int i = 0; i < b->nviews; i++)
		asof_guard_report_heldout_features(b->target, b->views[i]->name, b->heldout[i]);
	record_build(b->target, b->spine_name, b->at, b->views_arr, b->definitions,
				 b->written, b->started);
	asof_guard_build_end();
	asof_guard_training_set_built(b->spine, b->relid);
}

/* Phase 7: the engines and the spine store. */
static void
build_free(Build *b)
{
	tuplestore_end(b->store);
	for (int i = 0; i < b->nviews; i++)
		asof_engine_end(b->engines[i]);
}

Datum
asof_build_training_set(PG_FUNCTION_ARGS)
{
	Build		b;

	build_init(&b, fcinfo);
	build_create_table(&b);
	build_read_spine(&b);
	build_run_engines(&b);
	build_write(&b);
	build_record(&b);
	build_free(&b);
	PG_RETURN_INT64(b.written);
}

/* ----------------------------------------------------------------------
 * features_at
 * ----------------------------------------------------------------------
 */
static void
append_json_value(StringInfo b, Datum v, bool isnull, Oid type)
{
	FmgrInfo	fi;
	Datum		j;

	if (isnull)
	{
		appendStringInfoString(b, "null");
		return;
	}
	fmgr_info(F_TO_JSONB, &fi);
	fi.fn_expr = (Node *) makeFuncExpr(F_TO_JSONB, JSONBOID,
									   list_make1(makeNullConst(type, -1, InvalidOid)),
									   InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	j = FunctionCall1(&fi, v);
	appendStringInfoString(b, DatumGetCString(DirectFunctionCall1(jsonb_out, j)));
}

Datum
asof_features_at(PG_FUNCTION_ARGS)
{
	char	   *vname;
	AsofFeatureView *v;
	Oid			at_type = getBaseType(get_fn_expr_argtype(fcinfo->flinfo, 2));
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *elemnulls;
	int			nelems;
	Datum	   *keys;
	bool	   *keynulls;
	bool		anynull = false;
	int64		t = 0;
	bool		t_valid;
	AsofEngine *e;
	int64		ordinal;
	Datum	   *vals;
	bool	   *nulls;
	StringInfoData json;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("feature_view and entity of asof.features_at must not be null")));
	vname = text_to_cstring(PG_GETARG_TEXT_PP(0));
	v = asof_load_feature_view(vname);
	asof_check_prediction_time_type(v, at_type);
	t_valid = time_of(PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2),
					  PG_ARGISNULL(2), at_type, &t);

	arr = PG_GETARG_ARRAYTYPE_P(1);
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &elemnulls, &nelems);
	if (nelems != v->nkeys)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg_plural("feature view \"%s\" needs %d entity value",
							   "feature view \"%s\" needs %d entity values",
							   v->nkeys, vname, v->nkeys),
				 errdetail_plural("%d value was given.", "%d values were given.",
								  nelems, nelems),
				 errhint("Pass one value per entity column, in the order of the view's entity.")));
	keys = palloc(sizeof(Datum) * v->nkeys);
	keynulls = palloc(sizeof(bool) * v->nkeys);
	for (int i = 0; i < v->nkeys; i++)
	{
		Oid			typinput,
					typioparam;

		keynulls[i] = elemnulls[i];
		anynull |= elemnulls[i];
		if (elemnulls[i])
			continue;
		getTypeInputInfo(v->key_types[i], &typinput, &typioparam);
		keys[i] = OidInputFunctionCall(typinput, TextDatumGetCString(elems[i]),
									   typioparam, -1);
	}

	e = asof_engine_create(v);
	asof_engine_add_spine(e, 0, keys, keynulls, t, t_valid);
	if (asof_engine_heldout_rows(e) > 0)
		asof_guard_refuse_features_at(v->source, v->name);
	asof_engine_run(e, anynull ? NULL : keys);
	vals = palloc(sizeof(Datum) * Max(v->nfeatures, 1));
	nulls = palloc(sizeof(bool) * Max(v->nfeatures, 1));
	if (!asof_engine_next(e, &ordinal, vals, nulls))
		elog(ERROR, "engine returned no result");

	initStringInfo(&json);
	appendStringInfoChar(&json, '{');
	for (int f = 0; f < v->nfeatures; f++)
	{
		if (f)
			appendStringInfoChar(&json, ',');
		escape_json(&json, v->features[f].name);
		appendStringInfoChar(&json, ':');
		append_json_value(&json, vals[f], nulls[f], v->features[f].result_type);
	}
	appendStringInfoChar(&json, '}');
	asof_engine_end(e);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json.data)));
}
