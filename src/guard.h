/*-------------------------------------------------------------------------
 *
 * guard.h
 *	  The leakage guard (docs/leakage-guard.md): hooks and the small API
 *	  other parts of pg_asof use.  Each concern lives in its own file:
 *	  guard_state.c (all per-backend state, read it first), guard.c
 *	  (settings, installing hooks), guard_registry.c (the registry cache),
 *	  guard_columns.c (G1: label and future reads before the split),
 *	  guard_rows.c (G2: hiding held-out rows), guard_utility.c (DDL, COPY,
 *	  DROP EXTENSION, error details), guard_api.c (the public functions),
 *	  guard_audit.c (the audit worker), guard_engine.c (G5).  The hook files
 *	  depend on guard_state.h and guard_registry.h, not on each other.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_GUARD_H
#define PG_ASOF_GUARD_H

#include "postgres.h"

#include "nodes/pg_list.h"

#include "guard_state.h"

/* Hook installers, called by asof_guard_init (guard.c). */
extern void asof_guard_columns_init(void);
extern void asof_guard_rows_init(void);
extern void asof_guard_utility_init(void);

/*
 * Whether a protected relation's held-out rows are open in this
 * transaction: its table was unsealed, or, for a training set, its spine.
 */
struct AsofGuardedRel;
extern bool asof_guard_rel_unsealed(const struct AsofGuardedRel *g);

/* guard_audit.c: commit an audit record in a transaction of its own. */
extern void asof_audit_autonomous(Oid relid, const char *table_name,
								  const char *event, const char *detail);

/*
 * guard_engine.c: the API the engine (engine.c, training_set.c) calls (G5).
 *
 * asof_guard_build_begin / _end: around asof.build_training_set.  When the
 * spine is protected with a split and the prediction time is its time
 * column, its held-out rows will be sealed in the training set: the spine
 * is read whole (asof_guard_before_spine_read, just before the spine
 * query), and sources may be read whole for those rows (below).
 *
 * asof_guard_source_rules: when a feature view source reads (itself or
 * through views) a protected table with a split that is not unsealed in
 * this transaction, returns true with the earliest such cutoff as int64
 * microseconds (a date is its midnight, a timestamp its UTC wall clock).
 * A spine row whose effective time k(t) is after the cutoff would need
 * held-out rows: its features are NULL and counted -- unless
 * *exempt_sealed, and the row's prediction time is >= *sealed_from (a row
 * sealed in the training set); then the engine reads the source whole
 * (asof_guard_exempt_next_plan just before its source query).  source_sql
 * is the engine's source query (user functions in it forbid the exemption).
 *
 * A source the engine cannot evaluate exactly under a split (an aggregate,
 * LIMIT, a time that is not the protected table's clock, a foreign table:
 * guard_sources.c) is refused there, with a hint; asof_guard_check_source
 * refuses it alone (create_feature_view).
 *
 * asof_guard_source_read_begin / _end: around the engine's source query;
 * _end refuses the read when the guard hid rows of protected tables in
 * more places than the source's own query tree has (a function reached
 * them).
 *
 * asof_guard_refuse_features_at: errors (42501) when the source has such a
 * cutoff; features_at calls it for a row it held out.
 *
 * asof_guard_training_set_built: after a build on a protected spine, sets
 * immature labels to NULL (NOTICE with the count) and registers the
 * training set as protected, linked to the spine.  No-op otherwise.
 */
extern void asof_guard_build_begin(Oid spine, const char *at);
extern void asof_guard_build_end(void);
extern void asof_guard_before_spine_read(Oid spine);
extern bool asof_guard_source_rules(Oid source, const char *event_time,
									const char *source_sql, int64 *cutoff,
									bool *exempt_sealed, int64 *sealed_from);
extern void asof_guard_exempt_next_plan(Oid relid);
extern void asof_guard_check_source(Oid source, const char *event_time);

/*
 * reference_sql.c: the spine as the plain-SQL reference of a view over
 * source reads it.  Refuses (0A000) a source that reads a protected table
 * whose split is not unsealed here (the reference does not apply the
 * split's rules), or a foreign table while some table has a split; for a
 * source that reads a protected table, returns a subquery over the spine
 * that checks again when the query runs (asof.assert_exact_source); else
 * spine_sql.
 */
extern char *asof_guard_reference_spine(Oid source, const char *spine_sql);
extern void asof_guard_source_read_begin(void);

/*
 * build_parallel.c: this process is a parallel build's worker.  Unlike the
 * workers of a parallel query, whose plans the leader checked, it plans
 * its own queries: the guard checks them, and refuses any read of a
 * protected table (the leader chose a parallel build only for sources
 * that read none; guard_columns.c).
 */
extern void asof_guard_enter_build_worker(void);

/*
 * guard_engine.c: does this node itself (not its children) call code that
 * is not built in (a function or operator of a user, a domain with CHECK
 * constraints)?  What user code reads cannot be seen before it runs.
 */
extern bool asof_guard_node_calls_user_code(Node *node);
extern bool asof_guard_in_build_worker(void);
extern void asof_guard_source_read_end(Oid source, const char *event_time);
extern void asof_guard_refuse_features_at(Oid source, const char *view_name);
extern void asof_guard_training_set_built(Oid spine, Oid output);

/* guard_engine.c: statistics target 0 on every column of a derived table. */
extern void asof_guard_stop_statistics(Oid relid);

/* guard_api.c: link a just-protected training set to its protected spine. */
extern void asof_guard_link(Oid training_set, Oid spine);

/* A NOTICE with the number of spine rows a view's features were NULLed in. */
extern void asof_guard_report_heldout_features(const char *training_set,
											   const char *view_name, int64 nrows);

#endif							/* PG_ASOF_GUARD_H */
