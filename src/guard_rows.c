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
 *	  Exceptions, each decided from the statement itself, never from a
 *	  session or call depth:
 *	  - tables unsealed in this transaction (G4, guard_state.c);
 *	  - the guard's own next query, for the scans of one relation at its top
 *		level (a split report, the engine's read of a source for sealed rows;
 *		guard_state.h), when that query runs built-in code only;
 *	  - a referential-integrity existence check: the SELECT ... FOR KEY
 *		SHARE that ri_triggers.c plans with SECURITY_NOFORCE_RLS, and only
 *		when no such check is executing (a query planned while one runs is
 *		user code it called, such as a cast: it is filtered).
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

#include "guard_registry.h"
#include "guard.h"

static get_relation_info_hook_type prev_get_relation_info_hook = NULL;
static planner_hook_type prev_planner_hook = NULL;

/*
 * Depth of our planner hook, and the relation the outermost planning
 * exempts (guard_state.h), valid while it runs.
 */
static int	planner_depth = 0;
static Oid	current_exempt = InvalidOid;

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
	pg = asof_registry_lookup(prte->relid);
	return pg != NULL && pg->regrelid == regrelid && pg->has_split;
}

/*
 * Is this the referential-integrity existence check itself?  ri_triggers.c
 * plans "SELECT 1 FROM [ONLY] t x WHERE key = $1 ... FOR KEY SHARE OF x"
 * with SECURITY_NOFORCE_RLS set, outside any executor that has it set.
 * Such checks see every row, as with row-level security: they reveal only
 * whether a key exists (docs/leakage-guard.md, known residue).  Anything
 * planned while such an executor runs is code it called (a user cast or
 * function) and is filtered like any query; so are the cascading UPDATE
 * and DELETE.
 */
static bool
is_ri_check(Query *parse)
{
	Oid			userid;
	int			sec_context;
	ListCell   *lc;

	GetUserIdAndSecContext(&userid, &sec_context);
	if (!(sec_context & SECURITY_NOFORCE_RLS) || asof_guard_noforce_running())
		return false;
	if (parse->commandType != CMD_SELECT || parse->rowMarks == NIL ||
		parse->hasSubLinks || parse->cteList != NIL || parse->setOperations != NULL ||
		list_length(parse->rtable) != 1)
		return false;
	foreach(lc, parse->rowMarks)
	{
		RowMarkClause *rc = lfirst(lc);

		if (rc->strength != LCS_FORKEYSHARE && rc->strength != LCS_FORSHARE)
			return false;
	}
	return true;
}

/* The statement being planned (not a subquery). */
static Query *
top_query(PlannerInfo *root)
{
	while (root->parent_root != NULL)
		root = root->parent_root;
	return root->parse;
}

static void
asof_get_relation_info(PlannerInfo *root, Oid relationObjectId, bool inhparent,
					   RelOptInfo *rel)
{
	const AsofGuardedRel *g;
	RangeTblEntry *rte;
	List	   *qual;

	if (prev_get_relation_info_hook)
		prev_get_relation_info_hook(root, relationObjectId, inhparent, rel);

	if (!asof_guard_active() || !asof_registry_any_protected())
		return;
	g = asof_registry_lookup(relationObjectId);
	if (g == NULL || !g->has_split || asof_guard_rel_unsealed(g))
		return;

	if (is_ri_check(top_query(root)))
		return;

	if (rel->relid == 0 || rel->relid >= root->simple_rel_array_size)
		return;
	if (parent_already_filtered(root, rel, g->regrelid))
		return;
	/* That lookup may have reloaded the cache. */
	g = asof_registry_lookup(relationObjectId);
	if (g == NULL || !g->has_split)
		return;

	/* The guard's own query, for the one table it reads whole. */
	if (OidIsValid(current_exempt) && planner_depth == 1 &&
		root->query_level == 1 && g->regrelid == current_exempt)
		return;

	rte = planner_rt_fetch(rel->relid, root);
	qual = list_make1(make_cutoff_qual(rel->relid, g));
	if (rte->securityQuals != NIL && equal(linitial(rte->securityQuals), qual))
		return;					/* added before planning */
	rte->securityQuals = lcons(qual, rte->securityQuals);
	root->qual_security_level = Max(root->qual_security_level,
									list_length(rte->securityQuals));
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
		if (rte->rtekind == RTE_SUBQUERY && rte->subquery != NULL)
		{
			prepass_query(rte->subquery, level + 1);
			continue;
		}
		if (rte->rtekind != RTE_RELATION || rte->relkind == RELKIND_COMPOSITE_TYPE ||
			rti == q->resultRelation)
			continue;
		g = asof_registry_lookup(rte->relid);
		if (g == NULL || !g->has_split || asof_guard_rel_unsealed(g))
			continue;
		if (OidIsValid(current_exempt) && level == 1 && g->regrelid == current_exempt)
			continue;
		rte->securityQuals = lcons(make_cutoff_qual(rti, g), rte->securityQuals);
	}
	foreach(lc, q->cteList)
		prepass_query(castNode(Query, ((CommonTableExpr *) lfirst(lc))->ctequery), level + 1);

	/*
	 * Sublinks, anywhere in this query's expressions (range table
	 * functions, VALUES and security quals included): only when it has any
	 * (the parser and the rewriter set hasSubLinks), so that a query
	 * without them costs no walk over its expressions.
	 */
	if (q->hasSubLinks)
		query_tree_walker(q, prepass_walker, &level,
						  QTW_IGNORE_RT_SUBQUERIES | QTW_IGNORE_CTE_SUBQUERIES);
}

static PlannedStmt *
asof_planner(Query *parse, const char *query_string, int cursorOptions,
			 ParamListInfo boundParams)
{
	PlannedStmt *result;
	Oid			save_exempt = current_exempt;

	current_exempt = planner_depth == 0 ? asof_guard_exemption_take(parse) : InvalidOid;
	planner_depth++;
	PG_TRY();
	{
		/*
		 * A statement that reads no relation (SELECT 1, a function call)
		 * needs no registry: it plans even while the registry cannot be
		 * read, and costs nothing.
		 */
		if (asof_guard_active() &&
			(parse->rtable != NIL || parse->hasSubLinks || parse->cteList != NIL) &&
			!is_ri_check(parse) && asof_registry_any_protected())
			prepass_query(parse, 1);
		if (prev_planner_hook)
			result = prev_planner_hook(parse, query_string, cursorOptions, boundParams);
		else
			result = standard_planner(parse, query_string, cursorOptions, boundParams);
		if (OidIsValid(current_exempt))
			asof_guard_exemption_planned(result, current_exempt);
	}
	PG_FINALLY();
	{
		planner_depth--;
		current_exempt = save_exempt;
	}
	PG_END_TRY();
	return result;
}

void
asof_guard_rows_init(void)
{
	prev_get_relation_info_hook = get_relation_info_hook;
	get_relation_info_hook = asof_get_relation_info;
	prev_planner_hook = planner_hook;
	planner_hook = asof_planner;
}
