/*-------------------------------------------------------------------------
 *
 * build_parallel.h
 *	  Parallel builds of training sets: the views of one build computed by
 *	  parallel workers (build_parallel.c; docs/engine.md, "Parallel
 *	  builds").
 *
 *	  The leader (training_set.c), in this order:
 *	  - asof_parallel_build_begin (the views, their engines, the spine, the
 *		prediction time and the query that reads the spine): NULL when the
 *		build runs serially;
 *		else the workers are running, the leader is in parallel mode with
 *		a snapshot pushed, and every query of the build must be read-only
 *		on the active snapshot;
 *	  - while reading the spine, per spine row and view:
 *		asof_parallel_build_ships(view) ? asof_parallel_build_ship(...) :
 *		asof_engine_add_spine(...);
 *	  - asof_parallel_build_spine_done, then run its own views' engines;
 *	  - asof_parallel_build_finish: waits for the workers and hands their
 *		results to the leader's engines of their views (asof_engine_next
 *		reads them as if computed here);
 *	  - after writing: asof_parallel_build_end.
 *	  Errors anywhere end the parallel context with the transaction.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_BUILD_PARALLEL_H
#define PG_ASOF_BUILD_PARALLEL_H

#include "postgres.h"

#include "engine.h"
#include "feature_view.h"

typedef struct AsofParallelBuild AsofParallelBuild;

extern AsofParallelBuild *asof_parallel_build_begin(AsofFeatureView **views,
													AsofEngine **engines,
													int nviews, Oid spine,
													const char *at,
													const char *spine_sql);
extern bool asof_parallel_build_ships(AsofParallelBuild *pb, int view);
extern void asof_parallel_build_ship(AsofParallelBuild *pb, int view, int64 ordinal,
									 Datum *keys, bool *keynulls,
									 int64 t, bool t_valid);
extern void asof_parallel_build_spine_done(AsofParallelBuild *pb);
extern void asof_parallel_build_finish(AsofParallelBuild *pb);
extern int64 asof_parallel_build_heldout(AsofParallelBuild *pb, int view);
extern int	asof_parallel_build_workers(AsofParallelBuild *pb);
extern void asof_parallel_build_end(AsofParallelBuild *pb);

/* the workers' entry point (CreateParallelContext) */
extern PGDLLEXPORT void asof_build_worker_main(dsm_segment *seg, shm_toc *toc);

#endif							/* PG_ASOF_BUILD_PARALLEL_H */
