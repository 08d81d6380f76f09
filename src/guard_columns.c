/*-------------------------------------------------------------------------
 *
 * guard_columns.c
 *	  G1: before its split, no statement reads a label or future column of
 *	  a protected table.  An ExecutorCheckPerms_hook: it sees the column
 *	  sets of every relation a plan reads (views' base tables with every
 *	  column the view uses, inlined functions, partitions and inheritance
 *	  children under their own numbers, COPY t TO through DoCopy), on every
 *	  executor start (SPI, SQL functions, cursors, EXECUTE, EXPLAIN).  It
 *	  also refuses INSERT ... ON CONFLICT DO UPDATE after the split (the
 *	  EXCLUDED entry marks it).
 *
 *	  The executor hooks also count the executors that run with
 *	  SECURITY_NOFORCE_RLS (referential-integrity queries) for guard_rows.c,
 *	  and end the one-shot exemption of the guard's own query once its plan
 *	  has started (guard_state.h).
 *
 *	  Must not: hide rows (guard_rows.c) or query the catalog per statement
 *	  (guard_registry.c caches).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/sysattr.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "compat.h"
#include "guard_registry.h"
#include "guard.h"
#include "guard_sources.h"

static ExecutorCheckPerms_hook_type prev_check_perms_hook = NULL;
static ExecutorStart_hook_type prev_executor_start_hook = NULL;
static ExecutorRun_hook_type prev_executor_run_hook = NULL;
static ExecutorFinish_hook_type prev_executor_finish_hook = NULL;

/*
 * The plan being started, so that the permission hook can tell which range
 * table entries a plan really scans: a reference the planner removed (a
 * subquery folded away by a constant false, a join removed) reads nothing.
 * NULL outside ExecutorStart (COPY t TO, foreign-key checks): then every
 * entry counts.
 */
static PlannedStmt *current_pstmt = NULL;

static void
collect_scanned(Plan *plan, Bitmapset **scanned)
{
	ListCell   *lc;

	if (plan == NULL)
		return;
	switch (nodeTag(plan))
	{
		case T_SeqScan:
		case T_SampleScan:
		case T_IndexScan:
		case T_IndexOnlyScan:
		case T_BitmapHeapScan:
		case T_TidScan:
		case T_TidRangeScan:
		case T_SubqueryScan:
		case T_FunctionScan:
		case T_ValuesScan:
		case T_TableFuncScan:
		case T_CteScan:
		case T_NamedTuplestoreScan:
		case T_WorkTableScan:
			*scanned = bms_add_member(*scanned, ((Scan *) plan)->scanrelid);
			break;
		case T_ForeignScan:
			*scanned = bms_add_member(*scanned, ((Scan *) plan)->scanrelid);
			*scanned = bms_add_members(*scanned, ((ForeignScan *) plan)->fs_relids);
			break;
		case T_CustomScan:
			*scanned = bms_add_member(*scanned, ((Scan *) plan)->scanrelid);
			*scanned = bms_add_members(*scanned, ((CustomScan *) plan)->custom_relids);
			foreach(lc, ((CustomScan *) plan)->custom_plans)
				collect_scanned(lfirst(lc), scanned);
			break;
		case T_Append:
			*scanned = bms_add_members(*scanned, ((Append *) plan)->apprelids);
			foreach(lc, ((Append *) plan)->appendplans)
				collect_scanned(lfirst(lc), scanned);
			break;
		case T_MergeAppend:
			*scanned = bms_add_members(*scanned, ((MergeAppend *) plan)->apprelids);
			foreach(lc, ((MergeAppend *) plan)->mergeplans)
				collect_scanned(lfirst(lc), scanned);
			break;
		case T_BitmapAnd:
			foreach(lc, ((BitmapAnd *) plan)->bitmapplans)
				collect_scanned(lfirst(lc), scanned);
			break;
		case T_BitmapOr:
			foreach(lc, ((BitmapOr *) plan)->bitmapplans)
				collect_scanned(lfirst(lc), scanned);
			break;
		case T_ModifyTable:
			foreach(lc, ((ModifyTable *) plan)->resultRelations)
				*scanned = bms_add_member(*scanned, lfirst_int(lc));
			break;
		default:
			break;
	}
	if (IsA(plan, SubqueryScan))
		collect_scanned(((SubqueryScan *) plan)->subplan, scanned);
	collect_scanned(plan->lefttree, scanned);
	collect_scanned(plan->righttree, scanned);
}

/* Range table indexes (1-based) the plan scans, subplans included. */
static Bitmapset *
scanned_rtindexes(PlannedStmt *pstmt)
{
	Bitmapset  *scanned = NULL;
	ListCell   *lc;

	collect_scanned(pstmt->planTree, &scanned);
	foreach(lc, pstmt->subplans)
		collect_scanned(lfirst(lc), &scanned);
	return scanned;
}

/*
 * Does the plan scan a relation of registration g: the table itself, or a
 * partition or child of it (registered through it)?  A parent pruned to
 * one partition is not scanned itself, and from PostgreSQL 16 on the
 * partition's entry carries no column set: the parent's entry, the one
 * with the columns, must then count as scanned.
 */
static bool
registration_scanned(const AsofGuardedRel *g, List *rangeTable, Bitmapset *scanned)
{
	int			m = -1;

	while ((m = bms_next_member(scanned, m)) >= 0)
	{
		RangeTblEntry *rte;
		const AsofGuardedRel *other;

		if (m < 1 || m > list_length(rangeTable))
			continue;
		rte = list_nth(rangeTable, m - 1);
		if (rte->rtekind != RTE_RELATION)
			continue;
		other = asof_registry_lookup(rte->relid);
		if (other != NULL && other->regrelid == g->regrelid)
			return true;
	}
	return false;
}

/* How the hint names the table: as regclass prints it. */
static char *
hint_table_name(Oid relid)
{
	return DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid)));
}

static void
refuse_column(const AsofGuardedRel *g, int i, bool whole_row)
{
	char	   *tbl = hint_table_name(g->regrelid);

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s column \"%s\" of table \"%s\" cannot be read before a train/test split is declared",
					g->is_label[i] ? "label" : "future", g->colnames[i], g->regname),
			 g->is_label[i] ?
			 errdetail("Reading labels before the split lets them shape the model and its evaluation (label leakage)%s.",
					   whole_row ? "; a whole-row reference reads every column" : "") :
			 errdetail("Column \"%s\" holds values known only after each row's time; reading it before the split lets the test period shape the features%s.",
					   g->colnames[i], whole_row ? "; a whole-row reference reads every column" : ""),
			 errhint("Declare a split with asof.split('%s', test_from => ...).", tbl)));
}

/* Index of the first guarded column that rte reads, or -1. */
static int
first_guarded_read(const AsofGuardedRel *g, const Bitmapset *selected, bool *whole_row)
{
	int			m = -1;
	int			i;

	*whole_row = false;
	while ((m = bms_next_member(selected, m)) >= 0)
	{
		AttrNumber	att = m + FirstLowInvalidHeapAttributeNumber;

		if (att == InvalidAttrNumber)
		{
			*whole_row = true;
			for (i = 0; i < g->ncols; i++)
				if (g->attnos[i] != InvalidAttrNumber)
					return i;
			continue;
		}
		if (att < 0 || !bms_is_member(att, g->guarded))
			continue;
		for (i = 0; i < g->ncols; i++)
			if (g->attnos[i] == att)
				return i;
	}
	return -1;
}

static bool
asof_check_perms(ASOF_CHECK_PERMS_PARAMS)
{
	ListCell   *lc;
	Bitmapset  *scanned = NULL;
	bool		know_scanned = false;

	if (prev_check_perms_hook &&
		!prev_check_perms_hook(ASOF_CHECK_PERMS_ARGS))
		return false;

	/*
	 * Parallel workers run plans their leader already checked; a parallel
	 * build's worker plans its own (guard.h).
	 */
	if (!asof_guard_active() || (IsParallelWorker() && !asof_guard_in_build_worker()))
		return true;
	/* A plan that reads no relation needs no registry (see guard_rows.c). */
	foreach(lc, rangeTable)
		if (((RangeTblEntry *) lfirst(lc))->rtekind == RTE_RELATION)
			break;
	if (lc == NULL || !asof_registry_any_protected())
		return true;

	foreach(lc, rangeTable)
	{
		RangeTblEntry *rte = lfirst(lc);
		const AsofGuardedRel *g;
		bool		whole_row;
		int			i;

		if (rte->rtekind != RTE_RELATION)
			continue;
		g = asof_registry_lookup(rte->relid);
		if (g == NULL)
			continue;
		/* A parallel build's worker reads no protected table (guard.h). */
		if (asof_guard_in_build_worker())
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("a parallel worker of asof.build_training_set cannot read protected table \"%s\"",
							g->regname),
					 errdetail("Builds whose sources read protected tables run without parallel workers; this read was not visible before the build started (a function, or a table protected since)."),
					 errhint("Set max_parallel_maintenance_workers to 0 for this build.")));
		/* The guard's own query over the one relation it reads whole. */
		if (current_pstmt != NULL && current_pstmt->rtable == rangeTable &&
			asof_guard_exemption_covers(current_pstmt, g->regrelid))
			continue;

		if (rte->relkind == RELKIND_COMPOSITE_TYPE)
		{
			/* EXCLUDED of INSERT ... ON CONFLICT DO UPDATE: not a read. */
			if (g->has_split && !asof_guard_rel_unsealed(g))
			{
				if (!ereport_on_violation)
					return false;
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("INSERT ... ON CONFLICT DO UPDATE cannot be used on table \"%s\" after its train/test split",
								g->regname),
						 errdetail("The conflicting row is fetched through the index, past the filter that hides held-out rows, and its values reach the UPDATE."),
						 errhint("Use ON CONFLICT DO NOTHING, or UPDATE the training rows separately.")));
			}
			continue;
		}
		if (g->has_split)
		{
			if (!asof_guard_rel_unsealed(g))
				asof_source_note_read(g->regrelid,	/* G5 */
									  asof_rte_required_perms(ASOF_CHECK_PERMS_PERMINFOS, rte));
			continue;			/* guard_rows.c hides the held-out rows */
		}

		if (asof_require_split && (asof_rte_required_perms(ASOF_CHECK_PERMS_PERMINFOS, rte) & ACL_SELECT))
		{
			if (!ereport_on_violation)
				return false;
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("table \"%s\" cannot be read before a train/test split is declared",
							g->regname),
					 errdetail("asof.require_split is on: every read of a protected table waits for its split, so that no statistic of the future test period shapes the model."),
					 errhint("Declare a split with asof.split('%s', test_from => ...).",
							 hint_table_name(g->regrelid))));
		}

		i = first_guarded_read(g, asof_rte_selected_cols(ASOF_CHECK_PERMS_PERMINFOS, rte),
							   &whole_row);
		if (i >= 0 && current_pstmt != NULL && current_pstmt->rtable == rangeTable)
		{
			/* Not refused when the plan never scans the relation. */
			if (!know_scanned)
			{
				scanned = scanned_rtindexes(current_pstmt);
				know_scanned = true;
			}
			if (!registration_scanned(g, rangeTable, scanned))
				i = -1;
		}
		if (i >= 0)
		{
			if (!ereport_on_violation)
				return false;
			refuse_column(g, i, whole_row);
		}
	}
	return true;
}

/* Does the current security context mark a referential-integrity query? */
static bool
noforce_context(void)
{
	Oid			userid;
	int			sec_context;

	GetUserIdAndSecContext(&userid, &sec_context);
	return (sec_context & SECURITY_NOFORCE_RLS) != 0;
}

static void
asof_executor_start(QueryDesc *queryDesc, int eflags)
{
	PlannedStmt *save = current_pstmt;
	bool		noforce = noforce_context();

	current_pstmt = queryDesc->plannedstmt;
	if (noforce)
		asof_guard_noforce_enter();
	PG_TRY();
	{
		if (prev_executor_start_hook)
			prev_executor_start_hook(queryDesc, eflags);
		else
			standard_ExecutorStart(queryDesc, eflags);
	}
	PG_FINALLY();
	{
		asof_guard_exemption_started(queryDesc->plannedstmt);
		current_pstmt = save;
		if (noforce)
			asof_guard_noforce_exit();
	}
	PG_END_TRY();
}

static void
asof_executor_run(ASOF_EXECUTOR_RUN_PARAMS)
{
	/* Only referential-integrity queries are counted (no PG_TRY otherwise). */
	if (!noforce_context())
	{
		if (prev_executor_run_hook)
			prev_executor_run_hook(ASOF_EXECUTOR_RUN_ARGS);
		else
			standard_ExecutorRun(ASOF_EXECUTOR_RUN_ARGS);
		return;
	}
	asof_guard_noforce_enter();
	PG_TRY();
	{
		if (prev_executor_run_hook)
			prev_executor_run_hook(ASOF_EXECUTOR_RUN_ARGS);
		else
			standard_ExecutorRun(ASOF_EXECUTOR_RUN_ARGS);
	}
	PG_FINALLY();
	{
		asof_guard_noforce_exit();
	}
	PG_END_TRY();
}

static void
asof_executor_finish(QueryDesc *queryDesc)
{
	if (!noforce_context())
	{
		if (prev_executor_finish_hook)
			prev_executor_finish_hook(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
		return;
	}
	asof_guard_noforce_enter();
	PG_TRY();
	{
		if (prev_executor_finish_hook)
			prev_executor_finish_hook(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		asof_guard_noforce_exit();
	}
	PG_END_TRY();
}

void
asof_guard_columns_init(void)
{
	prev_check_perms_hook = ExecutorCheckPerms_hook;
	ExecutorCheckPerms_hook = asof_check_perms;
	prev_executor_start_hook = ExecutorStart_hook;
	ExecutorStart_hook = asof_executor_start;
	prev_executor_run_hook = ExecutorRun_hook;
	ExecutorRun_hook = asof_executor_run;
	prev_executor_finish_hook = ExecutorFinish_hook;
	ExecutorFinish_hook = asof_executor_finish;
}
