/*-------------------------------------------------------------------------
 *
 * profile.c
 *	  asof.profile (docs/validation.md): one row per (partition, column)
 *	  of a table, from one scan run with the caller's privileges.
 *
 *	  Owns: checking the arguments, choosing the columns, the guard's rule
 *	  for profiles (label and future columns of a protected table, or of a
 *	  partition or child of one, are left out before its split, with a
 *	  NOTICE; after the split the guard's own row filter applies to the
 *	  scan like to any query), recording the table's schema in
 *	  asof.profile_history, building and running the scan query, the result
 *	  rows.
 *	  Must not: compute statistics (profile_stats.c), raise its privileges
 *	  for anything but the history insert, read the guard's C cache (it
 *	  reads asof.protected_registry like any role can).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rangetypes.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "engine.h"
#include "guard.h"
#include "profile.h"

PG_FUNCTION_INFO_V1(asof_profile);

#define PROFILE_NATTS 18

/* The table being profiled and the columns chosen. */
typedef struct ProfileTarget
{
	Oid			relid;
	char	   *relname;		/* unqualified, for messages */
	char	   *qualname;		/* quoted, schema-qualified */
	char	   *time_column;
	Oid			time_type;
	int			ncols;
	char	  **names;
	Oid		   *types;
} ProfileTarget;

/* phase 1: the grain as microseconds; months are refused */
static int64
grain_usecs(Interval *grain)
{
	int64		us;

	if (grain->month != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("grain cannot contain months or years"),
				 errdetail("Months and years have no fixed length; partitions are absolute periods, a day being 24 hours."),
				 errhint("Give the grain in days, hours or smaller units, e.g. '7 days'.")));
	us = grain->time + (int64) grain->day * USECS_PER_DAY;
	if (us <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("grain must be positive"),
				 errdetail("The grain given is %s.",
						   DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(grain))))));
	return us;
}

/* phase 2: the relation, its time column and the columns asked for */
static void
resolve_target(ProfileTarget *t, Oid relid, const char *time_column,
			   ArrayType *columns)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	char		kind = rel->rd_rel->relkind;
	AttrNumber	tattno;
	Datum	   *names = NULL;
	bool	   *nulls = NULL;
	int			nnames = 0;

	t->relid = relid;
	t->relname = pstrdup(RelationGetRelationName(rel));
	t->qualname = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
											 t->relname);
	if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE &&
		kind != RELKIND_VIEW && kind != RELKIND_MATVIEW && kind != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot profile \"%s\"", t->relname),
				 errdetail("Only tables, partitioned tables, views, materialized views and foreign tables can be profiled.")));

	tattno = get_attnum(relid, time_column);
	if (tattno == InvalidAttrNumber || tattno < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist", time_column, t->relname)));
	t->time_column = pstrdup(time_column);
	t->time_type = getBaseType(TupleDescAttr(desc, tattno - 1)->atttypid);
	if (t->time_type != TIMESTAMPOID && t->time_type != TIMESTAMPTZOID && t->time_type != DATEOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of relation \"%s\" is not a time", time_column, t->relname),
				 errdetail("Its type is %s; partitions need a column of type timestamp, timestamp with time zone or date.",
						   format_type_be(TupleDescAttr(desc, tattno - 1)->atttypid))));

	if (columns)
	{
		deconstruct_array(columns, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR,
						  &names, &nulls, &nnames);
		t->names = palloc(sizeof(char *) * Max(nnames, 1));
		t->types = palloc(sizeof(Oid) * Max(nnames, 1));
		t->ncols = 0;
		for (int i = 0; i < nnames; i++)
		{
			char	   *name;
			AttrNumber	a;
			bool		dup = false;

			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("columns must not contain NULL")));
			name = NameStr(*DatumGetName(names[i]));
			a = get_attnum(relid, name);
			if (a == InvalidAttrNumber || a < 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" of relation \"%s\" does not exist", name, t->relname)));
			for (int j = 0; j < t->ncols; j++)
				dup |= strcmp(t->names[j], name) == 0;
			if (dup)
				continue;
			t->names[t->ncols] = pstrdup(name);
			t->types[t->ncols++] = TupleDescAttr(desc, a - 1)->atttypid;
		}
	}
	else
	{
		/* every column but the time column, in table order */
		t->names = palloc(sizeof(char *) * Max(desc->natts, 1));
		t->types = palloc(sizeof(Oid) * Max(desc->natts, 1));
		t->ncols = 0;
		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (att->attisdropped || att->attnum == tattno)
				continue;
			t->names[t->ncols] = pstrdup(NameStr(att->attname));
			t->types[t->ncols++] = att->atttypid;
		}
	}
	relation_close(rel, AccessShareLock);
}

/*
 * phase 3: the guard.  Before the split of the protected table that tbl is
 * (or is a partition or child of), its label and future columns are left
 * out (matched by name), with a NOTICE.  Roles the guard does not apply to
 * (asof.guard = off) profile every column.
 */
static void
leave_out_guarded(ProfileTarget *t)
{
	static const char *sql =
		"WITH RECURSIVE up(relid, depth) AS ("
		" SELECT $1::pg_catalog.oid, 0"
		" UNION ALL"
		" SELECT i.inhparent, up.depth OPERATOR(pg_catalog.+) 1"
		"   FROM pg_catalog.pg_inherits i JOIN up"
		"     ON i.inhrelid OPERATOR(pg_catalog.=) up.relid)"
		" SELECT (r.label_columns OPERATOR(pg_catalog.||) r.future_columns)::pg_catalog.text[],"
		"        r.test_from IS NOT NULL, r.tbl::pg_catalog.oid"
		"   FROM up JOIN asof.protected_registry r"
		"     ON r.tbl::pg_catalog.oid OPERATOR(pg_catalog.=) up.relid"
		"  ORDER BY up.depth LIMIT 1";
	Datum		arg = ObjectIdGetDatum(t->relid);
	Datum	   *guarded = NULL;
	int			nguarded = 0;
	bool		has_split = true;
	Oid			regrelid = InvalidOid;
	StringInfoData left;
	MemoryContext cxt = CurrentMemoryContext;
	int			kept = 0;

	if (!asof_guard_active())
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql, 1, (Oid[]) {OIDOID}, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read asof.protected_registry");
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		MemoryContext old;

		has_split = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		regrelid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
		old = MemoryContextSwitchTo(cxt);
		deconstruct_array(DatumGetArrayTypePCopy(d), TEXTOID, -1, false, TYPALIGN_INT,
						  &guarded, NULL, &nguarded);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	if (has_split || nguarded == 0)
		return;

	initStringInfo(&left);
	for (int i = 0; i < t->ncols; i++)
	{
		bool		is_guarded = false;

		for (int j = 0; j < nguarded && !is_guarded; j++)
			is_guarded = strcmp(t->names[i], TextDatumGetCString(guarded[j])) == 0;
		if (is_guarded)
		{
			appendStringInfo(&left, "%s%s", left.len ? ", " : "", quote_identifier(t->names[i]));
			continue;
		}
		t->names[kept] = t->names[i];
		t->types[kept++] = t->types[i];
	}
	t->ncols = kept;
	if (left.len > 0)
		ereport(NOTICE,
				(errmsg("profile of \"%s\" leaves out its label and future columns: %s",
						t->relname, left.data),
				 errdetail("Table \"%s\" is protected by the leakage guard and has no train/test split yet.",
						   get_rel_name(regrelid)),
				 errhint("Declare a split with asof.split() to profile these columns over the training rows.")));
}

/*
 * phase 4: the table's schema, recorded as the owner of asof.profile_history
 * (not for temporary tables, nor in read-only transactions)
 */
static void
record_schema(ProfileTarget *t, Interval *grain)
{
	Oid			hist = get_relname_relid("profile_history", get_namespace_oid("asof", false));
	Relation	rel;
	TupleDesc	desc;
	Datum	   *names,
			   *types;
	int			n = 0;
	Oid			owner,
				save_userid;
	int			save_sec;
	HeapTuple	tp;
	Datum		args[6];

	if (!OidIsValid(hist))
		elog(ERROR, "table asof.profile_history is missing");
	if (XactReadOnly || RecoveryInProgress())
		return;					/* nothing can be recorded; profiling still works */

	rel = relation_open(t->relid, AccessShareLock);
	if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
	{
		/* gone at the end of the session: no later run compares with it */
		relation_close(rel, AccessShareLock);
		return;
	}
	desc = RelationGetDescr(rel);
	names = palloc(sizeof(Datum) * Max(desc->natts, 1));
	types = palloc(sizeof(Datum) * Max(desc->natts, 1));
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		names[n] = CStringGetTextDatum(NameStr(att->attname));
		types[n++] = CStringGetTextDatum(format_type_with_typemod(att->atttypid, att->atttypmod));
	}
	relation_close(rel, AccessShareLock);

	args[0] = ObjectIdGetDatum(t->relid);
	args[1] = CStringGetTextDatum(t->qualname);
	args[2] = CStringGetTextDatum(t->time_column);
	args[3] = IntervalPGetDatum(grain);
	args[4] = PointerGetDatum(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[5] = PointerGetDatum(construct_array(types, n, TEXTOID, -1, false, TYPALIGN_INT));

	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(hist));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for relation %u", hist);
	owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
	ReleaseSysCache(tp);

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		Datum		all[7] = {args[0], args[1], args[2], args[3], args[4], args[5],
		CStringGetTextDatum(GetUserNameFromId(save_userid, false))};

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute_with_args("INSERT INTO asof.profile_history "
								  "(tbl, table_name, time_column, grain, columns, types, run_by) "
								  "VALUES ($1::pg_catalog.regclass, $2, $3, $4, $5, $6, $7)",
								  7,
								  (Oid[]) {OIDOID, TEXTOID, TEXTOID, INTERVALOID, TEXTARRAYOID,
									  TEXTARRAYOID, TEXTOID},
								  all, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not record the profile in asof.profile_history");
		SPI_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec);
	}
	PG_END_TRY();
}

/*
 * The period to profile, a range literal of the time column's kind
 * (tsrange, or tstzrange read with TimeZone UTC): refused when empty.
 */
static void
check_during(ProfileTarget *t, const char *during)
{
	Oid			rngtype = t->time_type == TIMESTAMPTZOID ? TSTZRANGEOID : TSRANGEOID;
	Oid			in,
				ioparam;
	int			nest = NewGUCNestLevel();
	Datum		r;

	(void) set_config_option("TimeZone", "UTC", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	getTypeInputInfo(rngtype, &in, &ioparam);
	r = OidInputFunctionCall(in, (char *) during, ioparam, -1);
	AtEOXact_GUC(true, nest);
	if (RangeIsEmpty(DatumGetRangeTypeP(r)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("period to profile is empty"),
				 errdetail("The period given is %s.", during)));
}

/* phase 5: the scan query, streamed into the accumulator */
static ProfileScan *
scan(ProfileTarget *t, int64 grain, const char *during)
{
	StringInfoData sql;
	ProfileScan *s = profile_scan_create(t->time_type, grain, t->ncols, t->types);
	ParamListInfo params = NULL;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s", quote_identifier(t->time_column));
	for (int i = 0; i < t->ncols; i++)
		appendStringInfo(&sql, ", %s", quote_identifier(t->names[i]));
	appendStringInfo(&sql, " FROM %s", t->qualname);
	if (during)
	{
		appendStringInfo(&sql, " WHERE $1::pg_catalog.%s OPERATOR(pg_catalog.@>) %s%s",
						 t->time_type == TIMESTAMPTZOID ? "tstzrange" : "tsrange",
						 quote_identifier(t->time_column),
						 t->time_type == DATEOID ? "::pg_catalog.timestamp" : "");
		params = makeParamList(1);
		params->numParams = 1;
		params->params[0].value = CStringGetTextDatum(during);
		params->params[0].isnull = false;
		params->params[0].pflags = PARAM_FLAG_CONST;
		params->params[0].ptype = TEXTOID;
	}
	asof_engine_run_query(sql.data, params, true, true, profile_scan_receiver(s));
	return s;
}

static Datum
float_or_null(bool ok, double v, bool *isnull)
{
	*isnull = !ok;
	return ok ? Float8GetDatum(v) : (Datum) 0;
}

/* phase 6: one result row per (partition, column) */
static void
emit(ProfileTarget *t, ProfileScan *s, int nparts, Tuplestorestate *store, TupleDesc desc)
{
	for (int p = 0; p < nparts; p++)
		for (int i = 0; i < t->ncols; i++)
		{
			ProfileStats st;
			Datum		v[PROFILE_NATTS];
			bool		n[PROFILE_NATTS];
			int64		nonnull;
			NameData	colname;

			profile_scan_stats(s, p, i, &st);
			nonnull = st.rows - st.nulls;
			memset(n, 0, sizeof(n));
			namestrcpy(&colname, t->names[i]);
			v[0] = TimestampGetDatum(profile_scan_partition_start(s, p));
			v[1] = NameGetDatum(&colname);
			v[2] = CStringGetTextDatum(format_type_be(t->types[i]));
			v[3] = Int64GetDatum(st.rows);
			v[4] = Int64GetDatum(st.nulls);
			v[5] = float_or_null(st.rows > 0, (double) st.nulls / (double) st.rows, &n[5]);
			v[6] = Int64GetDatum(st.distinct);
			n[7] = st.top_value == NULL;
			v[7] = n[7] ? (Datum) 0 : CStringGetTextDatum(st.top_value);
			v[8] = float_or_null(st.top_value != NULL, st.top_fraction, &n[8]);
			v[9] = float_or_null(st.has_numbers, st.mean, &n[9]);
			v[10] = float_or_null(st.has_stddev && st.has_numbers, st.stddev, &n[10]);
			v[11] = float_or_null(st.has_numbers, st.min, &n[11]);
			v[12] = float_or_null(st.has_numbers, st.p05, &n[12]);
			v[13] = float_or_null(st.has_numbers, st.p50, &n[13]);
			v[14] = float_or_null(st.has_numbers, st.p95, &n[14]);
			v[15] = float_or_null(st.has_numbers, st.max, &n[15]);
			n[16] = !st.has_novelty;
			v[16] = Int64GetDatum(st.new_values);
			v[17] = float_or_null(st.has_novelty, (double) st.new_rows / (double) Max(nonnull, 1), &n[17]);
			tuplestore_putvalues(store, desc, v, n);
		}
}

Datum
asof_profile(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ProfileTarget t;
	int64		grain;
	char	   *during;
	ProfileScan *s;
	int			nparts;
	TupleDesc	desc;
	Tuplestorestate *store;
	MemoryContext old;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("asof.profile must be called in the FROM clause")));
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tbl, time_column and grain must not be NULL")));
	memset(&t, 0, sizeof(t));
	grain = grain_usecs(PG_GETARG_INTERVAL_P(2));
	resolve_target(&t, PG_GETARG_OID(0), NameStr(*PG_GETARG_NAME(1)),
				   PG_ARGISNULL(3) ? NULL : PG_GETARG_ARRAYTYPE_P(3));
	during = PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4));
	if (during)
		check_during(&t, during);
	leave_out_guarded(&t);
	record_schema(&t, PG_GETARG_INTERVAL_P(2));

	s = scan(&t, grain, during);
	nparts = profile_scan_finish(s);
	if (profile_scan_skipped(s) > 0)
		ereport(NOTICE,
				(errmsg_plural("profile of \"%s\" leaves out %lld row whose time is NULL or infinite",
							   "profile of \"%s\" leaves out %lld rows whose time is NULL or infinite",
							   profile_scan_skipped(s),
							   t.relname, (long long) profile_scan_skipped(s))));

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	desc = CreateTupleDescCopy(desc);
	store = tuplestore_begin_heap(true, false, work_mem);
	MemoryContextSwitchTo(old);
	if (desc->natts != PROFILE_NATTS)
		elog(ERROR, "asof.profile must return %d columns", PROFILE_NATTS);
	emit(&t, s, nparts, store, desc);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = desc;
	return (Datum) 0;
}
