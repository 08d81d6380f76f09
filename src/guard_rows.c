/*-------------------------------------------------------------------------
 *
 * guard_rows.c
 *	  G2: after its split, the held-out rows of a protected table (time >=
 *	  test_from, or NULL time) are invisible on every path, to every role.
 *
 *	  The planner hook adds "time < test_from" as the first security qual of
 *	  every protected relation of the query tree before planning, and a
 *	  get_relation_info_hook adds it to those planning brings in (inlined
 *	  SQL functions, partitions and inheritance children).  It runs for each
 *	  base relation of every query level, after views are expanded and SQL
 *	  functions are inlined (both happen before relations are built), for
 *	  partitions and inheritance children queried directly, for the target
 *	  of UPDATE and DELETE and for UNION ALL members, so every plan that
 *	  scans a protected table filters it, whoever runs it: row-level
 *	  security would exempt owners and superusers.  As a security qual at
 *	  the lowest level it is evaluated before any user condition that is not
 *	  leakproof.  The cutoff is a constant in the plan: a new or moved split
 *	  invalidates the table's relcache and with it every cached plan.
 *
 *	  The only exception is the engine's own read of a table it may read
 *	  whole (G5, decided in guard_engine.c): a one-shot exemption for the
 *	  top level of its next query (asof_guard_exempt_next_plan).
 *
 *	  Also owns the tables unsealed in the current transaction (G4): their
 *	  rows are not filtered, and at the end of such a transaction every
 *	  cached plan is dropped so that none built unsealed is reused.
 *
 *	  Must not: refuse statements (guard_columns.c, guard_utility.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/plancat.h"
#include "optimizer/planner.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/typcache.h"

#include "catalog.h"
#include "guard.h"

static get_relation_info_hook_type prev_get_relation_info_hook = NULL;
static planner_hook_type prev_planner_hook = NULL;

/*
 * The engine's own exemption (G5, guard_engine.c): the next top-level
 * planning of a query that reads relation pending_exempt does not filter
 * that relation at the query's top level.  Consumed by the next top-level
 * planning whatever it reads, cleared at transaction end; never applies to
 * nested planning (functions run while planning) or to subqueries.
 */
static int	planner_depth = 0;
static Oid	pending_exempt = InvalidOid;
static Oid	current_exempt = InvalidOid;

/* Registered tables unsealed in this transaction (TopMemoryContext). */
static List *unsealed = NIL;

static Expr *
make_cutoff_qual(Index varno, const AsofGuardedRel *g)
{
	TypeCacheEntry *tc = lookup_type_cache(g->time_type, TYPECACHE_LT_OPR);
	Var		   *var;
	Const	   *cut;
	OpExpr	   *op;
	int16		typlen;
	bool		typbyval;

	if (!OidIsValid(tc->lt_opr))
		elog(ERROR, "no less-than operator for type %u", g->time_type);
	get_typlenbyval(g->time_type, &typlen, &typbyval);
	var = makeVar(varno, g->time_attno, g->time_type, g->time_typmod,
				  g->time_collation, 0);
	cut = makeConst(g->time_type, -1, InvalidOid, typlen, g->cutoff,
					false, typbyval);
	op = (OpExpr *) make_opclause(tc->lt_opr, BOOLOID, false,
								  (Expr *) var, (Expr *) cut,
								  InvalidOid, InvalidOid);
	set_opfuncid(op);
	return (Expr *) op;
}

/* Is rel a member of an appendrel whose parent is the same protected table? */
static bool
parent_already_filtered(PlannerInfo *root, RelOptInfo *rel, Oid regrelid)
{
	AppendRelInfo *ai;
	RangeTblEntry *prte;
	const AsofGuardedRel *pg;

	if (rel->reloptkind != RELOPT_OTHER_MEMBER_REL || root->append_rel_array == NULL)
		return false;
	ai = root->append_rel_array[rel->relid];
	if (ai == NULL)
		return false;
	prte = planner_rt_fetch(ai->parent_relid, root);
	if (prte->rtekind != RTE_RELATION)
		return false;
	pg = asof_catalog_lookup(prte->relid);
	return pg != NULL && pg->regrelid == regrelid && pg->has_split;
}

/* The command of the statement being planned (not of a subquery). */
static CmdType
top_command(PlannerInfo *root)
{
	while (root->parent_root != NULL)
		root = root->parent_root;
	return root->parse->commandType;
}

static void
asof_get_relation_info(PlannerInfo *root, Oid relationObjectId, bool inhparent,
					   RelOptInfo *rel)
{
	const AsofGuardedRel *g;
	RangeTblEntry *rte;
	List	   *qual;
	Oid			save_userid;
	int			save_sec_context;

	if (prev_get_relation_info_hook)
		prev_get_relation_info_hook(root, relationObjectId, inhparent, rel);

	if (!asof_guard_active() || !asof_catalog_any_protected())
		return;
	g = asof_catalog_lookup(relationObjectId);
	if (g == NULL || !g->has_split || asof_guard_rel_unsealed(g))
		return;

	/*
	 * Referential-integrity existence checks (SELECT ... FOR KEY SHARE run
	 * with SECURITY_NOFORCE_RLS) must see every row, as with row-level
	 * security: they reveal only whether a key exists.  The cascading
	 * actions (UPDATE or DELETE run the same way) do not: held-out rows stay
	 * out of their reach.
	 */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	if ((save_sec_context & SECURITY_NOFORCE_RLS) && top_command(root) == CMD_SELECT)
		return;

	if (rel->relid == 0 || rel->relid >= root->simple_rel_array_size)
		return;
	if (parent_already_filtered(root, rel, g->regrelid))
		return;
	/* That lookup may have reloaded the cache. */
	g = asof_catalog_lookup(relationObjectId);
	if (g == NULL || !g->has_split)
		return;

	/* The engine's own read of a relation it may read whole (G5). */
	if (OidIsValid(current_exempt) && planner_depth == 1 &&
		root->query_level == 1 && relationObjectId == current_exempt)
		return;

	rte = planner_rt_fetch(rel->relid, root);
	qual = list_make1(make_cutoff_qual(rel->relid, g));
	if (rte->securityQuals != NIL && equal(linitial(rte->securityQuals), qual))
		return;					/* added before planning */
	rte->securityQuals = lcons(qual, rte->securityQuals);
	root->qual_security_level = Max(root->qual_security_level,
									list_length(rte->securityQuals));
}

bool
asof_guard_is_unsealed(Oid regrelid)
{
	return unsealed != NIL && list_member_oid(unsealed, regrelid);
}

bool
asof_guard_any_unsealed(void)
{
	return unsealed != NIL;
}

bool
asof_guard_rel_unsealed(const AsofGuardedRel *g)
{
	if (unsealed == NIL)
		return false;
	return list_member_oid(unsealed, g->regrelid) ||
		(OidIsValid(g->linked_to) && list_member_oid(unsealed, g->linked_to));
}

void
asof_guard_exempt_next_plan(Oid relid)
{
	pending_exempt = relid;
}

static bool
query_reads(Query *parse, Oid relid)
{
	ListCell   *lc;

	foreach(lc, parse->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_RELATION && rte->relid == relid)
			return true;
	}
	return false;
}

/*
 * Before planning, the held-out filter goes on every protected relation of
 * the query tree (subqueries, CTEs and sublinks included) as its first
 * security qual, in the form the planner expects before preprocessing.
 * Relations that planning brings in later (inlined SQL functions,
 * partitions and inheritance children) get it in asof_get_relation_info,
 * which skips those that already have it.  Done here too because a
 * subquery the planner flattens into a UNION ALL member keeps its quals'
 * security levels only if the filter was there before the flattening.
 * Result relations are left to asof_get_relation_info (INSERT targets are
 * not scanned; UPDATE, DELETE and MERGE targets are, as base relations).
 */
static void prepass_query(Query *q, int level);

static bool
prepass_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		prepass_query((Query *) node, *(int *) context + 1);
		return false;
	}
	return expression_tree_walker(node, prepass_walker, context);
}

static void
prepass_query(Query *q, int level)
{
	ListCell   *lc;
	int			rti = 0;

	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		const AsofGuardedRel *g;

		rti++;
		if (rte->rtekind != RTE_RELATION || rte->relkind == RELKIND_COMPOSITE_TYPE ||
			rti == q->resultRelation)
			continue;
		if (OidIsValid(current_exempt) && level == 1 && rte->relid == current_exempt)
			continue;
		g = asof_catalog_lookup(rte->relid);
		if (g == NULL || !g->has_split || asof_guard_rel_unsealed(g))
			continue;
		rte->securityQuals = lcons(make_cutoff_qual(rti, g), rte->securityQuals);
	}
	query_tree_walker(q, prepass_walker, &level, 0);
}

static PlannedStmt *
asof_planner(Query *parse, const char *query_string, int cursorOptions,
			 ParamListInfo boundParams)
{
	PlannedStmt *result;
	Oid			save_exempt = current_exempt;

	if (planner_depth == 0 && OidIsValid(pending_exempt) &&
		query_reads(parse, pending_exempt))
		current_exempt = pending_exempt;
	else
		current_exempt = InvalidOid;
	if (planner_depth == 0)
		pending_exempt = InvalidOid;	/* one shot */
	planner_depth++;
	PG_TRY();
	{
		Oid			userid;
		int			sec_context;

		/* Referential-integrity checks see every row (see below). */
		GetUserIdAndSecContext(&userid, &sec_context);
		if (asof_guard_active() &&
			!((sec_context & SECURITY_NOFORCE_RLS) && parse->commandType == CMD_SELECT) &&
			asof_catalog_any_protected())
			prepass_query(parse, 1);
		if (prev_planner_hook)
			result = prev_planner_hook(parse, query_string, cursorOptions, boundParams);
		else
			result = standard_planner(parse, query_string, cursorOptions, boundParams);
	}
	PG_FINALLY();
	{
		planner_depth--;
		current_exempt = save_exempt;
	}
	PG_END_TRY();
	return result;
}

static void
asof_guard_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			pending_exempt = InvalidOid;
			asof_guard_build_end();
			if (unsealed != NIL)
			{
				list_free(unsealed);
				unsealed = NIL;
				/* No plan built while unsealed survives the transaction. */
				ResetPlanCache();
			}
			break;
		default:
			break;
	}
}

/*
 * A failed statement inside a subtransaction (a PL/pgSQL exception block)
 * must not leave the engine's exemptions armed for later statements.
 */
static void
asof_guard_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
							SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		pending_exempt = InvalidOid;
		asof_guard_build_end();
	}
}

void
asof_guard_mark_unsealed(Oid regrelid)
{
	MemoryContext old;

	old = MemoryContextSwitchTo(TopMemoryContext);
	unsealed = list_append_unique_oid(unsealed, regrelid);
	MemoryContextSwitchTo(old);
	/* Plans made earlier in this transaction filtered the rows. */
	ResetPlanCache();
}

void
asof_guard_rows_init(void)
{
	prev_get_relation_info_hook = get_relation_info_hook;
	get_relation_info_hook = asof_get_relation_info;
	prev_planner_hook = planner_hook;
	planner_hook = asof_planner;
	RegisterXactCallback(asof_guard_xact_callback, NULL);
	RegisterSubXactCallback(asof_guard_subxact_callback, NULL);
}
