/*-------------------------------------------------------------------------
 *
 * serving_log.h
 *	  The serving log (docs/online.md, "Serving log"): what online.c calls
 *	  to record a served request, and the start-up entry point.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_SERVING_LOG_H
#define PG_ASOF_SERVING_LOG_H

#include "postgres.h"

#include "utils/array.h"
#include "utils/jsonb.h"

/* asof.log_serving: record every served request (off by default). */
extern PGDLLIMPORT bool asof_log_serving;

/*
 * Entries of one serving call, collected in the backend and queued in one
 * step (asof_serving_log_end).  tz: the view's time type is timestamptz;
 * at and tick are its int64 values.  entity: a 1-D text[]; served: the
 * served jsonb object (served_type InvalidOid), or the batch's row, a
 * value of the view's served type served_type, whose features the worker
 * turns into that jsonb.  Nothing is queued on a hot standby (counted).
 */
typedef struct AsofLogBatch AsofLogBatch;
extern AsofLogBatch *asof_serving_log_begin(const char *view, bool tz, int64 at);
extern void asof_serving_log_add(AsofLogBatch *b, int64 tick, ArrayType *entity,
								 Datum served, Oid served_type);
extern void asof_serving_log_end(AsofLogBatch *b);

/* A 1-D text[] of n values (NULLs kept), lower bound 1. */
extern ArrayType *asof_serving_log_entity(Datum *values, bool *nulls, int n);

/* _PG_init: the settings, the shared memory request. */
extern void asof_serving_log_init(void);

#endif							/* PG_ASOF_SERVING_LOG_H */
