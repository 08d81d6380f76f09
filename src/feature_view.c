/*-------------------------------------------------------------------------
 *
 * feature_view.c
 *	  Feature view definitions in the catalog: asof.create_feature_view,
 *	  asof.drop_feature_view, asof.describe_feature_view, the loader
 *	  asof_load_feature_view() the engine and the reference formulation
 *	  read definitions through, and dependency tracking.
 *
 *	  A feature view is a row of asof.feature_view_registry plus one row per
 *	  feature in asof.feature_view_feature_registry.  So that PostgreSQL's
 *	  own dependency tracking protects what it uses, each feature view also
 *	  owns a plain SQL view asof_feature_views.<name> selecting its entity
 *	  columns, event time, available time and feature arguments from the
 *	  source (security_invoker; never queried: the loader reads the
 *	  expressions from its query tree, see exprs_from_helper): dropping or
 *	  retyping a used source column is refused because that view depends on
 *	  it, DROP TABLE ... CASCADE drops it, and an event trigger on sql_drop
 *	  (sql/20_feature_views.sql) then removes the registration.  Renaming a
 *	  column does not break a view, so a ddl_command_end trigger re-checks
 *	  the feature views of an altered relation (asof._feature_view_check).
 *
 *	  Every definition is validated (feature_spec.c) at creation and again
 *	  whenever it is loaded.  This file must not compute feature values.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/bitmapset.h"
#include "optimizer/optimizer.h"
#include "parser/parse_relation.h"
#include "rewrite/rewriteHandler.h"
#include "rewrite/rewriteManip.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "feature_spec.h"
#include "feature_view.h"
#include "guard.h"

#define HELPER_SCHEMA "asof_feature_views"

/* What a definition is built from: user input, or the stored catalog row. */
typedef struct ViewInput
{
	const char *name;
	Oid			source;
	int			nkeys;
	char	  **keys;
	const char *event_time;
	const char *available_time; /* NULL: event time */
	Interval   *cadence;		/* NULL: continuous */
	TimestampTz anchor;
	Interval   *delay;
	Interval   *ttl;			/* NULL: no expiry */
	int			nfeatures;
	AsofFeatureText *features;	/* expr: text to analyze */
	char	  **feature_texts;	/* as the user wrote them, for messages */
	bool		normalized;		/* texts come from the catalog */
} ViewInput;

typedef struct FeatureContext
{
	const char *view;
	int			position;
	const char *text;
} FeatureContext;

static void
feature_errcontext(void *arg)
{
	FeatureContext *fc = (FeatureContext *) arg;

	errcontext("feature %d \"%s\" of feature view \"%s\"",
			   fc->position, fc->text, fc->view);
}

/* Check a feature view name; errors say why it cannot be used. */
static void
check_view_name(const char *name)
{
	if (name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("feature view name cannot be empty")));
	if (strstr(name, "__") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("feature view name \"%s\" cannot contain \"__\"", name),
				 errdetail("Training set columns are named <view>__<feature>; the double underscore separates the two.")));
	if (strlen(name) > NAMEDATALEN - 4)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("feature view name \"%s\" is too long", name),
				 errdetail("Training set columns <view>__<feature> must fit in %d bytes.",
						   NAMEDATALEN - 1)));
}

/* Collect the attribute numbers an expression reads (for privileges). */
static Bitmapset *
add_columns(Bitmapset *cols, Node *expr)
{
	Bitmapset  *attnos = NULL;

	pull_varattnos(expr, 1, &attnos);
	return bms_join(cols, attnos);
}

/*
 * One definition being validated and built: its input, the view taking
 * shape, the source (open) and the source columns the view reads.
 */
typedef struct BuildState
{
	ViewInput  *in;
	AsofFeatureView *fv;
	Relation	rel;
	Bitmapset  *cols;
} BuildState;

/* The source: a table, view, materialized view or foreign table. */
static void
build_open_source(BuildState *b)
{
	char		relkind;

	b->rel = relation_open(b->in->source, AccessShareLock);
	relkind = b->rel->rd_rel->relkind;
	if (relkind != RELKIND_RELATION && relkind != RELKIND_VIEW &&
		relkind != RELKIND_MATVIEW && relkind != RELKIND_FOREIGN_TABLE &&
		relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("source \"%s\" is not a table or view",
						RelationGetRelationName(b->rel))));
}

/* Entity columns: exist, named once, of a type with a btree ordering. */
static void
build_entity_columns(BuildState *b)
{
	ViewInput  *in = b->in;
	AsofFeatureView *fv = b->fv;
	Relation	rel = b->rel;

	if (in->nkeys < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a feature view needs at least one entity column")));
	fv->nkeys = in->nkeys;
	fv->key_names = palloc(sizeof(char *) * in->nkeys);
	fv->key_types = palloc(sizeof(Oid) * in->nkeys);
	fv->key_collations = palloc(sizeof(Oid) * in->nkeys);
	for (int i = 0; i < in->nkeys; i++)
	{
		AttrNumber	attnum = attnameAttNum(rel, in->keys[i], false);
		Form_pg_attribute att;

		if (attnum <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("entity column \"%s\" of source \"%s\" does not exist",
							in->keys[i], RelationGetRelationName(rel))));
		for (int j = 0; j < i; j++)
			if (strcmp(in->keys[i], in->keys[j]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("entity column \"%s\" is listed twice", in->keys[i])));
		att = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
		if (!asof_type_has_btree_order(att->atttypid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("entity column \"%s\" of type %s cannot be used as a key",
							in->keys[i], format_type_be(att->atttypid)),
					 errdetail("Its type has no default btree ordering.")));
		fv->key_names[i] = pstrdup(in->keys[i]);
		fv->key_types[i] = att->atttypid;
		fv->key_collations[i] = att->attcollation;
		b->cols = bms_add_member(b->cols, attnum - FirstLowInvalidHeapAttributeNumber);
	}
}

/* Event time and available time: timestamp, or both timestamptz. */
static void
build_times(BuildState *b)
{
	ViewInput  *in = b->in;
	AsofFeatureView *fv = b->fv;
	Relation	rel = b->rel;
	AsofSourceExpr te;
	AsofSourceExpr ta;

	asof_analyze_source_expr(rel, in->event_time, "event time", true, in->normalized, &te);
	fv->time_type = getBaseType(te.type);
	if (fv->time_type != TIMESTAMPOID && fv->time_type != TIMESTAMPTZOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("event time \"%s\" is of type %s", in->event_time,
						format_type_be(te.type)),
				 errdetail("Event and available times must be timestamp or timestamp with time zone."),
				 errhint("Cast it, e.g. \"(%s)::timestamp\".", in->event_time)));
	fv->event_time = te.sql;
	fv->immutable_exprs = te.immutable;
	b->cols = add_columns(b->cols, te.expr);
	if (in->available_time != NULL)
	{
		asof_analyze_source_expr(rel, in->available_time, "available time", true,
								 in->normalized, &ta);
		if (getBaseType(ta.type) != fv->time_type)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("available time \"%s\" is of type %s but event time is of type %s",
							in->available_time, format_type_be(ta.type),
							format_type_be(te.type)),
					 errhint("Cast one of them so both are timestamp or both are timestamp with time zone.")));
		fv->available_time = ta.sql;
		fv->immutable_exprs = fv->immutable_exprs && ta.immutable;
		b->cols = add_columns(b->cols, ta.expr);
	}
}

/* Cadence, delay, TTL and anchor: absolute intervals, a finite anchor. */
static void
build_schedule(BuildState *b)
{
	ViewInput  *in = b->in;
	AsofFeatureView *fv = b->fv;

	fv->has_cadence = (in->cadence != NULL);
	if (fv->has_cadence)
		fv->cadence_us = asof_interval_us(in->cadence, "cadence", false);
	fv->delay_us = asof_interval_us(in->delay, "delay", true);
	fv->has_ttl = (in->ttl != NULL);
	if (fv->has_ttl)
		fv->ttl_us = asof_interval_us(in->ttl, "ttl", false);
	if (TIMESTAMP_NOT_FINITE(in->anchor))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("anchor must be a finite time")));
	/* for timestamp views: the anchor's UTC wall clock, the same int64 */
	fv->anchor_us = in->anchor;
}

/* Features: arguments analyzed over the source, names that fit and differ. */
static void
build_features(BuildState *b)
{
	ViewInput  *in = b->in;
	AsofFeatureView *fv = b->fv;
	Relation	rel = b->rel;

	if (in->nfeatures < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a feature view needs at least one feature")));
	fv->nfeatures = in->nfeatures;
	fv->features = palloc0(sizeof(AsofFeature) * in->nfeatures);
	for (int i = 0; i < in->nfeatures; i++)
	{
		AsofFeatureText *ft = &in->features[i];
		AsofFeature *f = &fv->features[i];
		FeatureContext fc = {in->name, i + 1, in->feature_texts[i]};
		ErrorContextCallback cb;

		cb.callback = feature_errcontext;
		cb.arg = &fc;
		cb.previous = error_context_stack;
		error_context_stack = &cb;

		f->name = pstrdup(ft->name);
		f->agg = ft->agg;
		f->window_us = ft->window_us;
		if (ft->expr != NULL)
		{
			AsofSourceExpr arg;

			asof_analyze_source_expr(rel, ft->expr, "feature argument", true,
									 in->normalized, &arg);
			f->expr = arg.sql;
			f->input_type = arg.type;
			f->input_typmod = arg.typmod;
			f->input_collation = arg.collation;
			fv->immutable_exprs = fv->immutable_exprs && arg.immutable;
			b->cols = add_columns(b->cols, arg.expr);
		}
		else
			f->input_typmod = -1;
		f->result_type = asof_feature_result_type(f->agg, f->input_type,
												  in->feature_texts[i]);

		if (strlen(in->name) + 2 + strlen(f->name) > NAMEDATALEN - 1)
			ereport(ERROR,
					(errcode(ERRCODE_NAME_TOO_LONG),
					 errmsg("column name \"%s__%s\" is too long", in->name, f->name),
					 errdetail("Training set column names <view>__<feature> must fit in %d bytes.",
							   NAMEDATALEN - 1),
					 ft->explicit_name ?
					 errhint("Choose a shorter name after \"as\".") :
					 errhint("Name the feature with \"as\", e.g. \"%s as short_name\".",
							 in->feature_texts[i])));
		for (int j = 0; j < i; j++)
			if (strcmp(fv->features[j].name, f->name) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("feature name \"%s\" is used twice in feature view \"%s\"",
								f->name, in->name),
						 errdetail("Features %d \"%s\" and %d \"%s\" have the same name.",
								   j + 1, in->feature_texts[j], i + 1, in->feature_texts[i]),
						 errhint("Name one of them with \"as\".")));
		error_context_stack = cb.previous;
	}
}

/* The caller can read what the view reads (not when loading a stored one). */
static void
build_check_privileges(BuildState *b)
{
	ViewInput  *in = b->in;
	Relation	rel = b->rel;

	if (!in->normalized &&
		pg_class_aclcheck(in->source, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
	{
		int			c = -1;

		while ((c = bms_next_member(b->cols, c)) >= 0)
		{
			AttrNumber	attnum = c + FirstLowInvalidHeapAttributeNumber;

			if (attnum > 0 &&
				pg_attribute_aclcheck(in->source, attnum, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("permission denied for column \"%s\" of source \"%s\"",
								get_attname(in->source, attnum, false),
								RelationGetRelationName(rel))));
		}
		if (bms_is_empty(b->cols) || bms_next_member(b->cols, -1) + FirstLowInvalidHeapAttributeNumber <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for source \"%s\"",
							RelationGetRelationName(rel))));
	}
}

/*
 * Validate a definition against its source and build the in-memory form.
 * Everything the contract checks at creation is checked here, so a
 * definition that loads is a valid one.
 */
static AsofFeatureView *
build_view(ViewInput *in)
{
	BuildState	b = {in, palloc0(sizeof(AsofFeatureView)), NULL, NULL};

	b.fv->name = pstrdup(in->name);
	b.fv->source = in->source;

	build_open_source(&b);
	build_entity_columns(&b);
	build_times(&b);
	build_schedule(&b);
	build_features(&b);
	build_check_privileges(&b);

	relation_close(b.rel, NoLock);
	return b.fv;
}

/* The role that owns pg_asof's schemas, as which the registry is written. */
static Oid
extension_owner(void)
{
	Oid			nsp = get_namespace_oid(HELPER_SCHEMA, false);
	HeapTuple	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for namespace %u", nsp);
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	return owner;
}

/* The owner of a feature view: the owner of its helper view. */
static Oid
feature_view_owner(const char *name)
{
	Oid			relid = get_relname_relid(name, get_namespace_oid(HELPER_SCHEMA, false));

	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(relid))
		return InvalidOid;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/* Run `sql` through SPI (connected), erroring unless it returns `expect`. */
static void
spi_exec(const char *sql, int nargs, Oid *types, Datum *values,
		 const char *nulls, int expect)
{
	/* in a parallel build's worker, reads only (build_parallel.c) */
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls,
										   IsInParallelMode(), 0);

	if (rc != expect)
		elog(ERROR, "SPI_execute_with_args(\"%s\") returned %d", sql, rc);
}

static bool
feature_view_exists(const char *name)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	bool		found;

	SPI_connect();
	spi_exec("SELECT 1 FROM asof.feature_view_registry WHERE name = $1",
			 1, types, values, NULL, SPI_OK_SELECT);
	found = SPI_processed > 0;
	SPI_finish();
	return found;
}

/* Canonical feature text: "avg(delay) over 1h as avg_delay_1h". */
static char *
feature_definition(const AsofFeatureText *ft)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s(%s)", asof_agg_name(ft->agg),
					 ft->expr ? ft->expr : "*");
	if (ft->window_us > 0)
		appendStringInfo(&buf, " over %s", asof_format_duration(ft->window_us));
	appendStringInfo(&buf, " as %s", quote_identifier(ft->name));
	return buf.data;
}

static Datum
interval_datum_us(int64 us)
{
	Interval   *iv = palloc0(sizeof(Interval));

	iv->time = us;
	return IntervalPGetDatum(iv);
}

/*
 * Write the registry rows and create the helper view, as the extension's
 * owner (the registry is not writable by others), with search_path =
 * pg_catalog so the normalized expressions resolve as they were written.
 */
static void
store_view(ViewInput *in, AsofFeatureView *fv, Datum entity)
{
	Oid			creator = GetUserId();
	Oid			save_userid;
	int			save_sec;
	int			nestlevel;
	StringInfoData sql;
	char	   *helper = quote_qualified_identifier(HELPER_SCHEMA, fv->name);

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(extension_owner(),
						   save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	SPI_connect();

	/*
	 * The helper view first: PostgreSQL's dependency tracking does the
	 * rest.  It is created before the registry rows, because the
	 * ddl_command_end trigger refuses CREATE (OR REPLACE) VIEW of the
	 * helper view of a registered feature view.
	 */
	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE VIEW %s%s AS SELECT ", helper,
					 ASOF_HELPER_VIEW_OPTIONS);
	for (int i = 0; i < fv->nkeys; i++)
		appendStringInfo(&sql, "%s, ", quote_identifier(fv->key_names[i]));
	appendStringInfo(&sql, "%s AS \"asof:event_time\"", fv->event_time);
	if (fv->available_time)
		appendStringInfo(&sql, ", %s AS \"asof:available_time\"", fv->available_time);
	for (int i = 0; i < fv->nfeatures; i++)
		if (fv->features[i].expr)
			appendStringInfo(&sql, ", %s AS \"asof:feature %d\"",
							 fv->features[i].expr, i + 1);
	appendStringInfo(&sql, " FROM %s",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(fv->source)),
												get_rel_name(fv->source)));
	spi_exec(sql.data, 0, NULL, NULL, NULL, SPI_OK_UTILITY);
	spi_exec(psprintf("COMMENT ON VIEW %s IS %s", helper,
					  quote_literal_cstr(psprintf("Dependency anchor of pg_asof feature view %s: keeps the source columns it uses from being dropped or changed. Managed by asof.create_feature_view and asof.drop_feature_view.",
												  quote_literal_cstr(fv->name)))),
			 0, NULL, NULL, NULL, SPI_OK_UTILITY);
	if (creator != extension_owner())
		spi_exec(psprintf("ALTER VIEW %s OWNER TO %s", helper,
						  quote_identifier(GetUserNameFromId(creator, false))),
				 0, NULL, NULL, NULL, SPI_OK_UTILITY);

	{
		Oid			types[12] = {TEXTOID, REGCLASSOID, NAMEARRAYOID, TEXTOID, TEXTOID,
			TEXTOID, TEXTOID, REGTYPEOID, INTERVALOID, TIMESTAMPTZOID,
		INTERVALOID, INTERVALOID};
		Datum		values[12];
		char		nulls[12];

		memset(nulls, ' ', sizeof(nulls));
		values[0] = CStringGetTextDatum(fv->name);
		values[1] = ObjectIdGetDatum(fv->source);
		values[2] = entity;
		values[3] = CStringGetTextDatum(in->event_time);
		values[4] = CStringGetTextDatum(fv->event_time);
		if (in->available_time)
		{
			values[5] = CStringGetTextDatum(in->available_time);
			values[6] = CStringGetTextDatum(fv->available_time);
		}
		else
			nulls[5] = nulls[6] = 'n';
		values[7] = ObjectIdGetDatum(fv->time_type);
		if (in->cadence)
			values[8] = IntervalPGetDatum(in->cadence);
		else
			nulls[8] = 'n';
		values[9] = TimestampTzGetDatum(in->anchor);
		values[10] = IntervalPGetDatum(in->delay);
		if (in->ttl)
			values[11] = IntervalPGetDatum(in->ttl);
		else
			nulls[11] = 'n';
		spi_exec("INSERT INTO asof.feature_view_registry "
				 "(name, source, entity, event_time, event_time_sql, "
				 " available_time, available_time_sql, time_type, cadence, "
				 " anchor, delay, ttl, created) "
				 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
				 "pg_catalog.now())",
				 12, types, values, nulls, SPI_OK_INSERT);
	}

	for (int i = 0; i < fv->nfeatures; i++)
	{
		AsofFeatureText *ft = &in->features[i];
		Oid			types[8] = {TEXTOID, INT4OID, TEXTOID, TEXTOID, TEXTOID,
		TEXTOID, TEXTOID, INTERVALOID};
		Datum		values[8];
		char		nulls[8];

		memset(nulls, ' ', sizeof(nulls));
		values[0] = CStringGetTextDatum(fv->name);
		values[1] = Int32GetDatum(i + 1);
		values[2] = CStringGetTextDatum(ft->name);
		values[3] = CStringGetTextDatum(feature_definition(ft));
		values[4] = CStringGetTextDatum(ft->agg == ASOF_AGG_COUNT_STAR ? "count(*)" :
										asof_agg_name(ft->agg));
		if (ft->expr)
		{
			values[5] = CStringGetTextDatum(ft->expr);
			values[6] = CStringGetTextDatum(fv->features[i].expr);
		}
		else
			nulls[5] = nulls[6] = 'n';
		if (ft->window_us > 0)
			values[7] = interval_datum_us(ft->window_us);
		else
			nulls[7] = 'n';
		spi_exec("INSERT INTO asof.feature_view_feature_registry "
				 "(feature_view, position, name, definition, aggregate, "
				 " argument, argument_sql, window_size) "
				 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
				 8, types, values, nulls, SPI_OK_INSERT);
	}

	SPI_finish();
	AtEOXact_GUC(true, nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec);
}

static char *
text_arg(FunctionCallInfo fcinfo, int n, const char *what)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s cannot be null", what)));
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* Elements of a one-dimensional array argument without NULLs. */
static void
array_arg(FunctionCallInfo fcinfo, int n, const char *what, Oid elemtype,
		  Datum **elems, int *nelems)
{
	ArrayType  *arr;
	bool	   *nulls;

	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s cannot be null", what)));
	arr = PG_GETARG_ARRAYTYPE_P(n);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what)));
	if (elemtype == NAMEOID)
		deconstruct_array(arr, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR,
						  elems, &nulls, nelems);
	else
		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT,
						  elems, &nulls, nelems);
	for (int i = 0; i < *nelems; i++)
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s cannot contain nulls", what)));
}

PG_FUNCTION_INFO_V1(asof_create_feature_view);

/*
 * asof.create_feature_view(name text, source regclass, entity name[],
 *	   event_time text, features text[], available_time text, cadence
 *	   interval, anchor timestamptz, delay interval, ttl interval) -> void
 */
Datum
asof_create_feature_view(PG_FUNCTION_ARGS)
{
	ViewInput	in;
	Datum	   *elems;
	int			n;
	AsofFeatureView *fv;

	memset(&in, 0, sizeof(in));
	in.name = text_arg(fcinfo, 0, "name");
	check_view_name(in.name);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("source cannot be null")));
	in.source = PG_GETARG_OID(1);
	array_arg(fcinfo, 2, "entity", NAMEOID, &elems, &n);
	in.nkeys = n;
	in.keys = palloc(sizeof(char *) * (n + 1));
	for (int i = 0; i < n; i++)
		in.keys[i] = pstrdup(NameStr(*DatumGetName(elems[i])));
	in.event_time = text_arg(fcinfo, 3, "event_time");
	array_arg(fcinfo, 4, "features", TEXTOID, &elems, &n);
	in.nfeatures = n;
	in.features = palloc0(sizeof(AsofFeatureText) * (n + 1));
	in.feature_texts = palloc(sizeof(char *) * (n + 1));
	in.available_time = PG_ARGISNULL(5) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(5));
	in.cadence = PG_ARGISNULL(6) ? NULL : PG_GETARG_INTERVAL_P(6);
	if (PG_ARGISNULL(7))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("anchor cannot be null")));
	in.anchor = PG_GETARG_TIMESTAMPTZ(7);
	if (PG_ARGISNULL(8))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("delay cannot be null"),
				 errhint("Use interval '0' for no delay.")));
	in.delay = PG_GETARG_INTERVAL_P(8);
	in.ttl = PG_ARGISNULL(9) ? NULL : PG_GETARG_INTERVAL_P(9);

	/* split the feature texts (checked against the source in build_view) */
	for (int i = 0; i < in.nfeatures; i++)
	{
		FeatureContext fc = {in.name, i + 1, NULL};
		ErrorContextCallback cb;

		in.feature_texts[i] = TextDatumGetCString(elems[i]);
		fc.text = in.feature_texts[i];
		cb.callback = feature_errcontext;
		cb.arg = &fc;
		cb.previous = error_context_stack;
		error_context_stack = &cb;
		asof_parse_feature(in.feature_texts[i], &in.features[i]);
		error_context_stack = cb.previous;
	}

	if (feature_view_exists(in.name))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("feature view \"%s\" already exists", in.name),
				 errhint("Drop it first with asof.drop_feature_view('%s').", in.name)));

	fv = build_view(&in);
	asof_guard_check_source(fv->source, fv->event_time);	/* G5, guard_sources.c */
	store_view(&in, fv, PG_GETARG_DATUM(2));
	PG_RETURN_VOID();
}

/*
 * The normalized expressions of a stored definition, regenerated from the
 * query tree of its helper view: the tree refers to functions, operators,
 * types, collations and schemas by OID, so the text follows ALTER ...
 * RENAME and SET SCHEMA of any of them (as a PostgreSQL view does) and a
 * new object that takes the old name cannot slip in.  Without a helper
 * view (never the case for a registered view) the stored text stays.
 */
static void
exprs_from_helper(ViewInput *in)
{
	Oid			nsp = get_namespace_oid(HELPER_SCHEMA, true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid(in->name, nsp) : InvalidOid;
	Relation	view;
	Relation	source;
	Query	   *q;
	int			srcindex = 0;
	int			i = 0;
	int			nexprs;
	ListCell   *lc;

	if (!OidIsValid(relid))
		return;
	view = relation_open(relid, AccessShareLock);
	q = get_view_query(view);
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		i++;
		if (rte->rtekind == RTE_RELATION && rte->relid == in->source)
			srcindex = i;
	}
	if (srcindex == 0)
		elog(ERROR, "helper view of feature view \"%s\" does not read its source", in->name);
	/*
	 * Its columns, by position (the owner may rename them): the entity
	 * columns, the event time, the available time when given, then the
	 * argument of every feature that has one, in order.
	 */
	nexprs = 1 + (in->available_time != NULL ? 1 : 0);
	for (int f = 0; f < in->nfeatures; f++)
		nexprs += (in->features[f].expr != NULL);
	if (list_length(q->targetList) != in->nkeys + nexprs)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("helper view \"%s.%s\" of feature view \"%s\" has been changed",
						HELPER_SCHEMA, in->name, in->name),
				 errdetail("It has %d columns; the feature view needs %d.",
						   list_length(q->targetList), in->nkeys + nexprs),
				 errhint("Drop the feature view with asof.drop_feature_view('%s') and create it again.",
						 in->name)));
	source = relation_open(in->source, AccessShareLock);
	i = 0;
	foreach(lc, q->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Node	   *expr;
		char	   *sql;
		int			e = i++ - in->nkeys;

		if (e < 0)
			continue;
		expr = copyObject((Node *) tle->expr);
		ChangeVarNodes(expr, srcindex, 1, 0);
		sql = asof_normalize_expr(source, expr);
		if (e == 0)
			in->event_time = sql;
		else if (e == 1 && in->available_time != NULL)
			in->available_time = sql;
		else
		{
			int			f = 0;

			e -= (in->available_time != NULL ? 2 : 1);
			for (;; f++)
				if (in->features[f].expr != NULL && e-- == 0)
					break;
			in->features[f].expr = sql;
		}
	}
	relation_close(source, NoLock);
	relation_close(view, NoLock);
}

/*
 * Read a definition from the catalog and validate it against its source
 * (which may have changed since it was created only in ways its helper
 * view allows).  Its expressions come from the helper view's query tree
 * (exprs_from_helper), so renamed functions, types and schemas are
 * followed.
 */
AsofFeatureView *
asof_load_feature_view(const char *name)
{
	MemoryContext caller = CurrentMemoryContext;
	ViewInput	in;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	Datum		d;
	Datum	   *elems;
	int			n;

	memset(&in, 0, sizeof(in));
	in.name = pstrdup(name);
	in.normalized = true;
	values[0] = CStringGetTextDatum(name);

	SPI_connect();
	spi_exec("SELECT source, entity, event_time_sql, available_time_sql, "
			 "cadence, anchor, delay, ttl "
			 "FROM asof.feature_view_registry WHERE name = $1",
			 1, types, values, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("feature view \"%s\" does not exist", name)));
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		in.source = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		d = SPI_getbinval(tup, desc, 2, &isnull);
		deconstruct_array(DatumGetArrayTypePCopy(d), NAMEOID, NAMEDATALEN, false,
						  TYPALIGN_CHAR, &elems, NULL, &n);
		in.nkeys = n;
		in.keys = palloc(sizeof(char *) * (n + 1));
		for (int i = 0; i < n; i++)
			in.keys[i] = pstrdup(NameStr(*DatumGetName(elems[i])));
		in.event_time = SPI_getvalue(tup, desc, 3);
		in.available_time = SPI_getvalue(tup, desc, 4);
		d = SPI_getbinval(tup, desc, 5, &isnull);
		in.cadence = isnull ? NULL : DatumGetIntervalP(datumCopy(d, false, sizeof(Interval)));
		in.anchor = DatumGetTimestampTz(SPI_getbinval(tup, desc, 6, &isnull));
		d = SPI_getbinval(tup, desc, 7, &isnull);
		in.delay = DatumGetIntervalP(datumCopy(d, false, sizeof(Interval)));
		d = SPI_getbinval(tup, desc, 8, &isnull);
		in.ttl = isnull ? NULL : DatumGetIntervalP(datumCopy(d, false, sizeof(Interval)));
		MemoryContextSwitchTo(spi);
	}

	spi_exec("SELECT name, aggregate, argument_sql, window_size, definition "
			 "FROM asof.feature_view_feature_registry WHERE feature_view = $1 "
			 "ORDER BY position",
			 1, types, values, NULL, SPI_OK_SELECT);
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		in.nfeatures = SPI_processed;
		in.features = palloc0(sizeof(AsofFeatureText) * (in.nfeatures + 1));
		in.feature_texts = palloc(sizeof(char *) * (in.nfeatures + 1));
		for (int i = 0; i < in.nfeatures; i++)
		{
			AsofFeatureText *ft = &in.features[i];
			char	   *agg;

			tup = SPI_tuptable->vals[i];
			desc = SPI_tuptable->tupdesc;
			ft->name = SPI_getvalue(tup, desc, 1);
			agg = SPI_getvalue(tup, desc, 2);
			ft->agg = asof_agg_from_name(agg);
			if ((int) ft->agg < 0)
				elog(ERROR, "feature view \"%s\" has an unknown aggregate \"%s\"", name, agg);
			ft->expr = SPI_getvalue(tup, desc, 3);
			d = SPI_getbinval(tup, desc, 4, &isnull);
			ft->window_us = isnull ? 0 :
				asof_interval_us(DatumGetIntervalP(d), "window", false);
			in.feature_texts[i] = SPI_getvalue(tup, desc, 5);
		}
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();

	exprs_from_helper(&in);
	return build_view(&in);
}

PG_FUNCTION_INFO_V1(asof_drop_feature_view);

/* asof.drop_feature_view(name text) -> void */
Datum
asof_drop_feature_view(PG_FUNCTION_ARGS)
{
	char	   *name = text_arg(fcinfo, 0, "name");
	Oid			owner;
	Oid			save_userid;
	int			save_sec;
	int			nestlevel;
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};

	if (!feature_view_exists(name))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("feature view \"%s\" does not exist", name)));
	owner = feature_view_owner(name);
	if (!superuser() && !(OidIsValid(owner) && has_privs_of_role(GetUserId(), owner)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of feature view \"%s\"", name),
				 OidIsValid(owner) ?
				 errdetail("Feature view \"%s\" is owned by role \"%s\".", name,
						   GetUserNameFromId(owner, false)) : 0));

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(extension_owner(),
						   save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	SPI_connect();
	if (OidIsValid(owner))
		spi_exec(psprintf("DROP VIEW %s",
						  quote_qualified_identifier(HELPER_SCHEMA, name)),
				 0, NULL, NULL, NULL, SPI_OK_UTILITY);
	/* the sql_drop trigger has done this already; be explicit anyway */
	spi_exec("DELETE FROM asof.feature_view_feature_registry WHERE feature_view = $1",
			 1, types, values, NULL, SPI_OK_DELETE);
	spi_exec("DELETE FROM asof.feature_view_registry WHERE name = $1",
			 1, types, values, NULL, SPI_OK_DELETE);
	SPI_finish();
	AtEOXact_GUC(true, nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(asof_feature_view_check);

/*
 * asof._feature_view_check(name text) -> void: load and validate a
 * definition (the ddl_command_end trigger calls it after a source changed).
 */
Datum
asof_feature_view_check(PG_FUNCTION_ARGS)
{
	(void) asof_load_feature_view(text_arg(fcinfo, 0, "name"));
	PG_RETURN_VOID();
}

/* For the other parts of pg_asof (feature_view.h). */
Oid
asof_extension_owner(void)
{
	return extension_owner();
}

Oid
asof_feature_view_owner(const char *name)
{
	return feature_view_owner(name);
}
