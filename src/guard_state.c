/*-------------------------------------------------------------------------
 *
 * guard_state.c
 *	  The leakage guard's per-backend state (see guard_state.h) and the
 *	  transaction callbacks that put it back.
 *
 *	  The state is: the two settings; the one-shot exemption of the guard's
 *	  own next query; the tables unsealed in this transaction; the depth of
 *	  referential-integrity executors; the count of protected reads during
 *	  an engine source read; the training-set build in progress; the caller
 *	  of the public guard function running.  (The registry cache is
 *	  guard_registry.c's, dropped from here at every abort.)  At the end of every
 *	  transaction all of it is cleared.  At every abort, of a transaction or
 *	  a subtransaction, what the aborted part set is cleared and the
 *	  registry cache (guard_registry.c) is dropped, so that nothing a
 *	  rolled-back guard call did to this backend's view of the registry
 *	  outlives it: the next statement reloads what is committed.
 *
 *	  Must not: decide what is refused or hidden (guard_columns.c,
 *	  guard_rows.c, guard_utility.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/plancache.h"

#include "guard_registry.h"
#include "guard.h"
#include "guard_state.h"

bool		asof_guard_enabled = true;
bool		asof_require_split = false;

/* The exemption: armed, being planned, planned (see guard_state.h). */
static Oid	exempt_pending = InvalidOid;
static PlannedStmt *exempt_plan = NULL;
static Oid	exempt_plan_relid = InvalidOid;

/* Unsealed tables, each with the subtransaction that unsealed it. */
typedef struct AsofUnsealed
{
	Oid			regrelid;
	SubTransactionId subid;
} AsofUnsealed;

static List *unsealed = NIL;	/* of AsofUnsealed *, in TopMemoryContext */

static int	noforce_depth = 0;

static bool reads_counting = false;
static int	reads_counted = 0;

static bool build_active = false;
static Oid	build_spine = InvalidOid;
static int64 build_sealed_from = 0;
static SubTransactionId build_subid = InvalidSubTransactionId;

static Oid	api_caller = InvalidOid;

/* This process is a parallel build's worker (build_parallel.c). */
static bool build_worker = false;

bool
asof_guard_active(void)
{
	return asof_guard_enabled;
}

void
asof_guard_enter_build_worker(void)
{
	build_worker = true;
}

bool
asof_guard_in_build_worker(void)
{
	return build_worker;
}

/* ---- the exemption ---- */

void
asof_guard_exempt_next_plan(Oid relid)
{
	exempt_pending = relid;
}

static bool
query_reads(Query *parse, Oid relid)
{
	ListCell   *lc;

	foreach(lc, parse->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_RELATION && rte->relid == relid)
			return true;
	}
	return false;
}

Oid
asof_guard_exemption_take(Query *parse)
{
	Oid			relid = exempt_pending;

	exempt_pending = InvalidOid;	/* one shot, whatever is planned */
	if (!OidIsValid(relid) || !query_reads(parse, relid))
		return InvalidOid;
	return relid;
}

void
asof_guard_exemption_planned(PlannedStmt *plan, Oid relid)
{
	exempt_plan = plan;
	exempt_plan_relid = relid;
}

bool
asof_guard_exemption_covers(PlannedStmt *plan, Oid relid)
{
	return plan != NULL && plan == exempt_plan && relid == exempt_plan_relid;
}

void
asof_guard_exemption_started(PlannedStmt *plan)
{
	if (plan == exempt_plan)
	{
		exempt_plan = NULL;
		exempt_plan_relid = InvalidOid;
	}
}

static void
exemption_clear(void)
{
	exempt_pending = InvalidOid;
	exempt_plan = NULL;
	exempt_plan_relid = InvalidOid;
}

/* ---- unsealed tables ---- */

void
asof_guard_mark_unsealed(Oid regrelid)
{
	MemoryContext old;
	AsofUnsealed *u;

	if (asof_guard_is_unsealed(regrelid))
		return;
	old = MemoryContextSwitchTo(TopMemoryContext);
	u = palloc(sizeof(AsofUnsealed));
	u->regrelid = regrelid;
	u->subid = GetCurrentSubTransactionId();
	unsealed = lappend(unsealed, u);
	MemoryContextSwitchTo(old);
	/* Plans made earlier in this transaction filtered the rows. */
	ResetPlanCache();
}

bool
asof_guard_is_unsealed(Oid regrelid)
{
	ListCell   *lc;

	foreach(lc, unsealed)
		if (((AsofUnsealed *) lfirst(lc))->regrelid == regrelid)
			return true;
	return false;
}

bool
asof_guard_any_unsealed(void)
{
	return unsealed != NIL;
}

bool
asof_guard_rel_unsealed(const AsofGuardedRel *g)
{
	if (unsealed == NIL)
		return false;
	return asof_guard_is_unsealed(g->regrelid) ||
		(OidIsValid(g->linked_to) && asof_guard_is_unsealed(g->linked_to));
}

/* Forget what subtransactions from subid on unsealed (all: Invalid). */
static void
unsealed_forget(SubTransactionId subid)
{
	List	   *keep = NIL;
	ListCell   *lc;
	bool		dropped = false;
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

	foreach(lc, unsealed)
	{
		AsofUnsealed *u = lfirst(lc);

		if (subid == InvalidSubTransactionId || u->subid >= subid)
		{
			pfree(u);
			dropped = true;
		}
		else
			keep = lappend(keep, u);
	}
	list_free(unsealed);
	unsealed = keep;
	MemoryContextSwitchTo(old);
	/* No plan built while unsealed survives. */
	if (dropped)
		ResetPlanCache();
}

/* ---- referential-integrity executors ---- */

void
asof_guard_noforce_enter(void)
{
	noforce_depth++;
}

void
asof_guard_noforce_exit(void)
{
	if (noforce_depth > 0)
		noforce_depth--;
}

bool
asof_guard_noforce_running(void)
{
	return noforce_depth > 0;
}

/* ---- reads of protected tables during a source read ---- */

void
asof_guard_reads_start(void)
{
	reads_counting = true;
	reads_counted = 0;
}

void
asof_guard_reads_note(void)
{
	if (reads_counting)
		reads_counted++;
}

int
asof_guard_reads_stop(void)
{
	int			n = reads_counted;

	reads_counting = false;
	reads_counted = 0;
	return n;
}

/* ---- the training-set build ---- */

void
asof_guard_set_build(Oid spine, int64 sealed_from)
{
	build_active = true;
	build_spine = spine;
	build_sealed_from = sealed_from;
	build_subid = GetCurrentSubTransactionId();
}

bool
asof_guard_get_build(Oid *spine, int64 *sealed_from)
{
	if (!build_active)
		return false;
	*spine = build_spine;
	*sealed_from = build_sealed_from;
	return true;
}

void
asof_guard_build_end(void)
{
	build_active = false;
	build_spine = InvalidOid;
	build_subid = InvalidSubTransactionId;
}

/* ---- the caller of a public guard function ---- */

Oid
asof_guard_api_caller(void)
{
	return api_caller;
}

Oid
asof_guard_api_enter(Oid caller)
{
	Oid			saved = api_caller;

	api_caller = caller;
	return saved;
}

void
asof_guard_api_exit(Oid saved)
{
	api_caller = saved;
}

/* ---- putting it back ---- */

static void
asof_guard_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			/* A rolled-back registry change must not stay in the cache. */
			asof_registry_reset();
			/* FALLTHROUGH */
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			exemption_clear();
			asof_guard_build_end();
			(void) asof_guard_reads_stop();
			noforce_depth = 0;
			api_caller = InvalidOid;
			if (unsealed != NIL)
				unsealed_forget(InvalidSubTransactionId);
			break;
		default:
			break;
	}
}

static void
asof_guard_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
							SubTransactionId parentSubid, void *arg)
{
	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	asof_registry_reset();
	exemption_clear();
	(void) asof_guard_reads_stop();
	if (build_active && build_subid >= mySubid)
		asof_guard_build_end();
	if (unsealed != NIL)
		unsealed_forget(mySubid);

	/*
	 * noforce_depth and api_caller are restored by the PG_FINALLY blocks
	 * that set them, which run while the error propagates.
	 */
}

void
asof_guard_state_init(void)
{
	RegisterXactCallback(asof_guard_xact_callback, NULL);
	RegisterSubXactCallback(asof_guard_subxact_callback, NULL);
}
