/*-------------------------------------------------------------------------
 *
 * profile.h
 *	  Partition profiles (asof.profile, docs/validation.md): the one-scan
 *	  accumulator of profile_stats.c and the statistics it produces.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_PROFILE_H
#define PG_ASOF_PROFILE_H

#include "postgres.h"

#include "tcop/dest.h"

/* What a column gets beyond counts, nulls, distinct and most frequent value. */
typedef enum ProfileKind
{
	PROFILE_OTHER,				/* counts only */
	PROFILE_NUMERIC,			/* + mean, stddev, min, p05, p50, p95, max */
	PROFILE_CATEGORICAL			/* + values never seen in earlier partitions */
} ProfileKind;

/* The statistics of one (partition, column); every count is exact. */
typedef struct ProfileStats
{
	int64		rows;			/* rows of the partition */
	int64		nulls;
	int64		distinct;		/* distinct non-null values */
	char	   *top_value;		/* NULL when every value is NULL */
	double		top_fraction;	/* of the non-null values */
	bool		has_numbers;	/* numeric column with a non-null value */
	double		mean;
	bool		has_stddev;		/* at least two non-null values */
	double		stddev;			/* sample standard deviation */
	double		min,
				p05,
				p50,
				p95,
				max;
	bool		has_novelty;	/* categorical column with a non-null value */
	int64		new_values;		/* distinct values unseen in earlier partitions */
	int64		new_rows;		/* rows holding one of them */
} ProfileStats;

typedef struct ProfileScan ProfileScan;

/*
 * A scan over rows (time, column 1, ..., column n) sent to its receiver.
 * time_type: TIMESTAMPOID, TIMESTAMPTZOID or DATEOID; grain in
 * microseconds (> 0).  Everything lives in CurrentMemoryContext.
 */
extern ProfileScan *profile_scan_create(Oid time_type, int64 grain,
										int ncols, const Oid *types);
extern DestReceiver *profile_scan_receiver(ProfileScan *s);

/* After the scan: partitions in time order, gaps included (rows 0). */
extern int	profile_scan_finish(ProfileScan *s);
extern int64 profile_scan_partition_start(ProfileScan *s, int part);
extern void profile_scan_stats(ProfileScan *s, int part, int col,
							   ProfileStats *out);
extern int64 profile_scan_skipped(ProfileScan *s);

/* Partitions start at 2000-01-03 00:00 (a Monday) + n * grain. */
#define PROFILE_ORIGIN	((int64) 2 * USECS_PER_DAY)

#endif							/* PG_ASOF_PROFILE_H */
