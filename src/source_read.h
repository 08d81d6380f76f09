/*-------------------------------------------------------------------------
 *
 * source_read.h
 *	  Bounded reads of a feature view's source: the one query that reads
 *	  only the source rows a set of answers needs (issue 13).  Used by the
 *	  engine for build_training_set and features_at; meant for any other
 *	  caller of the engine (materialize) as well.
 *
 *	  Interface.  The caller describes what it will ask for, as an
 *	  AsofSourceRange: the entities E (key values, in the view's key order
 *	  and types) with, per entity, its first effective time kfirst, and over
 *	  all of them the smallest and largest effective time kmin, kmax and the
 *	  smallest prediction time tmin (the TTL bound).  asof_source_read_plan
 *	  returns the SQL text and its parameters: one row per source row of an
 *	  entity of E (keys, event time, available time, each input, in the
 *	  column order of asof_engine_source_sql) with event time in [lo, hi):
 *
 *	  - hi = kmax: a row with te >= kmax is visible to no answer;
 *	  - lo = the smallest of
 *		  kmin - Wmax (Wmax the longest window) when the view has window
 *		  features: an older row is in no window of any answer;
 *		  tmin - ttl when it has last/last_nonnull features and a TTL: an
 *		  older row is expired for every answer (if it were the last
 *		  visible row, the answer is NULL, and without it the answer is
 *		  still NULL);
 *		  L when it has last features without a TTL: L = the smallest over
 *		  E of the event time of the last visible row (of each last
 *		  feature's kind: any row, or a non-null input) before the entity's
 *		  kfirst; a row older than that never wins against it.  L comes
 *		  from one lookup query (index-assisted, per entity), run only when
 *		  an index on (entity columns, event time) exists; otherwise lo is
 *		  -infinity for those views.  An entity with no visible row at
 *		  kfirst contributes the event time of its oldest row before
 *		  kfirst (rows still in flight become visible later), or kfirst.
 *	  Bounds that overflow the timestamp range are left open.  The
 *	  restriction to E is written into the query when it cannot call user
 *	  code (built-in equality of the key types): `key = $n` for one entity,
 *	  `key = ANY ($n)` for a single key column; otherwise the caller must
 *	  drop rows of other entities itself (the engine's hash lookup does).
 *
 *	  Reads by entity.  When the range covers a small share of the source
 *	  (at most READ_BY_ENTITY_MAX_FRACTION of its rows by the event time's
 *	  histogram, and at least READ_BY_ENTITY_MIN_ROWS rows per entity of
 *	  the spine), an index on (entity columns, event time) exists and the
 *	  keys compare with built-in equality, the plan also carries a query for
 *	  one entity, ordered by event time, with that entity's own bounds:
 *	  event times in [its kfirst - Wmax (or its first prediction time -
 *	  ttl, or the global lower bound of last values without TTL), its
 *	  largest effective time).  The engine runs it once per entity and
 *	  merges as the rows arrive, without sorting the source
 *	  (asof.engine_read_by_entity = on forces it, off turns it off).
 *
 *	  The bounds only drop rows no answer needs: what the leakage guard
 *	  hides (its row filter applies to this query as to the unbounded one)
 *	  and which spine rows it holds out are unchanged.  The lookup for L is
 *	  an ordinary query, never exempted by the guard: a hidden row can only
 *	  lower L (more rows read), never raise it.
 *
 *	  Owns: the bounds, the bounded SQL, the index check and its NOTICE.
 *	  Must not: run the bounded query (the caller does, so that the guard's
 *	  one-shot exemption applies to it), sort or merge.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_SOURCE_READ_H
#define PG_ASOF_SOURCE_READ_H

#include "postgres.h"

#include "nodes/params.h"

#include "feature_view.h"

typedef struct AsofSourceRange
{
	int			nentities;		/* entities asked for, at least 1 */
	Datum	   *keys;			/* nentities x nkeys values, entity-major */
	int64	   *kfirst;			/* per entity: its first effective time */
	int64	   *klast;			/* per entity: its last effective time and */
	int64	   *tfirst;			/* smallest prediction time (both NULL: no
								 * reads by entity) */
	int64		kmin;			/* smallest effective time of any entity */
	int64		kmax;			/* largest effective time */
	int64		tmin;			/* smallest prediction time */
	bool		no_lookup;		/* no lookup of L (a sealed build: it would run
								 * under the split's filter, see engine.c) */
} AsofSourceRange;

typedef struct AsofSourceRead
{
	char	   *sql;			/* the query; run it with params */
	ParamListInfo params;
	bool		has_lo;			/* false: no lower bound on event time */
	int64		lo;				/* event time >= lo */
	int64		hi;				/* event time < hi */
	bool		by_entity;		/* the query keeps rows of E only */
	bool		has_index;		/* an index on (entity, event time) exists */

	/*
	 * Reads by entity (asof_source_read_entity): NULL when not chosen;
	 * else one query per entity, its parameters $1..$nkeys the entity's
	 * keys, $nkeys+1 hi and $nkeys+2 lo, ordered by event time.
	 */
	char	   *entity_sql;
	Oid		   *entity_types;	/* the parameters' types */
	double		fraction;		/* estimated share of the source in [lo, hi),
								 * -1 when unknown */
	/* what the per-entity bounds are made of */
	bool		windows;
	int64		wmax;
	bool		last_ttl;
	int64		ttl;
	bool		last_lookup;	/* last without TTL: the global lo */
} AsofSourceRead;

/* asof.engine_read_by_entity: auto, on, off (engine.c owns the setting) */
typedef enum AsofReadByEntity
{
	ASOF_READ_BY_ENTITY_AUTO,
	ASOF_READ_BY_ENTITY_ON,
	ASOF_READ_BY_ENTITY_OFF
} AsofReadByEntity;

extern PGDLLIMPORT int asof_engine_read_by_entity;

/*
 * Whether asof_source_read_plan raises its NOTICE naming a missing index:
 * off in the parallel workers of a view's later parts (build_parallel.c),
 * so that a view split between workers says it once.
 */
extern PGDLLIMPORT bool asof_source_read_notices;

extern AsofSourceRead *asof_source_read_plan(const AsofFeatureView *view,
											 int ninputs, char **inputs,
											 const AsofSourceRange *range,
											 bool read_only);

/*
 * The parameters of entity i's query (p->entity_sql): its keys and its own
 * bounds, [tfirst - ttl or kfirst - Wmax or the global lo, klast).
 */
extern void asof_source_read_entity(const AsofFeatureView *view,
									const AsofSourceRead *p,
									const AsofSourceRange *range, int i,
									ParamListInfo params);

/* The attribute number of relid's column written as expr (as is or quoted), or 0. */
extern AttrNumber asof_column_of(Oid relid, const char *expr);

/*
 * The share of the view's source rows with event time in [lo, hi) (no lower
 * bound without has_lo), from the event time column's histogram; -1 when
 * unknown (an expression, no statistics).
 */
extern double asof_source_range_fraction(const AsofFeatureView *view,
										 bool has_lo, int64 lo, int64 hi);

#endif							/* PG_ASOF_SOURCE_READ_H */
