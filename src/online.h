/*-------------------------------------------------------------------------
 *
 * online.h
 *	  The production side (docs/online.md): "now" (clock.c) and
 *	  materialized snapshots in online tables (materialize.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_ONLINE_H
#define PG_ASOF_ONLINE_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "feature_view.h"

/* clock.c: asof.clock, or the transaction's start time when it is empty. */
extern TimestampTz asof_clock_now(void);

/* clock.c: ISO text of a time for messages, "+00" appended when tz. */
extern char *asof_time_text(int64 us, bool tz);

/* online_admin.c: statements as the extension's owner, SPI connected. */
typedef struct AsofAsOwner
{
	Oid			userid;
	int			sec;
	int			nestlevel;
} AsofAsOwner;
extern void asof_as_owner_begin(AsofAsOwner *s, bool restricted);
extern void asof_as_owner_end(AsofAsOwner *s);

/*
 * online_admin.c: the protected table a feature view's source reads
 * (itself or through views), or NULL; SPI must be connected.
 */
extern char *asof_online_protected_input(Oid source, bool split_only);
extern void asof_online_follow_protected(Oid relid);
extern void asof_online_refuse_direct(Oid relid, const char *what);

/* online_admin.c: run sql through SPI, erroring unless it returns expect. */
extern void asof_online_spi(const char *sql, int nargs, Oid *types, Datum *values,
							const char *nulls, int expect);

/*
 * online_table.c: create the online table of v (its served type, serving
 * queries, registry row keeping retain_ticks ticks) and return its
 * qualified name; protect it when v reads a protected table.  As the
 * extension's owner, SPI connected.
 */
extern char *asof_online_create_table(const AsofFeatureView *v, int retain_ticks);
extern void asof_online_protect_table(const AsofFeatureView *v, const char *table);

/* A last / last_nonnull feature: stored with the event time of its row. */
static inline bool
asof_feature_is_last(const AsofFeature *f)
{
	return f->agg == ASOF_AGG_LAST || f->agg == ASOF_AGG_LAST_NONNULL;
}

/* Schema of the online tables. */
#define ONLINE_SCHEMA "asof_online"

#endif							/* PG_ASOF_ONLINE_H */
