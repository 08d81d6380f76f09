/*-------------------------------------------------------------------------
 *
 * engine.h
 *	  The point-in-time engine: for one feature view, computes the
 *	  features of every spine row (docs/point-in-time.md) by merging the
 *	  spine and the source, both ordered by (entity, time).
 *
 *	  Use: asof_engine_create; asof_engine_add_spine for every spine row
 *	  (keys + prediction time + an ordinal of the caller's choosing);
 *	  asof_engine_run (reads the source once and merges); then
 *	  asof_engine_next returns one result per spine row, in ordinal order;
 *	  asof_engine_end.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_ENGINE_H
#define PG_ASOF_ENGINE_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "nodes/params.h"
#include "tcop/dest.h"
#include "utils/tuplesort.h"

#include "feature_view.h"

typedef struct AsofEngine AsofEngine;

/* Called from long loops; done/total in rows (total -1 when unknown). */
typedef void (*AsofProgressFn) (void *arg, const char *phase,
								int64 done, int64 total);

extern AsofEngine *asof_engine_create(AsofFeatureView *view);
extern void asof_engine_set_progress(AsofEngine *e, AsofProgressFn fn, void *arg);

/*
 * One spine row.  keys[] are the entity key values in the view's key order
 * (of the view's key types); t is the prediction time as int64 microseconds
 * (a timestamp for timestamp views, an instant for timestamptz views),
 * t_valid false for NULL (all features NULL, counts 0).
 */
extern void asof_engine_add_spine(AsofEngine *e, int64 ordinal,
								  Datum *keys, bool *keynulls,
								  int64 t, bool t_valid);

/*
 * Read the source once (with TimeZone UTC and the caller's privileges) and
 * merge.  The read is bounded to what the spine rows added need
 * (source_read.h): their entities, event times from the oldest row an
 * answer needs to the largest k(t).  filter_keys: not NULL marks a
 * read-only lookup (features_at: the spine is that one entity); the
 * bounds come from the spine rows either way.
 */
extern void asof_engine_run(AsofEngine *e, Datum *filter_keys);

/*
 * Parallel builds (build_parallel.h).  asof_engine_set_read_only: the
 * engine's queries use the active snapshot and take no new one (required
 * in parallel mode).  asof_engine_set_result_worker: before any spine row,
 * in a worker: the results go to the shared sort `shared` of the view
 * (each of the view's workers is one participant of it);
 * asof_engine_take_results: in the leader, once the nworkers workers of
 * the view have finished: the engine's results are read from that sort,
 * merged by ordinal (asof_engine_next), and the engine has no spine rows
 * of its own.  asof_engine_source_query: the engine's unbounded source
 * query, for the parallel-safety check.
 */
extern void asof_engine_set_read_only(AsofEngine *e, bool read_only);
extern void asof_engine_set_result_worker(AsofEngine *e, Sharedsort *shared,
										  dsm_segment *seg);
extern void asof_engine_take_results(AsofEngine *e, Sharedsort *shared,
									 int nworkers);
extern char *asof_engine_source_query(AsofEngine *e);

/*
 * The results are read: free their sort (before a worker's shared sort's
 * memory goes away).
 */
extern void asof_engine_release_results(AsofEngine *e);

/* The results: one per spine row, in increasing ordinal. */
extern bool asof_engine_next(AsofEngine *e, int64 *ordinal,
							 Datum *values, bool *isnull);

extern void asof_engine_end(AsofEngine *e);

/*
 * Spine rows whose features are NULL because their effective time k(t) is
 * after the split of a protected table the source reads (leakage guard,
 * G5: asof_guard_source_rules in guard.h).
 */
extern int64 asof_engine_heldout_rows(AsofEngine *e);

/* Rows the source query returned (after asof_engine_run). */
extern int64 asof_engine_rows_read(AsofEngine *e);

/*
 * Run one query through SPI with TimeZone set to UTC for its duration
 * (and, for a source query, search_path = pg_catalog, pg_temp), streaming
 * its rows into dest (used for the source and the spine).
 */
extern void asof_engine_run_query(const char *sql, ParamListInfo params,
								  bool read_only, bool source,
								  DestReceiver *dest);

/*
 * The SQL text that reads a view's source: one row per source row with
 * the entity keys, event time, available time and each distinct feature
 * input expression.  The one place where the engine's reads are built
 * (the leakage guard hooks in here).  filter appends key equality
 * conditions on parameters $1..$nkeys.
 */
extern char *asof_engine_source_sql(const AsofFeatureView *view,
									int ninputs, char **inputs, bool filter);

#endif							/* PG_ASOF_ENGINE_H */
