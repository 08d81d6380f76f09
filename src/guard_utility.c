/*-------------------------------------------------------------------------
 *
 * guard_utility.c
 *	  The guard's ProcessUtility_hook and emit_log_hook: which rule checks
 *	  each utility statement, before it runs and again after it (once it
 *	  holds its locks: a table may have been protected while it waited).
 *	  The rules on a table's definition are in guard_ddl.c, on rebuilds in
 *	  guard_ddl_rebuild.c, on partitions, children and publications in
 *	  guard_members.c.  The statement rules kept here:
 *	  - COPY t TO (the relation form, which has no plan to filter) is
 *		refused after the split: a backup must not lose rows silently (G2);
 *	  - CREATE TRIGGER, CREATE RULE, CREATE/ALTER POLICY and FORCE ROW LEVEL
 *		SECURITY on a protected table are refused: they run code on whole
 *		rows (G3); except the two triggers of asof.track_ingestion, exactly
 *		as it creates them (asof_ingestion_create_trigger_ok: its functions
 *		by OID, its shape, the registered column as the one argument); so
 *		are dropping the guard's policies and renaming registered columns;
 *	  - DROP EXTENSION pg_asof is refused while tables are protected unless
 *		CASCADE, which unprotects them and says so (G7);
 *	  - LOAD while tables are protected (a module loaded later could
 *		replace the hooks) (G6);
 *	  - a WITH HOLD cursor in a transaction that unsealed a test set (it
 *		would keep held-out rows past the transaction) (G4);
 *	  - constraint-violation DETAILs (row values) of protected tables are
 *		removed from error reports, superusers' included (G3).
 *
 *	  Must not: decide about reads of columns or rows (guard_columns.c,
 *	  guard_rows.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/heap.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

#include "compat.h"
#include "guard.h"
#include "guard_ddl.h"
#include "guard_registry.h"
#include "ingestion.h"

static ProcessUtility_hook_type prev_process_utility_hook = NULL;
static emit_log_hook_type prev_emit_log_hook = NULL;

static void
check_copy(CopyStmt *stmt)
{
	Oid			relid;
	const AsofGuardedRel *g;

	if (stmt->is_from || stmt->relation == NULL)
		return;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	g = asof_registry_lookup(relid);
	if (g == NULL || !g->has_split || asof_guard_rel_unsealed(g))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot copy protected table \"%s\" after its train/test split",
					get_rel_name(relid)),
			 errdetail("COPY %s TO would leave out the held-out rows without saying so; a backup must not lose rows silently.",
					   asof_table_text(relid)),
			 errhint("Copy the training rows with COPY (SELECT ... FROM %s) TO ...; for a complete backup, a superuser sets asof.guard = off for the session.",
					 asof_table_text(relid))));
}

static void
check_create_trigger(CreateTrigStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	const AsofGuardedRel *g = asof_registry_lookup(relid);

	if (g == NULL)
		return;
	/* the ingestion-time triggers of asof.track_ingestion, exactly (ingestion.c) */
	if (asof_ingestion_create_trigger_ok(relid, stmt))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot create trigger \"%s\" on protected table \"%s\"",
					stmt->trigname, get_rel_name(relid)),
			 errdetail("Triggers receive whole rows, label columns and held-out rows included."),
			 errhint("Unprotect the table first with asof.unprotect('%s').",
					 asof_table_text(g->regrelid))));
}

/* Has relid row-level security policies (enabled or not)? */
static bool
has_policies(Oid relid)
{
	Relation	pol = table_open(PolicyRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	bool		found;

	ScanKeyInit(&key, Anum_pg_policy_polrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(pol, PolicyPolrelidPolnameIndexId, true, NULL, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(pol, AccessShareLock);
	return found;
}

/*
 * Does relid or any of its partitions or children have a user trigger, a
 * rule or a row-level security policy (code that would run on protected
 * rows)?
 */
bool
asof_ddl_has_user_triggers(Oid relid)
{
	ListCell   *lc;

	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
	{
		Relation	rel = try_relation_open(lfirst_oid(lc), AccessShareLock);
		bool		found = false;

		if (rel == NULL)
			continue;
		if (rel->rd_rel->relhasrules || has_policies(RelationGetRelid(rel)))
			found = true;
		if (rel->trigdesc != NULL)
		{
			int			i;

			for (i = 0; i < rel->trigdesc->numtriggers; i++)
				if (!rel->trigdesc->triggers[i].tgisinternal &&
					!asof_ingestion_trigger_ok(RelationGetRelid(rel), &rel->trigdesc->triggers[i]))
					found = true;
		}
		relation_close(rel, AccessShareLock);
		if (found)
			return true;
	}
	return false;
}

static void
check_rename(RenameStmt *stmt)
{
	Oid			relid;
	const AsofGuardedRel *g;

	if (stmt->renameType != OBJECT_COLUMN || stmt->relation == NULL)
		return;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	g = asof_registry_lookup(relid);
	if (g != NULL && asof_ddl_column_role(g, relid, stmt->subname) != NULL)
		asof_ddl_refuse(g, "cannot rename a registered column of protected table \"%s\"",
				   "The guard's registration names the time, label and future columns.", NULL);
}

static void
check_drop_policy(DropStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		List	   *names = lfirst(lc);
		const char *polname;
		const AsofGuardedRel *g;

		if (list_length(names) < 2)
			continue;
		polname = strVal(llast(names));
		if (strncmp(polname, "asof_guard_", 11) != 0)
			continue;
		g = asof_ddl_lookup_rangevar(makeRangeVarFromNameList(list_truncate(list_copy(names),
																	list_length(names) - 1)));
		if (g != NULL)
			asof_ddl_refuse(g, "cannot drop the guard's policy on protected table \"%s\"",
					   "The guard's restrictive policy keeps the table closed when the guard is not loaded.", NULL);
	}
}

static void
check_policy_or_rule(RangeVar *rv, const char *msg)
{
	const AsofGuardedRel *g = asof_ddl_lookup_rangevar(rv);

	if (g != NULL)
		asof_ddl_refuse(g, msg,
				   "Its expressions would be evaluated on every row, label columns and held-out rows included.", NULL);
}

static void
check_load(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot LOAD a module while tables are protected by pg_asof"),
			 errdetail("A module loaded into a session can replace the hooks the leakage guard relies on."),
			 errhint("Load modules through shared_preload_libraries or session_preload_libraries, or, as a superuser, SET asof.guard = off first.")));
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
	foreach(lc, asof_registry_registered_relids())
		if (get_rel_name(lfirst_oid(lc)) != NULL)
			relids = lappend_oid(relids, lfirst_oid(lc));
	if (relids == NIL)
		return;

	initStringInfo(&names);
	foreach(lc, relids)
		appendStringInfo(&names, "%s%s", names.len ? ", " : "", asof_table_text(lfirst_oid(lc)));
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
		char	   *name = asof_table_text(lfirst_oid(lc));

		/*
		 * Training sets linked to a spine go with the spine; online tables
		 * and serving logs (linked or not yet) go with schema asof_online.
		 */
		if (SPI_execute_with_args("SELECT asof.unprotect(r.tbl) FROM asof.protected_registry r "
								  "WHERE r.tbl = $1::pg_catalog.regclass AND r.linked_to IS NULL "
								  "AND NOT EXISTS (SELECT FROM asof.online_tables o "
								  "WHERE r.tbl IN (o.online_table, o.log_table))", 1,
								  &argtype, &arg, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not unprotect table %s", name);
		ereport(WARNING,
				(errmsg("table %s is no longer protected", name),
				 errdetail("DROP EXTENSION pg_asof ... CASCADE unprotects every protected table: its label columns and held-out rows are readable again.")));
	}
	SPI_finish();
}

/* The statements check_after_utility looks at (all run in one transaction). */
static bool
checked_after(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_CreateStmt:
		case T_CreateForeignTableStmt:
		case T_AlterTableStmt:
		case T_CreatePublicationStmt:
		case T_AlterPublicationStmt:
		case T_AlterObjectSchemaStmt:
		case T_CreateStatsStmt:
		case T_CreateTrigStmt:
		case T_AlterDomainStmt:
			return true;
		case T_IndexStmt:
			return !((IndexStmt *) parsetree)->concurrent;
		default:
			return false;
	}
}

/*
 * The checks that need the statement's result: new partitions and children
 * of protected tables, and publications.  The statement checks run again
 * too, now that the statement holds its locks: the table may have been
 * protected by a transaction that committed while the statement waited for
 * its lock, after the check before it.  (CLUSTER and CREATE INDEX
 * CONCURRENTLY may commit along the way; they are checked before only.)
 */
static void
check_after_utility(Node *parsetree, bool enforce)
{
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_CreateStmt:
		case T_CreateForeignTableStmt:
			if (((CreateStmt *) parsetree)->inhRelations == NIL)
				break;
			asof_members_check_new(RangeVarGetRelid(((CreateStmt *) parsetree)->relation, NoLock, true),
							 enforce);
			if (enforce)
				asof_members_check_publications();
			break;
		case T_AlterTableStmt:
			{
				List	   *members = asof_members_new((AlterTableStmt *) parsetree);

				if (enforce)
					asof_ddl_check_alter_table((AlterTableStmt *) parsetree);

				foreach(lc, members)
					asof_members_check_new(lfirst_oid(lc), enforce);
				if (members != NIL && enforce)
					asof_members_check_publications();
			}
			break;
		case T_CreatePublicationStmt:
		case T_AlterPublicationStmt:
		case T_AlterObjectSchemaStmt:
			if (enforce)
				asof_members_check_publications();
			break;
		case T_IndexStmt:
			if (enforce)
				asof_ddl_check_create_index((IndexStmt *) parsetree);
			break;
		case T_CreateStatsStmt:
			if (enforce)
				asof_ddl_check_create_statistics((CreateStatsStmt *) parsetree);
			break;
		case T_CreateTrigStmt:
			if (enforce)
				check_create_trigger((CreateTrigStmt *) parsetree);
			break;
		case T_AlterDomainStmt:
			if (enforce)
				asof_ddl_check_alter_domain((AlterDomainStmt *) parsetree);
			break;
		default:
			break;
	}
}

/*
 * CREATE TABLE ... INHERITS (not PARTITION OF) and ALTER TABLE ... INHERIT:
 * a parent that tracks ingestion refuses new inheritance children.
 */
static void
check_new_inheritance_child(Node *parsetree)
{
	ListCell   *lc;

	if (!IsTransactionState())
		return;
	if (IsA(parsetree, CreateStmt) && ((CreateStmt *) parsetree)->partbound == NULL)
	{
		foreach(lc, ((CreateStmt *) parsetree)->inhRelations)
			if (IsA(lfirst(lc), RangeVar))
				asof_ingestion_check_new_child(RangeVarGetRelid((RangeVar *) lfirst(lc), NoLock, true));
	}
	else if (IsA(parsetree, AlterTableStmt))
	{
		foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
		{
			AlterTableCmd *cmd = lfirst(lc);

			if (cmd->subtype == AT_AddInherit && cmd->def != NULL && IsA(cmd->def, RangeVar))
				asof_ingestion_check_new_child(RangeVarGetRelid((RangeVar *) cmd->def, NoLock, true));
		}
	}
}

static void
asof_process_utility(ASOF_PROCESS_UTILITY_PARAMS)
{
	Node	   *parsetree = pstmt->utilityStmt;

	/* not a guard rule: arrival times must not be forgeable (ingestion.c) */
	check_new_inheritance_child(parsetree);

	if (IsA(parsetree, DropStmt) &&
		((DropStmt *) parsetree)->removeType == OBJECT_EXTENSION)
		check_drop_extension((DropStmt *) parsetree);
	else if (asof_guard_active() && asof_registry_any_protected())
	{
		switch (nodeTag(parsetree))
		{
			case T_CopyStmt:
				check_copy((CopyStmt *) parsetree);
				break;
			case T_CreateTrigStmt:
				check_create_trigger((CreateTrigStmt *) parsetree);
				break;
			case T_CreateStatsStmt:
				asof_ddl_check_create_statistics((CreateStatsStmt *) parsetree);
				break;
			case T_IndexStmt:
				asof_ddl_check_create_index((IndexStmt *) parsetree);
				break;
			case T_AlterTableStmt:
				asof_ddl_check_alter_table((AlterTableStmt *) parsetree);
				break;
			case T_CreateStmt:
			case T_CreateForeignTableStmt:
				asof_ddl_check_create_table((CreateStmt *) parsetree);
				break;
			case T_ClusterStmt:
				asof_ddl_check_cluster((ClusterStmt *) parsetree);
				break;
			case T_AlterStatsStmt:
				asof_ddl_check_alter_statistics((AlterStatsStmt *) parsetree);
				break;
			case T_AlterDomainStmt:
				asof_ddl_check_alter_domain((AlterDomainStmt *) parsetree);
				break;
			case T_ReindexStmt:
				asof_ddl_check_reindex((ReindexStmt *) parsetree);
				break;
			case T_VacuumStmt:
				asof_ddl_check_vacuum_full((VacuumStmt *) parsetree);
				break;
			case T_RenameStmt:
				check_rename((RenameStmt *) parsetree);
				break;
			case T_DropStmt:
				if (((DropStmt *) parsetree)->removeType == OBJECT_POLICY)
					check_drop_policy((DropStmt *) parsetree);
				break;
			case T_CreatePolicyStmt:
				check_policy_or_rule(((CreatePolicyStmt *) parsetree)->table,
									 "cannot create a row-level security policy on protected table \"%s\"");
				break;
			case T_AlterPolicyStmt:
				check_policy_or_rule(((AlterPolicyStmt *) parsetree)->table,
									 "cannot alter a row-level security policy on protected table \"%s\"");
				break;
			case T_RuleStmt:
				check_policy_or_rule(((RuleStmt *) parsetree)->relation,
									 "cannot create a rule on protected table \"%s\"");
				break;
			case T_LoadStmt:
				check_load();
				break;
			case T_DeclareCursorStmt:
				if ((((DeclareCursorStmt *) parsetree)->options & CURSOR_OPT_HOLD) &&
					asof_guard_any_unsealed())
					ereport(ERROR,
							(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							 errmsg("cannot declare a WITH HOLD cursor while a test set is unsealed"),
							 errdetail("A cursor held past the transaction would keep held-out rows open after it."),
							 errhint("Declare the cursor without WITH HOLD, or in a transaction that did not call asof.unseal.")));
				break;
			default:
				break;
		}
	}

	if (prev_process_utility_hook)
		prev_process_utility_hook(ASOF_PROCESS_UTILITY_ARGS);
	else
		standard_ProcessUtility(ASOF_PROCESS_UTILITY_ARGS);

	/*
	 * Decided again: a table may have been protected while the statement
	 * waited for its lock.
	 */
	if (!checked_after(parsetree) || !IsTransactionState() ||
		!OidIsValid(get_extension_oid("pg_asof", true)) ||
		!asof_registry_any_protected())
		return;
	check_after_utility(parsetree, asof_guard_active());
}

/*
 * Errors about a protected table lose their DETAIL (constraint violations
 * print row values there).  No catalog access here: the names come from
 * the cache; while it is not loaded (after an invalidation or a failed
 * load), every table's errors lose it (fail closed).
 */
static void
asof_emit_log(ErrorData *edata)
{
	if (edata->elevel >= ERROR && edata->table_name != NULL &&
		asof_guard_enabled &&
		(!asof_registry_is_loaded() ||
		 asof_registry_name_is_protected(edata->schema_name, edata->table_name)))
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
