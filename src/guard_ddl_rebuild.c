/*-------------------------------------------------------------------------
 *
 * guard_ddl_rebuild.c
 *	  The guard's rules for statements that rebuild or reorder a protected
 *	  table (G3): REINDEX, VACUUM FULL, CLUSTER and rewriting ALTER TABLE
 *	  subcommands are refused when an expression or partial index (created
 *	  before asof.protect) calls a function that is not built in; CLUSTER
 *	  and CLUSTER ON are refused with an index that does not lead with the
 *	  time column or that reads a label, future column or expression
 *	  (physical order reveals values).  Also says which existing indexes
 *	  the guard would refuse to create (asof_ddl_index_refusal).
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

/*
 * An existing index of relid (a protected relation) that the guard would
 * refuse to create, or whose order would reveal what it hides: the reason,
 * or NULL.  for_cluster: as the index CLUSTER would order by (its first key
 * column must be the time column; held-out rows then sit together at one
 * end).
 */
const char *
asof_ddl_index_refusal(const AsofGuardedRel *g, Oid indexoid, bool for_cluster)
{
	HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	Form_pg_index ix;
	const char *why = NULL;
	int			i;

	if (!HeapTupleIsValid(tup))
		return NULL;
	ix = (Form_pg_index) GETSTRUCT(tup);
	if (!heap_attisnull(tup, Anum_pg_index_indexprs, NULL))
		why = "an expression index";
	else if (!heap_attisnull(tup, Anum_pg_index_indpred, NULL))
		why = "a partial index";
	for (i = 0; why == NULL && i < ix->indnkeyatts; i++)
		if (asof_ddl_attno_is_guarded(g, ix->indkey.values[i]) &&
			(for_cluster || ix->indisunique || ix->indisexclusion))
			why = "an index over a label or future column";
	if (why == NULL && !for_cluster && asof_ddl_is_training_set(g) &&
		(ix->indisunique || ix->indisexclusion))
		why = "a unique index";
	if (why == NULL && for_cluster &&
		(ix->indnkeyatts < 1 || ix->indkey.values[0] != g->time_attno))
		why = "an index that does not lead with the time column";
	ReleaseSysCache(tup);
	return why;
}

/*
 * Rebuilding an index evaluates its expressions and predicate on every
 * row, held-out rows and labels included.  The guard refuses new
 * expression and partial indexes on protected tables; those that existed
 * before asof.protect are kept, and rebuilding one that calls a function
 * that is not built in (whose owner can replace its body) or checks a
 * domain (whose CHECK can call anything) would run user code on every row:
 * REINDEX, VACUUM FULL, CLUSTER and ALTER TABLE subcommands that rewrite
 * the table are refused then.
 */
static bool
is_user_function(Oid funcid, void *context)
{
	return funcid >= FirstNormalObjectId;
}

static bool
runs_user_code_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, CoerceToDomain) ||
		check_functions_in_node(node, is_user_function, NULL))
		return true;
	return expression_tree_walker(node, runs_user_code_walker, context);
}

/* The protected relation, relid or an inheritor, whose index rebuild runs user code, or NULL. */
static const AsofGuardedRel *
rebuild_runs_user_code(Oid relid)
{
	ListCell   *lc;

	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
	{
		const AsofGuardedRel *g = asof_registry_lookup(lfirst_oid(lc));
		Relation	rel;
		ListCell   *lc2;
		bool		found = false;

		if (g == NULL)
			continue;
		rel = try_relation_open(lfirst_oid(lc), AccessShareLock);
		if (rel == NULL)
			continue;
		foreach(lc2, RelationGetIndexList(rel))
		{
			Relation	idx = index_open(lfirst_oid(lc2), AccessShareLock);

			if (runs_user_code_walker((Node *) RelationGetIndexExpressions(idx), NULL) ||
				runs_user_code_walker((Node *) RelationGetIndexPredicate(idx), NULL))
				found = true;
			index_close(idx, AccessShareLock);
		}
		relation_close(rel, AccessShareLock);
		if (found)
			return g;
	}
	return NULL;
}

void
asof_ddl_refuse_rebuild(Oid relid)
{
	const AsofGuardedRel *g = OidIsValid(relid) ? rebuild_runs_user_code(relid) : NULL;

	if (g != NULL)
		asof_ddl_refuse(g, "cannot rebuild the indexes of protected table \"%s\"",
				   "An expression or partial index of it calls a function that is not built in, or checks a domain: rebuilding it would run that code on every row, held-out rows and labels included.",
				   "Drop that index first (it was created before asof.protect), or unprotect the table first.");
}

/* The same for every protected table (REINDEX SCHEMA / DATABASE, VACUUM FULL, CLUSTER without a table). */
static void
refuse_rebuild_any(Oid nspid)
{
	ListCell   *lc;

	foreach(lc, asof_registry_registered_relids())
		if (!OidIsValid(nspid) || get_rel_namespace(lfirst_oid(lc)) == nspid)
			asof_ddl_refuse_rebuild(lfirst_oid(lc));
}

void
asof_ddl_check_reindex(ReindexStmt *stmt)
{
	Oid			relid;

	switch (stmt->kind)
	{
		case REINDEX_OBJECT_INDEX:
			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
			asof_ddl_refuse_rebuild(OidIsValid(relid) ? IndexGetRelation(relid, true) : InvalidOid);
			break;
		case REINDEX_OBJECT_TABLE:
			asof_ddl_refuse_rebuild(RangeVarGetRelid(stmt->relation, NoLock, true));
			break;
		case REINDEX_OBJECT_SCHEMA:
			refuse_rebuild_any(get_namespace_oid(stmt->name, true));
			break;
		case REINDEX_OBJECT_DATABASE:
			refuse_rebuild_any(InvalidOid);
			break;
		default:
			break;
	}
}

void
asof_ddl_check_vacuum_full(VacuumStmt *stmt)
{
	ListCell   *lc;
	bool		full = false;

	foreach(lc, stmt->options)
		if (strcmp(((DefElem *) lfirst(lc))->defname, "full") == 0 &&
			defGetBoolean((DefElem *) lfirst(lc)))
			full = true;
	if (!full)
		return;
	if (stmt->rels == NIL)
		refuse_rebuild_any(InvalidOid);
	foreach(lc, stmt->rels)
	{
		VacuumRelation *vr = lfirst(lc);

		if (vr->relation != NULL)
			asof_ddl_refuse_rebuild(RangeVarGetRelid(vr->relation, NoLock, true));
	}
}

/*
 * ALTER TABLE ... CLUSTER ON idx and CLUSTER t USING idx: the physical
 * order of the rows then follows the index, and ctid shows it.  Refused on
 * training sets, and on protected tables for an index that does not lead
 * with the time column or reads a label, future column or expression.
 */
void
asof_ddl_check_cluster_index(const AsofGuardedRel *g, Oid relid, Oid indexoid)
{
	const char *why;

	if (asof_ddl_is_training_set(g))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot cluster training set \"%s\"", g->regname),
				 errdetail("Rows in index order show, through their physical position, where the sealed rows its owner cannot read sit between them."),
				 errhint("Order the rows in the query that reads them, or build the training set from an ordered spine.")));
	if (!OidIsValid(indexoid))
		return;
	why = asof_ddl_index_refusal(g, indexoid, true);
	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot cluster protected table \"%s\" on index \"%s\"",
						g->regname, get_rel_name(indexoid)),
				 errdetail("It is %s: rows in its order show, through their physical position, label values before the split and where held-out rows sit between training rows.",
						   why),
				 errhint("Cluster on an index whose first column is the time column \"%s\", or order the rows in the query that reads them.",
						 get_attname(relid, g->time_attno, false))));
}

/*
 * CLUSTER t [USING idx], and CLUSTER without a table, which reclusters
 * every table of the caller that has a clustered index.
 */
static Oid
clustered_index(Oid relid)
{
	Relation	rel = try_relation_open(relid, AccessShareLock);
	ListCell   *lc;
	Oid			found = InvalidOid;

	if (rel == NULL)
		return InvalidOid;
	foreach(lc, RelationGetIndexList(rel))
		if (get_index_isclustered(lfirst_oid(lc)))
			found = lfirst_oid(lc);
	relation_close(rel, AccessShareLock);
	return found;
}

void
asof_ddl_check_cluster(ClusterStmt *stmt)
{
	ListCell   *lc;

	if (stmt->relation != NULL)
	{
		Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
		const AsofGuardedRel *g = asof_registry_lookup(relid);

		if (g != NULL)
			asof_ddl_refuse_rebuild(relid);

		if (g != NULL)
			asof_ddl_check_cluster_index(g, relid, stmt->indexname != NULL
								? get_relname_relid(stmt->indexname, get_rel_namespace(relid))
								: clustered_index(relid));
		return;
	}
	foreach(lc, asof_registry_registered_relids())
	{
		ListCell   *lc2;

		foreach(lc2, find_all_inheritors(lfirst_oid(lc), NoLock, NULL))
		{
			Oid			relid = lfirst_oid(lc2);
			Oid			idx = clustered_index(relid);
			const AsofGuardedRel *g = asof_registry_lookup(relid);

			if (OidIsValid(idx) && g != NULL)
			{
				asof_ddl_check_cluster_index(g, relid, idx);
				asof_ddl_refuse_rebuild(relid);
			}
		}
	}
}
