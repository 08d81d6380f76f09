/*-------------------------------------------------------------------------
 *
 * serving_log_ring.h
 *	  The serving log's shared memory (private to serving_log.c, which owns
 *	  it and the serving side, and serving_log_writer.c, the background
 *	  worker that writes it): the ring of entries, the worker slots, the
 *	  counters.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_SERVING_LOG_RING_H
#define PG_ASOF_SERVING_LOG_RING_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/condition_variable.h"
#include "storage/latch.h"
#include "storage/lwlock.h"

/* databases whose entries can be queued at once (one worker each) */
#define LOG_DATABASES 8
/* the worker looks for entries this often (ms); asof.serving_log_flush wakes it */
#define LOG_DELAY_MS 10L
/* entries a worker writes in one transaction */
#define LOG_BATCH 1000
/* a worker without entries for this long exits (ms): DROP DATABASE waits 5 s for other sessions */
#define LOG_IDLE_EXIT_MS 2000
/* a requested worker that has not started after this long is requested again (ms) */
#define LOG_START_RETRY_MS 2000

#define LOG_PAD		0
#define LOG_QUEUED	1
#define LOG_TAKEN	2
#define LOG_DONE	3

typedef struct LogEntry
{
	uint32		len;			/* bytes, this header included, MAXALIGNed */
	uint8		state;
	bool		tz;				/* the view's time type is timestamptz */
	Oid			dbid;
	int			pid;			/* the serving backend */
	uint64		seq;			/* per server, increasing */
	TimestampTz served_at;
	int64		at;
	int64		tick;
	NameData	view;
	NameData	role;
	Oid			served_type;	/* InvalidOid: "features" is the jsonb; else a row of this type */
	uint32		entity_len;		/* text[] varlena, after the header */
	uint32		features_len;	/* jsonb or row varlena, after the entity */
} LogEntry;

#define ENTRY_HDR MAXALIGN(sizeof(LogEntry))
#define ENTRY_ENTITY(e) ((char *) (e) + ENTRY_HDR)
#define ENTRY_FEATURES(e) (ENTRY_ENTITY(e) + MAXALIGN((e)->entity_len))

typedef struct LogSlot
{
	Oid			dbid;			/* InvalidOid: free */
	int			pid;			/* its worker, 0: none */
	bool		starting;		/* a worker was requested */
	bool		connected;		/* the worker is connected to dbid */
	TimestampTz requested;		/* when it was requested */
	Latch	   *latch;			/* the worker's */
} LogSlot;

typedef struct LogShared
{
	LWLock	   *lock;
	ConditionVariable done_cv;	/* broadcast when entries become DONE */
	uint64		head;			/* next byte to write */
	uint64		tail;			/* first byte not DONE */
	uint64		next_seq;
	uint64		logged;
	uint64		written;
	uint64		failed;
	uint64		dropped_full;
	uint64		dropped_standby;
	uint64		dropped_no_worker;
	LogSlot		slots[LOG_DATABASES];
	Size		size;			/* bytes of ring */
	char		ring[FLEXIBLE_ARRAY_MEMBER];
} LogShared;

/* the longest a terminated worker keeps writing (ms) */
#define LOG_DRAIN_MS 3000

extern LogShared *asof_log_shared;

/* The entry at byte position pos (< head); NULL when pos is an implicit pad. */
extern LogEntry *asof_log_entry_at(uint64 pos, uint64 *len);

/* Move the tail past DONE entries and pads.  Lock held exclusively. */
extern void asof_log_advance_tail(void);

#endif							/* PG_ASOF_SERVING_LOG_RING_H */
