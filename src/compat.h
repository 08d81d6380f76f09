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

#if PG_VERSION_NUM < 130000
#error "pg_asof needs PostgreSQL 13 or later"
#endif

/* MarkGUCPrefixReserved() replaced EmitWarningsOnPlaceholders() in 15. */
#if PG_VERSION_NUM >= 150000
#define asof_reserve_guc_prefix(prefix) MarkGUCPrefixReserved(prefix)
#else
#define asof_reserve_guc_prefix(prefix) EmitWarningsOnPlaceholders(prefix)
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

#endif							/* PG_ASOF_COMPAT_H */
