/*-------------------------------------------------------------------------
 *
 * guard_state.h
 *	  Every piece of per-backend state the leakage guard keeps, in one
 *	  place, for a security reviewer to read first (guard_state.c).
 *
 *	  The guard's decisions (guard_columns.c, guard_rows.c,
 *	  guard_utility.c) read this state; only the functions below change it,
 *	  and the transaction callbacks in guard_state.c put it back at every
 *	  commit and abort, subtransactions included.  Nothing here is a
 *	  session-wide or call-depth exemption: the only exemption is for the
 *	  exact relation scans of one query the guard builds itself.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_GUARD_STATE_H
#define PG_ASOF_GUARD_STATE_H

#include "postgres.h"

#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"

/* Settings: asof.guard (superuser only) and asof.require_split. */
extern bool asof_guard_enabled;
extern bool asof_require_split;

/* True when the hooks act: asof.guard is on.  Nothing else switches it. */
extern bool asof_guard_active(void);

/*
 * The one exemption: the guard's own next query (a split report, the
 * engine's read of a source whose sealed rows it may compute) scans
 * relation relid whole.  Armed just before the query runs; consumed by the
 * next top-level planning whatever it reads; it covers the scans of relid
 * at that query's top level and that plan's column check, nothing nested,
 * and never survives an error.  The caller must have checked that the
 * query runs no user code (built-in functions and operators only).
 */
extern void asof_guard_exempt_next_plan(Oid relid);

/* Planner side: at the start of a top-level planning, the relation it
 * exempts (InvalidOid: none); then the plan it produced. */
extern Oid	asof_guard_exemption_take(Query *parse);
extern void asof_guard_exemption_planned(PlannedStmt *plan, Oid relid);

/* Executor side: is relid exempt from the column check of this plan? */
extern bool asof_guard_exemption_covers(PlannedStmt *plan, Oid relid);
extern void asof_guard_exemption_started(PlannedStmt *plan);

/*
 * Tables unsealed in the current transaction (asof.unseal, G4).  An entry
 * made in a subtransaction that aborts is dropped with it.
 */
extern void asof_guard_mark_unsealed(Oid regrelid);
extern bool asof_guard_is_unsealed(Oid regrelid);
extern bool asof_guard_any_unsealed(void);

/*
 * Executors running with SECURITY_NOFORCE_RLS (a referential-integrity
 * query): a query planned while one runs is user code called from it (a
 * cast, a function), not the integrity check itself.
 */
extern void asof_guard_noforce_enter(void);
extern void asof_guard_noforce_exit(void);
extern bool asof_guard_noforce_running(void);

/*
 * Reads of protected tables with a split that the executor checked while
 * the engine read a source (G5, guard_sources.c): more than the source's
 * own query tree has means a function reached one.  Counting runs from
 * _start to _stop and is cleared at every abort.
 */
extern void asof_guard_reads_start(void);
extern void asof_guard_reads_note(void);
extern int	asof_guard_reads_stop(void);

/*
 * A training-set build on a protected spine (G5): the spine, and the
 * cutoff from which its rows end up sealed.  Cleared at transaction end.
 */
extern void asof_guard_set_build(Oid spine, int64 sealed_from);
extern bool asof_guard_get_build(Oid *spine, int64 *sealed_from);
extern void asof_guard_build_end(void);

/*
 * The role that called a public guard function (asof.protect, split,
 * unseal, unprotect): the checks and the audit log use it while the
 * function's implementation runs as the extension's owner.  InvalidOid
 * outside such a call: then the current role.
 */
extern Oid	asof_guard_api_caller(void);
extern Oid	asof_guard_api_enter(Oid caller);
extern void asof_guard_api_exit(Oid saved);

/* Registers the transaction callbacks (from asof_guard_init). */
extern void asof_guard_state_init(void);

#endif							/* PG_ASOF_GUARD_STATE_H */
