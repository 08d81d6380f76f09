/*-------------------------------------------------------------------------
 *
 * ingestion.h
 *	  Knowledge time captured at ingestion (asof.track_ingestion,
 *	  docs/online.md): what the guard and asof.materialize ask of it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_INGESTION_H
#define PG_ASOF_INGESTION_H

#include "postgres.h"

#include "nodes/parsenodes.h"
#include "utils/reltrigger.h"

/*
 * ingestion.c: is this CREATE TRIGGER exactly one of the two triggers
 * asof.track_ingestion creates on relid (its function, timing, events,
 * deferral, no WHEN, no columns, no transition tables, its one argument
 * the column registered for relid in asof.ingestion_tracking), and the only
 * trigger of relid calling that function besides itself?  The guard lets
 * such a trigger onto a protected table.
 */
extern bool asof_ingestion_create_trigger_ok(Oid relid, CreateTrigStmt *stmt);

/* ingestion.c: the same for an existing trigger of relid (or of an ancestor, cloned). */
extern bool asof_ingestion_trigger_ok(Oid relid, const Trigger *trig);

/*
 * ingestion.c: refuses (0A000) to make a table an inheritance child of
 * parent when parent tracks ingestion (children get the column, not the
 * triggers).
 */
extern void asof_ingestion_check_new_child(Oid parent);

/*
 * ingestion_wait.c: before asof.materialize takes its snapshot, wait for
 * every transaction holding a write lock on a table the source reads
 * (views walked, partitions and children included).  Refuses a REPEATABLE
 * READ or SERIALIZABLE caller when one of those tables tracks ingestion
 * (its snapshot predates the wait).  vname: for messages.
 */
extern void asof_wait_for_source_writers(Oid source, const char *vname);

#endif							/* PG_ASOF_INGESTION_H */
