/*-------------------------------------------------------------------------
 *
 * ingestion_stamp.c
 *	  The two trigger functions of asof.track_ingestion (docs/online.md,
 *	  "Knowledge time: asof.track_ingestion"):
 *	  - asof_ingestion_stamp, a deferred constraint trigger AFTER INSERT FOR
 *		EACH ROW: at pre-commit it writes the transaction's one stamp
 *		(asof.clock when set, else the wall clock at the first row stamped)
 *		into the newest version of each row the transaction inserted, by
 *		tid, through the executor's simple update (indexes maintained, no
 *		trigger fired, no planner, so the guard's row filter does not hide
 *		held-out rows from it).  A value given by the inserter is
 *		overwritten.  Rows deleted again, or inserted in a rolled-back
 *		subtransaction, are skipped.
 *	  - asof_ingestion_keep, BEFORE UPDATE FOR EACH ROW: the column keeps
 *		its old value (the first arrival).
 *
 *	  Owns: the per-transaction stamp and the relations it updates.
 *	  Must not: create or check triggers, or read the registry
 *	  (ingestion.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/extension.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "tcop/pquery.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "ingestion.h"
#include "online.h"

PG_FUNCTION_INFO_V1(asof_ingestion_stamp);
PG_FUNCTION_INFO_V1(asof_ingestion_keep);

/* ----------------------------------------------------------------------
 * The stamp: one per transaction
 * ----------------------------------------------------------------------
 */

/* What the stamp trigger keeps per relation it updates, for the transaction. */
typedef struct StampTarget
{
	Oid			relid;
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	EPQState	epq;
	TableScanDesc scan;			/* for following update chains */
	TupleTableSlot *oldslot;
	TupleTableSlot *newslot;
	bool		stale;			/* its relcache entry was invalidated */
	struct StampTarget *next;
} StampTarget;

static StampTarget *targets = NULL;
static bool stamp_valid = false;
static TimestampTz stamp_value;
static bool callbacks_registered = false;

static void
close_target(StampTarget *t)
{
	ResourceOwner save_owner = CurrentResourceOwner;

	CurrentResourceOwner = TopTransactionResourceOwner;
	table_endscan(t->scan);
	ExecCloseIndices(t->rri);
	EvalPlanQualEnd(&t->epq);
	ExecResetTupleTable(t->estate->es_tupleTable, false);
	FreeExecutorState(t->estate);
	table_close(t->rel, NoLock);
	CurrentResourceOwner = save_owner;
}

static void
close_targets(void)
{
	for (StampTarget *t = targets; t != NULL; t = t->next)
		close_target(t);
	targets = NULL;
}

/*
 * A relcache invalidation (DDL in the transaction between two immediate
 * stamps: a new index, a new column) makes a kept target stale: it is
 * rebuilt at its next use, not here (no closing inside a callback).
 */
static void
stamp_relcache_callback(Datum arg, Oid relid)
{
	for (StampTarget *t = targets; t != NULL; t = t->next)
		if (!OidIsValid(relid) || t->relid == relid)
			t->stale = true;
}

static void
stamp_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			/* deferred triggers have fired: release what they kept open */
			close_targets();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			/* memory went with the transaction, references with its resource owner */
			targets = NULL;
			stamp_valid = false;
			break;
	}
}

/*
 * The transaction's stamp: asof.clock when set, else the wall clock when
 * the first row is stamped (deferred: at pre-commit, unless SET
 * CONSTRAINTS made the trigger immediate).
 */
static TimestampTz
transaction_stamp(void)
{
	if (!stamp_valid)
	{
		const char *clock = GetConfigOption("asof.clock", true, false);

		stamp_value = (clock == NULL || clock[0] == '\0') ?
			GetCurrentTimestamp() : asof_clock_now();
		stamp_valid = true;
	}
	return stamp_value;
}

/*
 * What the stamp of trigrel's rows needs.  keep: kept until pre-commit
 * ends (the deferred firing at commit, row after row); else the caller
 * closes it after one row (a trigger made immediate fires inside a
 * statement, and a relation kept open would make later DDL of the
 * transaction on it fail as "in use").
 */
static StampTarget *
target_for(Relation trigrel, bool keep)
{
	StampTarget *t;
	MemoryContext old;
	ResourceOwner save_owner;
	Oid			relid = RelationGetRelid(trigrel);

	for (StampTarget **p = &targets; keep && *p != NULL; p = &(*p)->next)
		if ((*p)->relid == relid)
		{
			t = *p;
			if (!t->stale)
				return t;
			*p = t->next;
			close_target(t);
			break;
		}
	if (!callbacks_registered)
	{
		RegisterXactCallback(stamp_xact_callback, NULL);
		CacheRegisterRelcacheCallback(stamp_relcache_callback, (Datum) 0);
		callbacks_registered = true;
	}
	/*
	 * Kept for the transaction: in its memory and resource owner (a
	 * trigger made immediate fires under a portal's, or a subtransaction's)
	 */
	old = MemoryContextSwitchTo(TopTransactionContext);
	save_owner = CurrentResourceOwner;
	CurrentResourceOwner = TopTransactionResourceOwner;
	t = palloc0(sizeof(StampTarget));
	t->relid = relid;
	t->rel = table_open(relid, RowExclusiveLock);
	t->estate = CreateExecutorState();
	t->rri = makeNode(ResultRelInfo);
	/* no range table entry: no permission, no trigger, no planner */
	InitResultRelInfo(t->rri, t->rel, 0, NULL, 0);
	t->rri->ri_TrigDesc = NULL;
	ExecOpenIndices(t->rri, false);
	asof_epq_init(&t->epq, t->estate);
	t->oldslot = table_slot_create(t->rel, &t->estate->es_tupleTable);
	t->newslot = ExecInitExtraTupleSlot(t->estate, RelationGetDescr(t->rel), &TTSOpsVirtual);
	t->scan = table_beginscan_tid(t->rel, SnapshotSelf);
	if (keep)
	{
		t->next = targets;
		targets = t;
	}
	CurrentResourceOwner = save_owner;
	MemoryContextSwitchTo(old);
	return t;
}

/* The tracked column (the trigger's argument) of rel: a timestamptz column. */
static AttrNumber
tracked_attnum(Relation rel, Trigger *trig)
{
	AttrNumber	attnum;

	if (trig->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("trigger \"%s\" of table \"%s\" must name one column",
						trig->tgname, RelationGetRelationName(rel))));
	attnum = get_attnum(RelationGetRelid(rel), trig->tgargs[0]);
	if (attnum <= 0 ||
		TupleDescAttr(RelationGetDescr(rel), attnum - 1)->atttypid != TIMESTAMPTZOID)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("table \"%s\" has no timestamptz column \"%s\" to record ingestion time in",
						RelationGetRelationName(rel), trig->tgargs[0]),
				 errdetail("Trigger \"%s\" records the time each row arrived in that column; it was renamed, dropped or changed type.",
						   trig->tgname),
				 errhint("Call asof.untrack_ingestion and asof.track_ingestion on the table again.")));
	return attnum;
}

static TriggerData *
checked_trigger(FunctionCallInfo fcinfo, const char *fname)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function %s was not called by the trigger manager", fname)));
	return (TriggerData *) fcinfo->context;
}

/* After one row: clear the target's slot, or close a target not kept. */
static Datum
done(StampTarget *t, bool keep)
{
	ExecClearTuple(t->oldslot);
	if (!keep)
	{
		close_target(t);
		pfree(t);
	}
	return PointerGetDatum(NULL);
}

/* asof._ingestion_stamp(): deferred AFTER INSERT FOR EACH ROW */
Datum
asof_ingestion_stamp(PG_FUNCTION_ARGS)
{
	TriggerData *td = checked_trigger(fcinfo, "asof._ingestion_stamp");
	Relation	rel = td->tg_relation;
	AttrNumber	attnum;
	StampTarget *t;
	ItemPointerData tid;
	TimestampTz stamp;
	int			natts = RelationGetDescr(rel)->natts;
	bool		isnull;
	Datum		cur;
	TupleTableSlot *row = NULL;
	bool		keep;

	if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function asof._ingestion_stamp must be fired AFTER INSERT FOR EACH ROW")));
	attnum = tracked_attnum(rel, td->tg_trigger);
	stamp = transaction_stamp();
	/* at commit no portal is active: the firing of the deferred queue */
	keep = (ActivePortal == NULL);
	t = target_for(rel, keep);
	tid = td->tg_trigslot->tts_tid;

	/*
	 * The row's newest version in this transaction; none if deleted again.
	 * Usually the version inserted, as the trigger manager fetched it: its
	 * xmax is still invalid (an update, delete or lock clears the flag).
	 */
	{
		bool		should_free;
		HeapTuple	ht = ExecFetchSlotHeapTuple(td->tg_trigslot, false, &should_free);

		if (!should_free && (ht->t_data->t_infomask & HEAP_XMAX_INVALID))
			row = td->tg_trigslot;
		else if (should_free)
			heap_freetuple(ht);
	}
	if (row == NULL)
	{
		table_tuple_get_latest_tid(t->scan, &tid);
		if (!table_tuple_fetch_row_version(t->rel, &tid, SnapshotSelf, t->oldslot))
			return done(t, keep);
		row = t->oldslot;
	}
	cur = slot_getattr(row, attnum, &isnull);
	if (!isnull && DatumGetTimestampTz(cur) == stamp)
		return done(t, keep);

	/*
	 * An update must see the version it replaces as an earlier command's
	 * (a frozen version, from COPY FREEZE, counts as committed already)
	 */
	{
		bool		should_free;
		HeapTuple	ht = ExecFetchSlotHeapTuple(row, false, &should_free);

		if (TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(ht->t_data)) &&
			HeapTupleHeaderGetCmin(ht->t_data) >= GetCurrentCommandId(false))
			CommandCounterIncrement();
		if (should_free)
			heap_freetuple(ht);
	}

	slot_getallattrs(row);
	ExecClearTuple(t->newslot);
	memcpy(t->newslot->tts_values, row->tts_values, sizeof(Datum) * natts);
	memcpy(t->newslot->tts_isnull, row->tts_isnull, sizeof(bool) * natts);
	t->newslot->tts_values[attnum - 1] = TimestampTzGetDatum(stamp);
	t->newslot->tts_isnull[attnum - 1] = false;
	ExecStoreVirtualTuple(t->newslot);

	t->estate->es_snapshot = GetActiveSnapshot();
	t->estate->es_output_cid = GetCurrentCommandId(true);
	ExecSimpleRelationUpdate(t->rri, t->estate, &t->epq, row, t->newslot);
	ResetPerTupleExprContext(t->estate);
	ExecClearTuple(t->newslot);
	return done(t, keep);
}

/* asof._ingestion_keep(): BEFORE UPDATE FOR EACH ROW, the first arrival stays */
Datum
asof_ingestion_keep(PG_FUNCTION_ARGS)
{
	TriggerData *td = checked_trigger(fcinfo, "asof._ingestion_keep");
	Relation	rel = td->tg_relation;
	AttrNumber	attnum;
	Datum		oldv;
	Datum		newv;
	bool		oldnull;
	bool		newnull;
	int			col;

	if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function asof._ingestion_keep must be fired BEFORE UPDATE FOR EACH ROW")));
	attnum = tracked_attnum(rel, td->tg_trigger);
	oldv = slot_getattr(td->tg_trigslot, attnum, &oldnull);
	newv = slot_getattr(td->tg_newslot, attnum, &newnull);
	if (oldnull == newnull && (oldnull || DatumGetTimestampTz(oldv) == DatumGetTimestampTz(newv)))
		return PointerGetDatum(td->tg_newtuple);
	col = attnum;
	return PointerGetDatum(heap_modify_tuple_by_cols(td->tg_newtuple, RelationGetDescr(rel),
													 1, &col, &oldv, &oldnull));
}
