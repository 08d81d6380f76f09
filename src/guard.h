/*-------------------------------------------------------------------------
 *
 * guard.h
 *	  The leakage guard (docs/leakage-guard.md): settings, hooks and the
 *	  small API other parts of pg_asof use.  Each concern lives in its own
 *	  file: guard.c (settings, installing hooks), guard_columns.c (G1: label
 *	  and future reads before the split), guard_rows.c (G2: hiding held-out
 *	  rows, unsealed tables), guard_utility.c (COPY, triggers, DROP
 *	  EXTENSION, error details), guard_api.c (the registry functions),
 *	  guard_unseal.c (the audit worker).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_GUARD_H
#define PG_ASOF_GUARD_H

#include "postgres.h"

#include "nodes/pathnodes.h"

/* Settings (guard.c). */
extern bool asof_guard_enabled;		/* asof.guard */
extern bool asof_require_split;		/* asof.require_split */

/*
 * Depth of the guard's own statements (split reports): while positive, the
 * hooks let them through.  Set and restored only by guard_api.c, around
 * statements it builds itself, never around user code.
 */
extern int	asof_guard_internal_depth;

/* True when the hooks should act for the current statement. */
extern bool asof_guard_active(void);

/* Hook installers, called by asof_guard_init. */
extern void asof_guard_columns_init(void);
extern void asof_guard_rows_init(void);
extern void asof_guard_utility_init(void);

/* guard_rows.c: tables unsealed in the current transaction. */
extern bool asof_guard_is_unsealed(Oid regrelid);
extern void asof_guard_mark_unsealed(Oid regrelid);

/* guard_unseal.c: commit an audit record in a transaction of its own. */
extern void asof_audit_autonomous(Oid relid, const char *table_name,
								  const char *event, const char *detail);

#endif							/* PG_ASOF_GUARD_H */
