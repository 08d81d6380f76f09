/*-------------------------------------------------------------------------
 *
 * guard_sources.h
 *	  G5: which shapes of feature view source the engine can evaluate
 *	  exactly under a train/test split (guard_sources.c), and the record of
 *	  the protected relations the guard filtered while the engine read a
 *	  source.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_GUARD_SOURCES_H
#define PG_ASOF_GUARD_SOURCES_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "nodes/parsenodes.h"

/*
 * A source's shape, from its query tree after views are expanded.  Only
 * protected tables with a split that is not unsealed in this transaction
 * count ("hidden" tables: the guard filters them).
 */
typedef struct AsofSourceShape
{
	List	   *hidden;			/* regrelids of the hidden tables it reads */
	int			nreads;			/* their range-table entries in the tree */
	bool		has_cutoff;		/* hidden != NIL */
	int64		cutoff;			/* earliest cutoff, microseconds (a date: midnight) */
	Oid			cutoff_rel;		/* the table with that cutoff */
	const char *inexact;		/* NULL, or the shape that makes values partial */
	Oid			inexact_rel;	/* the hidden table concerned */
	bool		time_exact;		/* event time is the hidden table's own time column */
	bool		foreign;		/* reads a foreign table */
	bool		reads_protected;	/* reads a protected table, split or not */
	bool		user_code;		/* calls a function that is not built in */
} AsofSourceShape;

/*
 * Analyzes "SELECT event_time FROM source" (parse analysis and rewrite,
 * which take AccessShareLock on every relation the source reads, views
 * expanded), then reads the hidden tables' cutoffs: a concurrent
 * asof.split of one of them waits for this transaction.
 */
extern void asof_source_shape(Oid source, const char *event_time, AsofSourceShape *s);

/*
 * The same analysis for an online table (materialize, protect): every
 * protected table that is not itself linked counts as hidden, with or
 * without a split, whether the guard applies or not.
 */
extern void asof_source_shape_online(Oid source, const char *event_time, AsofSourceShape *s);

/*
 * Refuses (ERROR, 0A000) to materialize a view whose online table could
 * not be protected exactly: a source reading two protected tables, one
 * inexactly or with another event time, or calling a function that is not
 * built in while tables are protected.
 */
extern void asof_source_refuse_online(const char *view, Oid source, const AsofSourceShape *s);

/*
 * Refuses (ERROR, 0A000) a source that reads a hidden table through a
 * shape whose values would be partial, or whose time is not the hidden
 * table's clock, or that reads a foreign table while some table has a
 * split.
 */
extern void asof_source_refuse_inexact(Oid source, const AsofSourceShape *s);

/*
 * Around the engine's source query: counts the hidden tables' range-table
 * entries of every plan the executor starts in between (functions called
 * during execution included).  More than the source's own tree has means
 * the source reached a hidden table through code the analysis cannot see
 * (a function): the read is refused.
 */
extern void asof_source_read_begin(void);
extern void asof_source_read_end(Oid source, const AsofSourceShape *s);

/*
 * Whether a relation's rows may depend on the session (a view calling a
 * stable or volatile function, such as a cast that reads TimeZone).
 */
extern bool asof_relation_depends_on_session(Oid relid);

/* guard_columns.c, for each hidden relation of a plan it checks. */
extern void asof_source_note_read(Oid regrelid, AclMode required);

#endif							/* PG_ASOF_GUARD_SOURCES_H */
