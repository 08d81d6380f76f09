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

/* Schema of the online tables. */
#define ONLINE_SCHEMA "asof_online"

#endif							/* PG_ASOF_ONLINE_H */
