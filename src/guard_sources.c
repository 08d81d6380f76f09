/*-------------------------------------------------------------------------
 *
 * guard_sources.c
 *	  G5: the shapes of feature view source the engine evaluates exactly
 *	  under a train/test split, decided from the source's query tree.
 *
 *	  The guard hides a protected table's held-out rows (time >= test_from)
 *	  in every query, so the engine reads a source as the guard filtered it.
 *	  Its per-row rule (a spine row whose effective time k(t) is after the
 *	  cutoff is NULL and counted) is exact when two things hold:
 *	  - the source preserves rows: each of its output rows comes from one
 *		row of the hidden table, and hiding a row removes exactly the
 *		output rows it produced and changes no other (projections,
 *		filters, inner joins with unprotected relations, a left join with
 *		the hidden table on the kept side, UNION ALL, views of these);
 *	  - its event time is the hidden table's own time column, unchanged:
 *		then a hidden row (time >= cutoff) becomes visible at or after the
 *		cutoff, never to a spine row whose k(t) is at or before it.
 *	  Anything else over a hidden table (aggregates, DISTINCT, LIMIT,
 *	  window functions, UNION/INTERSECT/EXCEPT, outer joins with the hidden
 *	  table on the nullable side, subqueries in conditions such as NOT
 *	  EXISTS, two hidden rows in one output row, a time that is an
 *	  expression or another column, a foreign table) is refused with a
 *	  hint: values over a partial set of rows are never returned.
 *
 *	  Relations reached only while the source query runs (through
 *	  functions) cannot be seen in its tree: the executor check
 *	  (guard_columns.c) reports every hidden relation it sees during the
 *	  engine's read, and a read that touched more than the tree shows is
 *	  refused after the fact (the statement fails, nothing is written).
 *
 *	  Analyzing the tree takes AccessShareLock on every relation of it,
 *	  views expanded, before the cutoffs are read: a concurrent split of a
 *	  table the source reads waits for the build.
 *
 *	  Must not: change the guard's state or filters (guard_rows.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"

#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteHandler.h"
#include "utils/date.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/builtins.h"

#include "compat.h"
#include "guard.h"
#include "guard_registry.h"
#include "guard_sources.h"

/*
 * asof_source_shape_online: every protected table counts as hidden (split
 * or not, unsealed or not, guard on or off), because an online table lives
 * on past this transaction and every later split.
 */
static bool shape_all_protected = false;

/* A protected table with a split, not unsealed here: the guard filters it. */
static const AsofGuardedRel *
hidden_rel(Oid relid)
{
	const AsofGuardedRel *g = asof_registry_lookup(relid);

	if (g != NULL && shape_all_protected)
		return g;				/* linked ones too: asof_source_refuse_online */
	if (g == NULL || !g->has_split || asof_guard_rel_unsealed(g))
		return NULL;
	return g;
}

/* Is a function not built in (code the analysis cannot see through)? */
static bool
is_user_function(Oid funcid, void *context)
{
	return funcid >= FirstNormalObjectId;
}

static void
mark_inexact(AsofSourceShape *s, const char *shape, Oid regrelid)
{
	if (s->inexact == NULL)
	{
		s->inexact = shape;
		s->inexact_rel = regrelid;
	}
}

static bool walk_query(Query *q, AsofSourceShape *s, Oid *first);

typedef struct ExprWalk
{
	AsofSourceShape *s;
} ExprWalk;

/* Expressions of one query level: the subqueries in them. */
static bool
expr_walker(Node *node, void *context)
{
	ExprWalk   *w = context;

	if (node == NULL)
		return false;
	if (IsA(node, SubLink))
	{
		SubLink    *sl = (SubLink *) node;
		Oid			rel = InvalidOid;

		if (walk_query((Query *) sl->subselect, w->s, &rel))
			mark_inexact(w->s, "a subquery in a condition or an output column (EXISTS, IN, NOT EXISTS, a scalar subquery)", rel);
		return expression_tree_walker(sl->testexpr, expr_walker, context);
	}
	if (IsA(node, Query))
		return false;			/* reached through SubLink only */
	if (check_functions_in_node(node, is_user_function, NULL))
		w->s->user_code = true;
	return expression_tree_walker(node, expr_walker, context);
}

/* Does the join tree node read a hidden relation (by range-table index)? */
static bool
jointree_reads(Node *n, Bitmapset *hidden_rtis)
{
	if (n == NULL)
		return false;
	if (IsA(n, RangeTblRef))
		return bms_is_member(((RangeTblRef *) n)->rtindex, hidden_rtis);
	if (IsA(n, JoinExpr))
		return jointree_reads(((JoinExpr *) n)->larg, hidden_rtis) ||
			jointree_reads(((JoinExpr *) n)->rarg, hidden_rtis);
	if (IsA(n, FromExpr))
	{
		ListCell   *lc;

		foreach(lc, ((FromExpr *) n)->fromlist)
			if (jointree_reads(lfirst(lc), hidden_rtis))
				return true;
	}
	return false;
}

/* Outer joins with a hidden relation on a nullable side. */
static void
check_joins(Node *n, Bitmapset *hidden_rtis, AsofSourceShape *s, Oid rel)
{
	if (n == NULL)
		return;
	if (IsA(n, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) n;
		bool		left_nullable = j->jointype == JOIN_RIGHT || j->jointype == JOIN_FULL;
		bool		right_nullable = j->jointype == JOIN_LEFT || j->jointype == JOIN_FULL;

		if (j->jointype != JOIN_INNER && j->jointype != JOIN_LEFT &&
			j->jointype != JOIN_RIGHT && j->jointype != JOIN_FULL &&
			(jointree_reads(j->larg, hidden_rtis) || jointree_reads(j->rarg, hidden_rtis)))
			mark_inexact(s, "a semi- or anti-join", rel);
		if ((left_nullable && jointree_reads(j->larg, hidden_rtis)) ||
			(right_nullable && jointree_reads(j->rarg, hidden_rtis)))
			mark_inexact(s, "an outer join on the side that can be NULL", rel);
		check_joins(j->larg, hidden_rtis, s, rel);
		check_joins(j->rarg, hidden_rtis, s, rel);
	}
	else if (IsA(n, FromExpr))
	{
		ListCell   *lc;

		foreach(lc, ((FromExpr *) n)->fromlist)
			check_joins(lfirst(lc), hidden_rtis, s, rel);
	}
}

/* Set operations other than UNION ALL. */
static bool
setops_all_union_all(Node *n)
{
	SetOperationStmt *op;

	if (n == NULL || !IsA(n, SetOperationStmt))
		return true;
	op = (SetOperationStmt *) n;
	return op->op == SETOP_UNION && op->all &&
		setops_all_union_all(op->larg) && setops_all_union_all(op->rarg);
}

/*
 * One query level: records hidden relations, user code and foreign tables
 * of it and below; returns whether it reads a hidden relation (*first: one
 * of them), and marks the shape inexact when this level would change its
 * output rows when rows of one are hidden.
 */
static bool
walk_query(Query *q, AsofSourceShape *s, Oid *first)
{
	Bitmapset  *hidden_rtis = NULL;
	bool		cte_reads = false;
	Oid			rel = InvalidOid;
	ListCell   *lc;
	int			rti = 0;
	ExprWalk	w = {s};

	foreach(lc, q->cteList)
	{
		CommonTableExpr *cte = lfirst(lc);

		if (walk_query((Query *) cte->ctequery, s, &rel))
			cte_reads = true;
	}
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		rti++;
		switch (rte->rtekind)
		{
			case RTE_RELATION:
				{
					const AsofGuardedRel *g;

					if (rte->relkind == RELKIND_FOREIGN_TABLE)
						s->foreign = true;
					if (asof_registry_lookup(rte->relid) != NULL)
						s->reads_protected = true;
					g = hidden_rel(rte->relid);
					if (g == NULL)
						break;
					hidden_rtis = bms_add_member(hidden_rtis, rti);
					rel = g->regrelid;
					s->nreads++;
					if (!list_member_oid(s->hidden, g->regrelid))
						s->hidden = lappend_oid(s->hidden, g->regrelid);
					if (!s->has_cutoff || g->cutoff_us < s->cutoff)
					{
						s->cutoff = g->cutoff_us;
						s->cutoff_rel = g->regrelid;
					}
					s->has_cutoff = true;
					break;
				}
			case RTE_SUBQUERY:
				if (walk_query(rte->subquery, s, &rel))
					hidden_rtis = bms_add_member(hidden_rtis, rti);
				break;
			case RTE_CTE:
				if (cte_reads)
					hidden_rtis = bms_add_member(hidden_rtis, rti);
				break;
			case RTE_FUNCTION:
				(void) expression_tree_walker((Node *) rte->functions, expr_walker, &w);
				break;
			default:
				break;
		}
	}
	(void) query_tree_walker(q, expr_walker, &w, QTW_IGNORE_RANGE_TABLE | QTW_IGNORE_CTE_SUBQUERIES);

	if (hidden_rtis == NULL)
		return false;

	/* This level reads a hidden relation: does it keep one row per row? */
	if (q->hasAggs || q->groupClause != NIL || q->groupingSets != NIL || q->havingQual != NULL)
		mark_inexact(s, "an aggregate (GROUP BY or an aggregate function)", rel);
	if (q->distinctClause != NIL)
		mark_inexact(s, "DISTINCT", rel);
	if (q->limitCount != NULL || q->limitOffset != NULL)
		mark_inexact(s, "LIMIT or OFFSET", rel);
	if (q->hasWindowFuncs)
		mark_inexact(s, "a window function", rel);
	if (!setops_all_union_all(q->setOperations))
		mark_inexact(s, "UNION, INTERSECT or EXCEPT", rel);
	check_joins((Node *) q->jointree, hidden_rtis, s, rel);
	*first = rel;
	return true;
}

/*
 * The hidden table whose time column the expression is, unchanged through
 * views, subqueries and joins; InvalidOid otherwise.
 */
static Oid
trace_time(Query *q, Expr *e)
{
	Var		   *var;
	RangeTblEntry *rte;

	if (e == NULL || !IsA(e, Var))
		return InvalidOid;
	var = (Var *) e;
	if (var->varlevelsup != 0 || var->varattno <= 0)
		return InvalidOid;
	rte = rt_fetch(var->varno, q->rtable);
	switch (rte->rtekind)
	{
		case RTE_RELATION:
			{
				const AsofGuardedRel *g = hidden_rel(rte->relid);

				if (g != NULL && var->varattno == g->time_attno)
					return g->regrelid;
				return InvalidOid;
			}
		case RTE_SUBQUERY:
			{
				TargetEntry *tle;

				if (rte->subquery->setOperations != NULL)
					return InvalidOid;
				tle = get_tle_by_resno(rte->subquery->targetList, var->varattno);
				return tle ? trace_time(rte->subquery, tle->expr) : InvalidOid;
			}
		case RTE_JOIN:
			if (var->varattno > list_length(rte->joinaliasvars))
				return InvalidOid;
			return trace_time(q, list_nth(rte->joinaliasvars, var->varattno - 1));
		default:
			return InvalidOid;
	}
}

/* Does some table of the database have a split that is not unsealed? */
static bool
any_hidden_table(void)
{
	List	   *rels;
	ListCell   *lc;

	if (!asof_registry_any_protected())
		return false;
	rels = asof_registry_registered_relids();
	foreach(lc, rels)
		if (hidden_rel(lfirst_oid(lc)) != NULL)
			return true;
	return false;
}

/*
 * "SELECT target FROM relid", analyzed and rewritten (views expanded, every
 * relation locked with AccessShareLock), with a search_path nothing can
 * hijack (stored expressions are schema-qualified) and TimeZone UTC.
 */
static Query *
rewritten_query(Oid relid, const char *target)
{
	char	   *sql;
	List	   *raw;
	Query	   *q;
	List	   *rewritten;
	int			nest;

	sql = psprintf("SELECT %s FROM %s", target,
				   quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
											  get_rel_name(relid)));
	nest = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("TimeZone", "UTC", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	raw = asof_raw_parser(sql);
	q = asof_parse_analyze(linitial_node(RawStmt, raw), sql);
	rewritten = QueryRewrite(q);
	AtEOXact_GUC(true, nest);
	if (list_length(rewritten) != 1)
		elog(ERROR, "relation %s rewrote to %d queries", get_rel_name(relid), list_length(rewritten));
	return linitial_node(Query, rewritten);
}

bool
asof_relation_depends_on_session(Oid relid)
{
	char		kind = get_rel_relkind(relid);

	if (kind != RELKIND_VIEW)
		return false;
	return contain_mutable_functions((Node *) rewritten_query(relid, "*"));
}

/* Phases 1 to 4 of asof_source_shape, shared with asof_source_shape_online. */
static void
analyze_source(Oid source, const char *event_time, AsofSourceShape *s)
{
	Query	   *q;
	Oid			first = InvalidOid;
	Oid			timerel;

	memset(s, 0, sizeof(*s));

	/* Phase 1: the source's tree, views expanded, every relation locked. */
	q = rewritten_query(source, psprintf("(%s)", event_time));

	/* Phase 2: hidden tables (their cutoffs now cannot move) and shapes. */
	(void) walk_query(q, s, &first);

	/* Phase 3: is the event time the hidden table's own clock? */
	timerel = trace_time(q, ((TargetEntry *) linitial(q->targetList))->expr);
	s->time_exact = s->nreads == 1 && OidIsValid(timerel);

	/* Phase 4: foreign tables may lead anywhere, hidden tables included. */
	if (s->foreign && (s->has_cutoff || any_hidden_table()))
		mark_inexact(s, "a foreign table", InvalidOid);
}

void
asof_source_shape(Oid source, const char *event_time, AsofSourceShape *s)
{
	analyze_source(source, event_time, s);

	/* Phase 5: with the guard off nothing is hidden. */
	if (!asof_guard_active())
	{
		bool		reads_protected = s->reads_protected;

		memset(s, 0, sizeof(*s));
		s->reads_protected = reads_protected;
	}
}

void
asof_source_shape_online(Oid source, const char *event_time, AsofSourceShape *s)
{
	shape_all_protected = true;
	PG_TRY();
	{
		analyze_source(source, event_time, s);
		/* with every protected table hidden, a foreign table is inexact too */
		if (s->foreign && asof_registry_any_protected())
			mark_inexact(s, "a foreign table", InvalidOid);
	}
	PG_FINALLY();
	{
		shape_all_protected = false;
	}
	PG_END_TRY();
}

void
asof_source_refuse_online(const char *view, Oid source, const AsofSourceShape *s)
{
	char	   *src = get_rel_name(source);
	ListCell   *lc;

	foreach(lc, s->hidden)
	{
		Oid			rel = lfirst_oid(lc);
		const AsofGuardedRel *g = asof_registry_lookup(rel);

		if (g != NULL && OidIsValid(g->linked_to))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("feature view \"%s\" cannot be materialized: its source \"%s\" reads \"%s\", a training set, online table or serving log derived from protected table \"%s\"",
							view, src, get_rel_name(rel), get_rel_name(g->linked_to)),
					 errdetail("Derived tables hide their held-out rows by their own time column; an online table computed from them could not follow that split."),
					 errhint("Define the feature view over \"%s\" itself.", get_rel_name(g->linked_to))));
	}
	if (list_length(s->hidden) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("feature view \"%s\" cannot be materialized: its source \"%s\" reads more than one protected table",
						view, src),
				 errdetail("Its online table and serving log can follow the train/test split of one protected table only (\"%s\" and \"%s\" are read): snapshots computed from the other's held-out rows would be readable before its split.",
						   get_rel_name(linitial_oid(s->hidden)), get_rel_name(lsecond_oid(s->hidden))),
				 errhint("Serve the view with asof.features_at, or define it over one protected table.")));
	if (s->inexact != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("feature view \"%s\" cannot be materialized: its source \"%s\" reads %s through %s",
						view, src,
						OidIsValid(s->inexact_rel) ? psprintf("protected table \"%s\"", get_rel_name(s->inexact_rel)) : "tables",
						s->inexact),
				 errdetail("Its snapshots could combine training rows with rows a train/test split holds out, and its online table could then not hide them."),
				 errhint("Materialize the source as a table with its own time column and protect it, or make the source a view that keeps one row per protected row.")));
	if (s->hidden != NIL && !s->time_exact)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("feature view \"%s\" cannot be materialized: its event time is not the time column of protected table \"%s\"",
						view, get_rel_name(linitial_oid(s->hidden))),
				 errdetail("Its online table hides ticks at or after the table's split; with another event time, a tick before the split could be computed from held-out rows."),
				 errhint("Use the protected table's time column, unchanged, as the event time (shift with available_time or delay instead).")));
	if (s->user_code && asof_registry_any_protected())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("feature view \"%s\" cannot be materialized: its source \"%s\" calls a function that is not built in while tables are protected",
						view, src),
				 errdetail("A function may read a protected table the guard cannot see from the source's definition; the online table and serving log would then not be protected."),
				 errhint("Replace the function with a view or an expression of built-in functions.")));
}

void
asof_source_refuse_inexact(Oid source, const AsofSourceShape *s)
{
	char	   *src = get_rel_name(source);

	if (s->inexact != NULL && !OidIsValid(s->inexact_rel))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("feature view source \"%s\" reads a foreign table while a protected table has a train/test split",
						src),
				 errdetail("A foreign table may read a protected table in another session, where the guard hides its held-out rows without the engine knowing: values could be computed over a partial set of rows."),
				 errhint("Copy the foreign data into a local table, and protect it if it holds protected rows.")));
	if (!s->has_cutoff)
		return;
	if (s->inexact != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("feature view source \"%s\" cannot be evaluated exactly under the train/test split of protected table \"%s\"",
						src, get_rel_name(s->inexact_rel)),
				 errdetail("The source reads the table through %s, which changes its other rows when held-out rows are hidden: values would be computed over a partial set of rows.",
						   s->inexact),
				 errhint("Materialize the result as a table with its own time column and protect it, or make the source a view that keeps one row per row of \"%s\".",
						 get_rel_name(s->inexact_rel))));
	if (!s->time_exact)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("feature view source \"%s\" cannot be evaluated exactly under the train/test split of protected table \"%s\"",
						src, get_rel_name(s->cutoff_rel)),
				 errdetail("Its event time is not the protected table's time column (it is an expression, a column of another relation, or more than one protected row makes an output row): rows hidden by the split could be visible before the split, and values would be computed over a partial set of rows."),
				 errhint("Use the protected table's time column, unchanged, as the event time (shift with available_time or delay instead), or materialize the source as a table with its own time column and protect it.")));
}

void
asof_source_read_begin(void)
{
	asof_guard_reads_start();
}

void
asof_source_note_read(Oid regrelid, AclMode required)
{
	if (required & ACL_SELECT)
		asof_guard_reads_note();
}

void
asof_source_read_end(Oid source, const AsofSourceShape *s)
{
	int			n = asof_guard_reads_stop();

	if (n <= s->nreads)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("feature view source \"%s\" reads a protected table with a train/test split through a function",
					get_rel_name(source)),
			 errdetail("The guard hid held-out rows in a query the source ran while it was read; the engine cannot tell which of its rows they would have changed, so values could be computed over a partial set of rows."),
			 errhint("Read the protected table in the source directly or through views, or materialize the function's result as a table with its own time column and protect it.")));
}
