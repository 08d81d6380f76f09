/*-------------------------------------------------------------------------
 *
 * guard_members.c
 *	  The guard's rules for partitions, inheritance children and
 *	  publications of protected tables (G3):
 *	  - a protected table cannot become a child or partition of an
 *		unprotected one (INHERIT, ATTACH PARTITION), nor a table with
 *		triggers, rules or policies one of a protected table; DETACH
 *		PARTITION and NO INHERIT are refused (the detached table would lose
 *		its protection);
 *	  - a table that becomes a partition or child of a protected table
 *		(CREATE TABLE ... PARTITION OF / INHERITS, ATTACH PARTITION,
 *		INHERIT) is checked after the statement, as resolved in the
 *		catalog: it must not bring CHECK constraints, generated columns,
 *		extended statistics, or indexes the guard refuses; the statistics
 *		of its label and future columns and index expressions are deleted
 *		and their targets set to 0;
 *	  - no publication may include a protected table or one of its
 *		partitions (FOR TABLE, FOR TABLES IN SCHEMA, FOR ALL TABLES, and
 *		tables moved into a published schema): checked after every
 *		statement that can change what is published.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/heap.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

#include "compat.h"
#include "guard.h"
#include "guard_ddl.h"
#include "guard_registry.h"

/*
 * ALTER TABLE child INHERIT parent and ALTER TABLE parent ATTACH PARTITION
 * child: a protected table must not become a member of an unprotected one
 * (queries and ANALYZE of the parent read the child's rows unfiltered), and
 * a table with triggers must not become a member of a protected one
 * (its triggers would receive protected rows).
 */
void
asof_members_check(Oid parent, Oid child)
{
	const AsofGuardedRel *gp;
	const AsofGuardedRel *gc;

	if (!OidIsValid(parent) || !OidIsValid(child))
		return;
	gp = asof_registry_lookup(parent);
	gc = asof_registry_lookup(child);
	if (gc != NULL && gp == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot make protected table \"%s\" a partition or child of unprotected table \"%s\"",
						get_rel_name(child), get_rel_name(parent)),
				 errdetail("Queries and ANALYZE of the parent would read the child's label columns and held-out rows without the guard."),
				 errhint("Protect the parent instead, or unprotect %s first.",
						 asof_table_text(gc->regrelid))));
	if (gp != NULL && asof_ddl_has_user_triggers(child))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot make table \"%s\", which has triggers, rules or policies, a partition or child of protected table \"%s\"",
						get_rel_name(child), get_rel_name(parent)),
				 errdetail("Triggers, rules and row-level security policies run on whole rows, label columns and held-out rows included."),
				 errhint("Drop its triggers, rules and policies first, or unprotect %s first.",
						 asof_table_text(gp->regrelid))));
}

/* Membership (INHERIT, ATTACH PARTITION) before the statement. */
void
asof_members_check_alter(AlterTableStmt *stmt, Oid relid)
{
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);
		const AsofGuardedRel *gp;

		switch (cmd->subtype)
		{
			case AT_AddInherit:
				if (IsA(cmd->def, RangeVar))
					asof_members_check(RangeVarGetRelid((RangeVar *) cmd->def, NoLock, true), relid);
				break;
			case AT_AttachPartition:
				if (IsA(cmd->def, PartitionCmd))
					asof_members_check(relid,
									 RangeVarGetRelid(((PartitionCmd *) cmd->def)->name, NoLock, true));
				break;
			case AT_DropInherit:
				gp = IsA(cmd->def, RangeVar) ? asof_ddl_lookup_rangevar((RangeVar *) cmd->def) : NULL;
				if (gp != NULL)
					asof_ddl_refuse(gp, "cannot remove a child from protected table \"%s\"",
							   "The child would lose its protection: its label columns and held-out rows would be readable.",
							   "Copy the rows you need with INSERT ... SELECT or CREATE TABLE ... AS SELECT, which the guard filters, or unprotect the table first.");
				break;
			case AT_DetachPartition:
			case AT_DetachPartitionFinalize:
				gp = asof_registry_lookup(relid);
				if (gp != NULL)
					asof_ddl_refuse(gp, "cannot detach a partition of protected table \"%s\"",
							   "The detached table would lose its protection: its label columns and held-out rows would be readable.",
							   "Copy the rows you need with INSERT ... SELECT or CREATE TABLE ... AS SELECT, which the guard filters, or drop the partition, or unprotect the table first.");
				break;
			default:
				break;
		}
	}
}

/*
 * After a statement that made relid a partition or child (CREATE TABLE ...
 * PARTITION OF / INHERITS, ATTACH PARTITION, INHERIT): if it is now part of
 * a protected table, check it as the catalog resolved it (columns matched
 * by name, whatever the statement's syntax), then close its statistics.
 * Before the statement the new member may not exist yet, and what it
 * brings (LIKE ... INCLUDING ALL, constraints and indexes of an attached
 * table, those of its own partitions) is only known afterwards.  An error
 * here rolls the statement back.
 */
static void
refuse_member(const AsofGuardedRel *g, Oid member, const char *what_detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot make table \"%s\" a partition or child of protected table \"%s\"",
					get_rel_name(member), g->regname),
			 errdetail_internal("%s", what_detail),
			 errhint("Create or attach the table without them, or unprotect %s first.",
					 asof_table_text(g->regrelid))));
}

static void
check_new_member_rel(const AsofGuardedRel *g, Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	ScanKeyData key;
	SysScanDesc scan;
	Relation	catrel;
	HeapTuple	tup;
	ListCell   *lc;
	int			i;

	/* CHECK constraints of its own (inherited ones come from the parent). */
	catrel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(catrel, ConstraintRelidTypidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);

		if (con->contype == CONSTRAINT_CHECK && con->conislocal)
			refuse_member(g, relid, "It has CHECK constraints: UPDATE evaluates them on every row it writes, label columns included.");
	}
	systable_endscan(scan);
	table_close(catrel, AccessShareLock);

	/* Generated columns of its own. */
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && att->attgenerated != '\0' && att->attislocal)
			refuse_member(g, relid, "It has generated columns: they are computed from every row, labels included, and can be read where the label cannot.");
	}

	/* Extended statistics objects. */
	if (RelationGetStatExtList(rel) != NIL)
		refuse_member(g, relid, "It has extended statistics objects: they are computed from every row, held-out rows and labels included.");

	/*
	 * Indexes the guard would refuse to create on the protected table, other
	 * than partitions of the parent's own indexes (clones of an index the
	 * protected table already has).
	 */
	foreach(lc, RelationGetIndexList(rel))
		if (!get_rel_relispartition(lfirst_oid(lc)) &&
			asof_ddl_index_refusal(g, lfirst_oid(lc), false) != NULL)
			refuse_member(g, relid, "It has an index that the guard refuses on a protected table: an expression or partial index, or a unique or exclusion index over a label or future column.");

	relation_close(rel, AccessShareLock);
}

/*
 * The statistics of its label and future columns and index expressions:
 * deleted, and the targets set to 0 (as asof.protect does for the table).
 */
static void
close_member_statistics(const AsofGuardedRel *g, Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	List	   *indexes = RelationGetIndexList(rel);
	StringInfoData sql;
	ListCell   *lc;
	int			i;

	relation_close(rel, AccessShareLock);
	initStringInfo(&sql);
	for (i = 0; i < g->ncols; i++)
	{
		if (g->attnos[i] == InvalidAttrNumber)
			continue;
		RemoveStatistics(relid, g->attnos[i]);
		appendStringInfo(&sql, "%sALTER COLUMN %s SET STATISTICS 0",
						 sql.len == 0 ? "" : ", ", quote_identifier(g->colnames[i]));
	}
	if (sql.len > 0)
	{
		char	   *stmt = psprintf("ALTER TABLE ONLY %s %s", asof_table_text(relid), sql.data);

		if (SPI_execute(stmt, false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "could not run \"%s\"", stmt);
	}
	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index ix;

		if (!HeapTupleIsValid(tup))
			continue;
		ix = (Form_pg_index) GETSTRUCT(tup);
		for (i = 0; i < ix->indnatts; i++)
			if (ix->indkey.values[i] == 0)
			{
				char	   *stmt = psprintf("ALTER INDEX %s ALTER COLUMN %d SET STATISTICS 0",
											asof_table_text(ix->indexrelid), i + 1);

				if (SPI_execute(stmt, false, 0) != SPI_OK_UTILITY)
					elog(ERROR, "could not run \"%s\"", stmt);
			}
		RemoveStatistics(ix->indexrelid, 0);
		ReleaseSysCache(tup);
	}
}

/*
 * enforce: refuse what the guard refuses (the guard is on); with the guard
 * off (a superuser), the new member's statistics are still closed.
 */
void
asof_members_check_new(Oid member, bool enforce)
{
	const AsofGuardedRel *g;
	ListCell   *lc;

	if (!OidIsValid(member))
		return;
	CommandCounterIncrement();
	if (asof_registry_lookup(member) == NULL)
		return;
	SPI_connect();
	foreach(lc, find_all_inheritors(member, NoLock, NULL))
	{
		Oid			relid = lfirst_oid(lc);

		g = asof_registry_lookup(relid);
		if (g == NULL)
			continue;
		if (enforce)
			check_new_member_rel(g, relid);
		close_member_statistics(g, relid);
		/* The ALTER TABLE above invalidated the cache: look it up again. */
	}
	SPI_finish();
}

/* The relations an ALTER TABLE makes partitions or children, or NIL. */
List *
asof_members_new(AlterTableStmt *stmt)
{
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);

		if (cmd->subtype == AT_AddInherit)
			out = lappend_oid(out, RangeVarGetRelid(stmt->relation, NoLock, true));
		else if (cmd->subtype == AT_AttachPartition && IsA(cmd->def, PartitionCmd))
			out = lappend_oid(out, RangeVarGetRelid(((PartitionCmd *) cmd->def)->name, NoLock, true));
	}
	return out;
}

/*
 * No publication may include a protected table or one of its partitions:
 * logical replication sends every row, label columns and held-out rows
 * included, to anyone who can subscribe.  Checked after each statement that
 * can change what a publication includes, against the catalog (which
 * resolves FOR ALL TABLES, FOR TABLES IN SCHEMA and partitions).
 */
void
asof_members_check_publications(void)
{
	uint64		i;

	CommandCounterIncrement();
	SPI_connect();
	if (SPI_execute("SELECT p.pubname::pg_catalog.text, t.relid "
					"FROM pg_catalog.pg_publication p, "
					"LATERAL pg_catalog.pg_get_publication_tables(p.pubname::pg_catalog.text) t "
					"ORDER BY 1, 2", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the publications");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 2, &isnull));
		const AsofGuardedRel *g = asof_registry_lookup(relid);

		if (g != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("cannot publish protected table \"%s\"", get_rel_name(relid)),
					 errdetail("Publication \"%s\" would include it, and logical replication sends every row, label columns and held-out rows included.",
							   SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1)),
					 errhint("Publish a table that holds only what may be read (CREATE TABLE ... AS SELECT ... FROM %s, which the guard filters), or leave the protected table out of the publication.",
							 asof_table_text(g->regrelid))));
	}
	SPI_finish();
}
