/*-------------------------------------------------------------------------
 *
 * guard_engine.c
 *	  G5: the guard's side of feature views and training sets.  The engine
 *	  (engine.c, training_set.c) reads sources and spines with ordinary
 *	  queries, so G1 and G2 already apply to it as to any user: before a
 *	  split, features over label or future columns are refused; after it,
 *	  a protected source shows its training rows only.  This file adds what
 *	  the engine asks of the guard:
 *	  - the cutoff of the protected tables a source reads (asof_guard_
 *		source_rules): a spine row whose effective time k(t) is after it
 *		would need held-out rows, so its features are NULL and counted, and
 *		features_at refuses it (asof_guard_refuse_features_at);
 *	  - for a build on a protected spine (asof_guard_build_begin): the
 *		engine reads the spine whole (its held-out rows end up sealed in the
 *		training set) and, where that cannot reach other rows, the source
 *		whole too, so that the sealed rows get their real features; these
 *		are one-shot exemptions of the engine's own queries (guard_rows.c),
 *		never of user functions;
 *	  - after a build on a protected spine (asof_guard_training_set_built):
 *		labels that were not known before the split (label_time at or
 *		after test_from) are set to NULL and counted, and the training set
 *		is registered as protected, linked to the spine's registration.
 *
 *	  Must not: compute features, or exempt anything but the engine's own
 *	  queries, for the rows the contract allows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"

#include "access/table.h"
#include "access/transam.h"
#include "catalog/pg_class.h"
#include "utils/syscache.h"
#include "miscadmin.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/nodeFuncs.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "guard_registry.h"
#include "compat.h"
#include "feature_spec.h"
#include "guard.h"
#include "guard_sources.h"

/* Is "expr" just the column "colname" (as written or quoted)? */
static bool
is_column(const char *expr, const char *colname)
{
	return strcmp(expr, colname) == 0 || strcmp(expr, quote_identifier(colname)) == 0;
}

static bool
user_function_checker(Oid func_id, void *context)
{
	return func_id >= FirstNormalObjectId;
}

bool
asof_guard_node_calls_user_code(Node *node)
{
	if (check_functions_in_node(node, user_function_checker, NULL))
		return true;
	/* a domain's CHECK constraints may call anything: treat them as user code */
	return IsA(node, CoerceToDomain) &&
		DomainHasConstraints(((CoerceToDomain *) node)->resulttype);
}

static bool
contains_user_function(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (asof_guard_node_calls_user_code(node))
		return true;
	return expression_tree_walker(node, contains_user_function, context);
}

/* Does the engine's source query call functions other than built-in ones? */
static bool
source_calls_user_functions(const char *sql)
{
	List	   *raw = raw_parser(sql, RAW_PARSE_DEFAULT);
	Query	   *q;

	if (list_length(raw) != 1)
		return true;
	q = asof_parse_analyze(linitial_node(RawStmt, raw), sql);
	return contains_user_function((Node *) q->targetList, NULL) ||
		contains_user_function(q->jointree->quals, NULL);
}

void
asof_guard_build_begin(Oid spine, const char *at)
{
	const AsofGuardedRel *g;
	char	   *timecol;

	asof_guard_build_end();
	if (!asof_guard_active() || !asof_registry_any_protected())
		return;
	g = asof_registry_lookup(spine);
	if (g == NULL || g->regrelid != spine || !g->has_split)
		return;
	timecol = get_attname(spine, g->time_attno, false);
	if (!is_column(at, timecol))
		return;					/* rows are sealed by the time column */
	/* Its rows from the cutoff on end up sealed in the training set. */
	asof_guard_set_build(spine, g->cutoff_us);
}

void
asof_guard_before_spine_read(Oid spine)
{
	Oid			build_spine;
	int64		sealed_from;

	if (asof_guard_get_build(&build_spine, &sealed_from) && spine == build_spine)
		asof_guard_exempt_next_plan(spine);
}

/* The owner of a relation. */
static Oid
relation_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

bool
asof_guard_source_rules(Oid source, const char *event_time, const char *source_sql,
						int64 *cutoff, bool *exempt_sealed, int64 *sealed_from)
{
	AsofSourceShape shape;
	Oid			build_spine;
	int64		build_sealed_from;

	*exempt_sealed = false;
	if (!asof_guard_active() || !asof_registry_any_protected())
		return false;

	/*
	 * The source's hidden tables, locked before their cutoffs are read, and
	 * its shape: one the engine cannot evaluate exactly is refused
	 * (guard_sources.c).
	 */
	asof_source_shape(source, event_time, &shape);
	asof_source_refuse_inexact(source, &shape);
	if (!shape.has_cutoff)
		return false;
	*cutoff = shape.cutoff;

	/*
	 * Rows that end up sealed may be computed from held-out rows, when that
	 * cannot reach the other rows: the source is the protected table itself
	 * (no view in between), its event time is the table's time column (a
	 * row held out there becomes visible only after the cutoff, so never to
	 * a row whose k(t) is at or before it), and the query calls built-in
	 * functions only (no user code sees held-out values).  And only when
	 * the source's owner is both the builder and the spine's owner: the
	 * sealed rows open with the spine owner's asof.unseal, so a source of
	 * another owner would hand its held-out rows to whoever owns a spine,
	 * and an error raised over a held-out row (a failed cast, a division
	 * by zero) would show its values to a builder who does not own it.
	 */
	if (asof_guard_get_build(&build_spine, &build_sealed_from) &&
		asof_table_ownercheck(source, GetUserId()) &&
		asof_table_ownercheck(source, relation_owner(build_spine)) &&
		shape.nreads == 1 && linitial_oid(shape.hidden) == source &&
		shape.time_exact &&
		is_column(event_time, get_attname(source, asof_registry_lookup(source)->time_attno, false)) &&
		!source_calls_user_functions(source_sql))
	{
		*exempt_sealed = true;
		*sealed_from = build_sealed_from;
	}
	return true;
}

void
asof_guard_check_source(Oid source, const char *event_time)
{
	AsofSourceShape shape;

	if (!asof_guard_active() || !asof_registry_any_protected())
		return;
	asof_source_shape(source, event_time, &shape);
	asof_source_refuse_inexact(source, &shape);
}

/*
 * The reference (asof.feature_view_sql) does not apply the split's rules:
 * over a source that reads a protected table with a split it would compute
 * values over the training rows only.  Refused, with a hint.
 */
static void
refuse_reference(Oid source, const AsofSourceShape *shape)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("the plain-SQL reference of a feature view over source \"%s\" cannot be evaluated under the train/test split of protected table \"%s\"",
					get_rel_name(source), get_rel_name(shape->cutoff_rel)),
			 errdetail("The reference does not apply the split's rules: it would compute values over the training rows only, a partial set of rows for spine rows whose effective time is near or after the split."),
			 errhint("Build the training set with asof.build_training_set (features after the split are NULL and counted), or open the test set with asof.unseal('%s', reason => ...) in this transaction.",
					 DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(shape->cutoff_rel))))));
}

char *
asof_guard_reference_spine(Oid source, const char *spine_sql)
{
	AsofSourceShape shape;

	if (!asof_registry_any_protected())
		return (char *) spine_sql;
	asof_source_shape(source, "NULL", &shape);
	if (shape.has_cutoff)
		refuse_reference(source, &shape);
	asof_source_refuse_inexact(source, &shape);
	if (!shape.reads_protected)
		return (char *) spine_sql;

	/*
	 * The query checks again when it runs: the split may come later.  On
	 * the spine, whose columns the query returns anyway (a subquery over
	 * the source would mark all its columns read, labels included).
	 */
	return psprintf("(SELECT * FROM %s WHERE asof.assert_exact_source(%s::pg_catalog.regclass))",
					spine_sql,
					quote_literal_cstr(quote_qualified_identifier(get_namespace_name(get_rel_namespace(source)),
																  get_rel_name(source))));
}

PG_FUNCTION_INFO_V1(asof_assert_exact_source);

/* asof.assert_exact_source(source regclass) -> boolean (true, or an error) */
Datum
asof_assert_exact_source(PG_FUNCTION_ARGS)
{
	Oid			source = PG_GETARG_OID(0);
	AsofSourceShape shape;

	if (!asof_guard_active() || !asof_registry_any_protected())
		PG_RETURN_BOOL(true);
	if (get_rel_name(source) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", source)));
	asof_source_shape(source, "NULL", &shape);
	if (shape.has_cutoff)
		refuse_reference(source, &shape);
	asof_source_refuse_inexact(source, &shape);
	PG_RETURN_BOOL(true);
}

void
asof_guard_source_read_begin(void)
{
	asof_source_read_begin();
}

void
asof_guard_source_read_end(Oid source, const char *event_time)
{
	AsofSourceShape shape;

	if (!asof_guard_active() || !asof_registry_any_protected())
		memset(&shape, 0, sizeof(shape));	/* nothing hidden: nothing counted */
	else
		asof_source_shape(source, event_time, &shape);
	asof_source_read_end(source, &shape);
}

void
asof_guard_refuse_features_at(Oid source, const char *view_name)
{
	AsofSourceShape shape;

	if (!asof_guard_active() || !asof_registry_any_protected())
		return;
	asof_source_shape(source, "NULL", &shape);
	if (!shape.has_cutoff)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("features of feature view \"%s\" at this time would read held-out rows of protected table \"%s\"",
					view_name, get_rel_name(shape.cutoff_rel)),
			 errdetail("The effective time of the features is at or after the table's train/test split."),
			 errhint("Ask for an earlier time, or open the test set with asof.unseal('%s', reason => ...) in this transaction.",
					 DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(shape.cutoff_rel))))));
}

/*
 * Labels of training rows whose label time is at or after test_from were
 * not known when the model would have been trained: set them to NULL.  Run
 * as the builder, who owns the training set, with the label-time
 * expression as protect checked it (feature_spec.c rules), normalized, and
 * search_path and TimeZone pinned.  Returns the number of rows changed.
 */
static int64
null_immature_labels(Oid output, const AsofGuardedRel *g, const char *label_time,
					 const char *test_from, bool whole)
{
	Relation	rel;
	AsofSourceExpr lt;
	StringInfoData sql;
	char	   *timecol = get_attname(output, get_attnum(output, get_attname(g->regrelid, g->time_attno, false)), false);
	const char *ttype = g->time_type == DATEOID ? "pg_catalog.date" :
		g->time_type == TIMESTAMPTZOID ? "pg_catalog.timestamptz" : "pg_catalog.timestamp";
	int			nestlevel;
	int			i;
	bool		any = false;
	Oid			type = TEXTOID;
	Datum		value = CStringGetTextDatum(test_from);
	int64		n;

	rel = table_open(output, AccessShareLock);
	asof_analyze_source_expr(rel, label_time ? label_time : quote_identifier(timecol),
							 "label_time", true, false, &lt);
	table_close(rel, AccessShareLock);

	initStringInfo(&sql);
	appendStringInfo(&sql, "UPDATE %s SET ",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(output)),
												get_rel_name(output)));
	for (i = 0; i < g->ncols; i++)
	{
		if (!g->is_label[i] || g->attnos[i] == InvalidAttrNumber)
			continue;
		appendStringInfo(&sql, "%s%s = NULL", any ? ", " : "", quote_identifier(g->colnames[i]));
		any = true;
	}
	if (!any)
		return 0;
	appendStringInfo(&sql, " WHERE %s OPERATOR(pg_catalog.<) $1::%s AND (%s) OPERATOR(pg_catalog.>=) $1::%s",
					 quote_identifier(timecol), ttype, lt.sql, ttype);

	nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("TimeZone", "UTC", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	/*
	 * whole: the split moved, and rows the old cutoff hides may now be
	 * training rows: the guard's own UPDATE reads the table whole, when the
	 * label time runs built-in code only.
	 */
	if (whole)
	{
		char	   *check = psprintf("SELECT %s FROM %s", lt.sql,
									 quote_qualified_identifier(get_namespace_name(get_rel_namespace(output)),
																get_rel_name(output)));

		if (source_calls_user_functions(check))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot move the split of \"%s\" later while training set \"%s\" is linked to it",
							get_rel_name(g->regrelid), get_rel_name(output)),
					 errdetail("Its label time calls functions that are not built in, so the guard cannot set the labels of its rows between the two splits to NULL without running user code over held-out rows."),
					 errhint("Drop the training set and build it again after the split is moved.")));
		asof_guard_exempt_next_plan(output);
	}
	if (SPI_execute_with_args(sql.data, 1, &type, &value, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not set immature labels to NULL: %s", sql.data);
	n = (int64) SPI_processed;
	AtEOXact_GUC(false, nestlevel);
	return n;
}

/*
 * No statistics on any column of a derived protected table (a training
 * set, an online table): its sealed rows' labels and features would show
 * in pg_stats (G3).  Run as its owner before the table is protected.
 */
void
asof_guard_stop_statistics(Oid output)
{
	Relation	rel = table_open(output, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	char	   *name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(output)),
												  get_rel_name(output));
	List	   *cols = NIL;
	ListCell   *lc;
	int			i;

	for (i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped)
			cols = lappend(cols, pstrdup(NameStr(TupleDescAttr(desc, i)->attname)));
	table_close(rel, AccessShareLock);	/* ALTER TABLE wants it closed */
	foreach(lc, cols)
		if (SPI_execute(psprintf("ALTER TABLE %s ALTER COLUMN %s SET STATISTICS 0", name,
								 quote_identifier((char *) lfirst(lc))), false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "could not switch off statistics of training set %s", name);
}

/*
 * asof.training_set_splits: the spine's split a training set was built
 * under (asof.training_sets_to_rebuild compares it with the current one).
 * Written as the table's owner (the extension's), like asof.training_sets.
 */
static void
record_build_split(Oid output, Oid spine, const char *test_from)
{
	Oid			table = get_relname_relid("training_set_splits", get_namespace_oid("asof", false));
	HeapTuple	tp;
	Oid			owner;
	Oid			save_userid;
	int			save_sec;
	Oid			types[3] = {REGCLASSOID, REGCLASSOID, TEXTOID};
	Datum		values[3];

	if (!OidIsValid(table))
		return;					/* the extension's 0.1.0 schema: nothing to record */
	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(table));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for relation %u", table);
	owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
	ReleaseSysCache(tp);
	values[0] = ObjectIdGetDatum(output);
	values[1] = ObjectIdGetDatum(spine);
	values[2] = CStringGetTextDatum(test_from);

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute_with_args("INSERT INTO asof.training_set_splits (training_set, spine, test_from) "
								  "VALUES ($1, $2, $3) ON CONFLICT (training_set) DO UPDATE "
								  "SET spine = EXCLUDED.spine, test_from = EXCLUDED.test_from, needs_rebuild = false",
								  3, types, values, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not record the split of training set %u", output);
		SPI_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec);
	}
	PG_END_TRY();
}

PG_FUNCTION_INFO_V1(asof_training_set_follow_split);

/*
 * asof._training_set_follow_split(training_set regclass, spine regclass,
 * test_from text, later boolean) -> bigint: the spine's split moved to
 * test_from; labels of the training set's rows before it whose label time is
 * at or after it are set to NULL.  Moved later, rows the old cutoff still
 * hides are concerned too: the UPDATE reads the table whole (built-in label
 * time only; else an error).  Returns the number of rows changed.  Called by the registry trigger
 * (sql/33_guard_sources.sql) as the registry's owner.
 */
Datum
asof_training_set_follow_split(PG_FUNCTION_ARGS)
{
	Oid			output = PG_GETARG_OID(0);
	Oid			spine = PG_GETARG_OID(1);
	char	   *test_from = text_to_cstring(PG_GETARG_TEXT_PP(2));
	bool		later = PG_GETARG_BOOL(3);
	const AsofGuardedRel *g;
	char	   *label_time = NULL;
	Oid			type = REGCLASSOID;
	Datum		value = ObjectIdGetDatum(spine);
	bool		isnull;
	int64		n;

	if (get_rel_name(output) == NULL || get_rel_name(spine) == NULL)
		PG_RETURN_INT64(0);
	g = asof_registry_lookup(spine);
	if (g == NULL || g->regrelid != spine)
		PG_RETURN_INT64(0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT label_time FROM asof.protected_registry WHERE tbl OPERATOR(pg_catalog.=) $1",
							  1, &type, &value, NULL, true, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the registration of spine %s", get_rel_name(spine));
	value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		label_time = TextDatumGetCString(value);
	n = null_immature_labels(output, asof_registry_lookup(spine), label_time, test_from, later);
	SPI_finish();
	PG_RETURN_INT64(n);
}

void
asof_guard_training_set_built(Oid spine, Oid output)
{
	const AsofGuardedRel *g;
	Oid			types[7] = {REGCLASSOID, NAMEOID, NAMEARRAYOID, NAMEARRAYOID, NAMEARRAYOID, TEXTOID};
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	int64		immature;
	char	   *out_name;
	char	   *spine_name;
	char	   *test_from;
	char	   *label_time = NULL;
	bool		isnull;
	int			i;

	if (!asof_guard_active() || !asof_registry_any_protected())
		return;
	g = asof_registry_lookup(spine);
	if (g == NULL || g->regrelid != spine || !g->has_split)
		return;

	/* The cache may be reloaded by the statements below: keep copies. */
	spine_name = pstrdup(g->regname);
	test_from = pstrdup(g->test_from);
	out_name = DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(output)));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* The spine's registration, as protect stored it. */
	values[0] = ObjectIdGetDatum(spine);
	if (SPI_execute_with_args("SELECT time_column, label_columns, future_columns, entity_columns, label_time "
							  "FROM asof.protected_registry WHERE tbl OPERATOR(pg_catalog.=) $1",
							  1, types, values, NULL, true, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the registration of spine %s", spine_name);
	for (i = 0; i < 5; i++)
	{
		values[i + 1] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull);
		nulls[i + 1] = isnull ? 'n' : ' ';
	}
	if (nulls[5] == ' ')
		label_time = TextDatumGetCString(values[5]);
	values[0] = ObjectIdGetDatum(output);

	immature = null_immature_labels(output, asof_registry_lookup(spine), label_time, test_from, false);
	asof_guard_stop_statistics(output);
	if (SPI_execute_with_args("SELECT asof.protect($1, $2, $3, $4, $5, $6)",
							  6, types, values, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not register training set %s as protected", out_name);
	SPI_finish();
	asof_guard_link(output, spine);
	record_build_split(output, spine, test_from);

	if (immature > 0)
		ereport(NOTICE,
				(errmsg("training set \"%s\": labels of " INT64_FORMAT " training rows set to NULL",
						out_name, immature),
				 errdetail("Their label time is at or after the split of \"%s\" (%s): those labels were not known when the model would have been trained.",
						   spine_name, test_from)));
	ereport(NOTICE,
			(errmsg("training set \"%s\" is protected like its spine \"%s\"", out_name, spine_name),
			 errdetail("Its split follows the spine's; its held-out rows open with the spine owner's asof.unseal.")));
}

void
asof_guard_report_heldout_features(const char *training_set, const char *view_name,
								   int64 nrows)
{
	if (nrows <= 0)
		return;
	ereport(NOTICE,
			(errmsg("training set \"%s\": features of feature view \"%s\" are NULL in " INT64_FORMAT " rows",
					training_set, view_name, nrows),
			 errdetail("Their effective time is after the train/test split of a protected table the view reads: they would be computed from held-out rows.")));
}
