/*-------------------------------------------------------------------------
 *
 * guard_utility.c
 *	  The guard's utility-statement and error-report rules:
 *	  - COPY t TO (the relation form, which has no plan to filter) is
 *		refused after the split: a backup must not lose rows silently (G2);
 *	  - CREATE TRIGGER, CREATE RULE, CREATE/ALTER POLICY and FORCE ROW LEVEL
 *		SECURITY on a protected table are refused: they run code on whole
 *		rows (G3);
 *	  - a protected table cannot become a child or partition of an
 *		unprotected one (INHERIT, ATTACH PARTITION), nor a table with
 *		triggers, rules or policies one of a protected table (G3);
 *	  - DROP EXTENSION pg_asof is refused while tables are protected unless
 *		CASCADE, which unprotects them and says so (G7);
 *	  - DDL that would reopen a side channel or detach the registration is
 *		refused on protected tables: CREATE STATISTICS, expression indexes,
 *		partial indexes, exclusion constraints on expressions or with WHERE,
 *		statistics targets of label and future columns, validated CHECK
 *		constraints, generated columns (stored or, in 18, virtual) and
 *		changes of their expression (17+), every ALTER COLUMN TYPE
 *		(USING expressions and assignment casts run on every row), foreign
 *		keys on label or future columns or with cascading actions,
 *		renaming or dropping registered columns, DISABLE ROW LEVEL SECURITY, dropping
 *		the guard's policies; LOAD while tables are protected (a module
 *		loaded later could replace the hooks) (G3, G6, G7);
 *	  - a WITH HOLD cursor in a transaction that unsealed a test set (it would
 *		keep held-out rows past the transaction) (G4);
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
#include "access/genam.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_policy.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

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
	if (g == NULL || !g->has_split || asof_guard_rel_unsealed(g))
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


/* What a column is in a protected relation: "label", "future", "time" or NULL. */
static const char *
column_role(const AsofGuardedRel *g, Oid relid, const char *colname)
{
	AttrNumber	att;
	int			i;

	if (colname == NULL)
		return NULL;
	att = get_attnum(relid, colname);
	if (att == InvalidAttrNumber)
		return NULL;
	if (att == g->time_attno)
		return "time";
	for (i = 0; i < g->ncols; i++)
		if (g->attnos[i] == att)
			return g->is_label[i] ? "label" : "future";
	return NULL;
}

static void
refuse_ddl(const AsofGuardedRel *g, const char *what, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot %s protected table \"%s\"", what, g->regname),
			 errdetail("%s", why),
			 errhint("Unprotect the table first with asof.unprotect('%s'), or, as a superuser, SET asof.guard = off.",
					 table_text(g->regrelid))));
}

static const AsofGuardedRel *
lookup_rangevar(RangeVar *rv)
{
	if (rv == NULL)
		return NULL;
	return asof_catalog_lookup(RangeVarGetRelid(rv, NoLock, true));
}

static void
check_create_statistics(CreateStatsStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		Node	   *n = lfirst(lc);
		const AsofGuardedRel *g;

		if (!IsA(n, RangeVar))
			continue;
		g = lookup_rangevar((RangeVar *) n);
		if (g != NULL)
			refuse_ddl(g, "create statistics on",
					   "Extended statistics over a protected table are computed from every row, held-out rows and labels included.");
	}
}

static void
check_create_index(IndexStmt *stmt)
{
	const AsofGuardedRel *g = lookup_rangevar(stmt->relation);
	ListCell   *lc;

	if (g == NULL)
		return;
	foreach(lc, stmt->indexParams)
	{
		IndexElem  *e = lfirst(lc);

		if (e->expr != NULL)
			refuse_ddl(g, "create an expression index on",
					   "ANALYZE collects statistics of index expressions from every row, held-out rows and labels included.");
	}
	if (stmt->whereClause != NULL)
		refuse_ddl(g, "create a partial index on",
				   "Building it evaluates its predicate on every row, held-out rows and labels included.");
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
static bool
has_user_triggers(Oid relid)
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
				if (!rel->trigdesc->triggers[i].tgisinternal)
					found = true;
		}
		relation_close(rel, AccessShareLock);
		if (found)
			return true;
	}
	return false;
}

/*
 * ALTER TABLE child INHERIT parent and ALTER TABLE parent ATTACH PARTITION
 * child: a protected table must not become a member of an unprotected one
 * (queries and ANALYZE of the parent read the child's rows unfiltered), and
 * a table with triggers must not become a member of a protected one
 * (its triggers would receive protected rows).
 */
static void
check_membership(Oid parent, Oid child)
{
	const AsofGuardedRel *gp;
	const AsofGuardedRel *gc;

	if (!OidIsValid(parent) || !OidIsValid(child))
		return;
	gp = asof_catalog_lookup(parent);
	gc = asof_catalog_lookup(child);
	if (gc != NULL && gp == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot make protected table \"%s\" a partition or child of unprotected table \"%s\"",
						get_rel_name(child), get_rel_name(parent)),
				 errdetail("Queries and ANALYZE of the parent would read the child's label columns and held-out rows without the guard."),
				 errhint("Protect the parent instead, or unprotect %s first.",
						 table_text(gc->regrelid))));
	if (gp != NULL && has_user_triggers(child))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot make table \"%s\", which has triggers, rules or policies, a partition or child of protected table \"%s\"",
						get_rel_name(child), get_rel_name(parent)),
				 errdetail("Triggers, rules and row-level security policies run on whole rows, label columns and held-out rows included."),
				 errhint("Drop its triggers, rules and policies first, or unprotect %s first.",
						 table_text(gp->regrelid))));
}

/* Does a list of column names include a label or future column? */
static bool
names_label_or_future(const AsofGuardedRel *g, Oid relid, List *names)
{
	ListCell   *lc;

	foreach(lc, names)
	{
		const char *role = column_role(g, relid, strVal(lfirst(lc)));

		if (role != NULL && strcmp(role, "time") != 0)
			return true;
	}
	return false;
}

static void
check_add_constraint(const AsofGuardedRel *g, Oid relid, Constraint *con)
{
	ListCell   *lc;

	switch (con->contype)
	{
		case CONSTR_CHECK:
			if (!con->skip_validation)
				refuse_ddl(g, "add a validated CHECK constraint to",
						   "Validating it evaluates its expression on every row, held-out rows and labels included; add it NOT VALID.");
			break;
		case CONSTR_EXCLUSION:
			foreach(lc, con->exclusions)
			{
				IndexElem  *e = linitial((List *) lfirst(lc));

				if (IsA(e, IndexElem) && e->expr != NULL)
					refuse_ddl(g, "add an exclusion constraint on an expression to",
							   "Building its index evaluates the expression on every row, held-out rows and labels included.");
			}
			if (con->where_clause != NULL)
				refuse_ddl(g, "add a partial exclusion constraint to",
						   "Building its index evaluates its predicate on every row, held-out rows and labels included.");
			break;
		case CONSTR_FOREIGN:
			if (names_label_or_future(g, relid, con->fk_attrs))
				refuse_ddl(g, "add a foreign key on a label or future column of",
						   "Checking and cascading it read the column on every row, held-out rows included.");
			if ((con->fk_del_action != FKCONSTR_ACTION_NOACTION &&
				 con->fk_del_action != FKCONSTR_ACTION_RESTRICT) ||
				(con->fk_upd_action != FKCONSTR_ACTION_NOACTION &&
				 con->fk_upd_action != FKCONSTR_ACTION_RESTRICT))
				refuse_ddl(g, "add a foreign key with a cascading action to",
						   "An ON DELETE or ON UPDATE action other than NO ACTION and RESTRICT cannot reach the held-out rows the guard hides: they would keep keys that are gone.");
			break;
		default:
			break;
	}
}

static void
check_alter_table(AlterTableStmt *stmt)
{
	const AsofGuardedRel *g;
	Oid			relid;
	ListCell   *lc;

	if (stmt->objtype != OBJECT_TABLE)
		return;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);

		if (cmd->subtype == AT_AddInherit && IsA(cmd->def, RangeVar))
			check_membership(RangeVarGetRelid((RangeVar *) cmd->def, NoLock, true), relid);
		else if (cmd->subtype == AT_AttachPartition && IsA(cmd->def, PartitionCmd))
			check_membership(relid,
							 RangeVarGetRelid(((PartitionCmd *) cmd->def)->name, NoLock, true));
	}
	g = asof_catalog_lookup(relid);
	if (g == NULL)
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);
		const char *role = column_role(g, relid, cmd->name);

		switch (cmd->subtype)
		{
			case AT_AddConstraint:
				if (IsA(cmd->def, Constraint))
					check_add_constraint(g, relid, (Constraint *) cmd->def);
				break;
			case AT_ValidateConstraint:
				refuse_ddl(g, "validate a constraint of",
						   "Validating evaluates the constraint on every row, held-out rows and labels included.");
				break;
			case AT_AddColumn:
				if (IsA(cmd->def, ColumnDef))
				{
					ListCell   *c;

					foreach(c, ((ColumnDef *) cmd->def)->constraints)
						if (((Constraint *) lfirst(c))->contype == CONSTR_GENERATED)
							refuse_ddl(g, "add a generated column to",
									   "A generated column is computed from the other columns of every row, held-out rows and labels included, and reading it reads them.");
				}
				break;
			case AT_SetStatistics:
				if (role != NULL && strcmp(role, "time") != 0)
					refuse_ddl(g, "change the statistics target of a label or future column of",
							   "Statistics of label and future columns are computed from every row, held-out rows included.");
				break;
			case AT_DropColumn:
				if (role != NULL)
					refuse_ddl(g, "drop or change the type of a registered column of",
							   "The guard's registration names the time, label and future columns.");
				break;
			case AT_AlterColumnType:
				if (role != NULL)
					refuse_ddl(g, "drop or change the type of a registered column of",
							   "The guard's registration names the time, label and future columns.");
				refuse_ddl(g, "change a column type of",
						   "Rewriting the column runs its USING expression or its assignment cast, which may be user code, on every row, held-out rows and labels included.");
				break;
			case AT_ForceRowSecurity:
				refuse_ddl(g, "force row-level security on",
						   "Row-level security policies would then run on the owner's queries, label columns and held-out rows included.");
				break;
			case AT_DisableRowSecurity:
				refuse_ddl(g, "disable row-level security on",
						   "The guard's restrictive policy keeps the table closed when the guard is not loaded.");
				break;
			default:
				/* ALTER COLUMN ... SET EXPRESSION (17+), see compat.h */
				if (asof_at_is_set_expression(cmd->subtype))
					refuse_ddl(g, "change a generated column's expression on",
							   "The new expression is computed from every row, held-out rows and labels included.");
				break;
		}
	}
}

static void
check_rename(RenameStmt *stmt)
{
	Oid			relid;
	const AsofGuardedRel *g;

	if (stmt->renameType != OBJECT_COLUMN || stmt->relation == NULL)
		return;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	g = asof_catalog_lookup(relid);
	if (g != NULL && column_role(g, relid, stmt->subname) != NULL)
		refuse_ddl(g, "rename a registered column of",
				   "The guard's registration names the time, label and future columns.");
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
		g = lookup_rangevar(makeRangeVarFromNameList(list_truncate(list_copy(names),
																	list_length(names) - 1)));
		if (g != NULL)
			refuse_ddl(g, "drop the guard's policy on",
					   "The guard's restrictive policy keeps the table closed when the guard is not loaded.");
	}
}

static void
check_policy_or_rule(RangeVar *rv, const char *what)
{
	const AsofGuardedRel *g = lookup_rangevar(rv);

	if (g != NULL)
		refuse_ddl(g, what,
				   "Its expressions would be evaluated on every row, label columns and held-out rows included.");
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

		/* Training sets linked to a spine go with the spine. */
		if (SPI_execute_with_args("SELECT asof.unprotect(r.tbl) FROM asof.protected_registry r "
								  "WHERE r.tbl = $1::pg_catalog.regclass AND r.linked_to IS NULL", 1,
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
		switch (nodeTag(parsetree))
		{
			case T_CopyStmt:
				check_copy((CopyStmt *) parsetree);
				break;
			case T_CreateTrigStmt:
				check_create_trigger((CreateTrigStmt *) parsetree);
				break;
			case T_CreateStatsStmt:
				check_create_statistics((CreateStatsStmt *) parsetree);
				break;
			case T_IndexStmt:
				check_create_index((IndexStmt *) parsetree);
				break;
			case T_AlterTableStmt:
				check_alter_table((AlterTableStmt *) parsetree);
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
									 "create a row-level security policy on");
				break;
			case T_AlterPolicyStmt:
				check_policy_or_rule(((AlterPolicyStmt *) parsetree)->table,
									 "alter a row-level security policy on");
				break;
			case T_RuleStmt:
				check_policy_or_rule(((RuleStmt *) parsetree)->relation,
									 "create a rule on");
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
