/*-------------------------------------------------------------------------
 *
 * serving_log_writer.c
 *	  The serving log's background worker (docs/online.md, "Serving log"):
 *	  one per database, started on demand by serving_log.c; every
 *	  LOG_DELAY_MS it takes its database's queued entries from the ring,
 *	  turns batch rows into the served jsonb and INSERTs them into each
 *	  view's asof_online."<view>__log", one transaction per batch and one
 *	  statement per view, as the extension's owner with search_path pinned
 *	  and user triggers off; on SIGTERM it writes what is queued (at most
 *	  LOG_DRAIN_MS), and it exits when idle.
 *
 *	  Must not: serve, or queue entries (serving_log.c).
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

#include "compat.h"
#include "online.h"
#include "serving_log.h"
#include "serving_log_ring.h"

PGDLLEXPORT void asof_serving_log_worker_main(Datum arg);

/* the worker's slot */
static int	my_slot = -1;

/* SIGTERM (shutdown, DROP DATABASE ... FORCE): write what is queued, then exit */
static volatile sig_atomic_t got_sigterm = false;


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
	LWLockAcquire(asof_log_shared->lock, LW_EXCLUSIVE);
	s = &asof_log_shared->slots[my_slot];
	if (s->pid == MyProcPid)
	{
		for (pos = asof_log_shared->tail; pos < asof_log_shared->head;)
		{
			uint64		len;
			LogEntry   *e = asof_log_entry_at(pos, &len);

			if (e != NULL && e->dbid == s->dbid &&
				(e->state == LOG_QUEUED || e->state == LOG_TAKEN))
			{
				if (!s->connected)
				{
					e->state = LOG_DONE;
					asof_log_shared->failed++;
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
		asof_log_advance_tail();
	}
	LWLockRelease(asof_log_shared->lock);
	ConditionVariableBroadcast(&asof_log_shared->done_cv);
}

/*
 * Copy up to LOG_BATCH of this database's queued entries into local
 * memory, marking them TAKEN; their ring positions in *positions.
 */
static int
take_batch(Oid dbid, LogEntry **entries, uint64 *positions)
{
	int			n = 0;

	LWLockAcquire(asof_log_shared->lock, LW_EXCLUSIVE);
	for (uint64 pos = asof_log_shared->tail; pos < asof_log_shared->head && n < LOG_BATCH;)
	{
		uint64		len;
		LogEntry   *e = asof_log_entry_at(pos, &len);

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
	LWLockRelease(asof_log_shared->lock);
	return n;
}

static void
finish_batch(uint64 *positions, int n, uint64 written, uint64 failed)
{
	LWLockAcquire(asof_log_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < n; i++)
	{
		uint64		len;
		LogEntry   *e = asof_log_entry_at(positions[i], &len);

		Assert(e != NULL && e->state == LOG_TAKEN);
		e->state = LOG_DONE;
	}
	asof_log_shared->written += written;
	asof_log_shared->failed += failed;
	asof_log_advance_tail();
	LWLockRelease(asof_log_shared->lock);
	ConditionVariableBroadcast(&asof_log_shared->done_cv);
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
	if (asof_log_shared == NULL || slot < 0 || slot >= LOG_DATABASES)
		proc_exit(0);

	/* claim the slot, unless another worker has it */
	LWLockAcquire(asof_log_shared->lock, LW_EXCLUSIVE);
	s = &asof_log_shared->slots[slot];
	if (s->dbid != dbid || s->pid != 0)
	{
		LWLockRelease(asof_log_shared->lock);
		proc_exit(0);
	}
	s->pid = MyProcPid;
	s->latch = MyLatch;
	s->starting = false;
	s->connected = false;
	LWLockRelease(asof_log_shared->lock);
	my_slot = slot;
	before_shmem_exit(log_worker_exit, (Datum) 0);

	/* the bootstrap superuser; writes switch to the extension's owner */
	BackgroundWorkerInitializeConnectionByOid(dbid, InvalidOid, 0);
	LWLockAcquire(asof_log_shared->lock, LW_EXCLUSIVE);
	s->connected = true;
	LWLockRelease(asof_log_shared->lock);
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

			LWLockAcquire(asof_log_shared->lock, LW_EXCLUSIVE);
			for (uint64 pos = asof_log_shared->tail; pos < asof_log_shared->head && !left;)
			{
				uint64		len;
				LogEntry   *e = asof_log_entry_at(pos, &len);

				left = (e != NULL && e->dbid == dbid && e->state == LOG_QUEUED);
				pos += len;
			}
			if (!left)
			{
				memset(s, 0, sizeof(LogSlot));
				my_slot = -1;
			}
			LWLockRelease(asof_log_shared->lock);
			if (!left)
				proc_exit(0);
			continue;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 LOG_DELAY_MS, PG_WAIT_EXTENSION);
	}
}
