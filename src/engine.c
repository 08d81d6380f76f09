/*-------------------------------------------------------------------------
 *
 * engine.c
 *	  The point-in-time merge (docs/point-in-time.md; design in
 *	  docs/engine.md).
 *
 *	  For one feature view: the spine rows arrive through
 *	  asof_engine_add_spine and are sorted by (entity, k(t)); the source is
 *	  read once (one query, TimeZone UTC, the caller's privileges) and
 *	  sorted by (entity, visibility moment max(ta, te)).  Entity keys are
 *	  mapped to dense integer ids first (a hash table over the spine's
 *	  keys), so both sorts compare integers only, and source rows of
 *	  entities the spine does not ask for are dropped before sorting.  Then
 *	  one pass per entity walks the spine rows in increasing k: admits the
 *	  source rows that became visible (max(ta, te) < k), lets rows whose
 *	  event time fell out of a window (te < k - W) leave it (a heap per
 *	  distinct W, ordered by te), reads every feature once per distinct k
 *	  and emits one result per spine row (TTL per row).  Sorting goes
 *	  through PostgreSQL's tuplesort, which spills beyond maintenance_work_mem
 *	  (a build is a bulk operation, like CREATE INDEX); the
 *	  per-entity state holds only the rows currently inside some window.
 *
 *	  For a spine narrow in time (source_read.h, "Reads by entity") the
 *	  source is instead read with one query per entity, ordered by event
 *	  time, and merged as its rows arrive (merge_by_entity): rows wait in
 *	  a heap in the source sort's order until they are visible, so they
 *	  are admitted in the same order and the results are the same bytes.
 *
 *	  Owns: the source query (asof_engine_source_sql, the one place the
 *	  engine's reads are built), the sorts, the merge.
 *	  Must not: create tables, talk to the catalog, know how results are
 *	  written.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/tupdesc.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "tcop/dest.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplesort.h"
#include "utils/typcache.h"

#include "compat.h"
#include "engine.h"
#include "entity_keys.h"
#include "guard.h"
#include "schedule.h"
#include "source_read.h"
#include "window.h"

#define PROGRESS_EVERY 65536

/* asof.engine_read_by_entity (source_read.h; defined in training_set.c) */
int			asof_engine_read_by_entity = ASOF_READ_BY_ENTITY_AUTO;

/* Position of the first feature input in a source sort tuple (0-based). */
#define SRC_INPUT0 5

/*
 * The leading sort key of the spine and source sorts: a 64-bit integer
 * monotone in (entity id, time), so that the sorts nearly always decide on
 * one integer comparison and look at (id, time, ...) only on equal keys
 * (without it almost every comparison ties on the id and falls through to
 * the next columns).  20 bits of id, then 43 bits of time in units of 2^20
 * microseconds (about a second) around the first time seen (+-139 years),
 * clamped at both ends; ids from 2^20 on all get the largest key, which is
 * still monotone: ties fall through to the exact columns.
 */
static inline int64
pack_key(bool *base_set, int64 *base, int32 id, int64 time)
{
	int128		rel;

	if (id >= (1 << 20))
		return PG_INT64_MAX;
	if (!*base_set)
	{
		*base = time;
		*base_set = true;
	}
	rel = (((int128) time - *base) >> 20) + ((int128) 1 << 42);
	if (rel < 0)
		rel = 0;
	if (rel > (((int128) 1 << 43) - 1))
		rel = ((int128) 1 << 43) - 1;
	return ((int64) id << 43) | (int64) rel;
}

/* A source row inside a window: event time + one value per group feature. */
typedef struct WinRow
{
	int64		te;
	Datum		values[FLEXIBLE_ARRAY_MEMBER];	/* then nfeat bools */
} WinRow;

#define WINROW_NULLS(row, nfeat) ((bool *) ((row)->values + (nfeat)))

/*
 * A source row of a read by entity, read but not yet visible: its
 * visibility moment, times and feature inputs (ninputs values, then
 * ninputs bools).
 */
typedef struct PendRow
{
	int64		vis;
	int64		te;
	int64		ta;
	Datum		values[FLEXIBLE_ARRAY_MEMBER];
} PendRow;

#define PENDROW_NULLS(row, ninputs) ((bool *) ((row)->values + (ninputs)))

/* The features sharing one window length, and the rows inside it. */
typedef struct WinGroup
{
	int64		window_us;
	int			nfeat;
	int		   *feats;			/* feature indexes */
	bool		byref;			/* some feature keeps by-ref values */
	WinRow	   *free;			/* rows that left, for reuse (entity context) */
	WinRow	  **heap;			/* min-heap by te */
	int			n;
	int			cap;
	bool		start_valid;	/* k - W inside the timestamp range */
	int64		start;			/* k - W, or PG_INT64_MIN when not valid */
} WinGroup;

struct AsofEngine
{
	AsofFeatureView *view;
	AsofSchedule sched;
	MemoryContext cxt;			/* everything of the engine */
	MemoryContext entcxt;		/* per entity: window rows, state copies */
	MemoryContext kcxt;			/* per distinct k: feature values */
	MemoryContext tmpcxt;		/* hash lookups */

	int			nfeat;
	AsofAggSpec *specs;
	AsofAggState *states;
	int		   *feat_input;		/* index into inputs, -1 for count(*) */
	int		   *feat_group;		/* window group, -1 for last values */
	int		   *feat_slot;		/* position inside the group's rows */
	int			ngroups;
	WinGroup   *groups;
	int			ninputs;		/* distinct feature input expressions */
	char	  **inputs;
	Oid		   *input_types;
	int			nfloat_inputs;
	int		   *input_float;	/* 4, 8: a float4/float8 input, else 0 */
	bool	   *input_byval;
	int16	   *input_len;

	/* entity keys -> dense ids (1, 2, ...) */
	TupleDesc	keydesc;
	TupleTableSlot *keyslot;
	TupleHashTable keyhash;
	AsofEntityKeys *fastkeys;	/* one integer or text key: entity_keys.h */
	bool		fastkeys_varlena;
	int32		nentities;
	int64		nlookups;

	/*
	 * What the spine asks of the source (source_read.h): per entity id, its
	 * key values (ent_keys, nkeys per entity) and first effective time
	 * (PG_INT64_MAX while no spine row of it needs the source); over all
	 * rows, the range of k and the smallest t.
	 */
	Datum	   *ent_keys;
	int64	   *ent_kfirst;
	int64	   *ent_klast;		/* per entity id: its largest k */
	int64	   *ent_tfirst;		/* and smallest t */
	int32		ent_cap;
	bool		have_range;
	int64		kmin;
	int64		kmax;
	int64		tmin;
	int64		nread;			/* rows the source query returned */

	/* base times of the packed sort keys (pack_key) */
	bool		spine_base_set;
	int64		spine_base;
	bool		src_base_set;
	int64		src_base;

	/* spine: (key, id, k, t, ordinal) sorted by (key, id, k) */
	TupleDesc	spinedesc;
	TupleTableSlot *spineput;	/* virtual: rows going into the sort */
	TupleTableSlot *spineslot;	/* minimal: rows coming out of it */
	Tuplesortstate *spinesort;
	int64		nspine;
	int64		nspine_sorted;

	/* source: (key, id, vis, te, ta, inputs...), see setup_sorts */
	TupleDesc	srcdesc;
	TupleTableSlot *srcput;
	TupleTableSlot *srcslot;
	Tuplesortstate *srcsort;
	int64		nsource;

	/* results: (ordinal, features...) sorted by ordinal */
	TupleDesc	resdesc;
	TupleTableSlot *resput;
	TupleTableSlot *resslot;
	Tuplesortstate *ressort;
	bool		results_ready;
	bool		results_taken;	/* ressort is a parallel worker's results */
	bool		read_only;		/* queries on the active snapshot */

	/* feature values at the current k */
	Datum	   *kvalues;
	bool	   *knulls;
	int64	   *klast_te;

	/* the source row being admitted */
	int32		src_id;
	int64		src_vis;
	int64		src_te;
	int64		src_ta;

	/*
	 * Reads by entity (source_read.h): the source rows of the current
	 * entity arrive ordered by event time and wait in a min-heap by the
	 * source sort's order until they become visible; the spine rows are
	 * merged as the rows arrive (merge_by_entity).
	 */
	bool		by_entity;
	PendRow   **pend;
	PendRow    *pend_free;		/* admitted rows, for reuse (entity context) */
	int			npend;
	int			pendcap;
	bool		sp_valid;		/* the current spine row */
	int32		sp_id;
	int64		sp_k;
	int64		sp_t;
	int64		sp_ordinal;
	bool		sp_have_k;		/* the entity's state is at sp_prev_k */
	int64		sp_prev_k;
	int64		sp_done;
	int64		ent_klimit;		/* the current entity's largest k */
	int64		ent_prev_te;

	AsofProgressFn progress;
	void	   *progress_arg;

	/* leakage guard (G5, guard.h): k(t) after this needs held-out rows */
	bool		guard_has_cutoff;
	int64		guard_cutoff;
	bool		guard_exempt_sealed;	/* rows with t >= sealed_from may */
	int64		guard_sealed_from;
	int64		nheldout;		/* spine rows held out that way */
};

/* ----------------------------------------------------------------------
 * Setup
 * ----------------------------------------------------------------------
 */
static int
input_index(AsofEngine *e, const AsofFeature *f)
{
	for (int i = 0; i < e->ninputs; i++)
		if (strcmp(e->inputs[i], f->expr) == 0 && e->input_types[i] == f->input_type)
			return i;
	e->inputs[e->ninputs] = f->expr;
	e->input_types[e->ninputs] = f->input_type;
	if (getBaseType(f->input_type) == FLOAT4OID || getBaseType(f->input_type) == FLOAT8OID)
		e->nfloat_inputs++;
	return e->ninputs++;
}

static void
setup_features(AsofEngine *e)
{
	AsofFeatureView *v = e->view;

	e->nfeat = v->nfeatures;
	e->specs = palloc0(sizeof(AsofAggSpec) * e->nfeat);
	e->states = palloc0(sizeof(AsofAggState) * e->nfeat);
	e->feat_input = palloc(sizeof(int) * e->nfeat);
	e->feat_group = palloc(sizeof(int) * e->nfeat);
	e->feat_slot = palloc(sizeof(int) * e->nfeat);
	e->inputs = palloc(sizeof(char *) * e->nfeat);
	e->input_types = palloc(sizeof(Oid) * e->nfeat);
	e->groups = palloc0(sizeof(WinGroup) * e->nfeat);

	for (int i = 0; i < e->nfeat; i++)
	{
		AsofFeature *f = &v->features[i];
		bool		windowed = !(f->agg == ASOF_AGG_LAST || f->agg == ASOF_AGG_LAST_NONNULL);

		asof_agg_spec_init(&e->specs[i], f);
		asof_agg_init(&e->states[i], &e->specs[i], e->entcxt);
		e->feat_input[i] = f->agg == ASOF_AGG_COUNT_STAR ? -1 : input_index(e, f);
		e->feat_group[i] = -1;
		if (windowed)
		{
			int			g;

			if (f->window_us <= 0)
				elog(ERROR, "feature \"%s\" has no window", f->name);
			for (g = 0; g < e->ngroups; g++)
				if (e->groups[g].window_us == f->window_us)
					break;
			if (g == e->ngroups)
			{
				e->groups[g].window_us = f->window_us;
				e->groups[g].feats = palloc(sizeof(int) * e->nfeat);
				e->ngroups++;
			}
			e->feat_group[i] = g;
			e->feat_slot[i] = e->groups[g].nfeat;
			e->groups[g].feats[e->groups[g].nfeat++] = i;
			if (e->specs[i].repr == ASOF_REPR_DATUM && !e->specs[i].typbyval)
				e->groups[g].byref = true;
		}
	}
}

/* The feature inputs' types, for rows of reads by entity. */
static void
setup_inputs(AsofEngine *e)
{
	e->input_float = palloc0(sizeof(int) * Max(e->ninputs, 1));
	e->input_byval = palloc0(sizeof(bool) * Max(e->ninputs, 1));
	e->input_len = palloc0(sizeof(int16) * Max(e->ninputs, 1));
	for (int i = 0; i < e->ninputs; i++)
	{
		Oid			base = getBaseType(e->input_types[i]);

		e->input_float[i] = base == FLOAT8OID ? 8 : base == FLOAT4OID ? 4 : 0;
		get_typlenbyval(e->input_types[i], &e->input_len[i], &e->input_byval[i]);
	}
}

static void
setup_keys(AsofEngine *e)
{
	AsofFeatureView *v = e->view;
	int			n = v->nkeys;
	Oid		   *eqops = palloc(sizeof(Oid) * n);
	Oid		   *eqfuncs;
	FmgrInfo   *hashfuncs;
	AttrNumber *cols = palloc(sizeof(AttrNumber) * n);

	e->keydesc = CreateTemplateTupleDesc(n);
	for (int i = 0; i < n; i++)
	{
		TypeCacheEntry *tc = lookup_type_cache(v->key_types[i],
											   TYPECACHE_EQ_OPR | TYPECACHE_HASH_PROC);

		if (!OidIsValid(tc->eq_opr) || !OidIsValid(tc->hash_proc))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("entity column \"%s\" of feature view \"%s\" has type %s, which cannot be hashed",
							v->key_names[i], v->name, format_type_be(v->key_types[i]))));
		eqops[i] = tc->eq_opr;
		cols[i] = i + 1;
		TupleDescInitEntry(e->keydesc, i + 1, NULL, v->key_types[i], -1, 0);
		TupleDescInitEntryCollation(e->keydesc, i + 1, v->key_collations[i]);
	}
	execTuplesHashPrepare(n, eqops, &eqfuncs, &hashfuncs);
	e->keyslot = MakeSingleTupleTableSlot(e->keydesc, &TTSOpsVirtual);
	e->keyhash = asof_tuplehash_create(e->keydesc, n, cols, eqfuncs, hashfuncs,
									   v->key_collations, 1024, e->cxt,
									   AllocSetContextCreate(e->cxt, "asof entity keys",
															 ALLOCSET_DEFAULT_SIZES),
									   e->tmpcxt);
	if (n == 1)
	{
		e->fastkeys = asof_entity_keys_create(v->key_types[0], v->key_collations[0], e->cxt);
		e->fastkeys_varlena = !get_typbyval(v->key_types[0]);
	}
}

static Tuplesortstate *results_sort(AsofEngine *e, SortCoordinate coord);

static void
setup_sorts(AsofEngine *e)
{
	AttrNumber	scols[3] = {1, 2, 3};
	Oid			sops[3] = {Int8LessOperator, Int4LessOperator, Int8LessOperator};
	Oid			scolls[3] = {InvalidOid, InvalidOid, InvalidOid};
	bool		snf[3] = {false, false, false};
	int			nsrckeys = SRC_INPUT0 + e->nfloat_inputs;
	AttrNumber *ccols = palloc(sizeof(AttrNumber) * nsrckeys);
	Oid		   *cops = palloc(sizeof(Oid) * nsrckeys);
	Oid		   *ccolls = palloc0(sizeof(Oid) * nsrckeys);
	bool	   *cnf = palloc0(sizeof(bool) * nsrckeys);
	int			j;

	/* spine: (key, id, k, t, ordinal) sorted by (key, id, k) */
	e->spinedesc = CreateTemplateTupleDesc(5);
	TupleDescInitEntry(e->spinedesc, 1, "key", INT8OID, -1, 0);
	TupleDescInitEntry(e->spinedesc, 2, "id", INT4OID, -1, 0);
	TupleDescInitEntry(e->spinedesc, 3, "k", INT8OID, -1, 0);
	TupleDescInitEntry(e->spinedesc, 4, "t", INT8OID, -1, 0);
	TupleDescInitEntry(e->spinedesc, 5, "ordinal", INT8OID, -1, 0);
	/*
	 * Rows go into each sort through a virtual slot, so that the sort forms
	 * its minimal tuple straight from the values (a minimal-tuple slot would
	 * form one of its own first, which the sort then copies); they come out
	 * through a minimal-tuple slot.
	 */
	e->spineput = MakeSingleTupleTableSlot(e->spinedesc, &TTSOpsVirtual);
	e->spineslot = MakeSingleTupleTableSlot(e->spinedesc, &TTSOpsMinimalTuple);
	e->spinesort = asof_tuplesort_begin_heap(e->spinedesc, 3, scols, sops, scolls,
											 snf, maintenance_work_mem);

	/*
	 * source: (key, id, vis, te, ta, inputs...) sorted by (key, id, vis, te,
	 * ta, floating-point inputs): ties on (id, vis, te, ta) are ordered by
	 * the floating-point inputs too, so running float sums see the same
	 * sequence of additions whatever order the source query returned the
	 * rows in.
	 */
	e->srcdesc = CreateTemplateTupleDesc(SRC_INPUT0 + e->ninputs);
	TupleDescInitEntry(e->srcdesc, 1, "key", INT8OID, -1, 0);
	TupleDescInitEntry(e->srcdesc, 2, "id", INT4OID, -1, 0);
	TupleDescInitEntry(e->srcdesc, 3, "vis", INT8OID, -1, 0);
	TupleDescInitEntry(e->srcdesc, 4, "te", INT8OID, -1, 0);
	TupleDescInitEntry(e->srcdesc, 5, "ta", INT8OID, -1, 0);
	for (int i = 0; i < SRC_INPUT0; i++)
	{
		ccols[i] = i + 1;
		cops[i] = i == 1 ? Int4LessOperator : Int8LessOperator;
	}
	j = SRC_INPUT0;
	for (int i = 0; i < e->ninputs; i++)
	{
		TupleDescInitEntry(e->srcdesc, SRC_INPUT0 + 1 + i, NULL, e->input_types[i], -1, 0);
		if (getBaseType(e->input_types[i]) == FLOAT4OID ||
			getBaseType(e->input_types[i]) == FLOAT8OID)
		{
			ccols[j] = SRC_INPUT0 + 1 + i;
			cops[j] = lookup_type_cache(getBaseType(e->input_types[i]), TYPECACHE_LT_OPR)->lt_opr;
			j++;
		}
	}
	/* collations of the inputs, for min/max/last on text */
	for (int f = 0; f < e->nfeat; f++)
		if (e->feat_input[f] >= 0)
			TupleDescInitEntryCollation(e->srcdesc, SRC_INPUT0 + 1 + e->feat_input[f],
										e->view->features[f].input_collation);
	e->srcput = MakeSingleTupleTableSlot(e->srcdesc, &TTSOpsVirtual);
	e->srcslot = MakeSingleTupleTableSlot(e->srcdesc, &TTSOpsMinimalTuple);
	e->srcsort = asof_tuplesort_begin_heap(e->srcdesc, nsrckeys, ccols, cops,
										   ccolls, cnf, maintenance_work_mem);

	/* results */
	e->resdesc = CreateTemplateTupleDesc(1 + e->nfeat);
	TupleDescInitEntry(e->resdesc, 1, "ordinal", INT8OID, -1, 0);
	for (int f = 0; f < e->nfeat; f++)
	{
		TupleDescInitEntry(e->resdesc, 2 + f, NULL, e->view->features[f].result_type, -1, 0);
		TupleDescInitEntryCollation(e->resdesc, 2 + f, e->view->features[f].input_collation);
	}
	e->resput = MakeSingleTupleTableSlot(e->resdesc, &TTSOpsVirtual);
	e->resslot = MakeSingleTupleTableSlot(e->resdesc, &TTSOpsMinimalTuple);
	e->ressort = results_sort(e, NULL);
}

AsofEngine *
asof_engine_create(AsofFeatureView *view)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "asof engine",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	AsofEngine *e = palloc0(sizeof(AsofEngine));

	e->view = view;
	e->cxt = cxt;
	e->entcxt = AllocSetContextCreate(cxt, "asof entity", ALLOCSET_DEFAULT_SIZES);
	e->kcxt = AllocSetContextCreate(cxt, "asof tick", ALLOCSET_DEFAULT_SIZES);
	e->tmpcxt = AllocSetContextCreate(cxt, "asof key lookups", ALLOCSET_SMALL_SIZES);
	e->sched.has_cadence = view->has_cadence;
	e->sched.cadence_us = view->cadence_us;
	e->sched.anchor_us = view->anchor_us;
	e->sched.delay_us = view->delay_us;
	if (view->has_cadence && view->cadence_us <= 0)
		elog(ERROR, "feature view \"%s\" has a cadence of zero or below", view->name);

	setup_features(e);
	setup_inputs(e);
	setup_keys(e);
	setup_sorts(e);
	e->kvalues = palloc0(sizeof(Datum) * e->nfeat);
	e->knulls = palloc0(sizeof(bool) * e->nfeat);
	e->klast_te = palloc0(sizeof(int64) * e->nfeat);
	e->guard_has_cutoff =
		asof_guard_source_rules(view->source, view->event_time,
								asof_engine_source_sql(view, e->ninputs, e->inputs, false),
								&e->guard_cutoff, &e->guard_exempt_sealed,
								&e->guard_sealed_from);

	MemoryContextSwitchTo(old);
	return e;
}

void
asof_engine_set_progress(AsofEngine *e, AsofProgressFn fn, void *arg)
{
	e->progress = fn;
	e->progress_arg = arg;
}

/* ----------------------------------------------------------------------
 * Results
 * ----------------------------------------------------------------------
 */

/* A spine row that sees nothing: counts 0, everything else NULL. */
static void
emit_empty(AsofEngine *e, int64 ordinal)
{
	TupleTableSlot *slot = e->resput;

	ExecClearTuple(slot);
	slot->tts_values[0] = Int64GetDatum(ordinal);
	slot->tts_isnull[0] = false;
	for (int f = 0; f < e->nfeat; f++)
	{
		AsofAgg		agg = e->specs[f].agg;
		bool		count = agg == ASOF_AGG_COUNT || agg == ASOF_AGG_COUNT_STAR;

		slot->tts_values[1 + f] = Int64GetDatum(0);
		slot->tts_isnull[1 + f] = !count;
	}
	ExecStoreVirtualTuple(slot);
	tuplesort_puttupleslot(e->ressort, slot);
}

/* A spine row held out by the leakage guard: every feature NULL. */
static void
emit_heldout(AsofEngine *e, int64 ordinal)
{
	TupleTableSlot *slot = e->resput;

	ExecClearTuple(slot);
	slot->tts_values[0] = Int64GetDatum(ordinal);
	slot->tts_isnull[0] = false;
	for (int f = 0; f < e->nfeat; f++)
	{
		slot->tts_values[1 + f] = (Datum) 0;
		slot->tts_isnull[1 + f] = true;
	}
	ExecStoreVirtualTuple(slot);
	tuplesort_puttupleslot(e->ressort, slot);
	e->nheldout++;
}

int64
asof_engine_heldout_rows(AsofEngine *e)
{
	return e->nheldout;
}

/* ----------------------------------------------------------------------
 * Spine
 * ----------------------------------------------------------------------
 */
/* A new entity id: keep its keys for the bounded read (in e->cxt). */
static void
remember_entity(AsofEngine *e, Datum *keys)
{
	int			n = e->view->nkeys;
	int32		id = e->nentities;

	if (id >= e->ent_cap)
	{
		int32		cap = Max(64, e->ent_cap * 2);

		while (cap <= id)
			cap *= 2;
		if (e->ent_keys)
		{
			e->ent_keys = repalloc_huge(e->ent_keys, sizeof(Datum) * n * cap);
			e->ent_kfirst = repalloc_huge(e->ent_kfirst, sizeof(int64) * cap);
			e->ent_klast = repalloc_huge(e->ent_klast, sizeof(int64) * cap);
			e->ent_tfirst = repalloc_huge(e->ent_tfirst, sizeof(int64) * cap);
		}
		else
		{
			e->ent_keys = MemoryContextAllocHuge(e->cxt, sizeof(Datum) * n * cap);
			e->ent_kfirst = MemoryContextAllocHuge(e->cxt, sizeof(int64) * cap);
			e->ent_klast = MemoryContextAllocHuge(e->cxt, sizeof(int64) * cap);
			e->ent_tfirst = MemoryContextAllocHuge(e->cxt, sizeof(int64) * cap);
		}
		e->ent_cap = cap;
	}
	for (int i = 0; i < n; i++)
	{
		int16		typlen;
		bool		typbyval;

		get_typlenbyval(e->view->key_types[i], &typlen, &typbyval);
		e->ent_keys[id * n + i] = datumCopy(keys[i], typbyval, typlen);
	}
	e->ent_kfirst[id] = PG_INT64_MAX;
	e->ent_klast[id] = PG_INT64_MIN;
	e->ent_tfirst[id] = PG_INT64_MAX;
}

/* A spine row that needs the source: widen the range the read covers. */
static void
note_spine_range(AsofEngine *e, int32 id, int64 k, int64 t)
{
	e->ent_kfirst[id] = Min(e->ent_kfirst[id], k);
	e->ent_klast[id] = Max(e->ent_klast[id], k);
	e->ent_tfirst[id] = Min(e->ent_tfirst[id], t);
	if (!e->have_range)
	{
		e->kmin = e->kmax = k;
		e->tmin = t;
		e->have_range = true;
		return;
	}
	e->kmin = Min(e->kmin, k);
	e->kmax = Max(e->kmax, k);
	e->tmin = Min(e->tmin, t);
}

static int32
lookup_entity(AsofEngine *e, Datum *keys, bool *keynulls, bool insert)
{
	TupleTableSlot *slot = e->keyslot;
	TupleHashEntry entry;
	bool		isnew = false;
	int			n = e->view->nkeys;

	for (int i = 0; i < n; i++)
		if (keynulls[i])
			return 0;			/* a NULL key never matches */
	if (++e->nlookups % 1024 == 0)
		MemoryContextReset(e->tmpcxt);
	if (e->fastkeys)
	{
		Datum		k = keys[0];
		int32		id;

		if (e->fastkeys_varlena && VARATT_IS_EXTENDED(DatumGetPointer(k)))
		{
			MemoryContext old = MemoryContextSwitchTo(e->tmpcxt);

			k = PointerGetDatum(pg_detoast_datum_packed((struct varlena *) DatumGetPointer(k)));
			MemoryContextSwitchTo(old);
		}
		id = asof_entity_keys_lookup(e->fastkeys, k, false, 0, &isnew);
		if (id != 0 || !insert)
			return id;
		/* a new entity: the map keeps the engine's own (detoasted) copy */
		id = ++e->nentities;
		remember_entity(e, keys);
		k = e->ent_keys[id * n];
		if (e->fastkeys_varlena)
			k = PointerGetDatum(pg_detoast_datum_packed((struct varlena *) DatumGetPointer(k)));
		(void) asof_entity_keys_lookup(e->fastkeys, k, true, id, &isnew);
		return id;
	}
	ExecClearTuple(slot);
	memcpy(slot->tts_values, keys, sizeof(Datum) * n);
	memset(slot->tts_isnull, 0, sizeof(bool) * n);
	ExecStoreVirtualTuple(slot);
	entry = LookupTupleHashEntry(e->keyhash, slot, insert ? &isnew : NULL, NULL);
	if (entry == NULL)
		return 0;
	if (isnew)
	{
		asof_tuplehash_set_id(e->keyhash, entry, ++e->nentities);
		remember_entity(e, keys);
	}
	return asof_tuplehash_get_id(e->keyhash, entry);
}

void
asof_engine_add_spine(AsofEngine *e, int64 ordinal, Datum *keys, bool *keynulls,
					  int64 t, bool t_valid)
{
	MemoryContext old = MemoryContextSwitchTo(e->cxt);
	TupleTableSlot *slot = e->spineput;
	int64		k;
	int32		id;

	e->nspine++;
	id = lookup_entity(e, keys, keynulls, true);
	if (id == 0 || !t_valid || !asof_effective_time(&e->sched, t, &k))
	{
		emit_empty(e, ordinal);
		MemoryContextSwitchTo(old);
		return;
	}
	if (e->guard_has_cutoff && k > e->guard_cutoff &&
		!(e->guard_exempt_sealed && t >= e->guard_sealed_from))
	{
		emit_heldout(e, ordinal);
		MemoryContextSwitchTo(old);
		return;
	}
	ExecClearTuple(slot);
	slot->tts_values[0] = Int64GetDatum(pack_key(&e->spine_base_set, &e->spine_base, id, k));
	slot->tts_values[1] = Int32GetDatum(id);
	slot->tts_values[2] = Int64GetDatum(k);
	slot->tts_values[3] = Int64GetDatum(t);
	slot->tts_values[4] = Int64GetDatum(ordinal);
	memset(slot->tts_isnull, 0, sizeof(bool) * 5);
	ExecStoreVirtualTuple(slot);
	tuplesort_puttupleslot(e->spinesort, slot);
	e->nspine_sorted++;
	note_spine_range(e, id, k, t);
	MemoryContextSwitchTo(old);
}

/* ----------------------------------------------------------------------
 * Source
 * ----------------------------------------------------------------------
 */
char *
asof_engine_source_sql(const AsofFeatureView *view, int ninputs, char **inputs,
					   bool filter)
{
	StringInfoData sql;
	Oid			nsp = get_rel_namespace(view->source);
	char	   *relname = get_rel_name(view->source);

	if (relname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("source relation of feature view \"%s\" does not exist", view->name)));

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (int i = 0; i < view->nkeys; i++)
		appendStringInfo(&sql, "%s, ", quote_identifier(view->key_names[i]));
	appendStringInfo(&sql, "(%s), (%s)", view->event_time,
					 view->available_time ? view->available_time : view->event_time);
	for (int i = 0; i < ninputs; i++)
		appendStringInfo(&sql, ", (%s)", inputs[i]);
	appendStringInfo(&sql, " FROM %s",
					 quote_qualified_identifier(get_namespace_name(nsp), relname));
	if (filter)
	{
		for (int i = 0; i < view->nkeys; i++)
			appendStringInfo(&sql, "%s %s = $%d", i == 0 ? " WHERE" : " AND",
							 quote_identifier(view->key_names[i]), i + 1);
	}
	return sql.data;
}

typedef struct SourceReceiver
{
	DestReceiver pub;
	AsofEngine *e;
} SourceReceiver;

static void
source_startup(DestReceiver *self, int operation, TupleDesc desc)
{
	AsofEngine *e = ((SourceReceiver *) self)->e;
	AsofFeatureView *v = e->view;
	int			nk = v->nkeys;

	if (desc->natts != nk + 2 + e->ninputs)
		elog(ERROR, "source query of feature view \"%s\" returned %d columns", v->name, desc->natts);
	for (int i = 0; i < nk; i++)
		if (TupleDescAttr(desc, i)->atttypid != v->key_types[i])
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("entity column \"%s\" of the source of feature view \"%s\" has type %s, not %s",
							v->key_names[i], v->name,
							format_type_be(TupleDescAttr(desc, i)->atttypid),
							format_type_be(v->key_types[i])),
					 errhint("The source changed since the feature view was created: drop and re-create it.")));
	for (int i = 0; i < 2; i++)
		if (getBaseType(TupleDescAttr(desc, nk + i)->atttypid) != v->time_type)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("%s of feature view \"%s\" has type %s, not %s",
							i == 0 ? "event time" : "available time", v->name,
							format_type_be(TupleDescAttr(desc, nk + i)->atttypid),
							format_type_be(v->time_type)),
					 errhint("The source changed since the feature view was created: drop and re-create it.")));
	for (int i = 0; i < e->ninputs; i++)
		if (TupleDescAttr(desc, nk + 2 + i)->atttypid != e->input_types[i])
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("feature input \"%s\" of feature view \"%s\" has type %s, not %s",
							e->inputs[i], v->name,
							format_type_be(TupleDescAttr(desc, nk + 2 + i)->atttypid),
							format_type_be(e->input_types[i])),
					 errhint("The source changed since the feature view was created: drop and re-create it.")));
}

static bool
source_receive(TupleTableSlot *in, DestReceiver *self)
{
	AsofEngine *e = ((SourceReceiver *) self)->e;
	int			nk = e->view->nkeys;
	TupleTableSlot *out = e->srcput;
	int32		id;
	int64		te,
				ta;
	MemoryContext old;

	slot_getallattrs(in);
	e->nread++;
	if (in->tts_isnull[nk] || in->tts_isnull[nk + 1])
		return true;			/* NULL te or ta: never visible */
	te = DatumGetInt64(in->tts_values[nk]);
	ta = DatumGetInt64(in->tts_values[nk + 1]);
	if (Max(te, ta) >= e->kmax)
		return true;			/* visible to no spine row */
	old = MemoryContextSwitchTo(e->cxt);
	id = lookup_entity(e, in->tts_values, in->tts_isnull, false);
	MemoryContextSwitchTo(old);
	if (id == 0)
		return true;			/* NULL key, or no spine row asks for it */

	ExecClearTuple(out);
	out->tts_values[0] = Int64GetDatum(pack_key(&e->src_base_set, &e->src_base, id, Max(te, ta)));
	out->tts_values[1] = Int32GetDatum(id);
	out->tts_values[2] = Int64GetDatum(Max(te, ta));
	out->tts_values[3] = Int64GetDatum(te);
	out->tts_values[4] = Int64GetDatum(ta);
	memset(out->tts_isnull, 0, sizeof(bool) * SRC_INPUT0);
	for (int i = 0; i < e->ninputs; i++)
	{
		out->tts_values[SRC_INPUT0 + i] = in->tts_values[nk + 2 + i];
		out->tts_isnull[SRC_INPUT0 + i] = in->tts_isnull[nk + 2 + i];
	}
	ExecStoreVirtualTuple(out);
	tuplesort_puttupleslot(e->srcsort, out);
	if (++e->nsource % PROGRESS_EVERY == 0)
	{
		CHECK_FOR_INTERRUPTS();
		if (e->progress)
			e->progress(e->progress_arg, "reading the source", e->nsource, -1);
	}
	return true;
}

static void
receiver_noop(DestReceiver *self)
{
}

/*
 * Remove one of our internal queries from an error: the QUERY part of a
 * parse error and SPI's CONTEXT line `SQL statement "..."` (the callers'
 * own error context says what was being done).
 */
static void
hide_internal_query(ErrorData *edata, const char *sql)
{
	if (edata->internalquery && strcmp(edata->internalquery, sql) == 0)
	{
		edata->internalquery = NULL;
		edata->internalpos = 0;
	}
	if (edata->context)
	{
		char	   *line = psprintf("SQL statement \"%s\"", sql);
		char	   *p = strstr(edata->context, line);
		size_t		len = strlen(line);

		if (p && (p[len] == '\0' || p[len] == '\n') &&
			(p == edata->context || p[-1] == '\n'))
		{
			if (p[len] == '\n')
				len++;
			else if (p > edata->context)
				p--, len++;		/* last line: drop the newline before it */
			memmove(p, p + len, strlen(p + len) + 1);
			if (edata->context[0] == '\0')
				edata->context = NULL;
		}
	}
}

void
asof_engine_run_query(const char *sql, ParamListInfo params, bool read_only,
					  bool source, DestReceiver *dest)
{
	SPIExecuteOptions opts;
	MemoryContext cxt = CurrentMemoryContext;
	int			nest;
	volatile int rc = 0;

	memset(&opts, 0, sizeof(opts));
	opts.params = params;
	opts.read_only = read_only;
	opts.dest = dest;

	/* every expression is evaluated with TimeZone UTC (the contract) */
	nest = NewGUCNestLevel();
	(void) set_config_option("TimeZone", "UTC", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);

	/*
	 * A view's expressions were normalized at creation (schema-qualified
	 * outside pg_catalog): read them with a search_path that nothing can
	 * hijack.
	 */
	if (source)
		(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PG_TRY();
	{
		rc = SPI_execute_extended(sql, &opts);
	}
	PG_CATCH();
	{
		/* the query is ours, not the caller's: keep it out of the error */
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		hide_internal_query(edata, sql);
		ReThrowError(edata);
	}
	PG_END_TRY();
	if (rc < 0)
		elog(ERROR, "could not run \"%s\": %s", sql, SPI_result_code_string(rc));
	SPI_finish();
	AtEOXact_GUC(true, nest);
}

/* errors while reading a source name the view, not the internal query */
static void
source_error_context(void *arg)
{
	errcontext("reading the source of feature view \"%s\"",
			   ((AsofFeatureView *) arg)->name);
}

static void merge_by_entity(AsofEngine *e, AsofSourceRead *plan,
							AsofSourceRange *range, int32 *ids, bool read_only);

/*
 * The bounded read (source_read.h): only the rows of the spine's entities
 * with event times the spine's answers need.  Returns true when it was a
 * read by entity, which merged as it read (merge_by_entity); otherwise the
 * rows are in the source sort.
 */
static bool
read_source(AsofEngine *e, bool read_only)
{
	ErrorContextCallback errcb;
	SourceReceiver r;
	AsofSourceRange range;
	AsofSourceRead *plan;
	int			nk = e->view->nkeys;
	int32	   *ids = palloc(sizeof(int32) * e->nentities);

	/* the entities some spine row needs, their keys, first and last k */
	memset(&range, 0, sizeof(range));
	range.keys = palloc(sizeof(Datum) * nk * e->nentities);
	range.kfirst = palloc(sizeof(int64) * e->nentities);
	range.klast = palloc(sizeof(int64) * e->nentities);
	range.tfirst = palloc(sizeof(int64) * e->nentities);
	for (int32 id = 1; id <= e->nentities; id++)
	{
		if (e->ent_kfirst[id] == PG_INT64_MAX)
			continue;
		memcpy(range.keys + range.nentities * nk, e->ent_keys + id * nk, sizeof(Datum) * nk);
		range.klast[range.nentities] = e->ent_klast[id];
		range.tfirst[range.nentities] = e->ent_tfirst[id];
		ids[range.nentities] = id;
		range.kfirst[range.nentities++] = e->ent_kfirst[id];
	}
	range.kmin = e->kmin;
	range.kmax = e->kmax;
	range.tmin = e->tmin;

	/*
	 * The lookup of the last visible rows (source_read.c) is a query of its
	 * own, under the split's row filter: for a build that seals held-out
	 * spine rows it would miss held-out rows their last values need.
	 */
	range.no_lookup = e->guard_exempt_sealed;

	memset(&r, 0, sizeof(r));
	r.pub.receiveSlot = source_receive;
	r.pub.rStartup = source_startup;
	r.pub.rShutdown = receiver_noop;
	r.pub.rDestroy = receiver_noop;
	r.pub.mydest = DestNone;
	r.e = e;
	errcb.callback = source_error_context;
	errcb.arg = e->view;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	plan = asof_source_read_plan(e->view, e->ninputs, e->inputs, &range, read_only);

	/*
	 * Reads by entity run one query per entity: the guard's one-shot
	 * exemption of sealed rows covers one query, so those builds read in
	 * one query.
	 */
	e->by_entity = plan->entity_sql != NULL && !e->guard_exempt_sealed;
	if (e->by_entity)
		merge_by_entity(e, plan, &range, ids, read_only);
	else
	{
		if (e->guard_exempt_sealed)
			asof_guard_exempt_next_plan(e->view->source);
		asof_guard_source_read_begin();
		asof_engine_run_query(plan->sql, plan->params, read_only, true, &r.pub);
		asof_guard_source_read_end(e->view->source, e->view->event_time);
	}
	error_context_stack = errcb.previous;
	ereport(DEBUG1,
			(errmsg_internal("feature view \"%s\": %d entities, event times [%s, %s), %s: " INT64_FORMAT " source rows read, " INT64_FORMAT " kept",
							 e->view->name, range.nentities,
							 plan->has_lo ? pstrdup(timestamptz_to_str(plan->lo)) : "-infinity",
							 pstrdup(timestamptz_to_str(plan->hi)),
							 e->by_entity ? "one query per entity" :
							 plan->by_entity ? "by entity" : "all entities",
							 e->nread, e->nsource)));
	return e->by_entity;
}

int64
asof_engine_rows_read(AsofEngine *e)
{
	return e->nread;
}

/* ----------------------------------------------------------------------
 * Merge
 * ----------------------------------------------------------------------
 */
static bool
next_source(AsofEngine *e)
{
	if (!tuplesort_gettupleslot(e->srcsort, true, false, e->srcslot, NULL))
		return false;
	slot_getallattrs(e->srcslot);
	e->src_id = DatumGetInt32(e->srcslot->tts_values[1]);
	e->src_vis = DatumGetInt64(e->srcslot->tts_values[2]);
	e->src_te = DatumGetInt64(e->srcslot->tts_values[3]);
	e->src_ta = DatumGetInt64(e->srcslot->tts_values[4]);
	return true;
}

static void
heap_swap(WinRow **h, int a, int b)
{
	WinRow	   *t = h[a];

	h[a] = h[b];
	h[b] = t;
}

static void
group_push(AsofEngine *e, WinGroup *g, WinRow *row)
{
	int			i;

	if (g->n == g->cap)
	{
		int			cap = g->cap ? g->cap * 2 : 64;

		if (g->heap)
			g->heap = repalloc_huge(g->heap, sizeof(WinRow *) * cap);
		else
			g->heap = MemoryContextAllocHuge(e->entcxt, sizeof(WinRow *) * cap);
		g->cap = cap;
	}
	i = g->n++;
	g->heap[i] = row;
	while (i > 0 && g->heap[(i - 1) / 2]->te > g->heap[i]->te)
	{
		heap_swap(g->heap, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static WinRow *
group_pop(WinGroup *g)
{
	WinRow	   *top = g->heap[0];
	int			i = 0;

	g->heap[0] = g->heap[--g->n];
	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= g->n)
			break;
		if (c + 1 < g->n && g->heap[c + 1]->te < g->heap[c]->te)
			c++;
		if (g->heap[i]->te <= g->heap[c]->te)
			break;
		heap_swap(g->heap, i, c);
		i = c;
	}
	return top;
}

/* Rows whose event time fell out of the window leave it. */
static void
group_expire(AsofEngine *e, WinGroup *g)
{
	while (g->n > 0 && g->heap[0]->te < g->start)
	{
		WinRow	   *row = group_pop(g);
		bool	   *nulls = WINROW_NULLS(row, g->nfeat);

		for (int j = 0; j < g->nfeat; j++)
		{
			int			f = g->feats[j];

			asof_agg_remove(&e->states[f], row->values[j], nulls[j]);
			if (!nulls[j] && e->specs[f].repr == ASOF_REPR_DATUM && !e->specs[f].typbyval)
				pfree(DatumGetPointer(row->values[j]));
		}
		/* all rows of a group have one size: keep it for the next one */
		*(WinRow **) row = g->free;
		g->free = row;
	}
}

/*
 * A source row became visible: into windows and last values.  in[] and
 * innull[] are its feature inputs (by input index).
 */
static void
admit_row(AsofEngine *e, int64 te, int64 ta, const Datum *in, const bool *innull)
{

	for (int gi = 0; gi < e->ngroups; gi++)
	{
		WinGroup   *g = &e->groups[gi];
		WinRow	   *row;
		bool	   *nulls;

		if (te < g->start)
			continue;			/* already out of this window */
		if (g->free)
		{
			row = g->free;
			g->free = *(WinRow **) row;
		}
		else
			row = MemoryContextAlloc(e->entcxt,
									 offsetof(WinRow, values) + g->nfeat * (sizeof(Datum) + sizeof(bool)));
		nulls = WINROW_NULLS(row, g->nfeat);
		row->te = te;
		for (int j = 0; j < g->nfeat; j++)
		{
			int			f = g->feats[j];
			int			col = e->feat_input[f];
			const AsofAggSpec *spec = &e->specs[f];

			if (col < 0)
			{
				row->values[j] = (Datum) 0;
				nulls[j] = false;
			}
			else if (innull[col])
			{
				row->values[j] = (Datum) 0;
				nulls[j] = true;
			}
			else
			{
				Datum		v = in[col];

				nulls[j] = false;
				if (spec->repr == ASOF_REPR_NONE)
					v = (Datum) 0;
				else if (spec->repr == ASOF_REPR_DATUM)
				{
					if (!spec->typbyval)
					{
						MemoryContext old = MemoryContextSwitchTo(e->entcxt);

						v = datumCopy(v, false, spec->typlen);
						MemoryContextSwitchTo(old);
					}
				}
				else
					v = asof_agg_normalize(spec, v);
				row->values[j] = v;
			}
			asof_agg_add(&e->states[f], row->values[j], nulls[j], te, ta, g->start);
		}
		group_push(e, g, row);
	}

	for (int f = 0; f < e->nfeat; f++)
	{
		int			col = e->feat_input[f];

		if (e->feat_group[f] >= 0)
			continue;
		asof_agg_add(&e->states[f], in[col], innull[col], te, ta, 0);
	}
}

/* The current source row of the sorted read became visible. */
static void
admit(AsofEngine *e)
{
	admit_row(e, e->src_te, e->src_ta, e->srcslot->tts_values + SRC_INPUT0,
			  e->srcslot->tts_isnull + SRC_INPUT0);
}

/* ----------------------------------------------------------------------
 * Rows of a read by entity waiting to become visible: a min-heap in the
 * order of the source sort (vis, te, ta, floating-point inputs with NULLs
 * last), so that rows are admitted in the same order as from the sort.
 * ----------------------------------------------------------------------
 */
static int
pend_cmp_ties(AsofEngine *e, const PendRow *a, const PendRow *b)
{
	const bool *an = PENDROW_NULLS(a, e->ninputs);
	const bool *bn = PENDROW_NULLS(b, e->ninputs);

	if (a->te != b->te)
		return a->te < b->te ? -1 : 1;
	if (a->ta != b->ta)
		return a->ta < b->ta ? -1 : 1;
	for (int i = 0; i < e->ninputs; i++)
	{
		int			c;

		if (e->input_float[i] == 0)
			continue;
		if (an[i] || bn[i])
		{
			if (an[i] && bn[i])
				continue;
			return an[i] ? 1 : -1;
		}
		c = e->input_float[i] == 8 ?
			float8_cmp_internal(DatumGetFloat8(a->values[i]), DatumGetFloat8(b->values[i])) :
			float4_cmp_internal(DatumGetFloat4(a->values[i]), DatumGetFloat4(b->values[i]));
		if (c != 0)
			return c;
	}
	return 0;
}

/* most comparisons decide on the visibility moment alone */
static inline int
pend_cmp(AsofEngine *e, const PendRow *a, const PendRow *b)
{
	if (a->vis != b->vis)
		return a->vis < b->vis ? -1 : 1;
	return pend_cmp_ties(e, a, b);
}

static void
pend_push(AsofEngine *e, PendRow *row)
{
	int			i;

	if (e->npend == e->pendcap)
	{
		int			cap = e->pendcap ? e->pendcap * 2 : 256;

		if (e->pend)
			e->pend = repalloc_huge(e->pend, sizeof(PendRow *) * cap);
		else
			e->pend = MemoryContextAllocHuge(e->cxt, sizeof(PendRow *) * cap);
		e->pendcap = cap;
	}
	i = e->npend++;
	e->pend[i] = row;
	while (i > 0 && pend_cmp(e, e->pend[(i - 1) / 2], e->pend[i]) > 0)
	{
		PendRow    *t = e->pend[i];

		e->pend[i] = e->pend[(i - 1) / 2];
		e->pend[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static PendRow *
pend_pop(AsofEngine *e)
{
	PendRow    *top = e->pend[0];
	int			i = 0;

	e->pend[0] = e->pend[--e->npend];
	for (;;)
	{
		int			c = 2 * i + 1;
		PendRow    *t;

		if (c >= e->npend)
			break;
		if (c + 1 < e->npend && pend_cmp(e, e->pend[c + 1], e->pend[c]) < 0)
			c++;
		if (pend_cmp(e, e->pend[i], e->pend[c]) <= 0)
			break;
		t = e->pend[i];
		e->pend[i] = e->pend[c];
		e->pend[c] = t;
		i = c;
	}
	return top;
}

/* Admit the waiting rows that became visible before k, in sort order. */
static void
admit_pending(AsofEngine *e, int64 k)
{
	while (e->npend > 0 && e->pend[0]->vis < k)
	{
		PendRow    *row = pend_pop(e);
		bool	   *nulls = PENDROW_NULLS(row, e->ninputs);

		admit_row(e, row->te, row->ta, row->values, nulls);
		for (int i = 0; i < e->ninputs; i++)
			if (!nulls[i] && !e->input_byval[i])
				pfree(DatumGetPointer(row->values[i]));
		*(PendRow **) row = e->pend_free;
		e->pend_free = row;
	}
}

/* Floating-point sums that lost too much to cancellation: rebuild. */
static void
recompute_if_needed(AsofEngine *e, WinGroup *g)
{
	for (int j = 0; j < g->nfeat; j++)
	{
		int			f = g->feats[j];

		double		mean = 0;
		int64		n = 0;
		int			pass = 0;

		/* a rebuild may ask for another (variance scaling switched back) */
again:
		if (pass++ == 3 || !asof_agg_needs_recompute(&e->states[f]))
			continue;
		mean = 0;
		n = 0;
		/* variances are accumulated around the window's mean */
		for (int r = 0; r < g->n; r++)
		{
			WinRow	   *row = g->heap[r];
			double		x = DatumGetFloat8(row->values[j]);

			if (!WINROW_NULLS(row, g->nfeat)[j] && isfinite(x))
				mean += (x - mean) / (double) ++n;
		}
		asof_agg_restart(&e->states[f]);
		asof_agg_set_shift(&e->states[f], mean);
		for (int r = 0; r < g->n; r++)
		{
			WinRow	   *row = g->heap[r];

			asof_agg_add(&e->states[f], row->values[j],
						 WINROW_NULLS(row, g->nfeat)[j], row->te, 0, g->start);
		}
		goto again;
	}
}

/*
 * Move the entity's state to effective time k: expire, admit, read every
 * feature once.
 */
static void
advance_to(AsofEngine *e, int32 id, int64 k, bool *have_src)
{
	MemoryContext old;

	MemoryContextReset(e->kcxt);
	for (int gi = 0; gi < e->ngroups; gi++)
	{
		WinGroup   *g = &e->groups[gi];

		g->start_valid = asof_time_minus(k, g->window_us, &g->start);
		if (!g->start_valid)
			g->start = PG_INT64_MIN;
		group_expire(e, g);
	}
	if (e->by_entity)
		admit_pending(e, k);
	else
		while (*have_src && e->src_id == id && e->src_vis < k)
		{
			admit(e);
			*have_src = next_source(e);
		}

	old = MemoryContextSwitchTo(e->kcxt);
	for (int gi = 0; gi < e->ngroups; gi++)
		recompute_if_needed(e, &e->groups[gi]);
	for (int f = 0; f < e->nfeat; f++)
	{
		int			gi = e->feat_group[f];

		if (gi >= 0 && !e->groups[gi].start_valid)
		{
			/* the window start overflows the timestamp range: no value */
			AsofAgg		agg = e->specs[f].agg;

			e->kvalues[f] = Int64GetDatum(0);
			e->knulls[f] = !(agg == ASOF_AGG_COUNT || agg == ASOF_AGG_COUNT_STAR);
			continue;
		}
		asof_agg_read(&e->states[f], gi >= 0 ? e->groups[gi].start : 0,
					  &e->kvalues[f], &e->knulls[f]);
		if (gi < 0 && !e->knulls[f])
			(void) asof_agg_last_te(&e->states[f], &e->klast_te[f]);
	}
	MemoryContextSwitchTo(old);
}

static void
emit(AsofEngine *e, int64 ordinal, int64 t)
{
	TupleTableSlot *slot = e->resput;
	AsofFeatureView *v = e->view;

	ExecClearTuple(slot);
	slot->tts_values[0] = Int64GetDatum(ordinal);
	slot->tts_isnull[0] = false;
	for (int f = 0; f < e->nfeat; f++)
	{
		slot->tts_values[1 + f] = e->kvalues[f];
		slot->tts_isnull[1 + f] = e->knulls[f];
		if (e->feat_group[f] < 0 && v->has_ttl && !e->knulls[f])
		{
			int64		bound;

			/* NULL when the chosen row's te < t - ttl */
			if (!asof_time_minus(t, v->ttl_us, &bound) || e->klast_te[f] < bound)
				slot->tts_isnull[1 + f] = true;
		}
	}
	ExecStoreVirtualTuple(slot);
	tuplesort_puttupleslot(e->ressort, slot);
}

static void
reset_entity(AsofEngine *e)
{
	e->npend = 0;
	e->pend_free = NULL;
	MemoryContextReset(e->entcxt);
	for (int f = 0; f < e->nfeat; f++)
		asof_agg_reset(&e->states[f]);
	for (int gi = 0; gi < e->ngroups; gi++)
	{
		e->groups[gi].heap = NULL;
		e->groups[gi].free = NULL;
		e->groups[gi].n = 0;
		e->groups[gi].cap = 0;
	}
}

static void
merge(AsofEngine *e)
{
	bool		have_src;
	bool		have_spine;
	int32		cur = -1;
	bool		have_k = false;
	int64		prev_k = 0;
	int64		done = 0;

	have_src = next_source(e);
	have_spine = tuplesort_gettupleslot(e->spinesort, true, false, e->spineslot, NULL);
	while (have_spine)
	{
		int32		id;
		int64		k,
					t,
					ordinal;

		slot_getallattrs(e->spineslot);
		id = DatumGetInt32(e->spineslot->tts_values[1]);
		k = DatumGetInt64(e->spineslot->tts_values[2]);
		t = DatumGetInt64(e->spineslot->tts_values[3]);
		ordinal = DatumGetInt64(e->spineslot->tts_values[4]);

		if (id != cur)
		{
			reset_entity(e);
			cur = id;
			have_k = false;
			while (have_src && e->src_id < id)
				have_src = next_source(e);
		}
		if (!have_k || k != prev_k)
		{
			advance_to(e, id, k, &have_src);
			prev_k = k;
			have_k = true;
		}
		emit(e, ordinal, t);

		if (++done % PROGRESS_EVERY == 0)
		{
			CHECK_FOR_INTERRUPTS();
			if (e->progress)
				e->progress(e->progress_arg, "merging", done, e->nspine_sorted);
		}
		have_spine = tuplesort_gettupleslot(e->spinesort, true, false, e->spineslot, NULL);
	}
	reset_entity(e);
}

/* ----------------------------------------------------------------------
 * Reads by entity (source_read.h): one query per entity, its rows ordered
 * by event time, merged as they arrive.  A spine row at k is answered as
 * soon as a row with event time >= k arrives (or the entity's rows end):
 * every row visible at k (max(te, ta) < k, so te < k) has arrived by then.
 * Rows wait in the pending heap until they are visible; the source is
 * never sorted as a whole.
 * ----------------------------------------------------------------------
 */
static void
next_spine(AsofEngine *e)
{
	TupleTableSlot *s = e->spineslot;

	e->sp_valid = tuplesort_gettupleslot(e->spinesort, true, false, s, NULL);
	if (!e->sp_valid)
		return;
	slot_getallattrs(s);
	e->sp_id = DatumGetInt32(s->tts_values[1]);
	e->sp_k = DatumGetInt64(s->tts_values[2]);
	e->sp_t = DatumGetInt64(s->tts_values[3]);
	e->sp_ordinal = DatumGetInt64(s->tts_values[4]);
}

/* Answer the current spine row, move to the next one. */
static void
spine_step(AsofEngine *e)
{
	if (!e->sp_have_k || e->sp_k != e->sp_prev_k)
	{
		bool		unused = false;

		advance_to(e, e->sp_id, e->sp_k, &unused);
		e->sp_prev_k = e->sp_k;
		e->sp_have_k = true;
	}
	emit(e, e->sp_ordinal, e->sp_t);
	if (++e->sp_done % PROGRESS_EVERY == 0)
	{
		CHECK_FOR_INTERRUPTS();
		if (e->progress)
			e->progress(e->progress_arg, "merging", e->sp_done, e->nspine_sorted);
	}
	next_spine(e);
}

/* A copy of feature input i's by-reference value, in the entity's context. */
static Datum
datumCopyInContext(AsofEngine *e, Datum value, int i)
{
	MemoryContext old = MemoryContextSwitchTo(e->entcxt);
	Datum		copy = datumCopy(value, false, e->input_len[i]);

	MemoryContextSwitchTo(old);
	return copy;
}

static bool
entity_receive(TupleTableSlot *in, DestReceiver *self)
{
	AsofEngine *e = ((SourceReceiver *) self)->e;
	int			nk = e->view->nkeys;
	int			n = e->ninputs;
	int32		id = e->src_id;
	int64		te,
				ta;
	PendRow    *row;
	bool	   *nulls;

	slot_getallattrs(in);
	e->nread++;
	if (in->tts_isnull[nk] || in->tts_isnull[nk + 1])
		return true;			/* NULL te or ta: never visible */
	te = DatumGetInt64(in->tts_values[nk]);
	ta = DatumGetInt64(in->tts_values[nk + 1]);
	if (te < e->ent_prev_te)
		elog(ERROR, "source rows of feature view \"%s\" arrived out of event time order",
			 e->view->name);
	e->ent_prev_te = te;

	/* every row visible at k <= te has arrived: answer those spine rows */
	while (e->sp_valid && e->sp_id == id && e->sp_k <= te)
		spine_step(e);
	if (Max(te, ta) >= e->ent_klimit)
		return true;			/* visible to no spine row of the entity */

	if (e->pend_free)
	{
		row = e->pend_free;
		e->pend_free = *(PendRow **) row;
	}
	else
		row = MemoryContextAlloc(e->entcxt, offsetof(PendRow, values) +
								 n * (sizeof(Datum) + sizeof(bool)));
	nulls = PENDROW_NULLS(row, n);
	row->vis = Max(te, ta);
	row->te = te;
	row->ta = ta;
	for (int i = 0; i < n; i++)
	{
		nulls[i] = in->tts_isnull[nk + 2 + i];
		row->values[i] = (Datum) 0;
		if (!nulls[i])
			row->values[i] = e->input_byval[i] ? in->tts_values[nk + 2 + i] :
				datumCopyInContext(e, in->tts_values[nk + 2 + i], i);
	}
	pend_push(e, row);
	if (++e->nsource % PROGRESS_EVERY == 0)
	{
		CHECK_FOR_INTERRUPTS();
		if (e->progress)
			e->progress(e->progress_arg, "reading the source", e->nsource, -1);
	}
	return true;
}

static void
merge_by_entity(AsofEngine *e, AsofSourceRead *plan, AsofSourceRange *range,
				int32 *ids, bool read_only)
{
	AsofFeatureView *v = e->view;
	int			nk = v->nkeys;
	SourceReceiver r;
	SPIExecuteOptions opts;
	ParamListInfo params = makeParamList(nk + 2);
	MemoryContext cxt = CurrentMemoryContext;
	int			nest;
	int			ci = 0;

	memset(&r, 0, sizeof(r));
	r.pub.receiveSlot = entity_receive;
	r.pub.rStartup = source_startup;
	r.pub.rShutdown = receiver_noop;
	r.pub.rDestroy = receiver_noop;
	r.pub.mydest = DestNone;
	r.e = e;
	memset(&opts, 0, sizeof(opts));
	opts.params = params;
	opts.read_only = read_only;
	opts.dest = &r.pub;

	if (e->progress)
		e->progress(e->progress_arg, "sorting", e->nspine_sorted, -1);
	tuplesort_performsort(e->spinesort);
	next_spine(e);

	/* as asof_engine_run_query: TimeZone UTC, a search_path nothing hijacks */
	nest = NewGUCNestLevel();
	(void) set_config_option("TimeZone", "UTC", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);

	/*
	 * The rows of one entity in event time order straight from the index:
	 * a bitmap scan would return them in block order and need a sort.
	 */
	(void) set_config_option("enable_bitmapscan", "off", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PG_TRY();
	{
		SPIPlanPtr	sp = SPI_prepare(plan->entity_sql, nk + 2, plan->entity_types);

		if (sp == NULL)
			elog(ERROR, "could not prepare \"%s\": %s", plan->entity_sql,
				 SPI_result_code_string(SPI_result));
		while (e->sp_valid)
		{
			int32		id = e->sp_id;
			int			rc;

			reset_entity(e);
			e->sp_have_k = false;
			e->src_id = id;
			e->ent_prev_te = PG_INT64_MIN;
			e->ent_klimit = e->ent_klast[id];
			while (ci < range->nentities && ids[ci] != id)
				ci++;
			if (ci == range->nentities)
				elog(ERROR, "entity %d of the spine has no bounds", id);
			asof_source_read_entity(v, plan, range, ci, params);
			asof_guard_source_read_begin();
			rc = SPI_execute_plan_extended(sp, &opts);
			if (rc < 0)
				elog(ERROR, "could not run \"%s\": %s", plan->entity_sql,
					 SPI_result_code_string(rc));
			asof_guard_source_read_end(v->source, v->event_time);
			/* the entity's rows ended: answer its remaining spine rows */
			while (e->sp_valid && e->sp_id == id)
				spine_step(e);
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		hide_internal_query(edata, plan->entity_sql);
		ReThrowError(edata);
	}
	PG_END_TRY();
	SPI_finish();
	AtEOXact_GUC(true, nest);
	reset_entity(e);
}

void
asof_engine_run(AsofEngine *e, Datum *filter_keys)
{
	MemoryContext old;
	bool		merged = false;

	/* no spine row needs the source: no need to read it at all */
	if (e->results_taken)
		elog(ERROR, "asof_engine_run called on an engine whose results a worker computed");
	if (e->have_range)
		merged = read_source(e, filter_keys != NULL || e->read_only);

	old = MemoryContextSwitchTo(e->cxt);
	if (!merged)
	{
		if (e->progress)
			e->progress(e->progress_arg, "sorting", e->nsource + e->nspine_sorted, -1);
		tuplesort_performsort(e->srcsort);
		tuplesort_performsort(e->spinesort);
		merge(e);
	}
	tuplesort_end(e->srcsort);
	e->srcsort = NULL;
	tuplesort_end(e->spinesort);
	e->spinesort = NULL;
	tuplesort_performsort(e->ressort);
	e->results_ready = true;
	MemoryContextSwitchTo(old);
}

void
asof_engine_set_read_only(AsofEngine *e, bool read_only)
{
	e->read_only = read_only;
}

/* The results sort, in the shape setup_sorts gives it. */
static Tuplesortstate *
results_sort(AsofEngine *e, SortCoordinate coord)
{
	AttrNumber	rcols[1] = {1};
	Oid			rops[1] = {Int8LessOperator};
	Oid			rcolls[1] = {InvalidOid};
	bool		rnf[1] = {false};
	MemoryContext old = MemoryContextSwitchTo(e->cxt);
	Tuplesortstate *s = asof_tuplesort_begin_heap_coord(e->resdesc, 1, rcols, rops, rcolls,
														rnf, maintenance_work_mem, coord);

	MemoryContextSwitchTo(old);
	return s;
}

void
asof_engine_set_result_worker(AsofEngine *e, Sharedsort *shared, dsm_segment *seg)
{
	SortCoordinate coord = MemoryContextAllocZero(e->cxt, sizeof(SortCoordinateData));

	if (e->nspine > 0 || e->results_ready)
		elog(ERROR, "asof_engine_set_result_worker called after the first spine row");
	tuplesort_attach_shared(shared, seg);
	coord->isWorker = true;
	coord->nParticipants = -1;
	coord->sharedsort = shared;
	tuplesort_end(e->ressort);
	e->ressort = results_sort(e, coord);
}

void
asof_engine_take_results(AsofEngine *e, Sharedsort *shared, int nworkers)
{
	SortCoordinate coord = MemoryContextAllocZero(e->cxt, sizeof(SortCoordinateData));
	MemoryContext old;

	if (e->nspine > 0 || e->results_ready)
		elog(ERROR, "asof_engine_take_results called on an engine with spine rows");
	coord->isWorker = false;
	coord->nParticipants = nworkers;
	coord->sharedsort = shared;
	tuplesort_end(e->srcsort);
	e->srcsort = NULL;
	tuplesort_end(e->spinesort);
	e->spinesort = NULL;
	tuplesort_end(e->ressort);
	e->ressort = results_sort(e, coord);
	old = MemoryContextSwitchTo(e->cxt);
	tuplesort_performsort(e->ressort);
	MemoryContextSwitchTo(old);
	e->results_taken = true;
	e->results_ready = true;
}

void
asof_engine_release_results(AsofEngine *e)
{
	if (e->ressort)
		tuplesort_end(e->ressort);
	e->ressort = NULL;
	e->results_ready = false;
}

char *
asof_engine_source_query(AsofEngine *e)
{
	return asof_engine_source_sql(e->view, e->ninputs, e->inputs, false);
}

bool
asof_engine_next(AsofEngine *e, int64 *ordinal, Datum *values, bool *isnull)
{
	if (!e->results_ready)
		elog(ERROR, "asof_engine_next called before asof_engine_run");
	if (!tuplesort_gettupleslot(e->ressort, true, false, e->resslot, NULL))
		return false;
	slot_getallattrs(e->resslot);
	*ordinal = DatumGetInt64(e->resslot->tts_values[0]);
	memcpy(values, e->resslot->tts_values + 1, sizeof(Datum) * e->nfeat);
	memcpy(isnull, e->resslot->tts_isnull + 1, sizeof(bool) * e->nfeat);
	return true;
}

void
asof_engine_end(AsofEngine *e)
{
	if (e->srcsort)
		tuplesort_end(e->srcsort);
	if (e->spinesort)
		tuplesort_end(e->spinesort);
	if (e->ressort)
		tuplesort_end(e->ressort);
	ExecDropSingleTupleTableSlot(e->keyslot);
	ExecDropSingleTupleTableSlot(e->spineput);
	ExecDropSingleTupleTableSlot(e->spineslot);
	ExecDropSingleTupleTableSlot(e->srcput);
	ExecDropSingleTupleTableSlot(e->srcslot);
	ExecDropSingleTupleTableSlot(e->resput);
	ExecDropSingleTupleTableSlot(e->resslot);
	MemoryContextDelete(e->cxt);
}
