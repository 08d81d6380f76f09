/*-------------------------------------------------------------------------
 *
 * ingestion_wait.c
 *	  asof.materialize's wait for the writers of its source, so that a row
 *	  stamped before the tick is in the snapshot (docs/online.md,
 *	  "Knowledge time: asof.track_ingestion").
 *
 *	  The tables a source reads are found from the catalog (views walked
 *	  through their rewrite rules' dependencies, partitions and inheritance
 *	  children added).  For each, the transactions holding a lock that
 *	  conflicts with ShareLock (RowExclusiveLock and stronger: every writer)
 *	  are listed, as CREATE INDEX CONCURRENTLY lists them, and waited for on
 *	  their virtual transaction id; autovacuum workers (which hold
 *	  ShareUpdateExclusiveLock and write no rows) are not waited for, and
 *	  this backend's own locks are not listed.  A writer that takes its lock
 *	  after the list was made stamps its rows later than now >= tick
 *	  (materialize refuses ticks in the future), so they are not visible at
 *	  the tick.
 *
 *	  Owns: that wait, and the refusal of a REPEATABLE READ or SERIALIZABLE
 *	  materialize of a source that tracks ingestion (its snapshot was taken
 *	  before the wait).
 *	  Must not: take the snapshot or compute anything (materialize.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "compat.h"
#include "ingestion.h"

/*
 * The ordinary and partitioned tables source reads, itself or through
 * views, with their partitions and children; *tracked: one of them (or
 * the source) is in asof.ingestion_tracking.
 */
static List *
source_tables(Oid source, bool *tracked)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(source)};
	List	   *result = NIL;

	*tracked = false;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(
							  "WITH RECURSIVE rels(oid) AS (SELECT $1 UNION "
							  "SELECT x.oid FROM rels, LATERAL ("
							  "SELECT d.refobjid FROM pg_catalog.pg_rewrite rw "
							  "JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
							  "AND d.objid OPERATOR(pg_catalog.=) rw.oid "
							  "AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
							  "AND d.refobjid OPERATOR(pg_catalog.<>) rels.oid "
							  "WHERE rw.ev_class OPERATOR(pg_catalog.=) rels.oid "
							  "UNION ALL SELECT i.inhrelid FROM pg_catalog.pg_inherits i "
							  "WHERE i.inhparent OPERATOR(pg_catalog.=) rels.oid) x(oid)) "
							  "SELECT c.oid, EXISTS (SELECT 1 FROM asof.ingestion_tracking t "
							  "WHERE t.relation::pg_catalog.oid OPERATOR(pg_catalog.=) c.oid) "
							  "FROM rels JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) rels.oid "
							  "WHERE c.relkind IN ('r', 'p') ORDER BY 1",
							  1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list the tables of source %u", source);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 1, &isnull));

		if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull)))
			*tracked = true;
		result = lappend_oid(result, relid);
	}
	SPI_finish();
	return result;
}

static bool
is_autovacuum(VirtualTransactionId vxid)
{
	PGPROC	   *proc = asof_vxid_proc(vxid);

	return proc != NULL && (proc->statusFlags & PROC_IS_AUTOVACUUM) != 0;
}

void
asof_wait_for_source_writers(Oid source, const char *vname)
{
	bool		tracked;
	List	   *rels = source_tables(source, &tracked);
	List	   *holders = NIL;
	ListCell   *lc;

	if (tracked && IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("cannot materialize feature view \"%s\" in a %s transaction", vname,
						IsolationIsSerializable() ? "SERIALIZABLE" : "REPEATABLE READ"),
				 errdetail("Its source tracks ingestion time; the transaction's snapshot was taken before materialize could wait for the transactions writing to it, so rows stamped before the tick could be missing from the snapshot."),
				 errhint("Materialize in a READ COMMITTED transaction.")));

	/* list every writer first, then wait: a writer arriving later stamps later */
	foreach(lc, rels)
	{
		LOCKTAG		tag;
		VirtualTransactionId *v;

		SET_LOCKTAG_RELATION(tag, MyDatabaseId, lfirst_oid(lc));
		for (v = GetLockConflicts(&tag, ShareLock, NULL); VirtualTransactionIdIsValid(*v); v++)
			if (!is_autovacuum(*v))
			{
				VirtualTransactionId *copy = palloc(sizeof(VirtualTransactionId));

				*copy = *v;
				holders = lappend(holders, copy);
			}
	}
	foreach(lc, holders)
	{
		(void) VirtualXactLock(*(VirtualTransactionId *) lfirst(lc), true);
		CHECK_FOR_INTERRUPTS();
	}
}
