/*-------------------------------------------------------------------------
 *
 * window.h
 *	  Sliding-window aggregate states of the point-in-time engine: add a
 *	  value, remove a value, read the aggregate (docs/point-in-time.md,
 *	  "Features").
 *
 *	  Values reach a state "normalized" (asof_agg_normalize): integers as
 *	  int64, floating point as double, anything else as the original Datum.
 *	  The engine keeps the rows of each window and tells the state which
 *	  rows enter and leave; min/max keep their own copies and use lazy
 *	  deletion by event time, so removals may come in any order.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_WINDOW_H
#define PG_ASOF_WINDOW_H

#include "postgres.h"

#include "fmgr.h"

#include "feature_view.h"

/* How an aggregate keeps its input values. */
typedef enum AsofAcc
{
	ASOF_ACC_COUNT,				/* count(*), count(expr): a counter */
	ASOF_ACC_INT,				/* int2/int4/int8 moments in 128-bit integers */
	ASOF_ACC_FLOAT,				/* float4/float8 moments, compensated sums */
	ASOF_ACC_NUMERIC,			/* numeric (and int8 variance) moments */
	ASOF_ACC_EXTREME,			/* min/max: heap with lazy deletion */
	ASOF_ACC_LAST				/* last/last_nonnull: the best row so far */
} AsofAcc;

/* How a value is represented inside the states. */
typedef enum AsofRepr
{
	ASOF_REPR_NONE,				/* count(*): no value */
	ASOF_REPR_INT,				/* int64 */
	ASOF_REPR_FLOAT,			/* double */
	ASOF_REPR_DATUM				/* the original Datum (copied when by-ref) */
} AsofRepr;

/* Everything about one feature's aggregate that does not change per row. */
typedef struct AsofAggSpec
{
	AsofAgg		agg;
	AsofAcc		acc;
	AsofRepr	repr;
	Oid			input_type;
	Oid			collation;
	Oid			result_type;
	int16		typlen;			/* of input_type */
	bool		typbyval;
	bool		int8_input;		/* numeric moments fed with int64 values */
	bool		has_cmp;
	FmgrInfo	cmp;			/* btree comparison for ASOF_REPR_DATUM */
} AsofAggSpec;

typedef struct AsofKSum			/* Neumaier-compensated running sum */
{
	double		s;
	double		c;
} AsofKSum;

typedef struct AsofExtremeEntry
{
	Datum		value;
	int64		te;				/* dead once te < window start */
} AsofExtremeEntry;

typedef struct AsofAggState
{
	const AsofAggSpec *spec;
	MemoryContext cxt;			/* where the state's own copies live */
	int64		n;				/* non-null values in the window (all rows
								 * for count(*)) */
	/* ASOF_ACC_INT */
	int128	isum;
	int128	isumsq;
	/* ASOF_ACC_FLOAT */
	AsofKSum	fsum;
	AsofKSum	fabs;			/* sum of |x| now in the window */
	double		fhist;			/* sum of |x| added or removed since the
								 * last recomputation */
	/* variances: moments of x - shift, shift near the window's mean */
	bool		fshift_set;
	double		fshift;
	AsofKSum	fdsum;			/* sum of (x - shift) */
	AsofKSum	fdsq;			/* sum of (x - shift)^2 */
	double		fhistsq;		/* sum of (x - shift)^2 added or removed */
	int64		nsqover;		/* values whose (x - shift)^2 overflows */
	bool		fsum_over;		/* fsum overflowed: rebuild, then fssum */
	bool		fscaled;		/* fssum is kept (this entity overflowed once) */
	AsofKSum	fssum;			/* sum of x * 2^-64: never overflows */
	bool		fssum_valid;	/* fssum holds every value since the restart */
	bool		fsq_scaled;		/* variance moments of x * 2^-600 (squares
								 * beyond double precision) */
	int64		nnan;
	int64		npinf;
	int64		nninf;
	/* ASOF_ACC_NUMERIC */
	Datum		nsum;
	Datum		nsumsq;
	/* ASOF_ACC_EXTREME */
	AsofExtremeEntry *heap;
	int			heap_n;
	int			heap_cap;
	/* ASOF_ACC_LAST */
	bool		has_last;
	int64		last_te;
	int64		last_ta;
	Datum		last_value;
	bool		last_isnull;
} AsofAggState;

extern void asof_agg_spec_init(AsofAggSpec *spec, const AsofFeature *f);
extern Datum asof_agg_normalize(const AsofAggSpec *spec, Datum value);

extern void asof_agg_init(AsofAggState *st, const AsofAggSpec *spec,
						  MemoryContext cxt);
extern void asof_agg_reset(AsofAggState *st);

/*
 * A visible row enters the window (window_start: the current window start,
 * used by min/max to drop dead entries) or leaves it.  For last values
 * only asof_agg_add is used, with the row's event and available time.
 */
extern void asof_agg_add(AsofAggState *st, Datum value, bool isnull,
						 int64 te, int64 ta, int64 window_start);
extern void asof_agg_remove(AsofAggState *st, Datum value, bool isnull);

/*
 * Floating-point moments: true when so much has been added and removed
 * relative to what is in the window, or the window's mean has drifted so
 * far from the variance shift, that the running sums must be rebuilt from
 * the window's rows: asof_agg_restart, asof_agg_set_shift (the mean of the
 * window's finite values), then asof_agg_add per row.
 */
extern bool asof_agg_needs_recompute(const AsofAggState *st);
extern void asof_agg_restart(AsofAggState *st);
extern void asof_agg_set_shift(AsofAggState *st, double shift);

/* The aggregate's value now; by-ref results are allocated in the caller's context. */
extern void asof_agg_read(AsofAggState *st, int64 window_start,
						  Datum *result, bool *isnull);

/* Last values: event time of the chosen row (false when there is none). */
extern bool asof_agg_last_te(const AsofAggState *st, int64 *te);

#endif							/* PG_ASOF_WINDOW_H */
