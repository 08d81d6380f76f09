/*-------------------------------------------------------------------------
 *
 * guard_registry.c
 *	  The guard's registry: reading the protected tables and split markers
 *	  (asof.protected_registry) into a per-backend cache, and removing the
 *	  registration of a relation that is dropped.
 *
 *	  The cache is loaded with a fresh catalog snapshot (not the transaction
 *	  snapshot: a REPEATABLE READ transaction must see a split committed
 *	  after it started) and dropped by relcache invalidation: the functions
 *	  that change the registry invalidate the registry's and the table's
 *	  relcache entries (asof_registry_invalidate), which also invalidates
 *	  every cached plan that reads the table.  Relations are resolved
 *	  lazily, one hash entry per relation ever looked up, negative entries
 *	  included, so a statement that touches no protected table costs one
 *	  hash lookup per relation.
 *
 *	  The load fails closed: the cache counts as loaded only once a load
 *	  has finished with no invalidation arriving meanwhile.  A load that
 *	  errors (a lock_timeout on the registry, a statement_timeout, a
 *	  cancel) leaves it unloaded, so the statement fails and the next one
 *	  loads again; a lookup made while a load runs is refused.  Every abort
 *	  drops the cache (guard_state.c).
 *
 *	  Must not: run a catalog query per statement, or decide what the guard
 *	  refuses (that is guard_*.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/xact.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "guard_registry.h"

/* One registered table, as read from the registry. */
typedef struct AsofRegistration
{
	Oid			relid;
	char	   *nspname;
	char	   *relname;
	char	   *time_column;
	int			ncols;
	char	  **colnames;		/* label columns, then future columns */
	bool	   *is_label;
	bool		has_split;
	char	   *test_from;
	Oid			linked_to;
} AsofRegistration;

static MemoryContext cache_cxt = NULL;
static bool cache_valid = false;
static bool cache_loading = false;
static uint64 inval_count = 0;	/* invalidations that concern the cache */
static bool callback_registered = false;
static Oid	registry_relid = InvalidOid;
static List *registrations = NIL;	/* of AsofRegistration * */
static HTAB *rel_hash = NULL;	/* Oid -> AsofGuardedRel */

/*
 * Names of protected relations (registered tables and the inheritors seen
 * so far), "schema.name", for error reporting without catalog access.
 */
typedef struct AsofRelName
{
	char	   *nspname;
	char	   *relname;
} AsofRelName;

static List *protected_names = NIL;

static void
remember_name(Oid relid)
{
	AsofRelName *n = palloc(sizeof(AsofRelName));
	char	   *nsp = get_namespace_name(get_rel_namespace(relid));
	char	   *rel = get_rel_name(relid);

	n->nspname = nsp ? nsp : "";
	n->relname = rel ? rel : "";
	protected_names = lappend(protected_names, n);
}

static void
asof_registry_relcache_callback(Datum arg, Oid relid)
{
	AsofGuardedRel *entry;

	/* While loading, any invalidation may concern what is being read. */
	if (cache_loading)
		inval_count++;
	if (!cache_valid)
		return;
	/* Without the registry (no extension yet), any new relation may be it. */
	if (relid == InvalidOid || relid == registry_relid || rel_hash == NULL ||
		registry_relid == InvalidOid)
	{
		cache_valid = false;
		return;
	}
	entry = hash_search(rel_hash, &relid, HASH_FIND, NULL);
	if (entry == NULL)
	{
		ListCell   *lc;

		/* A registered table not looked up yet (dropped, altered). */
		foreach(lc, registrations)
			if (((AsofRegistration *) lfirst(lc))->relid == relid)
				cache_valid = false;
		return;
	}
	if (entry->is_protected)
		cache_valid = false;
	else
		hash_search(rel_hash, &relid, HASH_REMOVE, NULL);
}

static char **
name_array_to_cstrings(Datum d, int *n)
{
	ArrayType  *arr = DatumGetArrayTypeP(d);
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	char	  **out;
	int			i;

	deconstruct_array(arr, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR,
					  &elems, &nulls, &nelems);
	out = palloc(sizeof(char *) * (nelems + 1));
	for (i = 0; i < nelems; i++)
		out[i] = nulls[i] ? pstrdup("") : pstrdup(NameStr(*DatumGetName(elems[i])));
	*n = nelems;
	return out;
}

/* Read the registry into the cache (which the caller marks loaded). */
static void
load_contents(void)
{
	Oid			nsp;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	HASHCTL		ctl;
	MemoryContext old;
	Datum	   *values;
	bool	   *nulls;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(asof_registry_relcache_callback, (Datum) 0);
		callback_registered = true;
	}
	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(CacheMemoryContext, "pg_asof guard cache",
										  ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(cache_cxt);
	registrations = NIL;
	protected_names = NIL;
	rel_hash = NULL;
	registry_relid = InvalidOid;

	nsp = get_namespace_oid("asof", true);
	if (OidIsValid(nsp))
		registry_relid = get_relname_relid("protected_registry", nsp);

	old = MemoryContextSwitchTo(cache_cxt);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(AsofGuardedRel);
	ctl.hcxt = cache_cxt;
	rel_hash = hash_create("pg_asof guarded relations", 64, &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	MemoryContextSwitchTo(old);

	if (!OidIsValid(registry_relid))
		return;

	/* A fresh catalog snapshot sees every committed split. */
	InvalidateCatalogSnapshot();
	rel = table_open(registry_relid, AccessShareLock);
	if (RelationGetDescr(rel)->natts < Natts_registry_min)
		elog(ERROR, "asof.protected_registry has an unexpected shape");
	values = palloc(sizeof(Datum) * RelationGetDescr(rel)->natts);
	nulls = palloc(sizeof(bool) * RelationGetDescr(rel)->natts);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		AsofRegistration *reg;
		char	  **labels;
		char	  **futures;
		int			nlabels;
		int			nfutures;
		int			i;
		char	   *relname;

		heap_deform_tuple(tup, RelationGetDescr(rel), values, nulls);
		relname = get_rel_name(DatumGetObjectId(values[Anum_registry_tbl - 1]));
		if (relname == NULL)
			continue;			/* dropped; the event trigger removes it */

		old = MemoryContextSwitchTo(cache_cxt);
		reg = palloc0(sizeof(AsofRegistration));
		reg->relid = DatumGetObjectId(values[Anum_registry_tbl - 1]);
		reg->relname = pstrdup(relname);
		reg->nspname = get_namespace_name(get_rel_namespace(reg->relid));
		reg->time_column = pstrdup(NameStr(*DatumGetName(values[Anum_registry_time_column - 1])));
		labels = name_array_to_cstrings(values[Anum_registry_label_columns - 1], &nlabels);
		futures = name_array_to_cstrings(values[Anum_registry_future_columns - 1], &nfutures);
		reg->ncols = nlabels + nfutures;
		reg->colnames = palloc(sizeof(char *) * (reg->ncols + 1));
		reg->is_label = palloc(sizeof(bool) * (reg->ncols + 1));
		for (i = 0; i < nlabels; i++)
		{
			reg->colnames[i] = labels[i];
			reg->is_label[i] = true;
		}
		for (i = 0; i < nfutures; i++)
		{
			reg->colnames[nlabels + i] = futures[i];
			reg->is_label[nlabels + i] = false;
		}
		reg->has_split = !nulls[Anum_registry_test_from - 1];
		reg->linked_to = nulls[Anum_registry_linked_to - 1] ? InvalidOid :
			DatumGetObjectId(values[Anum_registry_linked_to - 1]);
		if (reg->has_split)
			reg->test_from = TextDatumGetCString(values[Anum_registry_test_from - 1]);
		registrations = lappend(registrations, reg);
		{
			List	   *all = find_all_inheritors(reg->relid, NoLock, NULL);
			ListCell   *lc;

			foreach(lc, all)
				remember_name(lfirst_oid(lc));
		}
		MemoryContextSwitchTo(old);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	pfree(values);
	pfree(nulls);
}

/*
 * (Re)load the registry when an invalidation dropped it.  Marked loaded
 * only after a complete read during which nothing was invalidated; an error
 * leaves it unloaded (fail closed).
 */
static void
asof_registry_load(void)
{
	int			tries;

	if (cache_valid)
		return;

	/*
	 * Outside a running transaction (a transaction block already aborted,
	 * where only ROLLBACK and the like run) the catalogs cannot be read
	 * reliably: a change of the aborted transaction would look committed.
	 * Nothing reads a table there; load at the next statement instead.
	 */
	if (!IsTransactionState())
	{
		registrations = NIL;
		protected_names = NIL;
		return;
	}
	if (cache_loading)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the pg_asof guard registry is being loaded"),
				 errdetail("A statement cannot be checked against a registry that is half read.")));
	for (tries = 0; tries < 100; tries++)
	{
		uint64		before = inval_count;

		cache_loading = true;
		PG_TRY();
		{
			load_contents();
		}
		PG_FINALLY();
		{
			cache_loading = false;
		}
		PG_END_TRY();
		if (inval_count == before)
		{
			cache_valid = true;
			return;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the pg_asof guard registry kept changing while it was read"),
			 errhint("Retry the statement.")));
}

bool
asof_registry_is_loaded(void)
{
	return cache_valid;
}

void
asof_registry_reset(void)
{
	cache_valid = false;
}

static AsofRegistration *
find_registration(Oid relid)
{
	ListCell   *lc;

	foreach(lc, registrations)
	{
		AsofRegistration *reg = lfirst(lc);

		if (reg->relid == relid)
			return reg;
	}
	return NULL;
}

/* Direct parents of a relation (partitioning or inheritance). */
static List *
find_parents(Oid relid)
{
	Relation	inh;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *parents = NIL;

	inh = table_open(InheritsRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(inh, InheritsRelidSeqnoIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		parents = lappend_oid(parents, ((Form_pg_inherits) GETSTRUCT(tup))->inhparent);
	systable_endscan(scan);
	table_close(inh, AccessShareLock);
	return parents;
}

/* The registered ancestor of relid (itself included), or NULL. */
static AsofRegistration *
find_registered_ancestor(Oid relid, int depth)
{
	AsofRegistration *reg = find_registration(relid);
	List	   *parents;
	ListCell   *lc;

	if (reg != NULL || depth > 64)
		return reg;
	parents = find_parents(relid);
	foreach(lc, parents)
	{
		reg = find_registered_ancestor(lfirst_oid(lc), depth + 1);
		if (reg != NULL)
			return reg;
	}
	return NULL;
}

static void
resolve_entry(AsofGuardedRel *entry, AsofRegistration *reg)
{
	MemoryContext old;
	Oid			relid = entry->relid;
	int			i;

	old = MemoryContextSwitchTo(cache_cxt);
	entry->regrelid = reg->relid;
	entry->regname = reg->relname;
	entry->linked_to = reg->linked_to;
	entry->time_attno = get_attnum(relid, reg->time_column);
	if (entry->time_attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("time column \"%s\" of protected table \"%s\" is missing from relation \"%s\"",
						reg->time_column, reg->relname, get_rel_name(relid))));
	get_atttypetypmodcoll(relid, entry->time_attno, &entry->time_type,
						  &entry->time_typmod, &entry->time_collation);
	entry->has_split = reg->has_split;
	entry->test_from = reg->test_from;
	if (reg->has_split)
	{
		Oid			typinput;
		Oid			typioparam;

		getTypeInputInfo(entry->time_type, &typinput, &typioparam);
		entry->cutoff = OidInputFunctionCall(typinput, reg->test_from,
											 typioparam, entry->time_typmod);
		entry->cutoff_us = entry->time_type == DATEOID ?
			(int64) DatumGetDateADT(entry->cutoff) * USECS_PER_DAY :
			DatumGetInt64(entry->cutoff);
	}
	entry->ncols = reg->ncols;
	entry->attnos = palloc(sizeof(AttrNumber) * (reg->ncols + 1));
	entry->colnames = palloc(sizeof(char *) * (reg->ncols + 1));
	entry->is_label = palloc(sizeof(bool) * (reg->ncols + 1));
	entry->guarded = NULL;
	for (i = 0; i < reg->ncols; i++)
	{
		AttrNumber	att = get_attnum(relid, reg->colnames[i]);

		/* A column that is gone reads nothing; keep the entry closed. */
		entry->attnos[i] = att;
		entry->colnames[i] = reg->colnames[i];
		entry->is_label[i] = reg->is_label[i];
		if (att != InvalidAttrNumber)
			entry->guarded = bms_add_member(entry->guarded, att);
	}
	MemoryContextSwitchTo(old);
	entry->is_protected = true;
}

bool
asof_registry_any_protected(void)
{
	asof_registry_load();
	return registrations != NIL;
}

const AsofGuardedRel *
asof_registry_lookup(Oid relid)
{
	volatile int tries;

	for (tries = 0; tries < 100; tries++)
	{
		AsofGuardedRel *entry;
		AsofRegistration *reg;
		bool		found;

		asof_registry_load();
		if (registrations == NIL || !OidIsValid(relid))
			return NULL;
		entry = hash_search(rel_hash, &relid, HASH_FIND, NULL);
		if (entry != NULL)
			return entry->is_protected ? entry : NULL;

		/* First time this relation is seen since the last invalidation. */
		reg = find_registered_ancestor(relid, 0);
		if (!cache_valid)
			continue;			/* invalidated while we looked: reload */
		entry = hash_search(rel_hash, &relid, HASH_ENTER, &found);
		memset(((char *) entry) + sizeof(Oid), 0, sizeof(AsofGuardedRel) - sizeof(Oid));
		if (reg == NULL)
			return NULL;
		PG_TRY();
		{
			resolve_entry(entry, reg);
		}
		PG_CATCH();
		{
			cache_valid = false;
			PG_RE_THROW();
		}
		PG_END_TRY();
		if (cache_valid)
			return entry;
		/* invalidated while resolving: the entry may be gone; reload */
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the pg_asof guard registry kept changing while it was read"),
			 errhint("Retry the statement.")));
	return NULL;				/* keep the compiler quiet */
}

bool
asof_registry_name_is_protected(const char *nspname, const char *relname)
{
	ListCell   *lc;

	if (relname == NULL)
		return false;
	foreach(lc, protected_names)
	{
		AsofRelName *n = lfirst(lc);

		if (strcmp(n->relname, relname) == 0 &&
			(nspname == NULL || strcmp(n->nspname, nspname) == 0))
			return true;
	}
	return false;
}

Oid
asof_registry_registry_relid(void)
{
	asof_registry_load();
	return registry_relid;
}

List *
asof_registry_registered_relids(void)
{
	List	   *out = NIL;
	ListCell   *lc;

	asof_registry_load();
	foreach(lc, registrations)
		out = lappend_oid(out, ((AsofRegistration *) lfirst(lc))->relid);
	return out;
}

/*
 * A relation is being dropped (object_access_hook, OAT_DROP): its
 * registration goes with it, in the same transaction, whoever drops it and
 * however (DROP TABLE, DROP OWNED, a temporary table at the end of its
 * session).  Written directly, as the catalogs are: the dropping role needs
 * no privilege on the registry.
 */
void
asof_registry_forget(Oid relid)
{
	Oid			nsp;
	Oid			regid;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	nsp = get_namespace_oid("asof", true);
	regid = OidIsValid(nsp) ? get_relname_relid("protected_registry", nsp) : InvalidOid;
	if (!OidIsValid(regid) || regid == relid)
		return;
	rel = try_table_open(regid, RowExclusiveLock);
	if (rel == NULL)
		return;
	ScanKeyInit(&key, Anum_registry_tbl, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		simple_heap_delete(rel, &tup->t_self);
		found = true;
	}
	systable_endscan(scan);
	table_close(rel, RowExclusiveLock);
	if (found)
	{
		CacheInvalidateRelcacheByRelid(regid);
		cache_valid = false;
	}
}

void
asof_registry_invalidate(Oid relid)
{
	List	   *rels;
	ListCell   *lc;
	Oid			reg = asof_registry_registry_relid();

	if (get_rel_name(relid) == NULL)
		rels = NIL;				/* dropped: nothing of it is cached */
	else
		rels = find_all_inheritors(relid, NoLock, NULL);
	foreach(lc, rels)
		CacheInvalidateRelcacheByRelid(lfirst_oid(lc));
	if (OidIsValid(reg))
		CacheInvalidateRelcacheByRelid(reg);
	/* This backend too, at once (others at commit). */
	cache_valid = false;
}

/*
 * relid as regclass prints it: schema-qualified when it is not visible on
 * search_path, quoted when needed.  For messages and hints.
 */
char *
asof_table_text(Oid relid)
{
	return DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid)));
}
