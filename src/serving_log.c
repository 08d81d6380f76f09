/*-------------------------------------------------------------------------
 *
 * serving_log.c
 *	  The serving log (docs/online.md, "Serving log"): with asof.log_serving
 *	  on, every served request of asof.online_features and
 *	  asof.online_features_batch is recorded in asof_online."<view>__log".
 *
 *	  Not an INSERT in the serving transaction (it must work in read-only
 *	  transactions and survive the caller's rollback): the serving backend
 *	  copies each entry into a ring buffer in shared memory
 *	  (asof.serving_log_buffer bytes, requested at server start) and
 *	  returns; one background worker per database (started on demand by
 *	  the backend that queues for a database without one; at most
 *	  LOG_DATABASES databases at once) takes its database's entries every
 *	  LOG_DELAY_MS and INSERTs them, one transaction per batch and one
 *	  statement per view, as the extension's owner; the batch's entries are
 *	  its served rows, turned into the served jsonb there, off the serving
 *	  path.
 *	  The ring is never waited on: an entry that does not fit is dropped
 *	  and counted, as is every entry on a hot standby (nothing can be
 *	  written there).  Entries still in the ring are lost on a crash or an
 *	  immediate shutdown (at most the buffer's contents).
 *
 *	  The ring holds variable-length entries between tail and head (byte
 *	  positions that only grow); each entry is QUEUED, TAKEN (by its
 *	  database's worker, being written) or DONE; the tail moves past DONE
 *	  entries only, so entries of several databases finish in any order.
 *	  One LWLock protects the ring, the counters and the worker slots; a
 *	  condition variable wakes asof.serving_log_flush when entries are done.
 *
 *	  Owns: the shared memory (serving_log_ring.h), the settings
 *	  asof.log_serving and asof.serving_log_buffer, queueing and starting
 *	  the workers (which run in serving_log_writer.c),
 *	  asof.serving_log_flush and asof.serving_log_status.
 *	  Must not: decide what is served (online.c) or create log tables
 *	  (online_table.c).  Nothing SQL-callable queues an entry.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "compat.h"
#include "online.h"
#include "serving_log.h"
#include "serving_log_ring.h"

PG_FUNCTION_INFO_V1(asof_serving_log_flush);
PG_FUNCTION_INFO_V1(asof_serving_log_status);

bool		asof_log_serving = false;
static int	log_buffer_kb = 8192;
LogShared  *asof_log_shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* the serving backend's last queued entry (asof.serving_log_flush) */
static uint64 my_last_seq = 0;


struct AsofLogBatch
{
	NameData	view;
	bool		tz;
	int64		at;
	TimestampTz served_at;
	NameData	role;
	StringInfoData buf;			/* packed entries, without seq and state */
	int			n;
	int			too_large;		/* entries larger than the whole ring */
};

/* ----------------------------------------------------------------------
 * Shared memory
 * ----------------------------------------------------------------------
 */
static Size
log_ring_size(void)
{
	return MAXALIGN_DOWN((Size) log_buffer_kb * 1024);
}

static Size
log_shmem_size(void)
{
	return add_size(MAXALIGN(offsetof(LogShared, ring)), log_ring_size());
}

static void
log_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(log_shmem_size());
	RequestNamedLWLockTranche("pg_asof serving log", 1);
}

static void
log_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	asof_log_shared = ShmemInitStruct("pg_asof serving log", log_shmem_size(), &found);
	if (!found)
	{
		memset(asof_log_shared, 0, offsetof(LogShared, ring));
		asof_log_shared->lock = &(GetNamedLWLockTranche("pg_asof serving log"))->lock;
		ConditionVariableInit(&asof_log_shared->done_cv);
		asof_log_shared->size = log_ring_size();
	}
	LWLockRelease(AddinShmemInitLock);
}

void
asof_serving_log_init(void)
{
	DefineCustomBoolVariable("asof.log_serving",
							 "Records every request served by asof.online_features and asof.online_features_batch in the view's serving log.",
							 "The log table is asof_online.\"<view>__log\", written by a background worker shortly after serving; asof.serving_log_flush() waits for it.",
							 &asof_log_serving,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("asof.serving_log_buffer",
							"Shared memory holding serving log entries not yet written.",
							"Entries that do not fit are dropped and counted (asof.serving_log_status()).",
							&log_buffer_kb,
							8192, 64, 1024 * 1024,
							PGC_POSTMASTER,
							GUC_UNIT_KB,
							NULL, NULL, NULL);
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = log_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = log_shmem_startup;
}

/* The entry at byte position pos (< head); NULL when pos is an implicit pad. */
LogEntry   *
asof_log_entry_at(uint64 pos, uint64 *len)
{
	Size		off = pos % asof_log_shared->size;
	LogEntry   *e;

	if (asof_log_shared->size - off < ENTRY_HDR)
	{
		*len = asof_log_shared->size - off;
		return NULL;
	}
	e = (LogEntry *) (asof_log_shared->ring + off);
	*len = e->len;
	return e;
}

/* Move the tail past DONE entries and pads.  Lock held exclusively. */
void
asof_log_advance_tail(void)
{
	while (asof_log_shared->tail < asof_log_shared->head)
	{
		uint64		len;
		LogEntry   *e = asof_log_entry_at(asof_log_shared->tail, &len);

		if (e != NULL && e->state != LOG_DONE && e->state != LOG_PAD)
			break;
		asof_log_shared->tail += len;
	}
}

/* The slot of database dbid, or -1.  Lock held. */
static int
find_slot(Oid dbid)
{
	for (int i = 0; i < LOG_DATABASES; i++)
		if (asof_log_shared->slots[i].dbid == dbid)
			return i;
	return -1;
}

/*
 * Whether slot i needs a worker started: none runs, and none was
 * requested recently.  Marks it requested.  Lock held exclusively.
 */
static bool
slot_needs_start(int i)
{
	LogSlot    *s = &asof_log_shared->slots[i];
	TimestampTz now;

	if (s->pid != 0)
		return false;
	now = GetCurrentTimestamp();
	if (s->starting && !TimestampDifferenceExceeds(s->requested, now, LOG_START_RETRY_MS))
		return false;
	s->starting = true;
	s->requested = now;
	return true;
}

/* Request the worker of slot i (database dbid).  Lock not held. */
static void
start_worker(int i, Oid dbid)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_asof");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "asof_serving_log_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_asof serving log writer for database %u", dbid);
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_asof serving log writer");
	worker.bgw_main_arg = ObjectIdGetDatum(dbid);
	memcpy(worker.bgw_extra, &i, sizeof(int));
	worker.bgw_notify_pid = 0;
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		/* no free worker slot: the entries wait; the next request retries */
		LWLockAcquire(asof_log_shared->lock, LW_EXCLUSIVE);
		if (asof_log_shared->slots[i].dbid == dbid && asof_log_shared->slots[i].pid == 0)
			asof_log_shared->slots[i].starting = false;
		LWLockRelease(asof_log_shared->lock);
		ereport(DEBUG1,
				(errmsg("could not start the pg_asof serving log writer for database %u", dbid)));
	}
}

/* ----------------------------------------------------------------------
 * Queueing (the serving backend)
 * ----------------------------------------------------------------------
 */
ArrayType *
asof_serving_log_entity(Datum *values, bool *nulls, int n)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};

	return construct_md_array(values, nulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT);
}

AsofLogBatch *
asof_serving_log_begin(const char *view, bool tz, int64 at)
{
	AsofLogBatch *b = palloc0(sizeof(AsofLogBatch));

	namestrcpy(&b->view, view);
	b->tz = tz;
	b->at = at;
	b->served_at = asof_clock_now();
	namestrcpy(&b->role, GetUserNameFromId(GetUserId(), false));
	initStringInfo(&b->buf);
	return b;
}

void
asof_serving_log_add(AsofLogBatch *b, int64 tick, ArrayType *entity, Datum served,
					 Oid served_type)
{
	LogEntry	e;
	Size		elen = VARSIZE(entity);
	Size		flen = VARSIZE(DatumGetPointer(served));
	Size		len = ENTRY_HDR + MAXALIGN(elen) + MAXALIGN(flen);
	int			start;

	Assert(!VARATT_IS_EXTENDED(DatumGetPointer(served)));
	if (asof_log_shared == NULL || len > asof_log_shared->size)
	{
		b->too_large++;			/* can never fit: dropped as buffer full */
		return;
	}
	memset(&e, 0, sizeof(e));
	e.len = (uint32) len;
	e.tz = b->tz;
	e.dbid = MyDatabaseId;
	e.pid = MyProcPid;
	e.served_at = b->served_at;
	e.at = b->at;
	e.tick = tick;
	e.view = b->view;
	e.role = b->role;
	e.served_type = served_type;
	e.entity_len = (uint32) elen;
	e.features_len = (uint32) flen;
	start = b->buf.len;
	enlargeStringInfo(&b->buf, len);
	memset(b->buf.data + start, 0, len);
	memcpy(b->buf.data + start, &e, sizeof(e));
	memcpy(b->buf.data + start + ENTRY_HDR, entity, elen);
	memcpy(b->buf.data + start + ENTRY_HDR + MAXALIGN(elen), DatumGetPointer(served), flen);
	b->buf.len += len;
	b->n++;
}

/*
 * The ring is full: when the oldest entry waits for a database without a
 * worker (its start failed, or it exited while its database was being
 * dropped), request one, which writes the entries or, if it cannot
 * connect, drops them as failed, so that one database cannot hold the
 * ring.  Lock held exclusively.
 */
static bool
orphan_start(int *slot, Oid *dbid)
{
	uint64		len;
	LogEntry   *e;
	int			i;

	if (asof_log_shared->tail >= asof_log_shared->head)
		return false;
	e = asof_log_entry_at(asof_log_shared->tail, &len);
	if (e == NULL || e->state != LOG_QUEUED)
		return false;
	i = find_slot(e->dbid);
	if (i < 0 || !slot_needs_start(i))
		return false;
	*slot = i;
	*dbid = e->dbid;
	return true;
}

/*
 * Queue the batch's entries in the ring, in one step under the lock.
 * Never waits for space: an entry that does not fit is dropped and counted.
 */
void
asof_serving_log_end(AsofLogBatch *b)
{
	int			slot;
	bool		start = false;
	bool		full = false;
	Latch	   *latch = NULL;
	int			pos;
	int			orphan = -1;
	Oid			orphan_db = InvalidOid;

	if (asof_log_shared == NULL || b->n + b->too_large == 0)
		return;
	if (RecoveryInProgress())
	{
		LWLockAcquire(asof_log_shared->lock, LW_EXCLUSIVE);
		asof_log_shared->dropped_standby += b->n + b->too_large;
		LWLockRelease(asof_log_shared->lock);
		return;
	}
	LWLockAcquire(asof_log_shared->lock, LW_EXCLUSIVE);
	asof_log_shared->dropped_full += b->too_large;
	slot = find_slot(MyDatabaseId);
	if (slot < 0)
	{
		slot = find_slot(InvalidOid);
		if (slot < 0)
		{
			asof_log_shared->dropped_no_worker += b->n;
			(void) orphan_start(&orphan, &orphan_db);
			LWLockRelease(asof_log_shared->lock);
			if (orphan >= 0)
				start_worker(orphan, orphan_db);
			return;
		}
		memset(&asof_log_shared->slots[slot], 0, sizeof(LogSlot));
		asof_log_shared->slots[slot].dbid = MyDatabaseId;
	}
	pos = 0;
	for (int i = 0; i < b->n; i++)
	{
		LogEntry   *src = (LogEntry *) (b->buf.data + pos);
		Size		size = asof_log_shared->size;
		Size		off = asof_log_shared->head % size;
		Size		pad = (size - off < src->len) ? size - off : 0;

		pos += src->len;
		if (src->len + pad > size - (asof_log_shared->head - asof_log_shared->tail))
		{
			asof_log_shared->dropped_full++;
			full = true;
			continue;
		}
		if (pad > 0)
		{
			if (pad >= ENTRY_HDR)
			{
				LogEntry   *p = (LogEntry *) (asof_log_shared->ring + off);

				p->len = pad;
				p->state = LOG_PAD;
			}
			asof_log_shared->head += pad;
			off = 0;
		}
		memcpy(asof_log_shared->ring + off, src, src->len);
		((LogEntry *) (asof_log_shared->ring + off))->seq = ++asof_log_shared->next_seq;
		((LogEntry *) (asof_log_shared->ring + off))->state = LOG_QUEUED;
		my_last_seq = asof_log_shared->next_seq;
		asof_log_shared->head += src->len;
		asof_log_shared->logged++;
	}
	/*
	 * The worker polls every LOG_DELAY_MS (so that it writes batches, not
	 * one transaction per request); woken early only when the ring is half
	 * full.
	 */
	if (slot_needs_start(slot))
		start = true;
	else if (asof_log_shared->head - asof_log_shared->tail > asof_log_shared->size / 2)
		latch = asof_log_shared->slots[slot].latch;
	if (full)
		(void) orphan_start(&orphan, &orphan_db);
	LWLockRelease(asof_log_shared->lock);
	if (latch != NULL)
		SetLatch(latch);
	if (start)
		start_worker(slot, MyDatabaseId);
	if (orphan >= 0)
		start_worker(orphan, orphan_db);
}


/* ----------------------------------------------------------------------
 * SQL functions
 * ----------------------------------------------------------------------
 */

/*
 * Whether entries this backend queued up to my_last_seq are still pending;
 * requests a worker for this database when none runs.  Lock not held.
 */
static bool
own_entries_pending(void)
{
	bool		pending = false;
	bool		start = false;
	int			slot;
	Latch	   *latch = NULL;

	LWLockAcquire(asof_log_shared->lock, LW_EXCLUSIVE);
	for (uint64 pos = asof_log_shared->tail; pos < asof_log_shared->head && !pending;)
	{
		uint64		len;
		LogEntry   *e = asof_log_entry_at(pos, &len);

		pending = (e != NULL && e->pid == MyProcPid && e->seq <= my_last_seq &&
				   (e->state == LOG_QUEUED || e->state == LOG_TAKEN));
		pos += len;
	}
	slot = find_slot(MyDatabaseId);
	if (pending && slot >= 0)
	{
		if (slot_needs_start(slot))
			start = true;
		else
			latch = asof_log_shared->slots[slot].latch;
	}
	LWLockRelease(asof_log_shared->lock);
	if (latch)
		SetLatch(latch);
	if (start)
		start_worker(slot, MyDatabaseId);
	return pending;
}

/*
 * asof.serving_log_flush(timeout_ms integer) -> boolean: waits until every
 * entry this session queued is written (or dropped); false on timeout.
 */
Datum
asof_serving_log_flush(PG_FUNCTION_ARGS)
{
	int			timeout_ms;
	TimestampTz deadline;
	bool		done = true;

	if (PG_ARGISNULL(0) || PG_GETARG_INT32(0) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("timeout_ms must be a non-negative number of milliseconds"),
				 errhint("Pass the longest wait in milliseconds, for example asof.serving_log_flush(10000).")));
	timeout_ms = PG_GETARG_INT32(0);
	if (asof_log_shared == NULL || my_last_seq == 0)
		PG_RETURN_BOOL(true);
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	ConditionVariablePrepareToSleep(&asof_log_shared->done_cv);
	while (own_entries_pending())
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);

		if (left <= 0)
		{
			done = false;
			break;
		}
		/* wake at least every 100 ms: a worker that exits broadcasts, a failed start does not */
		(void) ConditionVariableTimedSleep(&asof_log_shared->done_cv, Min(left, 100L), PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	PG_RETURN_BOOL(done);
}

/* asof.serving_log_status() -> one row of counters since the server started */
Datum
asof_serving_log_status(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[10];
	bool		nulls[10] = {0};
	int64		queued = 0;
	int			workers = 0;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (asof_log_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the serving log's shared memory is not set up")));
	LWLockAcquire(asof_log_shared->lock, LW_SHARED);
	for (uint64 pos = asof_log_shared->tail; pos < asof_log_shared->head;)
	{
		uint64		len;
		LogEntry   *e = asof_log_entry_at(pos, &len);

		if (e != NULL && (e->state == LOG_QUEUED || e->state == LOG_TAKEN))
			queued++;
		pos += len;
	}
	for (int i = 0; i < LOG_DATABASES; i++)
		if (asof_log_shared->slots[i].pid != 0)
			workers++;
	values[0] = Int64GetDatum((int64) asof_log_shared->logged);
	values[1] = Int64GetDatum((int64) asof_log_shared->written);
	values[2] = Int64GetDatum(queued);
	values[3] = Int64GetDatum((int64) asof_log_shared->failed);
	values[4] = Int64GetDatum((int64) asof_log_shared->dropped_full);
	values[5] = Int64GetDatum((int64) asof_log_shared->dropped_standby);
	values[6] = Int64GetDatum((int64) asof_log_shared->dropped_no_worker);
	values[7] = Int64GetDatum((int64) asof_log_shared->size);
	values[8] = Int64GetDatum((int64) (asof_log_shared->head - asof_log_shared->tail));
	values[9] = Int32GetDatum(workers);
	LWLockRelease(asof_log_shared->lock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
