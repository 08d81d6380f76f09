/*-------------------------------------------------------------------------
 *
 * pg_asof.h
 *	  Entry points that _PG_init (pg_asof.c) calls in the other files.
 *	  Each file that needs start-up work declares one function here.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_H
#define PG_ASOF_H

/* training_set.c: the asof.progress_interval setting */
extern void asof_training_set_init(void);

/* guard.c: the leakage guard's settings and hooks. */
extern void asof_guard_init(void);

/* clock.c: the asof.clock setting (the production side's "now"). */
extern void asof_clock_init(void);

#endif							/* PG_ASOF_H */
