/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every difference between the PostgreSQL majors pg_asof builds against:
 *	  15, 17 and 18, each tested by the whole suite (make test, make test
 *	  PG=17, PG=18); 16 takes the 17 paths but is untested (no package of
 *	  it is reachable here); 14 and older are not supported.  No other file
 *	  may test PG_VERSION_NUM: add a macro or inline function here instead.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_COMPAT_H
#define PG_ASOF_COMPAT_H

#include "postgres.h"

/* The varlena macros (VARSIZE_ANY, VARDATA_ANY) left postgres.h in 16. */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

#if PG_VERSION_NUM < 150000
#error "pg_asof needs PostgreSQL 15 or later (15, 17 and 18 are tested; 16 is untested)"
#endif

/*
 * Spelled as 15 spells them (the oldest supported major); kept as macros so
 * that a later change of any of them stays in this file.
 */
#define asof_reserve_guc_prefix(prefix) MarkGUCPrefixReserved(prefix)
#define asof_raw_parser(str) raw_parser((str), RAW_PARSE_DEFAULT)
/* security_invoker: a read through a helper view uses the reader's privileges */
#define ASOF_HELPER_VIEW_OPTIONS " WITH (security_invoker = true)"
#define asof_tuplesort_begin_heap(desc, nkeys, attnums, ops, colls, nullsfirst, mem) \
	tuplesort_begin_heap(desc, nkeys, attnums, ops, colls, nullsfirst, mem, NULL, TUPLESORT_NONE)
/* 18 added the bytes to reserve before the tuple */
#if PG_VERSION_NUM >= 180000
#define asof_heap_form_minimal_tuple(desc, values, isnull) \
	heap_form_minimal_tuple((desc), (values), (isnull), 0)
#else
#define asof_heap_form_minimal_tuple(desc, values, isnull) \
	heap_form_minimal_tuple((desc), (values), (isnull))
#endif
#define asof_tuplesort_begin_heap_coord(desc, nkeys, attnums, ops, colls, nullsfirst, mem, coord) \
	tuplesort_begin_heap(desc, nkeys, attnums, ops, colls, nullsfirst, mem, coord, TUPLESORT_NONE)
#define asof_parse_analyze(raw, sql) parse_analyze_fixedparams((raw), (sql), NULL, 0, NULL)
#define ASOF_PROCESS_UTILITY_PARAMS \
	PlannedStmt *pstmt, const char *queryString, bool readOnlyTree, \
	ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define ASOF_PROCESS_UTILITY_ARGS \
	pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc

/*
 * A TupleHashTable whose entries carry one int32 of user data (the engine
 * keeps a dense entity id).  18 renamed BuildTupleHashTableExt to
 * BuildTupleHashTable (with the input slot type) and replaced the entry's
 * "additional" pointer with space reserved beside the entry.
 */
#if PG_VERSION_NUM >= 180000
#define asof_tuplehash_create(desc, n, cols, eqfuncs, hashfuncs, colls, nbuckets, metacxt, tablecxt, tempcxt) \
	BuildTupleHashTable(NULL, (desc), NULL, (n), (cols), (eqfuncs), (hashfuncs), (colls), \
						(nbuckets), sizeof(int32), (metacxt), (tablecxt), (tempcxt), false)
#define asof_tuplehash_get_id(table, entry) \
	(*(int32 *) TupleHashEntryGetAdditional((table), (entry)))
#define asof_tuplehash_set_id(table, entry, id) \
	(*(int32 *) TupleHashEntryGetAdditional((table), (entry)) = (id))
#else
#define asof_tuplehash_create(desc, n, cols, eqfuncs, hashfuncs, colls, nbuckets, metacxt, tablecxt, tempcxt) \
	BuildTupleHashTableExt(NULL, (desc), (n), (cols), (eqfuncs), (hashfuncs), (colls), \
						   (nbuckets), 0, (metacxt), (tablecxt), (tempcxt), false)
#define asof_tuplehash_get_id(table, entry) ((int32) (intptr_t) (entry)->additional)
#define asof_tuplehash_set_id(table, entry, id) \
	((entry)->additional = (void *) (intptr_t) (id))
#endif

/* Exact window sums need 128-bit integers (gcc and clang on 64-bit). */
#ifndef HAVE_INT128
#error "pg_asof needs a compiler with 128-bit integers"
#endif

/* Ownership checks became object_ownercheck in 16. */
#if PG_VERSION_NUM >= 160000
#define asof_table_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#else
#define asof_table_ownercheck(relid, roleid) pg_class_ownercheck((relid), (roleid))
#endif

/*
 * ALTER TABLE ... ALTER COLUMN ... SET EXPRESSION (a generated column's
 * expression, every row rewritten) exists from 17 on.
 */
#if PG_VERSION_NUM >= 170000
#define ASOF_AT_IS_SET_EXPRESSION(subtype) ((subtype) == AT_SetExpression)
#else
#define ASOF_AT_IS_SET_EXPRESSION(subtype) ((void) (subtype), false)
#endif

/* ALTER STATISTICS ... SET STATISTICS: an int until 16, a node (NULL: DEFAULT) from 17. */
#if PG_VERSION_NUM >= 170000
#define asof_alter_stats_target(stmt) \
	((stmt)->stxstattarget != NULL ? intVal((stmt)->stxstattarget) : -1)
#else
#define asof_alter_stats_target(stmt) ((stmt)->stxstattarget)
#endif

/*
 * The executor's permission check.  From 16 on, a range table entry's
 * permissions (required privileges, columns read) live in RTEPermissionInfo
 * nodes passed to ExecutorCheckPerms_hook beside the range table; before,
 * in the entry itself.  An entry without one (an inheritance child or
 * partition the planner added, the EXCLUDED pseudo-relation) reads nothing
 * that its parent's entry does not show.
 */
#if PG_VERSION_NUM >= 160000
#include "nodes/parsenodes.h"
#include "parser/parse_relation.h"
#define ASOF_CHECK_PERMS_PARAMS \
	List *rangeTable, List *rtePermInfos, bool ereport_on_violation
#define ASOF_CHECK_PERMS_ARGS rangeTable, rtePermInfos, ereport_on_violation
#define ASOF_CHECK_PERMS_PERMINFOS rtePermInfos
static inline Bitmapset *
asof_rte_selected_cols(List *perminfos, RangeTblEntry *rte)
{
	return rte->perminfoindex == 0 ? NULL :
		getRTEPermissionInfo(perminfos, rte)->selectedCols;
}
static inline AclMode
asof_rte_required_perms(List *perminfos, RangeTblEntry *rte)
{
	return rte->perminfoindex == 0 ? 0 :
		getRTEPermissionInfo(perminfos, rte)->requiredPerms;
}
#else
#define ASOF_CHECK_PERMS_PARAMS List *rangeTable, bool ereport_on_violation
#define ASOF_CHECK_PERMS_ARGS rangeTable, ereport_on_violation
#define ASOF_CHECK_PERMS_PERMINFOS NIL
#define asof_rte_selected_cols(perminfos, rte) ((rte)->selectedCols)
#define asof_rte_required_perms(perminfos, rte) ((rte)->requiredPerms)
#endif

/* ExecutorRun_hook lost its execute_once argument in 18. */
#if PG_VERSION_NUM >= 180000
#define ASOF_EXECUTOR_RUN_PARAMS \
	QueryDesc *queryDesc, ScanDirection direction, uint64 count
#define ASOF_EXECUTOR_RUN_ARGS queryDesc, direction, count
#else
#define ASOF_EXECUTOR_RUN_PARAMS \
	QueryDesc *queryDesc, ScanDirection direction, uint64 count, bool execute_once
#define ASOF_EXECUTOR_RUN_ARGS queryDesc, direction, count, execute_once
#endif

/*
 * EvalPlanQualInit took the result relations from 16 on; the executor's
 * simple update (ingestion.c) passes an EPQState it never uses.  A
 * VirtualTransactionId names its backend by procNumber from 17 on
 * (backendId before), looked up with ProcNumberGetProc (BackendIdGetProc).
 */
#if PG_VERSION_NUM >= 160000
#define asof_epq_init(epq, estate) EvalPlanQualInit((epq), (estate), NULL, NIL, -1, NIL)
#else
#define asof_epq_init(epq, estate) EvalPlanQualInit((epq), (estate), NULL, NIL, -1)
#endif
#if PG_VERSION_NUM >= 170000
#include "storage/procarray.h"
#define asof_vxid_proc(vxid) ProcNumberGetProc((vxid).procNumber)
#else
#include "storage/sinvaladt.h"
#define asof_vxid_proc(vxid) BackendIdGetProc((vxid).backendId)
#endif

#endif							/* PG_ASOF_COMPAT_H */
