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
 *	  Owns: the shared memory, the settings asof.log_serving and
 *	  asof.serving_log_buffer, the workers, asof.serving_log_flush and
 *	  asof.serving_log_status.
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

PG_FUNCTION_INFO_V1(asof_serving_log_flush);
PG_FUNCTION_INFO_V1(asof_serving_log_status);

PGDLLEXPORT void asof_serving_log_worker_main(Datum arg);

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

bool		asof_log_serving = false;
static int	log_buffer_kb = 8192;
static LogShared *log_shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* the serving backend's last queued entry (asof.serving_log_flush) */
static uint64 my_last_seq = 0;

/* the worker's slot */
static int	my_slot = -1;

/* SIGTERM (shutdown, DROP DATABASE ... FORCE): write what is queued, then exit */
static volatile sig_atomic_t got_sigterm = false;
/* the longest a terminated worker keeps writing (ms) */
#define LOG_DRAIN_MS 3000

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
	log_shared = ShmemInitStruct("pg_asof serving log", log_shmem_size(), &found);
	if (!found)
	{
		memset(log_shared, 0, offsetof(LogShared, ring));
		log_shared->lock = &(GetNamedLWLockTranche("pg_asof serving log"))->lock;
		ConditionVariableInit(&log_shared->done_cv);
		log_shared->size = log_ring_size();
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
static LogEntry *
entry_at(uint64 pos, uint64 *len)
{
	Size		off = pos % log_shared->size;
	LogEntry   *e;

	if (log_shared->size - off < ENTRY_HDR)
	{
		*len = log_shared->size - off;
		return NULL;
	}
	e = (LogEntry *) (log_shared->ring + off);
	*len = e->len;
	return e;
}

/* Move the tail past DONE entries and pads.  Lock held exclusively. */
static void
advance_tail(void)
{
	while (log_shared->tail < log_shared->head)
	{
		uint64		len;
		LogEntry   *e = entry_at(log_shared->tail, &len);

		if (e != NULL && e->state != LOG_DONE && e->state != LOG_PAD)
			break;
		log_shared->tail += len;
	}
}

/* The slot of database dbid, or -1.  Lock held. */
static int
find_slot(Oid dbid)
{
	for (int i = 0; i < LOG_DATABASES; i++)
		if (log_shared->slots[i].dbid == dbid)
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
	LogSlot    *s = &log_shared->slots[i];
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
		LWLockAcquire(log_shared->lock, LW_EXCLUSIVE);
		if (log_shared->slots[i].dbid == dbid && log_shared->slots[i].pid == 0)
			log_shared->slots[i].starting = false;
		LWLockRelease(log_shared->lock);
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
	if (log_shared == NULL || len > log_shared->size)
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

	if (log_shared->tail >= log_shared->head)
		return false;
	e = entry_at(log_shared->tail, &len);
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

	if (log_shared == NULL || b->n + b->too_large == 0)
		return;
	if (RecoveryInProgress())
	{
		LWLockAcquire(log_shared->lock, LW_EXCLUSIVE);
		log_shared->dropped_standby += b->n + b->too_large;
		LWLockRelease(log_shared->lock);
		return;
	}
	LWLockAcquire(log_shared->lock, LW_EXCLUSIVE);
	log_shared->dropped_full += b->too_large;
	slot = find_slot(MyDatabaseId);
	if (slot < 0)
	{
		slot = find_slot(InvalidOid);
		if (slot < 0)
		{
			log_shared->dropped_no_worker += b->n;
			(void) orphan_start(&orphan, &orphan_db);
			LWLockRelease(log_shared->lock);
			if (orphan >= 0)
				start_worker(orphan, orphan_db);
			return;
		}
		memset(&log_shared->slots[slot], 0, sizeof(LogSlot));
		log_shared->slots[slot].dbid = MyDatabaseId;
	}
	pos = 0;
	for (int i = 0; i < b->n; i++)
	{
		LogEntry   *src = (LogEntry *) (b->buf.data + pos);
		Size		size = log_shared->size;
		Size		off = log_shared->head % size;
		Size		pad = (size - off < src->len) ? size - off : 0;

		pos += src->len;
		if (src->len + pad > size - (log_shared->head - log_shared->tail))
		{
			log_shared->dropped_full++;
			full = true;
			continue;
		}
		if (pad > 0)
		{
			if (pad >= ENTRY_HDR)
			{
				LogEntry   *p = (LogEntry *) (log_shared->ring + off);

				p->len = pad;
				p->state = LOG_PAD;
			}
			log_shared->head += pad;
			off = 0;
		}
		memcpy(log_shared->ring + off, src, src->len);
		((LogEntry *) (log_shared->ring + off))->seq = ++log_shared->next_seq;
		((LogEntry *) (log_shared->ring + off))->state = LOG_QUEUED;
		my_last_seq = log_shared->next_seq;
		log_shared->head += src->len;
		log_shared->logged++;
	}
	/*
	 * The worker polls every LOG_DELAY_MS (so that it writes batches, not
	 * one transaction per request); woken early only when the ring is half
	 * full.
	 */
	if (slot_needs_start(slot))
		start = true;
	else if (log_shared->head - log_shared->tail > log_shared->size / 2)
		latch = log_shared->slots[slot].latch;
	if (full)
		(void) orphan_start(&orphan, &orphan_db);
	LWLockRelease(log_shared->lock);
	if (latch != NULL)
		SetLatch(latch);
	if (start)
		start_worker(slot, MyDatabaseId);
	if (orphan >= 0)
		start_worker(orphan, orphan_db);
}

/* ----------------------------------------------------------------------
 * The worker
 * ----------------------------------------------------------------------
 */

/*
 * At the worker's exit (error, SIGTERM, idle): entries it had taken go back
 * to the queue; if it never connected (the database is gone or refuses
 * connections), its database's entries are dropped as failed; the slot is
 * freed when nothing of its database is queued.
 */
static void
log_worker_exit(int code, Datum arg)
{
	LogSlot    *s;
	uint64		pos;
	bool		left = false;

	if (my_slot < 0)
		return;
	LWLockReleaseAll();
	LWLockAcquire(log_shared->lock, LW_EXCLUSIVE);
	s = &log_shared->slots[my_slot];
	if (s->pid == MyProcPid)
	{
		for (pos = log_shared->tail; pos < log_shared->head;)
		{
			uint64		len;
			LogEntry   *e = entry_at(pos, &len);

			if (e != NULL && e->dbid == s->dbid &&
				(e->state == LOG_QUEUED || e->state == LOG_TAKEN))
			{
				if (!s->connected)
				{
					e->state = LOG_DONE;
					log_shared->failed++;
				}
				else
				{
					e->state = LOG_QUEUED;
					left = true;
				}
			}
			pos += len;
		}
		s->pid = 0;
		s->latch = NULL;
		s->starting = false;
		s->connected = false;
		if (!left)
			s->dbid = InvalidOid;
		advance_tail();
	}
	LWLockRelease(log_shared->lock);
	ConditionVariableBroadcast(&log_shared->done_cv);
}

/*
 * Copy up to LOG_BATCH of this database's queued entries into local
 * memory, marking them TAKEN; their ring positions in *positions.
 */
static int
take_batch(Oid dbid, LogEntry **entries, uint64 *positions)
{
	int			n = 0;

	LWLockAcquire(log_shared->lock, LW_EXCLUSIVE);
	for (uint64 pos = log_shared->tail; pos < log_shared->head && n < LOG_BATCH;)
	{
		uint64		len;
		LogEntry   *e = entry_at(pos, &len);

		if (e != NULL && e->state == LOG_QUEUED && e->dbid == dbid)
		{
			entries[n] = palloc(e->len);
			memcpy(entries[n], e, e->len);
			positions[n] = pos;
			e->state = LOG_TAKEN;
			n++;
		}
		pos += len;
	}
	LWLockRelease(log_shared->lock);
	return n;
}

static void
finish_batch(uint64 *positions, int n, uint64 written, uint64 failed)
{
	LWLockAcquire(log_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < n; i++)
	{
		uint64		len;
		LogEntry   *e = entry_at(positions[i], &len);

		Assert(e != NULL && e->state == LOG_TAKEN);
		e->state = LOG_DONE;
	}
	log_shared->written += written;
	log_shared->failed += failed;
	advance_tail();
	LWLockRelease(log_shared->lock);
	ConditionVariableBroadcast(&log_shared->done_cv);
}

/*
 * The jsonb object online_features returns, from a row of the served type
 * expanded into the columns of "u": jsonb_build_object(feature, value, ...) over the
 * feature columns (after "tick", named <view>__<feature>), 50 pairs per
 * call (the argument limit), as online_table.c builds it for serving.
 */
static char *
features_from_row(const char *view, Oid served_type)
{
	TupleDesc	desc = lookup_rowtype_tupdesc(served_type, -1);
	StringInfoData s;
	int			nf = 0;
	bool		after_tick = false;
	size_t		plen = strlen(view) + 2;

	initStringInfo(&s);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *col = NameStr(att->attname);

		if (att->attisdropped)
			continue;
		if (!after_tick)
		{
			after_tick = (strcmp(col, "tick") == 0);
			continue;
		}
		if (strncmp(col, view, plen - 2) != 0 || strncmp(col + plen - 2, "__", 2) != 0)
			elog(ERROR, "column \"%s\" of the served type of feature view \"%s\" is not a feature", col, view);
		if (nf % 50 == 0)
			appendStringInfoString(&s, nf == 0 ? "pg_catalog.jsonb_build_object(" :
								   ") OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(");
		else
			appendStringInfoString(&s, ", ");
		appendStringInfo(&s, "%s::pg_catalog.text, u.%s", quote_literal_cstr(col + plen),
						 quote_identifier(col));
		nf++;
	}
	ReleaseTupleDesc(desc);
	if (nf == 0)
		appendStringInfoString(&s, "pg_catalog.jsonb_build_object(");
	appendStringInfoChar(&s, ')');
	return s.data;
}

/*
 * INSERT entries i..j-1 (one view, one time type, one kind) into the
 * view's log table: one statement over arrays of the columns (unnest), so
 * a batch costs one executor run per view, not one per entry.  Rows of the
 * batch (served_type valid) become the jsonb here.  Returns the rows
 * written; 0 when the view has no log table, or another served type, any
 * more.  SPI connected.
 */
static uint64
insert_group(LogEntry **entries, int i, int j)
{
	LogEntry   *first = entries[i];
	Oid			types[1] = {TEXTOID};
	Datum		v[1] = {CStringGetTextDatum(NameStr(first->view))};
	Oid			timearr = first->tz ? TIMESTAMPTZARRAYOID : TIMESTAMPARRAYOID;
	bool		rows = OidIsValid(first->served_type);
	Oid			ptypes[6] = {TIMESTAMPTZARRAYOID, timearr, timearr, TEXTARRAYOID, JSONBARRAYOID, NAMEARRAYOID};
	Datum		args[6];
	int			n = j - i;
	Datum	   *served = palloc(sizeof(Datum) * n);
	Datum	   *at = palloc(sizeof(Datum) * n);
	Datum	   *tick = palloc(sizeof(Datum) * n);
	Datum	   *entity = palloc(sizeof(Datum) * n);
	Datum	   *features = palloc(sizeof(Datum) * n);
	Datum	   *role = palloc(sizeof(Datum) * n);
	char	   *table;
	bool		isnull;

	asof_online_spi("SELECT o.log_table::pg_catalog.text, o.served_type::pg_catalog.oid FROM asof.online_tables o "
					"WHERE o.feature_view OPERATOR(pg_catalog.=) $1",
					1, types, v, NULL, SPI_OK_SELECT);
	if (SPI_processed != 1 ||
		(rows && DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)) !=
		 first->served_type))
		return 0;
	table = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	for (int k = 0; k < n; k++)
	{
		LogEntry   *e = entries[i + k];

		served[k] = TimestampTzGetDatum(e->served_at);
		at[k] = Int64GetDatum(e->at);
		tick[k] = Int64GetDatum(e->tick);
		/* the entity as an array literal: text[] rows cannot be unnested as arrays */
		entity[k] = DirectFunctionCall1(textin, OidFunctionCall1(F_ARRAY_OUT,
																 PointerGetDatum(ENTRY_ENTITY(e))));
		features[k] = PointerGetDatum(ENTRY_FEATURES(e));
		role[k] = NameGetDatum(&e->role);
	}
	args[0] = PointerGetDatum(construct_array(served, n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[1] = PointerGetDatum(construct_array(at, n, first->tz ? TIMESTAMPTZOID : TIMESTAMPOID, 8,
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[2] = PointerGetDatum(construct_array(tick, n, first->tz ? TIMESTAMPTZOID : TIMESTAMPOID, 8,
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[3] = PointerGetDatum(construct_array(entity, n, TEXTOID, -1, false, TYPALIGN_INT));
	if (rows)
	{
		ptypes[4] = get_array_type(first->served_type);
		if (!OidIsValid(ptypes[4]))
			return 0;
		args[4] = PointerGetDatum(construct_array(features, n, first->served_type, -1, false, TYPALIGN_DOUBLE));
	}
	else
		args[4] = PointerGetDatum(construct_array(features, n, JSONBOID, -1, false, TYPALIGN_INT));
	args[5] = PointerGetDatum(construct_array(role, n, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR));
	/*
	 * The rows' unnest comes last: ROWS FROM expands a composite into its
	 * columns, which keep the served type's names (the entity columns,
	 * tick, <view>__<feature>); the aliases name the others.
	 */
	asof_online_spi(psprintf("INSERT INTO %s (served_at, at, tick, entity, features, role) "
							 "SELECT u.asof_l_s, u.asof_l_a, u.asof_l_t, u.asof_l_e::pg_catalog.text[], %s, u.asof_l_ro "
							 "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), "
							 "pg_catalog.unnest($4), pg_catalog.unnest($6), pg_catalog.unnest($5)) "
							 "AS u(asof_l_s, asof_l_a, asof_l_t, asof_l_e, asof_l_ro%s)",
							 table, rows ? features_from_row(NameStr(first->view), first->served_type) : "u.asof_l_f",
							 rows ? "" : ", asof_l_f"),
					6, ptypes, args, NULL, SPI_OK_INSERT);
	return SPI_processed;
}

/*
 * INSERT entries into their views' log tables in one transaction, as the
 * extension's owner (search_path pg_catalog, pg_temp, security-restricted).
 * An entry whose view has no log table any more is counted as failed.
 * Returns false (the transaction rolled back, the error logged) on error.
 */
static bool
write_batch(LogEntry **entries, int n, uint64 *written, uint64 *failed)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool ok = true;
	volatile uint64 w = 0;

	*written = *failed = 0;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pg_asof serving log: writing entries");
	PG_TRY();
	{
		AsofAsOwner s;

		asof_as_owner_begin(&s, true);
		for (int i = 0; i < n;)
		{
			int			j = i + 1;

			while (j < n && entries[j]->tz == entries[i]->tz &&
				   entries[j]->served_type == entries[i]->served_type &&
				   strcmp(NameStr(entries[j]->view), NameStr(entries[i]->view)) == 0)
				j++;
			w += insert_group(entries, i, j);
			i = j;
		}
		asof_as_owner_end(&s);
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	pgstat_report_activity(STATE_IDLE, NULL);
	if (ok)
	{
		*written = w;
		*failed = n - w;
	}
	return ok;
}

static void
log_worker_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	/* a second SIGTERM (pg_terminate_backend twice) ends it at once */
	if (got_sigterm)
		die(postgres_signal_arg);
	got_sigterm = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

void
asof_serving_log_worker_main(Datum arg)
{
	Oid			dbid = DatumGetObjectId(arg);
	int			slot;
	LogSlot    *s;
	MemoryContext batch_cxt;
	LogEntry  **entries;
	uint64	   *positions;
	TimestampTz idle_since;
	TimestampTz term_since = 0;

	pqsignal(SIGTERM, log_worker_sigterm);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	memcpy(&slot, MyBgworkerEntry->bgw_extra, sizeof(int));
	if (log_shared == NULL || slot < 0 || slot >= LOG_DATABASES)
		proc_exit(0);

	/* claim the slot, unless another worker has it */
	LWLockAcquire(log_shared->lock, LW_EXCLUSIVE);
	s = &log_shared->slots[slot];
	if (s->dbid != dbid || s->pid != 0)
	{
		LWLockRelease(log_shared->lock);
		proc_exit(0);
	}
	s->pid = MyProcPid;
	s->latch = MyLatch;
	s->starting = false;
	s->connected = false;
	LWLockRelease(log_shared->lock);
	my_slot = slot;
	before_shmem_exit(log_worker_exit, (Datum) 0);

	/* the bootstrap superuser; writes switch to the extension's owner */
	BackgroundWorkerInitializeConnectionByOid(dbid, InvalidOid, 0);
	LWLockAcquire(log_shared->lock, LW_EXCLUSIVE);
	s->connected = true;
	LWLockRelease(log_shared->lock);
	/* no user code: ordinary triggers and rules do not fire, fixed search_path */
	SetConfigOption("session_replication_role", "replica", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	pgstat_report_appname("pg_asof serving log writer");

	batch_cxt = AllocSetContextCreate(TopMemoryContext, "pg_asof serving log batch",
									  ALLOCSET_DEFAULT_SIZES);
	entries = MemoryContextAlloc(TopMemoryContext, sizeof(LogEntry *) * LOG_BATCH);
	positions = MemoryContextAlloc(TopMemoryContext, sizeof(uint64) * LOG_BATCH);
	idle_since = GetCurrentTimestamp();
	for (;;)
	{
		int			n;

		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		MemoryContextReset(batch_cxt);
		MemoryContextSwitchTo(batch_cxt);
		if (got_sigterm && term_since == 0)
			term_since = GetCurrentTimestamp();
		if (got_sigterm &&
			TimestampDifferenceExceeds(term_since, GetCurrentTimestamp(), LOG_DRAIN_MS))
			proc_exit(0);		/* what is left goes back to the queue */
		n = take_batch(dbid, entries, positions);
		if (n == 0 && got_sigterm)
			proc_exit(0);
		if (n > 0)
		{
			uint64		written;
			uint64		failed;

			if (write_batch(entries, n, &written, &failed))
				finish_batch(positions, n, written, failed);
			else
			{
				/* one entry per transaction: only the bad ones are lost */
				for (int i = 0; i < n; i++)
				{
					if (!write_batch(&entries[i], 1, &written, &failed))
					{
						written = 0;
						failed = 1;
					}
					finish_batch(&positions[i], 1, written, failed);
				}
			}
			idle_since = GetCurrentTimestamp();
			if (n == LOG_BATCH || got_sigterm)
				continue;		/* more may be queued */
		}
		else if (TimestampDifferenceExceeds(idle_since, GetCurrentTimestamp(), LOG_IDLE_EXIT_MS))
		{
			bool		left = false;

			LWLockAcquire(log_shared->lock, LW_EXCLUSIVE);
			for (uint64 pos = log_shared->tail; pos < log_shared->head && !left;)
			{
				uint64		len;
				LogEntry   *e = entry_at(pos, &len);

				left = (e != NULL && e->dbid == dbid && e->state == LOG_QUEUED);
				pos += len;
			}
			if (!left)
			{
				memset(s, 0, sizeof(LogSlot));
				my_slot = -1;
			}
			LWLockRelease(log_shared->lock);
			if (!left)
				proc_exit(0);
			continue;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 LOG_DELAY_MS, PG_WAIT_EXTENSION);
	}
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

	LWLockAcquire(log_shared->lock, LW_EXCLUSIVE);
	for (uint64 pos = log_shared->tail; pos < log_shared->head && !pending;)
	{
		uint64		len;
		LogEntry   *e = entry_at(pos, &len);

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
			latch = log_shared->slots[slot].latch;
	}
	LWLockRelease(log_shared->lock);
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
	if (log_shared == NULL || my_last_seq == 0)
		PG_RETURN_BOOL(true);
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	ConditionVariablePrepareToSleep(&log_shared->done_cv);
	while (own_entries_pending())
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);

		if (left <= 0)
		{
			done = false;
			break;
		}
		/* wake at least every 100 ms: a worker that exits broadcasts, a failed start does not */
		(void) ConditionVariableTimedSleep(&log_shared->done_cv, Min(left, 100L), PG_WAIT_EXTENSION);
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
	if (log_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the serving log's shared memory is not set up")));
	LWLockAcquire(log_shared->lock, LW_SHARED);
	for (uint64 pos = log_shared->tail; pos < log_shared->head;)
	{
		uint64		len;
		LogEntry   *e = entry_at(pos, &len);

		if (e != NULL && (e->state == LOG_QUEUED || e->state == LOG_TAKEN))
			queued++;
		pos += len;
	}
	for (int i = 0; i < LOG_DATABASES; i++)
		if (log_shared->slots[i].pid != 0)
			workers++;
	values[0] = Int64GetDatum((int64) log_shared->logged);
	values[1] = Int64GetDatum((int64) log_shared->written);
	values[2] = Int64GetDatum(queued);
	values[3] = Int64GetDatum((int64) log_shared->failed);
	values[4] = Int64GetDatum((int64) log_shared->dropped_full);
	values[5] = Int64GetDatum((int64) log_shared->dropped_standby);
	values[6] = Int64GetDatum((int64) log_shared->dropped_no_worker);
	values[7] = Int64GetDatum((int64) log_shared->size);
	values[8] = Int64GetDatum((int64) (log_shared->head - log_shared->tail));
	values[9] = Int32GetDatum(workers);
	LWLockRelease(log_shared->lock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
