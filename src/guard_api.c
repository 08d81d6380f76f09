/*-------------------------------------------------------------------------
 *
 * guard_api.c
 *	  The C entry points behind asof.protect, asof.split, asof.unseal and
 *	  asof.unprotect (sql/30_guard.sql validates the arguments first):
 *	  each checks that the current role owns the table, writes the registry
 *	  as the registry's owner (the registry is not writable by other roles),
 *	  and invalidates the table's cached plans.  Also the label-time check
 *	  and the split report (entity keys on both sides, duplicates).
 *
 *	  Must not: decide what a query may read (guard_columns.c,
 *	  guard_rows.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "rewrite/rewriteManip.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/typcache.h"

#include "catalog.h"
#include "compat.h"
#include "guard.h"

PG_FUNCTION_INFO_V1(asof_guard_loaded);
PG_FUNCTION_INFO_V1(asof_check_label_time);
PG_FUNCTION_INFO_V1(asof_expr_reads_columns);
PG_FUNCTION_INFO_V1(asof_register);
PG_FUNCTION_INFO_V1(asof_set_split);
PG_FUNCTION_INFO_V1(asof_unregister);
PG_FUNCTION_INFO_V1(asof_split_report);
PG_FUNCTION_INFO_V1(asof_unseal);
PG_FUNCTION_INFO_V1(asof_link);
PG_FUNCTION_INFO_V1(asof_invalidate);

static char *
table_text(Oid relid)
{
	return DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid)));
}

static void
check_owner(Oid relid)
{
	if (get_rel_name(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (!asof_table_ownercheck(relid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s", table_text(relid))));
}

static char *
current_role_name(void)
{
	return GetUserNameFromId(GetUserId(), false);
}

/*
 * Run one statement as the owner of the registry (the extension's owner, a
 * superuser), with the caller's identity restored afterwards.
 */
static void
run_privileged(const char *sql, int nargs, Oid *types, Datum *values,
			   const char *nulls, int expected)
{
	Oid			owner;
	Oid			save_userid;
	int			save_sec_context;
	Relation	reg;
	int			rc;

	reg = table_open(asof_catalog_registry_relid(), AccessShareLock);
	owner = reg->rd_rel->relowner;
	table_close(reg, AccessShareLock);

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);
		if (rc != expected)
			elog(ERROR, "unexpected result %d from: %s", rc, sql);
		SPI_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
}

static void
log_event(Oid relid, const char *event, const char *detail)
{
	Oid			types[5] = {OIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', detail ? ' ' : 'n'};

	values[0] = ObjectIdGetDatum(relid);
	values[1] = CStringGetTextDatum(table_text(relid));
	values[2] = CStringGetTextDatum(event);
	values[3] = CStringGetTextDatum(current_role_name());
	values[4] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	run_privileged("INSERT INTO asof.holdout_log (at, tbl, table_name, event, role, detail) "
				   "VALUES (pg_catalog.now(), $1::pg_catalog.regclass, $2, $3, $4, $5)",
				   5, types, values, nulls, SPI_OK_INSERT);
}

static Datum
inheritors_array(Oid relid)
{
	List	   *all = find_all_inheritors(relid, NoLock, NULL);
	Datum	   *d = palloc(sizeof(Datum) * list_length(all));
	ListCell   *lc;
	int			i = 0;

	foreach(lc, all)
		d[i++] = ObjectIdGetDatum(lfirst_oid(lc));
	return PointerGetDatum(construct_array(d, i, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
}


/* The spine a training set is linked to, or relid itself. */
static Oid
linked_spine(Oid relid)
{
	Oid			type = OIDOID;
	Datum		value = ObjectIdGetDatum(relid);
	Oid			out = relid;
	bool		isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT linked_to::pg_catalog.oid FROM asof.protected_registry "
							  "WHERE tbl = $1::pg_catalog.regclass AND linked_to IS NOT NULL",
							  1, &type, &value, NULL, true, 0) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			out = DatumGetObjectId(d);
	}
	SPI_finish();
	return out;
}

/* The training sets linked to a spine. */
static List *
linked_tables(Oid spine)
{
	Oid			type = OIDOID;
	Datum		value = ObjectIdGetDatum(spine);
	List	   *out = NIL;
	uint64		i;
	bool		isnull;
	MemoryContext caller = CurrentMemoryContext;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT tbl::pg_catalog.oid FROM asof.protected_registry "
							  "WHERE linked_to = $1::pg_catalog.regclass",
							  1, &type, &value, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the registry");
	for (i = 0; i < SPI_processed; i++)
	{
		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 1, &isnull));
		MemoryContext spi = MemoryContextSwitchTo(caller);

		out = lappend_oid(out, relid);	/* outlives SPI_finish */
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return out;
}

/* asof.guard_loaded(): the hooks are in place (see sql/30_guard.sql). */
Datum
asof_guard_loaded(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(true);
}

/*
 * asof._expr_reads_columns(tbl regclass, expr pg_node_tree, cols name[]):
 * does a stored expression over tbl (a policy's qualifier, varno 1) read
 * one of cols, the whole row, or run a subquery?  NULL expr: false.
 */
Datum
asof_expr_reads_columns(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Node	   *expr;
	Bitmapset  *attrs = NULL;
	Datum	   *names;
	bool	   *nulls;
	int			n;
	int			i;

	if (PG_ARGISNULL(1))
		PG_RETURN_BOOL(false);
	expr = stringToNode(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	if (checkExprHasSubLink(expr))
		PG_RETURN_BOOL(true);
	pull_varattnos(expr, 1, &attrs);
	if (bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, attrs))
		PG_RETURN_BOOL(true);
	if (PG_ARGISNULL(2))
		PG_RETURN_BOOL(false);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), NAMEOID, NAMEDATALEN, false,
					  TYPALIGN_CHAR, &names, &nulls, &n);
	for (i = 0; i < n; i++)
	{
		AttrNumber	att;

		if (nulls[i])
			continue;
		att = get_attnum(relid, NameStr(*DatumGetName(names[i])));
		if (att != InvalidAttrNumber &&
			bms_is_member(att - FirstLowInvalidHeapAttributeNumber, attrs))
			PG_RETURN_BOOL(true);
	}
	PG_RETURN_BOOL(false);
}

/*
 * asof._check_label_time(tbl, label_time): the expression must be a
 * deterministic function of one row of tbl, of a time type.
 */
Datum
asof_check_label_time(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *expr = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *sql;
	List	   *raw;
	Query	   *q;
	TargetEntry *tle;
	Oid			type;

	sql = psprintf("SELECT (%s) FROM %s", expr, table_text(relid));

	/*
	 * Parse and analyze as a query over the table; report errors against
	 * the expression, not the caller's statement.
	 */
	{
		MemoryContext oldcxt = CurrentMemoryContext;

		PG_TRY();
		{
			raw = raw_parser(sql, RAW_PARSE_DEFAULT);
			if (list_length(raw) != 1)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("label_time must be a single expression")));
			q = asof_parse_analyze(linitial_node(RawStmt, raw), sql);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(oldcxt);
			edata = CopyErrorData();
			FlushErrorState();
			ereport(ERROR,
					(errcode(edata->sqlerrcode == ERRCODE_SYNTAX_ERROR ||
							 edata->sqlerrcode == ERRCODE_UNDEFINED_COLUMN ?
							 edata->sqlerrcode : ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid label_time expression for table %s: %s",
							table_text(relid), edata->message),
					 errdetail("label_time must be an expression over the columns of the table, such as \"arr_time\" or \"dep_time + interval '1 day'\".")));
		}
		PG_END_TRY();
	}
	if (q->commandType != CMD_SELECT || q->setOperations != NULL ||
		list_length(q->rtable) != 1 || list_length(q->targetList) != 1 ||
		q->jointree->quals != NULL || q->groupClause != NIL ||
		q->havingQual != NULL || q->sortClause != NIL ||
		q->limitCount != NULL || q->limitOffset != NULL ||
		q->distinctClause != NIL || q->cteList != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("label_time must be a single expression over the columns of %s",
						table_text(relid))));
	if (q->hasSubLinks)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("label_time cannot contain subqueries"),
				 errdetail("The label time of a row must depend on that row only.")));
	if (q->hasAggs || q->hasWindowFuncs || q->hasTargetSRFs)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("label_time cannot contain aggregate, window or set-returning functions")));
	tle = linitial_node(TargetEntry, q->targetList);
	if (contain_volatile_functions((Node *) tle->expr))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("label_time cannot contain volatile functions"),
				 errdetail("The label time of a row must be the same every time it is computed.")));
	type = exprType((Node *) tle->expr);
	if (type != TIMESTAMPOID && type != TIMESTAMPTZOID && type != DATEOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("label_time must be of type timestamp, timestamp with time zone or date, not %s",
						format_type_be(type))));
	PG_RETURN_VOID();
}

/* asof._register(...): see sql/30_guard.sql. */
Datum
asof_register(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Oid			types[10] = {OIDOID, NAMEOID, NAMEARRAYOID, NAMEARRAYOID, NAMEARRAYOID,
	TEXTOID, TEXTOID, BOOLOID, BOOLOID, OIDARRAYOID};
	Datum		values[10];
	char		nulls[10];
	int			i;

	for (i = 0; i < 8; i++)
	{
		if (PG_ARGISNULL(i) && i != 5)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument %d of asof._register cannot be NULL", i + 1)));
	}
	check_owner(relid);
	if (!OidIsValid(asof_catalog_registry_relid()))
		elog(ERROR, "extension pg_asof is not installed in this database");
	if (get_attnum(relid, NameStr(*PG_GETARG_NAME(1))) == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation %s does not exist",
						NameStr(*PG_GETARG_NAME(1)), table_text(relid))));

	for (i = 0; i < 6; i++)
	{
		values[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}
	values[6] = CStringGetTextDatum(current_role_name());
	values[7] = PG_GETARG_DATUM(6);
	values[8] = PG_GETARG_DATUM(7);
	values[9] = inheritors_array(relid);
	nulls[6] = nulls[7] = nulls[8] = nulls[9] = ' ';

	run_privileged("INSERT INTO asof.protected_registry (tbl, time_column, label_columns, "
				   "future_columns, entity_columns, label_time, registered_by, registered_at, "
				   "rls_was_enabled, permissive_policy_added) "
				   "VALUES ($1::pg_catalog.regclass, $2, $3, $4, $5, $6, $7, pg_catalog.now(), $8, $9)",
				   9, types, values, nulls, SPI_OK_INSERT);

	/*
	 * G3: existing statistics of label and future columns (and of the
	 * table's expression indexes and extended statistics switched off by
	 * asof.protect), on the table and on its partitions and children.
	 */
	{
		Oid			t[2] = {OIDARRAYOID, NAMEARRAYOID};
		Datum		v[2];
		ArrayType  *labels = PG_GETARG_ARRAYTYPE_P(2);
		ArrayType  *futures = PG_GETARG_ARRAYTYPE_P(3);

		v[0] = values[9];
		v[1] = DirectFunctionCall2(array_cat, PointerGetDatum(labels), PointerGetDatum(futures));
		run_privileged("DELETE FROM pg_catalog.pg_statistic s USING pg_catalog.pg_attribute a "
					   "WHERE s.starelid = ANY ($1) AND a.attrelid = s.starelid "
					   "AND a.attnum = s.staattnum AND a.attname = ANY ($2)",
					   2, t, v, NULL, SPI_OK_DELETE);
		run_privileged("DELETE FROM pg_catalog.pg_statistic s USING pg_catalog.pg_index i "
					   "WHERE i.indrelid = ANY ($1) AND i.indexprs IS NOT NULL "
					   "AND s.starelid = i.indexrelid",
					   1, t, v, NULL, SPI_OK_DELETE);
		run_privileged("DELETE FROM pg_catalog.pg_statistic_ext_data d USING pg_catalog.pg_statistic_ext x "
					   "WHERE d.stxoid = x.oid AND x.stxrelid = ANY ($1) AND x.stxstattarget = 0",
					   1, t, v, NULL, SPI_OK_DELETE);
	}
	log_event(relid, "protect", NULL);
	asof_catalog_invalidate(relid);
	PG_RETURN_VOID();
}

/* asof._set_split(tbl, test_from): returns the previous marker. */
Datum
asof_set_split(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *test_from = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *previous = NULL;
	Oid			types[3] = {OIDOID, TEXTOID, TEXTOID};
	Datum		values[3];
	bool		isnull;

	check_owner(relid);
	SPI_connect();
	values[0] = ObjectIdGetDatum(relid);
	if (SPI_execute_with_args("SELECT test_from FROM asof.protected_registry WHERE tbl = $1::pg_catalog.regclass",
							  1, types, values, NULL, false, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s is not protected", table_text(relid))));
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			previous = MemoryContextStrdup(TopTransactionContext, TextDatumGetCString(d));
	}
	SPI_finish();

	values[1] = CStringGetTextDatum(test_from);
	values[2] = CStringGetTextDatum(current_role_name());
	run_privileged("UPDATE asof.protected_registry SET test_from = $2, split_by = $3, "
				   "split_at = pg_catalog.now() WHERE tbl = $1::pg_catalog.regclass",
				   3, types, values, NULL, SPI_OK_UPDATE);
	if (previous == NULL)
		log_event(relid, "split", psprintf("test_from %s", test_from));
	else if (strcmp(previous, test_from) != 0)
	{
		log_event(relid, "move split", psprintf("test_from %s -> %s", previous, test_from));
		ereport(LOG,
				(errmsg("pg_asof: split of table %s moved from %s to %s by role \"%s\"",
						table_text(relid), previous, test_from, current_role_name())));
	}
	asof_catalog_invalidate(relid);

	/* Training sets built on this table follow its split. */
	{
		List	   *linked = linked_tables(relid);
		ListCell   *lc;

		foreach(lc, linked)
		{
			values[0] = ObjectIdGetDatum(lfirst_oid(lc));
			run_privileged("UPDATE asof.protected_registry SET test_from = $2, split_by = $3, "
						   "split_at = pg_catalog.now() WHERE tbl = $1::pg_catalog.regclass",
						   3, types, values, NULL, SPI_OK_UPDATE);
			log_event(lfirst_oid(lc), previous ? "move split" : "split",
					  psprintf("test_from %s (follows %s)", test_from, table_text(relid)));
			asof_catalog_invalidate(lfirst_oid(lc));
		}
	}
	if (previous == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(previous));
}

/* asof._unregister(tbl) */
Datum
asof_unregister(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Oid			types[1] = {OIDOID};
	Datum		values[1];

	check_owner(relid);
	values[0] = ObjectIdGetDatum(relid);
	run_privileged("DELETE FROM asof.protected_registry WHERE tbl = $1::pg_catalog.regclass",
				   1, types, values, NULL, SPI_OK_DELETE);
	log_event(relid, "unprotect", NULL);
	asof_catalog_invalidate(relid);
	PG_RETURN_VOID();
}

/* Append "h.col" items for every column in cols, comma separated. */
static void
append_columns(StringInfo buf, List *cols)
{
	ListCell   *lc;
	bool		first = true;

	foreach(lc, cols)
	{
		appendStringInfo(buf, "%s%s", first ? "" : ", ", quote_identifier(strVal(lfirst(lc))));
		first = false;
	}
}

static int64
count_query(const char *sql, const char *test_from)
{
	Oid			type = TEXTOID;
	Datum		value = CStringGetTextDatum(test_from);
	bool		isnull;
	int64		n = 0;

	if (SPI_execute_with_args(sql, 1, &type, &value, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "split report query failed: %s", sql);
	if (SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			n = DatumGetInt64(d);
	}
	return n;
}

/*
 * asof._split_report(tbl, test_from): entity keys with rows on both sides,
 * and held-out rows equal to a training row on every column except time
 * and labels.  Runs as the guard's own statements: it must count held-out
 * rows and read future columns whatever the current split.
 */
Datum
asof_split_report(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *test_from = text_to_cstring(PG_GETARG_TEXT_PP(1));
	TupleDesc	tupdesc;
	Datum		out[2];
	bool		outnull[2] = {false, false};
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	bool		isnull;
	char	   *time_column;
	List	   *labels = NIL;
	List	   *entities = NIL;
	List	   *others = NIL;
	Relation	rel;
	TupleDesc	rd;
	char	   *tbl;
	char	   *timetype = "timestamp";
	char	   *train;
	char	   *held;
	int			i;

	check_owner(relid);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	SPI_connect();
	values[0] = ObjectIdGetDatum(relid);
	if (SPI_execute_with_args("SELECT time_column::text, label_columns::text[], entity_columns::text[] "
							  "FROM asof.protected_registry WHERE tbl = $1::pg_catalog.regclass",
							  1, types, values, NULL, true, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s is not protected", table_text(relid))));
	time_column = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	for (i = 2; i <= 3; i++)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i, &isnull);
		Datum	   *elems;
		int			n;
		int			j;

		deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, NULL, &n);
		for (j = 0; j < n; j++)
		{
			String	   *s = makeString(TextDatumGetCString(elems[j]));

			if (i == 2)
				labels = lappend(labels, s);
			else
				entities = lappend(entities, s);
		}
	}

	/* Columns compared for duplicates: all but time and labels, with "=". */
	rel = table_open(relid, AccessShareLock);
	rd = RelationGetDescr(rel);
	for (i = 0; i < rd->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(rd, i);
		ListCell   *lc;
		bool		skip = att->attisdropped || strcmp(NameStr(att->attname), time_column) == 0;

		foreach(lc, labels)
			if (strcmp(strVal(lfirst(lc)), NameStr(att->attname)) == 0)
				skip = true;
		if (!skip && OidIsValid(lookup_type_cache(att->atttypid, TYPECACHE_EQ_OPR)->eq_opr))
			others = lappend(others, makeString(pstrdup(NameStr(att->attname))));
		if (strcmp(NameStr(att->attname), time_column) == 0)
			timetype = format_type_be(att->atttypid);
	}
	table_close(rel, AccessShareLock);

	tbl = table_text(relid);
	train = psprintf("%s < $1::%s", quote_identifier(time_column), timetype);
	held = psprintf("(%s >= $1::%s OR %s IS NULL)", quote_identifier(time_column), timetype,
					quote_identifier(time_column));

	asof_guard_internal_depth++;
	PG_TRY();
	{
		StringInfoData sql;

		initStringInfo(&sql);
		if (entities != NIL)
		{
			appendStringInfo(&sql, "SELECT count(*) FROM (SELECT 1 FROM %s GROUP BY ", tbl);
			append_columns(&sql, entities);
			appendStringInfo(&sql, " HAVING bool_or(%s) AND bool_or(%s)) k", train, held);
			out[0] = Int64GetDatum(count_query(sql.data, test_from));
		}
		else
			outnull[0] = true;

		resetStringInfo(&sql);
		if (others != NIL)
		{
			appendStringInfo(&sql, "SELECT coalesce(sum(nh), 0)::bigint FROM ("
							 "SELECT count(*) FILTER (WHERE %s) AS nh, "
							 "count(*) FILTER (WHERE %s) AS nt FROM %s GROUP BY ",
							 held, train, tbl);
			append_columns(&sql, others);
			appendStringInfoString(&sql, ") g WHERE nh > 0 AND nt > 0");
		}
		else
			appendStringInfo(&sql, "SELECT CASE WHEN bool_or(%s) THEN count(*) FILTER (WHERE %s) ELSE 0 END FROM %s",
							 train, held, tbl);
		out[1] = Int64GetDatum(count_query(sql.data, test_from));
	}
	PG_FINALLY();
	{
		asof_guard_internal_depth--;
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, out, outnull)));
}

/*
 * asof._unseal(tbl, reason): owner only; the audit record is committed by a
 * worker before the rows open.  Returns the number of earlier openings.
 */
Datum
asof_unseal(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *reason = text_to_cstring(PG_GETARG_TEXT_PP(1));
	const AsofGuardedRel *g;
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	int64		before = 0;
	bool		isnull;

	check_owner(linked_spine(relid));
	g = asof_catalog_lookup(relid);
	if (g == NULL || g->regrelid != relid || !g->has_split)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s has no split to unseal", table_text(relid))));

	SPI_connect();
	values[0] = ObjectIdGetDatum(relid);
	if (SPI_execute_with_args("SELECT count(*) FROM asof.holdout_log l JOIN asof.protected_registry r "
							  "ON r.tbl = l.tbl WHERE l.tbl = $1::pg_catalog.regclass "
							  "AND l.event = 'unseal' AND l.at >= r.registered_at",
							  1, types, values, NULL, true, 0) == SPI_OK_SELECT &&
		SPI_processed == 1)
		before = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();

	asof_audit_autonomous(relid, table_text(relid), "unseal", reason);
	ereport(LOG,
			(errmsg("pg_asof: test set of table %s unsealed by role \"%s\": %s",
					table_text(relid), current_role_name(), reason),
			 errhidestmt(true)));
	asof_guard_mark_unsealed(relid);
	PG_RETURN_INT64(before);
}

/*
 * asof._link(tbl, spine): the owner of a protected table (a training set)
 * links it to a protected spine with a split: it takes the spine's split.
 */
Datum
asof_link(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Oid			spine = PG_GETARG_OID(1);
	const AsofGuardedRel *g;
	Oid			types[4] = {OIDOID, OIDOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char	   *test_from;

	check_owner(relid);
	g = asof_catalog_lookup(spine);
	if (g == NULL || g->regrelid != spine || !g->has_split)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s is not protected with a split", table_text(spine))));
	test_from = pstrdup(g->test_from);	/* the cache may be reloaded below */
	values[0] = ObjectIdGetDatum(relid);
	values[1] = ObjectIdGetDatum(spine);
	values[2] = CStringGetTextDatum(test_from);
	values[3] = CStringGetTextDatum(current_role_name());
	run_privileged("UPDATE asof.protected_registry SET linked_to = $2::pg_catalog.regclass, "
				   "test_from = $3, split_by = $4, split_at = pg_catalog.now() "
				   "WHERE tbl = $1::pg_catalog.regclass",
				   4, types, values, NULL, SPI_OK_UPDATE);
	log_event(relid, "split", psprintf("test_from %s (follows %s)", test_from, table_text(spine)));
	asof_catalog_invalidate(relid);
	PG_RETURN_VOID();
}

/* asof._invalidate(tbl): drop cached plans and guard caches for tbl. */
Datum
asof_invalidate(PG_FUNCTION_ARGS)
{
	asof_catalog_invalidate(PG_GETARG_OID(0));
	PG_RETURN_VOID();
}
