/*-------------------------------------------------------------------------
 *
 * guard_utility.c
 *	  The guard's utility-statement and error-report rules:
 *	  - COPY t TO (the relation form, which has no plan to filter) is
 *		refused after the split: a backup must not lose rows silently (G2);
 *	  - CREATE TRIGGER on a protected table is refused: triggers receive
 *		whole rows (G3);
 *	  - DROP EXTENSION pg_asof is refused while tables are protected unless
 *		CASCADE, which unprotects them and says so (G7);
 *	  - constraint-violation DETAILs (row values) of protected tables are
 *		removed from error reports, superusers' included (G3).
 *
 *	  Must not: decide about reads of columns or rows (guard_columns.c,
 *	  guard_rows.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/lsyscache.h"

#include "catalog.h"
#include "compat.h"
#include "guard.h"

static ProcessUtility_hook_type prev_process_utility_hook = NULL;
static emit_log_hook_type prev_emit_log_hook = NULL;

static char *
table_text(Oid relid)
{
	return DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid)));
}

static void
check_copy(CopyStmt *stmt)
{
	Oid			relid;
	const AsofGuardedRel *g;

	if (stmt->is_from || stmt->relation == NULL)
		return;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	g = asof_catalog_lookup(relid);
	if (g == NULL || !g->has_split || asof_guard_is_unsealed(g->regrelid))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot copy protected table \"%s\" after its train/test split",
					get_rel_name(relid)),
			 errdetail("COPY %s TO would leave out the held-out rows without saying so; a backup must not lose rows silently.",
					   table_text(relid)),
			 errhint("Copy the training rows with COPY (SELECT ... FROM %s) TO ...; for a complete backup, a superuser sets asof.guard = off for the session.",
					 table_text(relid))));
}

static void
check_create_trigger(CreateTrigStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	const AsofGuardedRel *g = asof_catalog_lookup(relid);

	if (g == NULL)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot create trigger \"%s\" on protected table \"%s\"",
					stmt->trigname, get_rel_name(relid)),
			 errdetail("Triggers receive whole rows, label columns and held-out rows included."),
			 errhint("Unprotect the table first with asof.unprotect('%s').",
					 table_text(g->regrelid))));
}

/* DROP EXTENSION pg_asof: refuse, or with CASCADE unprotect first. */
static void
check_drop_extension(DropStmt *stmt)
{
	ListCell   *lc;
	bool		ours = false;
	List	   *relids;
	StringInfoData names;

	foreach(lc, stmt->objects)
	{
		Node	   *obj = lfirst(lc);

		if (IsA(obj, String) && strcmp(strVal(obj), "pg_asof") == 0)
			ours = true;
	}
	if (!ours || !OidIsValid(get_extension_oid("pg_asof", true)))
		return;
	relids = NIL;
	foreach(lc, asof_catalog_registered_relids())
		if (get_rel_name(lfirst_oid(lc)) != NULL)
			relids = lappend_oid(relids, lfirst_oid(lc));
	if (relids == NIL)
		return;

	initStringInfo(&names);
	foreach(lc, relids)
		appendStringInfo(&names, "%s%s", names.len ? ", " : "", table_text(lfirst_oid(lc)));
	if (stmt->behavior != DROP_CASCADE)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop extension pg_asof because tables are protected"),
				 errdetail("Protected tables: %s.", names.data),
				 errhint("Unprotect them with asof.unprotect(...), or use DROP EXTENSION ... CASCADE, which unprotects them.")));

	SPI_connect();
	foreach(lc, relids)
	{
		Datum		arg = ObjectIdGetDatum(lfirst_oid(lc));
		Oid			argtype = OIDOID;
		char	   *name = table_text(lfirst_oid(lc));

		if (SPI_execute_with_args("SELECT asof.unprotect($1::pg_catalog.regclass)", 1,
								  &argtype, &arg, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not unprotect table %s", name);
		ereport(WARNING,
				(errmsg("table %s is no longer protected", name),
				 errdetail("DROP EXTENSION pg_asof ... CASCADE unprotects every protected table: its label columns and held-out rows are readable again.")));
	}
	SPI_finish();
}

static void
asof_process_utility(ASOF_PROCESS_UTILITY_PARAMS)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (IsA(parsetree, DropStmt) &&
		((DropStmt *) parsetree)->removeType == OBJECT_EXTENSION)
		check_drop_extension((DropStmt *) parsetree);
	else if (asof_guard_active() && asof_catalog_any_protected())
	{
		if (IsA(parsetree, CopyStmt))
			check_copy((CopyStmt *) parsetree);
		else if (IsA(parsetree, CreateTrigStmt))
			check_create_trigger((CreateTrigStmt *) parsetree);
	}

	if (prev_process_utility_hook)
		prev_process_utility_hook(ASOF_PROCESS_UTILITY_ARGS);
	else
		standard_ProcessUtility(ASOF_PROCESS_UTILITY_ARGS);
}

/*
 * Errors about a protected table lose their DETAIL (constraint violations
 * print row values there).  No catalog access here: the names come from
 * the cache.
 */
static void
asof_emit_log(ErrorData *edata)
{
	if (edata->elevel >= ERROR && edata->table_name != NULL &&
		asof_guard_enabled &&
		asof_catalog_name_is_protected(edata->schema_name, edata->table_name))
	{
		edata->detail = NULL;
		edata->detail_log = NULL;
	}
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

void
asof_guard_utility_init(void)
{
	prev_process_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = asof_process_utility;
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = asof_emit_log;
}
