/*-------------------------------------------------------------------------
 *
 * schedule.h
 *	  Effective time k(t) of a feature view: the newest moment whose data the
 *	  production schedule (cadence, anchor, delay) could have served at
 *	  prediction time t, plus the overflow-checked bounds derived from it
 *	  (window start k - W, TTL bound t - ttl).
 *
 *	  Integer microsecond arithmetic only, independent of TimeZone; never
 *	  allocates, never raises an error: a result outside the timestamp range
 *	  is reported as "no value" (false).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_SCHEDULE_H
#define PG_ASOF_SCHEDULE_H

#include "postgres.h"

typedef struct AsofSchedule
{
	bool		has_cadence;	/* false: continuous, k = t - delay */
	int64		cadence_us;		/* > 0 when has_cadence */
	int64		anchor_us;
	int64		delay_us;		/* >= 0 */
} AsofSchedule;

/*
 * k(t): continuous t - d; scheduled max { a + n*c : a + n*c + d <= t }.
 * Returns false ("no value") when t is not a finite timestamp or k falls
 * outside the timestamp range.
 */
extern bool asof_effective_time(const AsofSchedule *s, int64 t, int64 *k);

/*
 * x - span for a finite timestamp x and span > 0 (window start k - W, TTL
 * bound t - ttl).  Returns false when the result falls outside the
 * timestamp range.
 */
extern bool asof_time_minus(int64 x, int64 span, int64 *result);

#endif							/* PG_ASOF_SCHEDULE_H */
