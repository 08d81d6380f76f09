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

#endif							/* PG_ASOF_COMPAT_H */
