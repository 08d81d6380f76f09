/*-------------------------------------------------------------------------
 *
 * guard_registry.h
 *	  The guard's view of the registry of protected tables and split
 *	  markers (asof.protected_registry): a per-backend cache, dropped by
 *	  relcache invalidation, that answers "is this relation protected, which
 *	  of its columns are label or future columns, what is its cutoff"
 *	  without a catalog query per statement.  Fails closed: see
 *	  guard_registry.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_GUARD_REGISTRY_H
#define PG_ASOF_GUARD_REGISTRY_H

#include "postgres.h"

#include "access/attnum.h"
#include "nodes/bitmapset.h"

/* Column numbers of asof.protected_registry (sql/30_guard.sql). */
#define Anum_registry_tbl				1
#define Anum_registry_time_column		2
#define Anum_registry_label_columns		3
#define Anum_registry_future_columns	4
#define Anum_registry_entity_columns	5
#define Anum_registry_label_time		6
#define Anum_registry_test_from			7
#define Anum_registry_linked_to			14
#define Natts_registry_min				14

/*
 * A relation as it appears in a query, resolved against the registry: the
 * registered table itself, or one of its partitions or inheritance
 * children (columns matched by name).  Lives in the cache; valid until the
 * next invalidation, so callers must not keep it across statements.
 */
typedef struct AsofGuardedRel
{
	Oid			relid;			/* the relation read (hash key) */
	bool		is_protected;	/* false: known not to be protected */
	Oid			regrelid;		/* the registered table (relid or ancestor) */
	const char *regname;		/* its name, unqualified */
	Oid			linked_to;		/* a training set's spine, or InvalidOid */
	AttrNumber	time_attno;		/* time column in relid's numbering */
	Oid			time_type;
	int32		time_typmod;
	Oid			time_collation;
	bool		has_split;
	Datum		cutoff;			/* test_from as time_type (by value) */
	int64		cutoff_us;		/* the same in microseconds (a date: its
								 * midnight), as the engine compares times */
	const char *test_from;		/* canonical text of the cutoff */
	int			ncols;			/* label and future columns */
	AttrNumber *attnos;			/* in relid's numbering */
	const char **colnames;
	bool	   *is_label;		/* true: label column; false: future */
	Bitmapset  *guarded;		/* attnos as a set (plain attribute numbers) */
} AsofGuardedRel;

/* True when the current database has at least one protected table. */
extern bool asof_registry_any_protected(void);

/*
 * The guarded view of a relation read by a query, or NULL when it is not
 * protected (itself or through an ancestor).  Cheap on repeated calls: one
 * hash lookup.
 */
extern const AsofGuardedRel *asof_registry_lookup(Oid relid);

/*
 * Whether a relation with this schema and name is protected or belongs to
 * a protected table, from what the cache already holds: no catalog access
 * (safe in error reporting).  Either name may be NULL.
 */
extern bool asof_registry_name_is_protected(const char *nspname, const char *relname);

/* OID of asof.protected_registry, or InvalidOid without the extension. */
extern Oid	asof_registry_registry_relid(void);

/*
 * Invalidate cached plans and every backend's cache for a registered table
 * (its relcache, its inheritors' and the registry's).  Transactional: other
 * backends see it when the caller commits.
 */
extern void asof_registry_invalidate(Oid relid);

/*
 * Whether the cache is loaded (false after an invalidation, an abort or a
 * failed load), and dropping it (guard_state.c, at every abort).
 */
extern bool asof_registry_is_loaded(void);
extern void asof_registry_reset(void);

/* A relation is dropped: remove its registration (object_access_hook). */
extern void asof_registry_forget(Oid relid);

/* The relations registered in asof.protected_registry, for DROP EXTENSION. */
extern List *asof_registry_registered_relids(void);

/* A relation's name as regclass prints it (schema-qualified when needed), for messages. */
extern char *asof_table_text(Oid relid);

#endif							/* PG_ASOF_GUARD_REGISTRY_H */
