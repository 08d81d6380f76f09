/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every difference between the PostgreSQL majors pg_asof builds against
 *	  (13 to 17).  15 is the version verified by the test suite; the others
 *	  are kept compiling on a best-effort basis.  No other file may test
 *	  PG_VERSION_NUM: add a macro or inline function here instead.
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

#if PG_VERSION_NUM < 130000
#error "pg_asof needs PostgreSQL 13 or later"
#endif

/* MarkGUCPrefixReserved() replaced EmitWarningsOnPlaceholders() in 15. */
#if PG_VERSION_NUM >= 150000
#define asof_reserve_guc_prefix(prefix) MarkGUCPrefixReserved(prefix)
#else
#define asof_reserve_guc_prefix(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/* raw_parser() took a parse mode from 14 on. */
#if PG_VERSION_NUM >= 140000
#define asof_raw_parser(str) raw_parser((str), RAW_PARSE_DEFAULT)
#else
#define asof_raw_parser(str) raw_parser(str)
#endif

/*
 * Options of the helper views feature_view.c creates: security_invoker
 * (15+) makes a read through them use the reader's privileges.
 */
#if PG_VERSION_NUM >= 150000
#define ASOF_HELPER_VIEW_OPTIONS " WITH (security_invoker = true)"
#else
#define ASOF_HELPER_VIEW_OPTIONS ""
#endif

/* tuplesort_begin_heap() took "bool randomAccess" before 15, "int sortopt" since. */
#if PG_VERSION_NUM >= 150000
#define asof_tuplesort_begin_heap(desc, nkeys, attnums, ops, colls, nullsfirst, mem) \
	tuplesort_begin_heap(desc, nkeys, attnums, ops, colls, nullsfirst, mem, NULL, TUPLESORT_NONE)
#else
#define asof_tuplesort_begin_heap(desc, nkeys, attnums, ops, colls, nullsfirst, mem) \
	tuplesort_begin_heap(desc, nkeys, attnums, ops, colls, nullsfirst, mem, NULL, false)
#endif

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

/*
 * The engine streams query results into its own DestReceiver through
 * SPI_execute_extended(), which PostgreSQL 14 introduced.
 */
#if PG_VERSION_NUM < 140000
#error "the pg_asof engine needs PostgreSQL 14 or later (SPI_execute_extended)"
#endif

/* ProcessUtility_hook gained readOnlyTree in 14. */
#if PG_VERSION_NUM >= 140000
#define ASOF_PROCESS_UTILITY_PARAMS \
	PlannedStmt *pstmt, const char *queryString, bool readOnlyTree, \
	ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define ASOF_PROCESS_UTILITY_ARGS \
	pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc
#else
#define ASOF_PROCESS_UTILITY_PARAMS \
	PlannedStmt *pstmt, const char *queryString, \
	ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define ASOF_PROCESS_UTILITY_ARGS \
	pstmt, queryString, context, params, queryEnv, dest, qc
#endif

/* parse_analyze was renamed parse_analyze_fixedparams in 15. */
#if PG_VERSION_NUM >= 150000
#define asof_parse_analyze(raw, sql) parse_analyze_fixedparams((raw), (sql), NULL, 0, NULL)
#else
#define asof_parse_analyze(raw, sql) parse_analyze((raw), (sql), NULL, 0, NULL)
#endif

/* Ownership checks became object_ownercheck in 16. */
#if PG_VERSION_NUM >= 160000
#define asof_table_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#else
#define asof_table_ownercheck(relid, roleid) pg_class_ownercheck((relid), (roleid))
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

/*
 * ALTER TABLE ... ALTER COLUMN ... SET EXPRESSION (17+) recomputes a
 * generated column from every row.
 */
#if PG_VERSION_NUM >= 170000
#define asof_at_is_set_expression(subtype) ((subtype) == AT_SetExpression)
#else
#define asof_at_is_set_expression(subtype) false
#endif

#endif							/* PG_ASOF_COMPAT_H */
