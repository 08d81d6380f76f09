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
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/typcache.h"

#include "guard_registry.h"
#include "online.h"
#include "compat.h"
#include "feature_spec.h"
#include "guard.h"

PG_FUNCTION_INFO_V1(asof_api_protect);
PG_FUNCTION_INFO_V1(asof_api_split);
PG_FUNCTION_INFO_V1(asof_api_unseal);
PG_FUNCTION_INFO_V1(asof_api_unprotect);
PG_FUNCTION_INFO_V1(asof_guard_loaded);
PG_FUNCTION_INFO_V1(asof_check_label_time);
PG_FUNCTION_INFO_V1(asof_expr_reads_columns);
PG_FUNCTION_INFO_V1(asof_register);
PG_FUNCTION_INFO_V1(asof_set_split);
PG_FUNCTION_INFO_V1(asof_unregister);
PG_FUNCTION_INFO_V1(asof_split_report);
PG_FUNCTION_INFO_V1(asof_unseal);
PG_FUNCTION_INFO_V1(asof_invalidate);

/*
 * The role the checks and the audit are about: the caller of the public
 * guard function running (its implementation runs as the extension's
 * owner), else the current role.
 */
static Oid
acting_role(void)
{
	Oid			caller = asof_guard_api_caller();

	return OidIsValid(caller) ? caller : GetUserId();
}

static void
check_owner(Oid relid)
{
	if (get_rel_name(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (!asof_table_ownercheck(relid, acting_role()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s", asof_table_text(relid))));
}

static char *
current_role_name(void)
{
	return GetUserNameFromId(acting_role(), false);
}

/*
 * Run the guard's internal statements with search_path = pg_catalog,
 * pg_temp, whatever the caller's: every name they use resolves to the
 * built-in object.  Returns the GUC nest level to pass to unpin_search_path.
 */
static int
pin_search_path(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	return nestlevel;
}

static void
unpin_search_path(int nestlevel)
{
	AtEOXact_GUC(false, nestlevel);
}

/*
 * The public guard functions (asof.protect, split, unseal, unprotect) are
 * this C entry point: it calls the function's implementation, asof._<name>,
 * which is not executable by PUBLIC and runs as the extension's owner with
 * a pinned search_path, passing the calling role as its first argument;
 * the implementation checks that role's ownership and the audit names it.
 * A call from a security-restricted operation (index expressions, a
 * materialized view refresh, autovacuum) is refused: the current role
 * there is not the one who asked.
 */
static Datum
call_implementation(FunctionCallInfo fcinfo, const char *signature)
{
	LOCAL_FCINFO(impl, 8);
	FmgrInfo	flinfo;
	Oid			implid;
	Oid			caller = GetUserId();
	Oid			saved;
	volatile Datum result = (Datum) 0;
	int			i;

	if (InSecurityRestrictedOperation())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("the pg_asof guard functions cannot be called within a security-restricted operation")));
	Assert(fcinfo->nargs < 8);
	implid = DatumGetObjectId(DirectFunctionCall1(regprocedurein, CStringGetDatum(signature)));
	fmgr_info(implid, &flinfo);
	InitFunctionCallInfoData(*impl, &flinfo, fcinfo->nargs + 1, fcinfo->fncollation, NULL, NULL);
	impl->args[0].value = ObjectIdGetDatum(caller);
	impl->args[0].isnull = false;
	for (i = 0; i < fcinfo->nargs; i++)
		impl->args[i + 1] = fcinfo->args[i];
	saved = asof_guard_api_enter(caller);
	PG_TRY();
	{
		result = FunctionCallInvoke(impl);
	}
	PG_FINALLY();
	{
		asof_guard_api_exit(saved);
	}
	PG_END_TRY();
	if (impl->isnull)
		PG_RETURN_NULL();
	return result;
}

Datum
asof_api_protect(PG_FUNCTION_ARGS)
{
	Datum		result;

	if (!PG_ARGISNULL(0))
		asof_online_refuse_direct(PG_GETARG_OID(0), "protect");
	result = call_implementation(fcinfo, "asof._protect(pg_catalog.oid, pg_catalog.regclass, pg_catalog.name, pg_catalog.name[], pg_catalog.name[], pg_catalog.name[], pg_catalog.text)");

	/* online tables derived from it are protected with it (online_table.c) */
	asof_online_follow_protected(PG_GETARG_OID(0));
	return result;
}

Datum
asof_api_split(PG_FUNCTION_ARGS)
{
	Datum		result;

	if (!PG_ARGISNULL(0))
		asof_online_refuse_direct(PG_GETARG_OID(0), "split");
	result = call_implementation(fcinfo, "asof._split(pg_catalog.oid, pg_catalog.regclass, pg_catalog.text)");

	asof_online_follow_protected(PG_GETARG_OID(0));
	return result;
}

Datum
asof_api_unseal(PG_FUNCTION_ARGS)
{
	return call_implementation(fcinfo, "asof._unseal_table(pg_catalog.oid, pg_catalog.regclass, pg_catalog.text)");
}

Datum
asof_api_unprotect(PG_FUNCTION_ARGS)
{
	if (!PG_ARGISNULL(0))
		asof_online_refuse_direct(PG_GETARG_OID(0), "unprotect");
	return call_implementation(fcinfo, "asof._unprotect(pg_catalog.oid, pg_catalog.regclass)");
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

	reg = table_open(asof_registry_registry_relid(), AccessShareLock);
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
	values[1] = CStringGetTextDatum(asof_table_text(relid));
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
 * asof._check_label_time(tbl, label_time): the expression follows the rules
 * of feature view expressions (feature_spec.c): a deterministic value of
 * one row of tbl, with no subquery, aggregate, window, set-returning or
 * volatile function, no stable user function and no clock or session value
 * (now(), CURRENT_DATE, current_setting()...), of a time type.
 */
Datum
asof_check_label_time(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *expr = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Relation	rel;
	AsofSourceExpr out;

	rel = table_open(relid, AccessShareLock);
	asof_analyze_source_expr(rel, expr, "label_time", true, false, &out);
	table_close(rel, AccessShareLock);
	if (out.type != TIMESTAMPOID && out.type != TIMESTAMPTZOID && out.type != DATEOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("label_time must be of type timestamp, timestamp with time zone or date, not %s",
						format_type_be(out.type))));
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
	if (!OidIsValid(asof_registry_registry_relid()))
		elog(ERROR, "extension pg_asof is not installed in this database");
	if (get_attnum(relid, NameStr(*PG_GETARG_NAME(1))) == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation %s does not exist",
						NameStr(*PG_GETARG_NAME(1)), asof_table_text(relid))));

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
	asof_registry_invalidate(relid);
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
				 errmsg("table %s is not protected", asof_table_text(relid))));
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
						asof_table_text(relid), previous, test_from, current_role_name())));
	}
	asof_registry_invalidate(relid);

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
					  psprintf("test_from %s (follows %s)", test_from, asof_table_text(relid)));
			asof_registry_invalidate(lfirst_oid(lc));
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
	asof_registry_invalidate(relid);
	PG_RETURN_VOID();
}

/* Append the quoted names of cols, comma separated. */
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

/*
 * Run one count of the split report over relid, whole: the guard's own
 * query (guard_state.h), exempt for that table's scans only, with the
 * search_path pinned.  The caller has checked that it runs only built-in
 * operators and functions on built-in types.
 */
static int64
count_query(Oid relid, const char *sql, const char *test_from)
{
	Oid			type = TEXTOID;
	Datum		value = CStringGetTextDatum(test_from);
	bool		isnull;
	int64		n = 0;
	int			nestlevel = pin_search_path();

	asof_guard_exempt_next_plan(relid);
	if (SPI_execute_with_args(sql, 1, &type, &value, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "split report query failed: %s", sql);
	asof_guard_exempt_next_plan(InvalidOid);
	unpin_search_path(nestlevel);
	if (SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			n = DatumGetInt64(d);
	}
	return n;
}

/* A text[] of the names in list (NULL when empty). */
static Datum
names_array(List *names, bool *isnull)
{
	Datum	   *d;
	ListCell   *lc;
	int			i = 0;

	*isnull = (names == NIL);
	if (names == NIL)
		return (Datum) 0;
	d = palloc(sizeof(Datum) * list_length(names));
	foreach(lc, names)
		d[i++] = CStringGetTextDatum(strVal(lfirst(lc)));
	return PointerGetDatum(construct_array(d, i, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * Can the split report group and compare values of this type without
 * running user code?  Only built-in types, directly or under a domain
 * (whose operators are its base type's), with a built-in equality.
 */
static bool
builtin_comparable(Oid type)
{
	Oid			base = getBaseType(type);
	TypeCacheEntry *tc;

	if (base >= FirstNormalObjectId)
		return false;
	tc = lookup_type_cache(base, TYPECACHE_EQ_OPR | TYPECACHE_HASH_PROC);
	return OidIsValid(tc->eq_opr) && tc->eq_opr < FirstNormalObjectId;
}

/*
 * asof._split_report(tbl, test_from): entity keys with rows on both sides,
 * and held-out rows equal to a training row on every column except time
 * and labels.  It reads every row of tbl, whatever the current split, as
 * the guard's own query: built-in operators only, named with their
 * schema, under a pinned search_path; columns of types whose operators are
 * not built in (enums, citext, other user types) are left out and listed
 * in skipped_columns, and with such an entity column the entity count is
 * NULL; compared_columns lists the columns compared for duplicates.  Internal: not executable by PUBLIC; called by asof.split.
 */
Datum
asof_split_report(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *test_from = text_to_cstring(PG_GETARG_TEXT_PP(1));
	TupleDesc	tupdesc;
	Datum		out[4];
	bool		outnull[4] = {false, false, false, false};
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	bool		isnull;
	char	   *time_column;
	List	   *labels = NIL;
	List	   *entities = NIL;
	List	   *others = NIL;
	List	   *skipped = NIL;
	bool		entities_ok = true;
	Relation	rel;
	TupleDesc	rd;
	char	   *tbl;
	char	   *timetype = "pg_catalog.timestamp";
	char	   *train;
	char	   *held;
	int			i;
	StringInfoData sql;

	check_owner(relid);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	SPI_connect();
	values[0] = ObjectIdGetDatum(relid);
	if (SPI_execute_with_args("SELECT time_column::pg_catalog.text, label_columns::pg_catalog.text[], "
							  "entity_columns::pg_catalog.text[] "
							  "FROM asof.protected_registry WHERE tbl OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
							  1, types, values, NULL, true, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s is not protected", asof_table_text(relid))));
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
			String	   *str = makeString(TextDatumGetCString(elems[j]));

			if (i == 2)
				labels = lappend(labels, str);
			else
				entities = lappend(entities, str);
		}
	}

	/* Columns compared: all but time and labels, of built-in types only. */
	rel = table_open(relid, AccessShareLock);
	rd = RelationGetDescr(rel);
	for (i = 0; i < rd->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(rd, i);
		const char *name = NameStr(att->attname);
		ListCell   *lc;
		bool		skip = att->attisdropped || strcmp(name, time_column) == 0;

		if (strcmp(name, time_column) == 0)
			timetype = att->atttypid == DATEOID ? "pg_catalog.date" :
				att->atttypid == TIMESTAMPTZOID ? "pg_catalog.timestamptz" :
				"pg_catalog.timestamp";
		foreach(lc, labels)
			if (strcmp(strVal(lfirst(lc)), name) == 0)
				skip = true;
		if (skip)
			continue;
		if (getBaseType(att->atttypid) < FirstNormalObjectId &&
			!OidIsValid(lookup_type_cache(getBaseType(att->atttypid), TYPECACHE_EQ_OPR)->eq_opr))
			continue;			/* no equality at all (json): never compared */
		if (!builtin_comparable(att->atttypid))
		{
			skipped = lappend(skipped, makeString(pstrdup(name)));
			foreach(lc, entities)
				if (strcmp(strVal(lfirst(lc)), name) == 0)
					entities_ok = false;
			continue;
		}
		others = lappend(others, makeString(pstrdup(name)));
	}
	table_close(rel, AccessShareLock);

	/*
	 * Both counts scan tbl at their top level (the exemption's scope),
	 * named with its schema: they run under a pinned search_path.
	 */
	tbl = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									 get_rel_name(relid));
	train = psprintf("%s OPERATOR(pg_catalog.<) $1::%s", quote_identifier(time_column), timetype);
	held = psprintf("(%s OPERATOR(pg_catalog.>=) $1::%s OR %s IS NULL)",
					quote_identifier(time_column), timetype, quote_identifier(time_column));
	initStringInfo(&sql);
	if (entities != NIL && entities_ok)
	{
		appendStringInfo(&sql, "SELECT pg_catalog.count(*) OVER () FROM %s GROUP BY ", tbl);
		append_columns(&sql, entities);
		appendStringInfo(&sql, " HAVING pg_catalog.bool_or(%s) AND pg_catalog.bool_or(%s) LIMIT 1",
						 train, held);
		out[0] = Int64GetDatum(count_query(relid, sql.data, test_from));
	}
	else
		outnull[0] = true;

	resetStringInfo(&sql);
	if (others != NIL)
	{
		appendStringInfo(&sql, "SELECT pg_catalog.sum(pg_catalog.count(*) FILTER (WHERE %s)) OVER ()::pg_catalog.int8 "
						 "FROM %s GROUP BY ", held, tbl);
		append_columns(&sql, others);
		appendStringInfo(&sql, " HAVING pg_catalog.count(*) FILTER (WHERE %s) OPERATOR(pg_catalog.>) 0 "
						 "AND pg_catalog.count(*) FILTER (WHERE %s) OPERATOR(pg_catalog.>) 0 LIMIT 1",
						 held, train);
	}
	else
		appendStringInfo(&sql, "SELECT CASE WHEN pg_catalog.bool_or(%s) THEN pg_catalog.count(*) FILTER (WHERE %s) "
						 "ELSE 0 END FROM %s", train, held, tbl);
	out[1] = Int64GetDatum(count_query(relid, sql.data, test_from));
	SPI_finish();

	out[2] = names_array(skipped, &outnull[2]);
	out[3] = names_array(others, &outnull[3]);
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

	if (reason[strspn(reason, " \t\r\n")] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a reason is required to open the test set"),
				 errhint("Say why the held-out rows are opened, e.g. reason => 'final evaluation of model v3'.")));
	check_owner(linked_spine(relid));
	g = asof_registry_lookup(relid);
	if (g == NULL || g->regrelid != relid || !g->has_split)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s has no split to unseal", asof_table_text(relid))));

	SPI_connect();
	values[0] = ObjectIdGetDatum(relid);
	if (SPI_execute_with_args("SELECT count(*) FROM asof.holdout_log l JOIN asof.protected_registry r "
							  "ON r.tbl = l.tbl WHERE l.tbl = $1::pg_catalog.regclass "
							  "AND l.event = 'unseal' AND l.at >= r.registered_at",
							  1, types, values, NULL, true, 0) == SPI_OK_SELECT &&
		SPI_processed == 1)
		before = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();

	asof_audit_autonomous(relid, asof_table_text(relid), "unseal", reason);
	ereport(LOG,
			(errmsg("pg_asof: test set of table %s unsealed by role \"%s\": %s",
					asof_table_text(relid), current_role_name(), reason),
			 errhidestmt(true)));
	asof_guard_mark_unsealed(relid);
	PG_RETURN_INT64(before);
}

/*
 * A training set just built on a protected spine (guard_engine.c): its
 * owner, who built it, links its registration to the spine with a split;
 * it takes the spine's split and follows it from then on.
 */
void
asof_guard_link(Oid relid, Oid spine)
{
	const AsofGuardedRel *g;
	Oid			types[4] = {OIDOID, OIDOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char	   *test_from;

	check_owner(relid);
	g = asof_registry_lookup(spine);
	if (g == NULL || g->regrelid != spine || !g->has_split)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s is not protected with a split", asof_table_text(spine))));
	test_from = pstrdup(g->test_from);	/* the cache may be reloaded below */
	values[0] = ObjectIdGetDatum(relid);
	values[1] = ObjectIdGetDatum(spine);
	values[2] = CStringGetTextDatum(test_from);
	values[3] = CStringGetTextDatum(current_role_name());
	run_privileged("UPDATE asof.protected_registry SET linked_to = $2::pg_catalog.regclass, "
				   "test_from = $3, split_by = $4, split_at = pg_catalog.now() "
				   "WHERE tbl = $1::pg_catalog.regclass",
				   4, types, values, NULL, SPI_OK_UPDATE);
	log_event(relid, "split", psprintf("test_from %s (follows %s)", test_from, asof_table_text(spine)));
	asof_registry_invalidate(relid);
}

/*
 * asof._link(tbl, spine) of the 0.1.0 schema: kept so that the library
 * works against a 0.1.0 schema until ALTER EXTENSION pg_asof UPDATE runs
 * (its asof._seal_training_set calls it).  Not in the 0.2.0 schema.
 */
PG_FUNCTION_INFO_V1(asof_link);
Datum
asof_link(PG_FUNCTION_ARGS)
{
	check_owner(PG_GETARG_OID(0));
	asof_guard_link(PG_GETARG_OID(0), PG_GETARG_OID(1));
	PG_RETURN_VOID();
}

/* asof._invalidate(tbl): drop cached plans and guard caches for tbl. */
Datum
asof_invalidate(PG_FUNCTION_ARGS)
{
	asof_registry_invalidate(PG_GETARG_OID(0));
	PG_RETURN_VOID();
}
