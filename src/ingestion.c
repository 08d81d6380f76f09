/*-------------------------------------------------------------------------
 *
 * ingestion.c
 *	  Knowledge time captured at ingestion (docs/online.md, "Knowledge
 *	  time: asof.track_ingestion").
 *
 *	  asof.track_ingestion(tbl, column, existing) adds a timestamptz column
 *	  (default 'infinity': not yet arrived; existing rows get existing,
 *	  through the fast default, no rewrite) and two triggers calling C
 *	  functions of ingestion_stamp.c:
 *	  - asof_ingestion_stamp, a deferred constraint trigger AFTER INSERT FOR
 *		EACH ROW: at pre-commit it writes the transaction's one stamp
 *		(asof.clock when set, else the wall clock at the first row stamped)
 *		into the newest version of each row the transaction inserted, by
 *		tid, through the executor's simple update (indexes maintained, no
 *		trigger fired, no planner, so the guard's row filter does not hide
 *		held-out rows from it).  A value given by the inserter is
 *		overwritten.  Rows deleted again, or inserted in a rolled-back
 *		subtransaction, are skipped.
 *	  - asof_ingestion_keep, BEFORE UPDATE FOR EACH ROW: the column keeps
 *		its old value (the first arrival).
 *	  The only way around both is the superuser's (session_replication_role
 *	  = replica) or the owner's (disabling or dropping the triggers,
 *	  untracking).
 *
 *	  Owns: asof.track_ingestion, asof.untrack_ingestion (the trigger
 *	  functions themselves are in ingestion_stamp.c), the registry asof.ingestion_tracking's reads and writes,
 *	  and the rule that says which trigger the guard lets onto a protected
 *	  table (asof_ingestion_create_trigger_ok, asof_ingestion_trigger_ok).
 *	  Must not: wait for writers (ingestion_wait.c), decide anything else
 *	  about protected tables (guard_utility.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/extension.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "tcop/pquery.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "ingestion.h"
#include "online.h"

PG_FUNCTION_INFO_V1(asof_track_ingestion);
PG_FUNCTION_INFO_V1(asof_untrack_ingestion);
PG_FUNCTION_INFO_V1(asof_ingestion_trigger_ok_sql);

#define STAMP_TRIGGER "asof_ingestion_stamp"
#define KEEP_TRIGGER "asof_ingestion_keep"

/* ----------------------------------------------------------------------
 * The registry
 * ----------------------------------------------------------------------
 */

static char *
rel_text(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/* The column registered for exactly relid, or NULL. */
static char *
registered_column(Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	char	   *result = NULL;
	MemoryContext outer = CurrentMemoryContext;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT t.column_name::pg_catalog.text FROM asof.ingestion_tracking t "
							  "WHERE t.relation::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
							  1, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read asof.ingestion_tracking");
	if (SPI_processed > 0)
	{
		char	   *c = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		result = MemoryContextStrdup(outer, c);
	}
	SPI_finish();
	return result;
}

/* The column registered for relid or the nearest of its partition ancestors, or NULL. */
static char *
tracked_column(Oid relid, Oid *tracked_rel)
{
	List	   *rels = list_make1_oid(relid);
	ListCell   *lc;

	if (get_rel_relispartition(relid))
		rels = list_concat(rels, get_partition_ancestors(relid));
	foreach(lc, rels)
	{
		char	   *c = registered_column(lfirst_oid(lc));

		if (c != NULL)
		{
			if (tracked_rel)
				*tracked_rel = lfirst_oid(lc);
			return c;
		}
	}
	return NULL;
}

static Oid
trigger_function(const char *name)
{
	return LookupFuncName(list_make2(makeString("asof"), makeString(pstrdup(name))),
						  0, NULL, true);
}

/* ----------------------------------------------------------------------
 * Which triggers the guard lets onto a protected table
 * ----------------------------------------------------------------------
 */

typedef struct TrigShape
{
	Oid			funcoid;
	int16		tgtype;
	bool		isconstraint;
	bool		deferrable;
	bool		initdeferred;
	int			nargs;
	char	  **args;
	bool		has_when;
	bool		has_columns;
	bool		has_transition;
	const char *name;			/* the trigger's own name */
} TrigShape;

/* Other triggers of relid that call funcoid, the one named self excluded. */
static int
other_triggers_calling(Oid relid, Oid funcoid, const char *self)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	int			n = 0;

	if (rel->trigdesc != NULL)
		for (int i = 0; i < rel->trigdesc->numtriggers; i++)
		{
			Trigger    *t = &rel->trigdesc->triggers[i];

			if (t->tgfoid == funcoid && strcmp(t->tgname, self) != 0)
				n++;
		}
	relation_close(rel, AccessShareLock);
	return n;
}

static bool
shape_ok(Oid relid, const TrigShape *s, bool check_others)
{
	Oid			stamp = trigger_function("_ingestion_stamp");
	Oid			keep = trigger_function("_ingestion_keep");
	char	   *column;

	if (!OidIsValid(s->funcoid) || (s->funcoid != stamp && s->funcoid != keep))
		return false;
	if (s->has_when || s->has_columns || s->has_transition || s->nargs != 1)
		return false;
	if (s->funcoid == stamp &&
		!(s->tgtype == (TRIGGER_TYPE_ROW | TRIGGER_TYPE_AFTER | TRIGGER_TYPE_INSERT) &&
		  s->isconstraint && s->deferrable && s->initdeferred))
		return false;
	if (s->funcoid == keep &&
		!(s->tgtype == (TRIGGER_TYPE_ROW | TRIGGER_TYPE_BEFORE | TRIGGER_TYPE_UPDATE) &&
		  !s->isconstraint))
		return false;
	column = tracked_column(relid, NULL);
	if (column == NULL || strcmp(column, s->args[0]) != 0)
		return false;
	if (check_others && other_triggers_calling(relid, s->funcoid, s->name) > 0)
		return false;
	return true;
}

bool
asof_ingestion_create_trigger_ok(Oid relid, CreateTrigStmt *stmt)
{
	TrigShape	s;
	ListCell   *lc;
	int			i = 0;

	memset(&s, 0, sizeof(s));
	s.funcoid = LookupFuncName(stmt->funcname, 0, NULL, true);
	s.tgtype = (stmt->row ? TRIGGER_TYPE_ROW : 0) | stmt->timing | stmt->events;
	s.isconstraint = stmt->isconstraint;
	s.deferrable = stmt->deferrable;
	s.initdeferred = stmt->initdeferred;
	s.has_when = stmt->whenClause != NULL;
	s.has_columns = stmt->columns != NIL;
	s.has_transition = stmt->transitionRels != NIL || stmt->constrrel != NULL;
	s.nargs = list_length(stmt->args);
	s.args = palloc0(sizeof(char *) * Max(s.nargs, 1));
	foreach(lc, stmt->args)
		s.args[i++] = strVal(lfirst(lc));
	s.name = stmt->trigname;
	/* CREATE OR REPLACE could change a trigger that is not ours into one */
	if (stmt->replace)
		return false;
	return shape_ok(relid, &s, true);
}

bool
asof_ingestion_trigger_ok(Oid relid, const Trigger *trig)
{
	TrigShape	s;

	memset(&s, 0, sizeof(s));
	s.funcoid = trig->tgfoid;
	s.tgtype = trig->tgtype;
	s.isconstraint = OidIsValid(trig->tgconstraint);
	s.deferrable = trig->tgdeferrable;
	s.initdeferred = trig->tginitdeferred;
	s.has_when = trig->tgqual != NULL;
	s.has_columns = trig->tgnattr > 0;
	s.has_transition = trig->tgoldtable != NULL || trig->tgnewtable != NULL ||
		OidIsValid(trig->tgconstrrelid);
	s.nargs = trig->tgnargs;
	s.args = trig->tgargs;
	s.name = trig->tgname;
	return shape_ok(relid, &s, true);
}

/* asof._ingestion_trigger_ok(trigger oid) -> boolean, for asof.protect */
Datum
asof_ingestion_trigger_ok_sql(PG_FUNCTION_ARGS)
{
	Oid			trigoid = PG_GETARG_OID(0);
	Oid			relid = InvalidOid;
	Relation	rel;
	bool		ok = false;

	{
		Relation	tgrel = table_open(TriggerRelationId, AccessShareLock);
		HeapTuple	tup;
		SysScanDesc scan;
		ScanKeyData key;

		ScanKeyInit(&key, Anum_pg_trigger_oid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(trigoid));
		scan = systable_beginscan(tgrel, TriggerOidIndexId, true, NULL, 1, &key);
		tup = systable_getnext(scan);
		if (HeapTupleIsValid(tup))
			relid = ((Form_pg_trigger) GETSTRUCT(tup))->tgrelid;
		systable_endscan(scan);
		table_close(tgrel, AccessShareLock);
	}
	if (!OidIsValid(relid))
		PG_RETURN_BOOL(false);
	rel = relation_open(relid, AccessShareLock);
	if (rel->trigdesc != NULL)
		for (int i = 0; i < rel->trigdesc->numtriggers; i++)
			if (rel->trigdesc->triggers[i].tgoid == trigoid)
				ok = asof_ingestion_trigger_ok(relid, &rel->trigdesc->triggers[i]);
	relation_close(rel, AccessShareLock);
	PG_RETURN_BOOL(ok);
}


/* ----------------------------------------------------------------------
 * asof.track_ingestion, asof.untrack_ingestion
 * ----------------------------------------------------------------------
 */

static void
check_owner(Oid relid, const char *what)
{
	if (!asof_table_ownercheck(relid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s to %s", get_rel_name(relid), what)));
}

static void
spi(const char *sql, int nargs, Oid *types, Datum *values, int expect)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0);

	if (rc != expect)
		elog(ERROR, "\"%s\" failed: %s", sql, SPI_result_code_string(rc));
}

/* Has relid or any of its partitions or children a row (any snapshot's, latest)? */
static bool
has_rows(Oid relid)
{
	ListCell   *lc;
	bool		found = false;
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());

	foreach(lc, find_all_inheritors(relid, AccessExclusiveLock, NULL))
	{
		Relation	rel = table_open(lfirst_oid(lc), NoLock);

		if (rel->rd_rel->relkind == RELKIND_RELATION)
		{
			TupleTableSlot *slot = table_slot_create(rel, NULL);
			TableScanDesc scan = table_beginscan(rel, snap, 0, NULL);

			found = table_scan_getnextslot(scan, ForwardScanDirection, slot);
			table_endscan(scan);
			ExecDropSingleTupleTableSlot(slot);
		}
		table_close(rel, NoLock);
		if (found)
			break;
	}
	UnregisterSnapshot(snap);
	return found;
}

/* asof.track_ingestion(tbl regclass, column name, existing timestamptz) -> void */
Datum
asof_track_ingestion(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *column;
	char		relkind;
	ListCell   *lc;
	AsofAsOwner as_owner;
	char	   *tbl;
	TimestampTz since;
	char	   *dflt;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tbl and column of asof.track_ingestion must not be null")));
	relid = PG_GETARG_OID(0);
	column = NameStr(*PG_GETARG_NAME(1));
	relkind = get_rel_relkind(relid);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", get_rel_name(relid) ? get_rel_name(relid) : "?"),
				 errdetail("Ingestion time is recorded by triggers on a table's rows; views and other relations have none."),
				 errhint("Track the table the rows are inserted into.")));
	check_owner(relid, "track its ingestion");
	LockRelationOid(relid, AccessExclusiveLock);
	tbl = rel_text(relid);

	/* the table, its partitions and its partition ancestors: none tracked, all heap */
	{
		List	   *family = find_all_inheritors(relid, AccessExclusiveLock, NULL);
		char	   *c;
		Oid			tracked;

		if (get_rel_relispartition(relid))
			family = list_concat(family, get_partition_ancestors(relid));
		foreach(lc, family)
		{
			Relation	r;

			if ((c = registered_column(lfirst_oid(lc))) != NULL)
			{
				tracked = lfirst_oid(lc);
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_OBJECT),
						 errmsg("table \"%s\" already tracks ingestion", get_rel_name(tracked)),
						 errdetail("Column \"%s\" records when its rows arrived.", c),
						 errhint("Call asof.untrack_ingestion('%s') first to track it again.",
								 rel_text(tracked))));
			}
			r = relation_open(lfirst_oid(lc), NoLock);
			if (!r->rd_rel->relispartition && lfirst_oid(lc) != relid &&
				list_member_oid(family, lfirst_oid(lc)) &&
				!get_rel_relispartition(relid) && relkind == RELKIND_RELATION)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("table \"%s\" has inheritance children", get_rel_name(relid)),
						 errdetail("An inheritance child (\"%s\") inherits the column but not the triggers that stamp and keep it: an UPDATE through the parent could set arrival times on its rows.",
								   RelationGetRelationName(r)),
						 errhint("Partition the table instead (partitions get the triggers).")));
			if (r->rd_rel->relkind == RELKIND_RELATION && r->rd_rel->relam != HEAP_TABLE_AM_OID)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("table \"%s\" does not use the heap access method", RelationGetRelationName(r)),
						 errdetail("Ingestion time is written into the newest version of each row, which needs heap tables.")));
			relation_close(r, NoLock);
		}
	}
	if (get_attnum(relid, column) != InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" already exists", column, get_rel_name(relid)),
				 errdetail("asof.track_ingestion adds the column itself, so that no row has a value in it that did not come from the stamp."),
				 errhint("Pass another name: asof.track_ingestion('%s', 'arrived_at').", tbl)));
	if (PG_ARGISNULL(2))
	{
		if (has_rows(relid))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table \"%s\" has rows and no arrival time was given for them", get_rel_name(relid)),
					 errdetail("Rows inserted before tracking began have no recorded arrival time."),
					 errhint("Pass existing => the time they are known to have arrived by, e.g. asof.track_ingestion('%s', existing => now()), or '-infinity' for \"always known\".",
							 tbl)));
		dflt = NULL;
	}
	else
		dflt = DatumGetCString(DirectFunctionCall1(timestamptz_out, PG_GETARG_DATUM(2)));

	/* written as the extension's owner: the triggers call internal functions */
	since = asof_clock_now();
	asof_as_owner_begin(&as_owner, true);
	{
		Oid			rtypes[4] = {OIDOID, NAMEOID, TIMESTAMPTZOID, NAMEOID};
		Datum		rvalues[4] = {ObjectIdGetDatum(relid),
			DirectFunctionCall1(namein, CStringGetDatum(column)),
			TimestampTzGetDatum(since),
			DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(as_owner.userid, false)))};
		char	   *qcol = pstrdup(quote_identifier(column));
		char	   *qarg = quote_literal_cstr(column);

		/* the registry first: the guard's exemption reads it */
		spi("INSERT INTO asof.ingestion_tracking (relation, column_name, tracked_since, tracked_by) "
			"VALUES ($1::pg_catalog.regclass, $2, $3, $4)", 4, rtypes, rvalues, SPI_OK_INSERT);
		if (dflt != NULL)
		{
			/* the fast default: existing rows read existing, nothing rewritten */
			spi(psprintf("ALTER TABLE %s ADD COLUMN %s pg_catalog.timestamptz DEFAULT %s::pg_catalog.timestamptz",
						 tbl, qcol, quote_literal_cstr(dflt)), 0, NULL, NULL, SPI_OK_UTILITY);
			spi(psprintf("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT 'infinity'::pg_catalog.timestamptz",
						 tbl, qcol), 0, NULL, NULL, SPI_OK_UTILITY);
		}
		else
			spi(psprintf("ALTER TABLE %s ADD COLUMN %s pg_catalog.timestamptz DEFAULT 'infinity'::pg_catalog.timestamptz",
						 tbl, qcol), 0, NULL, NULL, SPI_OK_UTILITY);
		spi(psprintf("CREATE CONSTRAINT TRIGGER " STAMP_TRIGGER " AFTER INSERT ON %s "
					 "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION asof._ingestion_stamp(%s)",
					 tbl, qarg), 0, NULL, NULL, SPI_OK_UTILITY);
		spi(psprintf("CREATE TRIGGER " KEEP_TRIGGER " BEFORE UPDATE ON %s "
					 "FOR EACH ROW EXECUTE FUNCTION asof._ingestion_keep(%s)",
					 tbl, qarg), 0, NULL, NULL, SPI_OK_UTILITY);
	}
	asof_as_owner_end(&as_owner);
	PG_RETURN_VOID();
}

/* asof.untrack_ingestion(tbl regclass) -> void */
Datum
asof_untrack_ingestion(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *column;
	char	   *tbl;
	AsofAsOwner as_owner;
	Oid			stamp = trigger_function("_ingestion_stamp");
	Oid			keep = trigger_function("_ingestion_keep");
	List	   *drop = NIL;
	ListCell   *lc;
	Relation	rel;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tbl of asof.untrack_ingestion must not be null")));
	relid = PG_GETARG_OID(0);
	if (!OidIsValid(get_rel_relkind(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	check_owner(relid, "stop tracking its ingestion");
	LockRelationOid(relid, AccessExclusiveLock);
	tbl = rel_text(relid);
	column = registered_column(relid);
	if (column == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table \"%s\" does not track ingestion", get_rel_name(relid)),
				 errhint("asof.ingestion_tracking lists the tables that do.")));
	rel = relation_open(relid, NoLock);
	if (rel->trigdesc != NULL)
		for (int i = 0; i < rel->trigdesc->numtriggers; i++)
		{
			Trigger    *t = &rel->trigdesc->triggers[i];

			if ((t->tgfoid == stamp || t->tgfoid == keep) && !t->tgisclone)
				drop = lappend(drop, pstrdup(t->tgname));
		}
	relation_close(rel, NoLock);

	asof_as_owner_begin(&as_owner, true);
	foreach(lc, drop)
		spi(psprintf("DROP TRIGGER %s ON %s", quote_identifier(lfirst(lc)), tbl),
			0, NULL, NULL, SPI_OK_UTILITY);
	/* the column and its values stay; new rows get NULL (not known) */
	if (get_attnum(relid, column) != InvalidAttrNumber)
		spi(psprintf("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT", tbl, quote_identifier(column)),
			0, NULL, NULL, SPI_OK_UTILITY);
	{
		Oid			types[1] = {OIDOID};
		Datum		values[1] = {ObjectIdGetDatum(relid)};

		spi("DELETE FROM asof.ingestion_tracking t WHERE t.relation::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
			1, types, values, SPI_OK_DELETE);
	}
	asof_as_owner_end(&as_owner);
	PG_RETURN_VOID();
}

/*
 * CREATE TABLE ... INHERITS and ALTER TABLE ... INHERIT naming a parent
 * that tracks ingestion (or whose ancestor does) are refused: an
 * inheritance child inherits the column but not the triggers, so an UPDATE
 * through the parent could set arrival times on its rows.  Partitions are
 * not concerned: they get the triggers.  Called by the utility hook for
 * every such statement.
 */
void
asof_ingestion_check_new_child(Oid parent)
{
	Oid			tracked = InvalidOid;
	char	   *c;

	if (!OidIsValid(parent) || get_rel_relkind(parent) != RELKIND_RELATION ||
		!OidIsValid(get_extension_oid("pg_asof", true)))
		return;
	c = tracked_column(parent, &tracked);
	if (c == NULL)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot make a table an inheritance child of \"%s\", which tracks ingestion",
					get_rel_name(parent)),
			 errdetail("An inheritance child inherits column \"%s\" but not the triggers that stamp and keep it: an UPDATE through the parent could set arrival times on its rows.",
					   c),
			 errhint("Partition the table instead (partitions get the triggers), or call asof.untrack_ingestion('%s') first.",
					 rel_text(tracked))));
}
