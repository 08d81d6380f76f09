/*-------------------------------------------------------------------------
 *
 * schedule.c
 *	  Effective time k(t) from cadence, anchor and delay
 *	  (docs/point-in-time.md, "Effective time").
 *
 *	  Owns: the integer arithmetic of ticks, with floor division that is
 *	  correct for times before the anchor, and the timestamp-range checks.
 *	  Must not: allocate, raise errors, look at TimeZone or at any catalog.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "datatype/timestamp.h"

#include "schedule.h"

/* A finite timestamp: inside PostgreSQL's valid range (not +-infinity). */
static inline bool
valid_time(int128 x)
{
	return x >= (int128) MIN_TIMESTAMP && x < (int128) END_TIMESTAMP;
}

bool
asof_effective_time(const AsofSchedule *s, int64 t, int64 *k)
{
	int128	r;

	if (!valid_time(t))
		return false;

	if (!s->has_cadence)
		r = (int128) t - s->delay_us;
	else
	{
		/*
		 * a + n*c + d <= t  <=>  n <= (t - d - a) / c, so n is the floor of
		 * that quotient.  C division truncates toward zero: step down by one
		 * for negative remainders (times before the anchor).  128-bit
		 * intermediates cannot overflow for 64-bit operands.
		 */
		int128	x = (int128) t - s->delay_us - s->anchor_us;
		int128	n = x / s->cadence_us;

		if (x % s->cadence_us < 0)
			n -= 1;
		r = (int128) s->anchor_us + n * s->cadence_us;
	}

	if (!valid_time(r))
		return false;
	*k = (int64) r;
	return true;
}

bool
asof_time_minus(int64 x, int64 span, int64 *result)
{
	int128	r = (int128) x - span;

	if (!valid_time(r))
		return false;
	*result = (int64) r;
	return true;
}
