/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Reading the registry of protected tables and split markers
 *	  (asof.protected_registry) into a per-backend cache.
 *
 *	  The cache is loaded with a fresh catalog snapshot (not the transaction
 *	  snapshot: a REPEATABLE READ transaction must see a split committed
 *	  after it started) and dropped by relcache invalidation: the functions
 *	  that change the registry invalidate the registry's and the table's
 *	  relcache entries (asof_catalog_invalidate), which also invalidates
 *	  every cached plan that reads the table.  Relations are resolved
 *	  lazily, one hash entry per relation ever looked up, negative entries
 *	  included, so a statement that touches no protected table costs one
 *	  hash lookup per relation.
 *
 *	  Must not: run a catalog query per statement, or decide what the guard
 *	  refuses (that is guard_*.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "catalog.h"

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
asof_catalog_relcache_callback(Datum arg, Oid relid)
{
	AsofGuardedRel *entry;

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

/* (Re)load the registry when an invalidation dropped it. */
static void
asof_catalog_load(void)
{
	Oid			nsp;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	HASHCTL		ctl;
	MemoryContext old;
	Datum	   *values;
	bool	   *nulls;

	if (cache_valid)
		return;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(asof_catalog_relcache_callback, (Datum) 0);
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

	/*
	 * Mark valid before reading: an invalidation that arrives while we read
	 * marks it invalid again, and the next statement reloads.
	 */
	cache_valid = true;

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
asof_catalog_any_protected(void)
{
	asof_catalog_load();
	return registrations != NIL;
}

const AsofGuardedRel *
asof_catalog_lookup(Oid relid)
{
	AsofGuardedRel *entry;
	bool		found;
	AsofRegistration *reg;

	asof_catalog_load();
	if (registrations == NIL || !OidIsValid(relid))
		return NULL;
	entry = hash_search(rel_hash, &relid, HASH_FIND, NULL);
	if (entry != NULL)
		return entry->is_protected ? entry : NULL;

	/* First time this relation is seen since the last invalidation. */
	reg = find_registered_ancestor(relid, 0);
	if (!cache_valid)
	{
		/* Invalidated while we looked: reload and retry once. */
		asof_catalog_load();
		if (registrations == NIL)
			return NULL;
		reg = find_registered_ancestor(relid, 0);
	}
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
		hash_search(rel_hash, &relid, HASH_REMOVE, NULL);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return entry;
}

bool
asof_catalog_name_is_protected(const char *nspname, const char *relname)
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
asof_catalog_registry_relid(void)
{
	asof_catalog_load();
	return registry_relid;
}

List *
asof_catalog_registered_relids(void)
{
	List	   *out = NIL;
	ListCell   *lc;

	asof_catalog_load();
	foreach(lc, registrations)
		out = lappend_oid(out, ((AsofRegistration *) lfirst(lc))->relid);
	return out;
}

void
asof_catalog_invalidate(Oid relid)
{
	List	   *rels;
	ListCell   *lc;
	Oid			reg = asof_catalog_registry_relid();

	rels = find_all_inheritors(relid, NoLock, NULL);
	foreach(lc, rels)
		CacheInvalidateRelcacheByRelid(lfirst_oid(lc));
	if (OidIsValid(reg))
		CacheInvalidateRelcacheByRelid(reg);
	/* This backend too, at once (others at commit). */
	cache_valid = false;
}
