/*-------------------------------------------------------------------------
 *
 * build_parallel.c
 *	  Parallel builds of training sets (build_parallel.h): the views of one
 *	  build computed by parallel workers; with workers to spare, a view's
 *	  entities split between several of them (parts by hash); with fewer
 *	  workers than views, the leader takes its turn.
 *
 *	  The leader reads the spine once and streams to each worker, over a
 *	  shm_mq, the spine rows of the views (or parts) it computes: (ordinal,
 *	  t, entity keys) as minimal tuples, in spine order.  The worker feeds
 *	  them to its own engine exactly as a serial build feeds its engines,
 *	  reads the view's source on the leader's snapshot, merges, and sorts
 *	  the results into a shared tuplesort (the worker side of a coordinated
 *	  sort); once it has finished, the leader reads them from there in
 *	  spine order.  Every view is computed by the code of a serial build,
 *	  from the same spine rows in the same order, over the same rows of its
 *	  source: the results are the same bytes (test 93).
 *
 *	  When.  max_parallel_maintenance_workers above 0 (the setting of
 *	  CREATE INDEX; at least 2 for one view), a build whose average view reads at
 *	  least min_parallel_table_scan_size (the spine, and the share of its
 *	  source the bounded read takes by the statistics of the prediction
 *	  time and event time columns, else the whole source): below that
 *	  the workers' start costs more than they save; not already in
 *	  parallel mode; entity key types whose equality and hash function
 *	  are PARALLEL SAFE; a spine query the leader can run in parallel mode (no
 *	  PARALLEL UNSAFE function: the spine is read in the leader, temporary
 *	  tables are fine),
 *	  and every view's source query safe in a worker: no temporary or
 *	  foreign relation, no function that is not PARALLEL SAFE, and for the
 *	  leakage guard no protected relation, no build sealing held-out spine
 *	  rows and, while any table is protected, no function that is not
 *	  built in.  A worker refuses any read of a protected table
 *	  (guard_columns.c), so a read this check could not see fails closed.
 *
 *	  Owns: the decision, the shared memory layout, the spine stream, the
 *	  workers' entry point, the hand-over of results.
 *	  Must not: compute features (engine.c) or write the training set
 *	  (training_set.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/int.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "optimizer/paths.h"
#include "storage/bufmgr.h"
#include "parser/parser.h"
#include "pgstat.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/tuplesort.h"
#include "utils/typcache.h"

#include "build_parallel.h"
#include "compat.h"
#include "guard.h"
#include "guard_registry.h"
#include "source_read.h"

#define KEY_SHARED		UINT64CONST(0xA50F0B0000000001)
#define KEY_SORTS		UINT64CONST(0xA50F0B0000000002)
#define KEY_QUEUES		UINT64CONST(0xA50F0B0000000003)

#define QUEUE_SIZE		(1024 * 1024)	/* per worker */
#define CHUNK_SIZE		(64 * 1024) /* spine rows are sent in chunks */
#define NAME_SIZE		256			/* a feature view's name, with its NUL */

/* a record of the spine stream: a header, then a minimal tuple */
typedef struct StreamRecord
{
	int32		view;			/* -1: the end, len = rows sent */
	uint32		len;
} StreamRecord;

typedef struct SharedView
{
	char		name[NAME_SIZE];
	uint32		definition_hash;	/* of asof_view_definition_json */
	int			nparts;			/* 0: the leader computes the view; else */
	int			first;			/* workers first .. first + nparts - 1
								 * (ParallelWorkerNumber + 1) each compute
								 * the entities of one part */
	pg_atomic_uint64 nheldout;	/* added to by its workers */
} SharedView;

typedef struct BuildShared
{
	int			nviews;
	Size		sortsize;		/* bytes per Sharedsort */
	SharedView	views[FLEXIBLE_ARRAY_MEMBER];
} BuildShared;

struct AsofParallelBuild
{
	ParallelContext *pcxt;
	BuildShared *shared;
	char	   *sorts;
	int			nviews;
	AsofFeatureView **views;
	AsofEngine **engines;
	TupleDesc  *descs;			/* per view: (ordinal, t, keys...) */
	FmgrInfo  **hashfns;		/* per view split in parts: per key */
	bool	  **keyvarlena;		/* per shipped view: per key, typlen -1 */
	Datum	   *vals;
	bool	   *nulls;
	shm_mq_handle **mqh;		/* per worker */
	StringInfoData *chunks;		/* per worker: records not sent yet */
	int64	   *sent;			/* per worker: rows sent */
};

static Sharedsort *
view_sort(char *sorts, Size sortsize, int view)
{
	return (Sharedsort *) (sorts + sortsize * view);
}

/* The stream's tuples of one view: (ordinal, t, the view's keys). */
static TupleDesc
stream_desc(const AsofFeatureView *v)
{
	TupleDesc	d = CreateTemplateTupleDesc(2 + v->nkeys);

	TupleDescInitEntry(d, 1, "ordinal", INT8OID, -1, 0);
	TupleDescInitEntry(d, 2, "t", INT8OID, -1, 0);
	for (int i = 0; i < v->nkeys; i++)
		TupleDescInitEntry(d, 3 + i, NULL, v->key_types[i], -1, 0);
	return d;
}

static uint32
definition_hash(const AsofFeatureView *v)
{
	StringInfoData b;

	initStringInfo(&b);
	asof_view_definition_json(&b, v);
	return hash_bytes((unsigned char *) b.data, b.len);
}

/* ----------------------------------------------------------------------
 * The decision
 * ----------------------------------------------------------------------
 */
typedef struct SafetyCheck
{
	bool		any_protected;
	bool		safe;
	BlockNumber blocks;			/* of the relations read */
} SafetyCheck;

/*
 * Can a worker read relation relid (and its inheritance children)?  Adds
 * their sizes to c->blocks.
 */
static bool
relation_safe(Oid relid, SafetyCheck *c)
{
	List	   *rels = list_make1_oid(relid);
	ListCell   *lc;

	if (has_subclass(relid))
		rels = find_all_inheritors(relid, AccessShareLock, NULL);
	foreach(lc, rels)
	{
		Oid			r = lfirst_oid(lc);
		char		persistence = get_rel_persistence(r);
		char		kind = get_rel_relkind(r);

		if (persistence == RELPERSISTENCE_TEMP || kind == RELKIND_FOREIGN_TABLE)
			return false;
		if (c->any_protected && asof_registry_lookup(r) != NULL)
			return false;
		if (RELKIND_HAS_STORAGE(kind))
		{
			Relation	rel = relation_open(r, AccessShareLock);

			c->blocks += RelationGetNumberOfBlocks(rel);
			relation_close(rel, NoLock);
		}
	}
	return true;
}

static bool
safety_walker(Node *node, SafetyCheck *c)
{
	if (node == NULL || !c->safe)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		ListCell   *lc;

		foreach(lc, q->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);

			if (rte->rtekind == RTE_RELATION && !relation_safe(rte->relid, c))
				c->safe = false;
		}
		return query_tree_walker(q, safety_walker, c, QTW_EXAMINE_RTES_BEFORE) || !c->safe;
	}
	if (IsA(node, RangeTblEntry))
		return false;			/* seen with its query; its contents follow */
	/* every expression, row security policies' too (query_tree_walker) */
	if (c->any_protected && asof_guard_node_calls_user_code(node))
	{
		c->safe = false;
		return true;
	}
	return expression_tree_walker(node, safety_walker, c);
}

/* The rewritten query trees of sql, as SPI would run them. */
static List *
analyzed_queries(const char *sql)
{
	List	   *raw = asof_raw_parser(sql);
	List	   *queries = NIL;
	ListCell   *lc;

	foreach(lc, raw)
		queries = list_concat(queries,
							  pg_analyze_and_rewrite_fixedparams(lfirst_node(RawStmt, lc),
																 sql, NULL, 0, NULL));
	return queries;
}

/*
 * Is the source query of engine e safe to run in a parallel worker?  Adds
 * the size of what it reads to *blocks.
 */
static bool
source_safe(AsofEngine *e, bool any_protected, BlockNumber *blocks)
{
	char	   *sql = asof_engine_source_query(e);
	ListCell   *lc;
	SafetyCheck c;
	int			nest;

	c.any_protected = any_protected;
	c.safe = true;
	c.blocks = 0;
	/* as the engine reads it (asof_engine_run_query) */
	nest = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	foreach(lc, analyzed_queries(sql))
	{
		Query	   *q = lfirst_node(Query, lc);

		if (q->commandType != CMD_SELECT || max_parallel_hazard(q) != PROPARALLEL_SAFE)
			c.safe = false;
		else
			(void) safety_walker((Node *) q, &c);
	}
	AtEOXact_GUC(true, nest);
	*blocks += c.blocks;
	return c.safe;
}

/*
 * Can the leader read the spine in parallel mode: does the spine query
 * (the spine, a view's functions, the prediction time) call nothing that
 * is PARALLEL UNSAFE (writes, nextval)?  Read with the caller's
 * search_path, as build_read_spine reads it.
 */
static bool
spine_safe(const char *spine_sql)
{
	ListCell   *lc;

	foreach(lc, analyzed_queries(spine_sql))
	{
		Query	   *q = lfirst_node(Query, lc);

		if (q->commandType != CMD_SELECT || max_parallel_hazard(q) == PROPARALLEL_UNSAFE)
			return false;
	}
	return true;
}

/*
 * The spine's prediction times, from the histogram of its column when `at`
 * is a plain timestamp column of a stored spine; false when unknown.
 */
static bool
spine_time_range(Oid spine, const char *at, int64 *tmin, int64 *tmax)
{
	AttrNumber	attnum = asof_column_of(spine, at);
	Oid			type;
	HeapTuple	st;
	AttStatsSlot sslot;
	bool		found = false;

	if (attnum == InvalidAttrNumber)
		return false;
	type = get_atttype(spine, attnum);
	if (type != TIMESTAMPOID && type != TIMESTAMPTZOID)
		return false;
	st = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(spine),
						 Int16GetDatum(attnum), BoolGetDatum(false));
	if (!HeapTupleIsValid(st))
		return false;
	if (get_attstatsslot(&sslot, st, STATISTIC_KIND_HISTOGRAM, InvalidOid,
						 ATTSTATSSLOT_VALUES))
	{
		if (sslot.nvalues >= 2)
		{
			*tmin = DatumGetInt64(sslot.values[0]);
			*tmax = DatumGetInt64(sslot.values[sslot.nvalues - 1]);
			found = true;
		}
		free_attstatsslot(&sslot);
	}
	ReleaseSysCache(st);
	return found;
}

/*
 * The blocks of view v's source that a spine with prediction times in
 * [tmin, tmax] makes the build read (its bounded read, source_read.h, as
 * far as the statistics tell): the share of the source with event times
 * from tmin less the longest window, TTL, delay and cadence (no lower
 * bound with last values and no TTL) to tmax.  All of source_blocks when
 * unknown.
 */
static BlockNumber
view_read_blocks(const AsofFeatureView *v, BlockNumber source_blocks,
				 bool have_range, int64 tmin, int64 tmax)
{
	int64		reach = v->delay_us + (v->has_cadence ? v->cadence_us : 0);
	bool		bounded = true;
	int64		lo = PG_INT64_MIN;
	double		f;

	if (!have_range)
		return source_blocks;
	for (int i = 0; i < v->nfeatures; i++)
	{
		if (v->features[i].window_us > 0)
			reach = Max(reach, v->features[i].window_us + v->delay_us);
		else if (v->has_ttl)
			reach = Max(reach, v->ttl_us + v->delay_us);
		else
			bounded = false;
	}
	if (reach < 0 || pg_sub_s64_overflow(tmin, reach, &lo))
		bounded = false;
	f = asof_source_range_fraction(v, bounded, lo, tmax == PG_INT64_MAX ? tmax : tmax + 1);
	if (f < 0)
		return source_blocks;
	return (BlockNumber) (f * source_blocks);
}

/*
 * Are the functions the engine calls on a view's entity keys (the key
 * type's equality and its hash function) PARALLEL SAFE?  Workers call them
 * in their hash tables, the leader to split a view's entities.
 */
static bool
keys_safe(const AsofFeatureView *v)
{
	for (int i = 0; i < v->nkeys; i++)
	{
		TypeCacheEntry *tc = lookup_type_cache(v->key_types[i], TYPECACHE_EQ_OPR);
		RegProcedure lhash,
					rhash;

		if (!OidIsValid(tc->eq_opr) ||
			func_parallel(get_opcode(tc->eq_opr)) != PROPARALLEL_SAFE)
			return false;
		if (get_op_hash_functions(tc->eq_opr, &lhash, &rhash) &&
			((OidIsValid(lhash) && func_parallel(lhash) != PROPARALLEL_SAFE) ||
			 (OidIsValid(rhash) && func_parallel(rhash) != PROPARALLEL_SAFE)))
			return false;
	}
	return true;
}

/* How many workers should this build have (0: a serial build)? */
static int
plan_workers(AsofFeatureView **views, AsofEngine **engines, int nviews,
			 Oid spine, const char *at, const char *spine_sql)
{
	int			nworkers = Min(Max(nviews, 2), max_parallel_maintenance_workers);
	bool		any_protected;
	Oid			unused_spine;
	int64		unused_from;
	int64		tmin = 0,
				tmax = 0;
	bool		have_range;
	double		work = 0;
	Relation	rel;

	if (nworkers <= 0 || IsInParallelMode() || max_worker_processes <= 1)
		return 0;
	/* one view: split between at least two workers, or not at all */
	if (nviews == 1 && nworkers < 2)
		return 0;
	/* the guard: a build sealing held-out spine rows exempts its reads */
	if (asof_guard_get_build(&unused_spine, &unused_from))
		return 0;
	any_protected = asof_guard_active() && asof_registry_any_protected();
	/*
	 * The work of the average view, in blocks: the spine, and what its
	 * bounded read takes of the source.  A worker's start (a new process,
	 * its caches cold) costs more than a view below
	 * min_parallel_table_scan_size saves.
	 */
	have_range = spine_time_range(spine, at, &tmin, &tmax);
	for (int i = 0; i < nviews; i++)
	{
		BlockNumber blocks = 0;

		if (!source_safe(engines[i], any_protected, &blocks) || !keys_safe(views[i]))
			return 0;
		work += view_read_blocks(views[i], blocks, have_range, tmin, tmax);
	}
	rel = relation_open(spine, AccessShareLock);
	if (RELKIND_HAS_STORAGE(rel->rd_rel->relkind))
		work += (double) RelationGetNumberOfBlocks(rel) * nviews;
	relation_close(rel, NoLock);
	if (work / nviews < (double) min_parallel_table_scan_size)
		return 0;
	if (!spine_safe(spine_sql))
		return 0;
	return nworkers;
}

/*
 * plan_workers in a subtransaction: a query that does not parse or analyze
 * (a missing column, a bad prediction time: errors of classes 42, 22 and
 * 0A) makes the build serial, and the serial read raises the error exactly
 * as it always has, in its own context; any other error (a cancel) is
 * raised.
 */
static int
plan_workers_or_serial(AsofFeatureView **views, AsofEngine **engines, int nviews,
					   Oid spine, const char *at, const char *spine_sql)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile int nworkers = 0;

	if (max_parallel_maintenance_workers <= 0 || IsInParallelMode())
		return 0;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		nworkers = plan_workers(views, engines, nviews, spine, at, spine_sql);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		int			category;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		/* a cancel, a timeout, no memory: not a question for the read */
		category = ERRCODE_TO_CATEGORY(edata->sqlerrcode);
		if (category != ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION &&
			category != ERRCODE_DATA_EXCEPTION &&
			category != ERRCODE_FEATURE_NOT_SUPPORTED)
			ReThrowError(edata);
		FreeErrorData(edata);
		nworkers = 0;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return nworkers;
}

/*
 * Views to participants, once the launched workers are known.  At least as
 * many workers as views: every view to workers, its entities split between
 * as many of them as there are to spare (parts by hash); the leader only
 * reads the spine and writes, which is about half of a full build on its
 * own (docs/engine.md).  Fewer: one participant per view, the leader
 * taking its turn.
 */
static void
assign_views(BuildShared *shared, int nviews, int launched)
{
	int			next = 1;

	for (int i = 0; i < nviews; i++)
	{
		SharedView *sv = &shared->views[i];

		if (launched >= nviews)
		{
			sv->nparts = launched / nviews + (i < launched % nviews ? 1 : 0);
			sv->first = next;
			next += sv->nparts;
		}
		else
		{
			int			who = i % (launched + 1);

			sv->nparts = who == 0 ? 0 : 1;
			sv->first = who;
		}
	}
}

/*
 * The hash functions of a view's entity keys: those of the hash opclass of
 * each key type's equality, so that keys the engine finds equal (also
 * under a nondeterministic collation) land in the same part.  NULL when a
 * key has none: then every row goes to the view's first part, which is
 * still right (each worker reads every source row of its own entities),
 * only not split.
 */
static FmgrInfo *
key_hash_functions(const AsofFeatureView *v)
{
	FmgrInfo   *fns = palloc0(sizeof(FmgrInfo) * v->nkeys);

	for (int i = 0; i < v->nkeys; i++)
	{
		TypeCacheEntry *tc = lookup_type_cache(v->key_types[i], TYPECACHE_EQ_OPR);
		RegProcedure lhash,
					rhash;

		if (!OidIsValid(tc->eq_opr) || !get_op_hash_functions(tc->eq_opr, &lhash, &rhash) ||
			!OidIsValid(lhash))
			return NULL;
		fmgr_info(lhash, &fns[i]);
	}
	return fns;
}

/* The part (0 .. nparts - 1) of a spine row's entity; NULL keys: part 0. */
static int
entity_part(const AsofFeatureView *v, FmgrInfo *fns, Datum *keys, bool *keynulls,
			int nparts)
{
	uint32		h = 0;

	if (fns == NULL)
		return 0;
	for (int i = 0; i < v->nkeys; i++)
	{
		if (keynulls[i])
			return 0;
		h = hash_combine(h, DatumGetUInt32(FunctionCall1Coll(&fns[i], v->key_collations[i],
															 keys[i])));
	}
	return (int) (murmurhash32(h) % (uint32) nparts);
}

/* ----------------------------------------------------------------------
 * The leader
 * ----------------------------------------------------------------------
 */
AsofParallelBuild *
asof_parallel_build_begin(AsofFeatureView **views, AsofEngine **engines, int nviews,
						  Oid spine, const char *at, const char *spine_sql)
{
	int			nworkers;
	AsofParallelBuild *pb;
	ParallelContext *pcxt;
	Size		sortsize;
	Size		sharedsize = add_size(offsetof(BuildShared, views),
									  mul_size(sizeof(SharedView), nviews));
	char	   *queues;

	for (int i = 0; i < nviews; i++)
		if (strlen(views[i]->name) >= NAME_SIZE)
			return NULL;
	nworkers = plan_workers_or_serial(views, engines, nviews, spine, at, spine_sql);
	if (nworkers == 0)
		return NULL;

	/* phase 1: parallel mode, the snapshot every read of the build uses */
	EnterParallelMode();
	PushActiveSnapshot(GetTransactionSnapshot());
	pcxt = CreateParallelContext("pg_asof", "asof_build_worker_main", nworkers);

	/* phase 2: shared memory: the views, a results sort each, the queues */
	sortsize = MAXALIGN(tuplesort_estimate_shared(nworkers));
	shm_toc_estimate_chunk(&pcxt->estimator, sharedsize);
	shm_toc_estimate_chunk(&pcxt->estimator, mul_size(sortsize, nviews));
	shm_toc_estimate_chunk(&pcxt->estimator, mul_size(QUEUE_SIZE, nworkers));
	shm_toc_estimate_keys(&pcxt->estimator, 3);
	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL)
	{
		/* no dynamic shared memory to be had: serially */
		DestroyParallelContext(pcxt);
		PopActiveSnapshot();
		ExitParallelMode();
		return NULL;
	}
	pb = palloc0(sizeof(AsofParallelBuild));
	pb->pcxt = pcxt;
	pb->nviews = nviews;
	pb->views = views;
	pb->engines = engines;
	pb->shared = shm_toc_allocate(pcxt->toc, sharedsize);
	memset(pb->shared, 0, sharedsize);
	pb->shared->nviews = nviews;
	pb->shared->sortsize = sortsize;
	pb->sorts = shm_toc_allocate(pcxt->toc, mul_size(sortsize, nviews));
	for (int i = 0; i < nviews; i++)
	{
		strlcpy(pb->shared->views[i].name, views[i]->name, NAME_SIZE);
		pb->shared->views[i].definition_hash = definition_hash(views[i]);
		tuplesort_initialize_shared(view_sort(pb->sorts, sortsize, i), nworkers, pcxt->seg);
		pg_atomic_init_u64(&pb->shared->views[i].nheldout, 0);
	}
	queues = shm_toc_allocate(pcxt->toc, mul_size(QUEUE_SIZE, nworkers));
	for (int w = 0; w < nworkers; w++)
		shm_mq_set_sender(shm_mq_create(queues + (Size) w * QUEUE_SIZE, QUEUE_SIZE), MyProc);
	shm_toc_insert(pcxt->toc, KEY_SHARED, pb->shared);
	shm_toc_insert(pcxt->toc, KEY_SORTS, pb->sorts);
	shm_toc_insert(pcxt->toc, KEY_QUEUES, queues);

	/* phase 3: the workers, and the views of each participant */
	LaunchParallelWorkers(pcxt);
	assign_views(pb->shared, nviews, pcxt->nworkers_launched);
	pb->mqh = palloc0(sizeof(shm_mq_handle *) * Max(pcxt->nworkers_launched, 1));
	pb->chunks = palloc0(sizeof(StringInfoData) * Max(pcxt->nworkers_launched, 1));
	pb->sent = palloc0(sizeof(int64) * Max(pcxt->nworkers_launched, 1));
	for (int w = 0; w < pcxt->nworkers_launched; w++)
	{
		pb->mqh[w] = shm_mq_attach((shm_mq *) (queues + (Size) w * QUEUE_SIZE),
								   pcxt->seg, pcxt->worker[w].bgwhandle);
		initStringInfo(&pb->chunks[w]);
	}
	pb->descs = palloc0(sizeof(TupleDesc) * nviews);
	pb->hashfns = palloc0(sizeof(FmgrInfo *) * nviews);
	pb->keyvarlena = palloc0(sizeof(bool *) * nviews);
	for (int i = 0; i < nviews; i++)
	{
		if (pb->shared->views[i].nparts > 0)
		{
			pb->descs[i] = stream_desc(views[i]);
			pb->keyvarlena[i] = palloc(sizeof(bool) * views[i]->nkeys);
			for (int k = 0; k < views[i]->nkeys; k++)
				pb->keyvarlena[i][k] = get_typlen(views[i]->key_types[k]) == -1;
		}
		if (pb->shared->views[i].nparts > 1)
			pb->hashfns[i] = key_hash_functions(views[i]);
	}
	pb->vals = palloc(sizeof(Datum) * (2 + INDEX_MAX_KEYS));
	pb->nulls = palloc(sizeof(bool) * (2 + INDEX_MAX_KEYS));

	/* every read of the build is now on the pushed snapshot */
	for (int i = 0; i < nviews; i++)
		asof_engine_set_read_only(engines[i], true);
	return pb;
}

bool
asof_parallel_build_ships(AsofParallelBuild *pb, int view)
{
	return pb != NULL && pb->shared->views[view].nparts > 0;
}

/* Send worker w's pending records; a worker that is gone raises its error. */
static void
flush_chunk(AsofParallelBuild *pb, int w)
{
	StringInfo	c = &pb->chunks[w];
	shm_mq_result r;

	if (c->len == 0)
		return;
	r = shm_mq_send(pb->mqh[w], c->len, c->data, false, true);
	if (r != SHM_MQ_SUCCESS)
	{
		WaitForParallelWorkersToFinish(pb->pcxt);	/* rethrows its error */
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("parallel worker of asof.build_training_set exited before reading the spine")));
	}
	resetStringInfo(c);
}

static void
append_record(StringInfo c, int32 view, uint32 len, const void *data)
{
	StreamRecord h;

	h.view = view;
	h.len = len;
	appendBinaryStringInfo(c, (char *) &h, sizeof(h));
	if (data != NULL)
		appendBinaryStringInfo(c, data, len);
	/* the next header on an 8-byte boundary of the chunk */
	while (c->len % MAXIMUM_ALIGNOF != 0)
		appendStringInfoChar(c, '\0');
}

void
asof_parallel_build_ship(AsofParallelBuild *pb, int view, int64 ordinal,
						 Datum *keys, bool *keynulls, int64 t, bool t_valid)
{
	SharedView *sv = &pb->shared->views[view];
	AsofFeatureView *v = pb->views[view];
	int			w = sv->first - 1;
	MinimalTuple tup;

	if (sv->nparts > 1)
		w += entity_part(v, pb->hashfns[view], keys, keynulls, sv->nparts);
	pb->vals[0] = Int64GetDatum(ordinal);
	pb->nulls[0] = false;
	pb->vals[1] = Int64GetDatum(t);
	pb->nulls[1] = !t_valid;
	memcpy(pb->vals + 2, keys, sizeof(Datum) * v->nkeys);
	memcpy(pb->nulls + 2, keynulls, sizeof(bool) * v->nkeys);

	/*
	 * A key stored out of line is a pointer into the spine's TOAST table,
	 * which a worker may not be able to read (a temporary spine): send the
	 * value itself.
	 */
	for (int k = 0; k < v->nkeys; k++)
		if (!keynulls[k] && pb->keyvarlena[view][k] &&
			VARATT_IS_EXTERNAL(DatumGetPointer(keys[k])))
			pb->vals[2 + k] = PointerGetDatum(detoast_external_attr((struct varlena *) DatumGetPointer(keys[k])));
	tup = asof_heap_form_minimal_tuple(pb->descs[view], pb->vals, pb->nulls);
	append_record(&pb->chunks[w], view, tup->t_len, tup);
	pfree(tup);
	for (int k = 0; k < v->nkeys; k++)
		if (!keynulls[k] && pb->vals[2 + k] != keys[k])
			pfree(DatumGetPointer(pb->vals[2 + k]));
	pb->sent[w]++;
	if (pb->chunks[w].len >= CHUNK_SIZE)
		flush_chunk(pb, w);
}

void
asof_parallel_build_spine_done(AsofParallelBuild *pb)
{
	if (pb == NULL)
		return;
	for (int w = 0; w < pb->pcxt->nworkers_launched; w++)
	{
		append_record(&pb->chunks[w], -1, (uint32) pb->sent[w], NULL);
		flush_chunk(pb, w);
	}
}

void
asof_parallel_build_finish(AsofParallelBuild *pb)
{
	if (pb == NULL)
		return;
	WaitForParallelWorkersToFinish(pb->pcxt);
	for (int i = 0; i < pb->nviews; i++)
		if (pb->shared->views[i].nparts > 0)
			asof_engine_take_results(pb->engines[i],
									 view_sort(pb->sorts, pb->shared->sortsize, i),
									 pb->shared->views[i].nparts);
}

int64
asof_parallel_build_heldout(AsofParallelBuild *pb, int view)
{
	return (int64) pg_atomic_read_u64(&pb->shared->views[view].nheldout);
}

int
asof_parallel_build_workers(AsofParallelBuild *pb)
{
	return pb == NULL ? 0 : pb->pcxt->nworkers_launched;
}

void
asof_parallel_build_end(AsofParallelBuild *pb)
{
	if (pb == NULL)
		return;
	/* the workers' results live in the shared memory about to go */
	for (int i = 0; i < pb->nviews; i++)
		asof_engine_release_results(pb->engines[i]);
	DestroyParallelContext(pb->pcxt);
	PopActiveSnapshot();
	ExitParallelMode();
}

/* ----------------------------------------------------------------------
 * The workers
 * ----------------------------------------------------------------------
 */
typedef struct WorkerView
{
	AsofEngine *engine;
	TupleDesc	desc;
	TupleTableSlot *slot;
} WorkerView;

/* Feed one chunk's records to the engines; true at the end record. */
static bool
worker_chunk(WorkerView *wv, int nviews, const char *data, Size nbytes,
			 MinimalTuple *buf, Size *bufsize, int64 *received)
{
	Size		off = 0;

	while (off < nbytes)
	{
		StreamRecord h;
		WorkerView *w;
		int64		ordinal,
					t;
		bool		t_valid;

		memcpy(&h, data + off, sizeof(h));
		off += sizeof(h);
		if (h.view == -1)
		{
			if ((int64) h.len != *received)
				elog(ERROR, "spine stream ended after " INT64_FORMAT " rows, " UINT64_FORMAT " sent",
					 *received, (uint64) h.len);
			return true;
		}
		if (h.view < 0 || h.view >= nviews || wv[h.view].engine == NULL ||
			off + h.len > nbytes)
			elog(ERROR, "malformed spine stream record");
		w = &wv[h.view];
		/* a copy, on a boundary the tuple's fields can be read at */
		if (h.len > *bufsize)
		{
			*bufsize = Max(h.len, *bufsize * 2);
			*buf = repalloc(*buf, *bufsize);
		}
		memcpy(*buf, data + off, h.len);
		off = MAXALIGN(off + h.len);
		ExecStoreMinimalTuple(*buf, w->slot, false);
		slot_getallattrs(w->slot);
		ordinal = DatumGetInt64(w->slot->tts_values[0]);
		t_valid = !w->slot->tts_isnull[1];
		t = t_valid ? DatumGetInt64(w->slot->tts_values[1]) : 0;
		asof_engine_add_spine(w->engine, ordinal, w->slot->tts_values + 2,
							  w->slot->tts_isnull + 2, t, t_valid);
		ExecClearTuple(w->slot);
		(*received)++;
	}
	return false;
}

void
asof_build_worker_main(dsm_segment *seg, shm_toc *toc)
{
	BuildShared *shared = shm_toc_lookup(toc, KEY_SHARED, false);
	char	   *sorts = shm_toc_lookup(toc, KEY_SORTS, false);
	char	   *queues = shm_toc_lookup(toc, KEY_QUEUES, false);
	shm_mq	   *mq = (shm_mq *) (queues + (Size) ParallelWorkerNumber * QUEUE_SIZE);
	shm_mq_handle *mqh;
	int			me = ParallelWorkerNumber + 1;
	WorkerView *wv = palloc0(sizeof(WorkerView) * shared->nviews);
	Size		bufsize = BLCKSZ;
	MinimalTuple buf = palloc(bufsize);
	int64		received = 0;
	bool		first = true;

	/* phase 1: the guard's rules for a worker that plans its own queries */
	asof_guard_enter_build_worker();
	shm_mq_set_receiver(mq, MyProc);
	mqh = shm_mq_attach(mq, seg, NULL);

	/* phase 2: the spine stream; its first chunk means the views are assigned */
	for (;;)
	{
		Size		nbytes;
		void	   *data;

		if (shm_mq_receive(mqh, &nbytes, &data, false) != SHM_MQ_SUCCESS)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("the leader of asof.build_training_set detached before the end of the spine")));
		if (first)
		{
			/* an engine per view of ours, built from the same definition */
			for (int i = 0; i < shared->nviews; i++)
			{
				AsofFeatureView *v;

				if (me < shared->views[i].first ||
					me >= shared->views[i].first + shared->views[i].nparts)
					continue;
				v = asof_load_feature_view(shared->views[i].name);
				if (definition_hash(v) != shared->views[i].definition_hash)
					ereport(ERROR,
							(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
							 errmsg("feature view \"%s\" changed during the build", v->name)));
				/* a view split in parts names a missing index once */
				if (me > shared->views[i].first)
					asof_source_read_notices = false;
				wv[i].engine = asof_engine_create(v);
				asof_engine_set_read_only(wv[i].engine, true);
				asof_engine_set_result_worker(wv[i].engine,
											  view_sort(sorts, shared->sortsize, i), seg);
				wv[i].desc = stream_desc(v);
				wv[i].slot = MakeSingleTupleTableSlot(wv[i].desc, &TTSOpsMinimalTuple);
			}
			first = false;
		}
		if (worker_chunk(wv, shared->nviews, data, nbytes, &buf, &bufsize, &received))
			break;
	}
	shm_mq_detach(mqh);

	/* phase 3: each view: read its source, merge, hand the results over */
	for (int i = 0; i < shared->nviews; i++)
	{
		if (wv[i].engine == NULL)
			continue;
		asof_engine_run(wv[i].engine, NULL);
		pg_atomic_fetch_add_u64(&shared->views[i].nheldout,
								(uint64) asof_engine_heldout_rows(wv[i].engine));
		asof_engine_end(wv[i].engine);
	}
}
