/*-------------------------------------------------------------------------
 *
 * guard_utility.c
 *	  The guard's utility-statement and error-report rules:
 *	  - COPY t TO (the relation form, which has no plan to filter) is
 *		refused after the split: a backup must not lose rows silently (G2);
 *	  - CREATE TRIGGER, CREATE RULE, CREATE/ALTER POLICY and FORCE ROW LEVEL
 *		SECURITY on a protected table are refused: they run code on whole
 *		rows (G3); except the two triggers of asof.track_ingestion, exactly
 *		as it creates them (asof_ingestion_create_trigger_ok: its functions
 *		by OID, its shape, the registered column as the one argument);
 *	  - a protected table cannot become a child or partition of an
 *		unprotected one (INHERIT, ATTACH PARTITION), nor a table with
 *		triggers, rules or policies one of a protected table (G3);
 *	  - DROP EXTENSION pg_asof is refused while tables are protected unless
 *		CASCADE, which unprotects them and says so (G7);
 *	  - DDL that would reopen a side channel or detach the registration is
 *		refused on protected tables: CREATE STATISTICS, expression indexes,
 *		partial indexes, exclusion constraints on expressions or with WHERE,
 *		unique indexes, primary keys, unique and exclusion constraints over
 *		a label or future column (ON CONFLICT DO NOTHING would be an oracle
 *		for label values), every CHECK constraint (validated or NOT VALID:
 *		UPDATE evaluates it on labels), generated columns (stored, or virtual in 18) and SET
 *		EXPRESSION, raising a statistics target of a label or future
 *		column, of an index expression (ALTER INDEX) or of an extended
 *		statistics object (ALTER STATISTICS), every ALTER COLUMN TYPE (USING
 *		expressions and assignment casts run on every row), foreign keys on
 *		label or future columns or with cascading actions, CLUSTER and
 *		CLUSTER ON with an index that does not lead with the time column or
 *		that reads a label, future column or expression (physical order
 *		reveals values), DETACH PARTITION and NO INHERIT (the detached table
 *		would lose its protection), renaming or dropping registered columns,
 *		DISABLE ROW LEVEL SECURITY, dropping the guard's policies; LOAD
 *		while tables are protected (a module loaded later could replace the
 *		hooks) (G3, G6, G7);
 *	  - REINDEX, VACUUM FULL, CLUSTER and rewriting ALTER TABLE subcommands
 *		on a protected table whose expression or partial index (created
 *		before asof.protect) calls a function that is not built in (G3);
 *	  - ALTER DOMAIN ... ADD CONSTRAINT (validated), VALIDATE CONSTRAINT and
 *		SET NOT NULL on a domain that a protected table's column uses, and
 *		ALTER TYPE ... CASCADE on the type of a protected typed table (they
 *		check or rewrite its rows without an ALTER TABLE) (G3);
 *	  - training sets (registrations linked to a spine, whose owner may not
 *		be entitled to their sealed rows) also refuse every index, CLUSTER,
 *		raising any column's statistics target, unique constraints and SET
 *		NOT NULL (G5);
 *	  - a table that becomes a partition or child of a protected table
 *		(CREATE TABLE ... PARTITION OF / INHERITS, ATTACH PARTITION,
 *		INHERIT) is checked after the statement, as resolved in the
 *		catalog: it must not bring CHECK constraints, generated columns,
 *		extended statistics, or indexes the guard refuses; the statistics
 *		of its label and future columns and index expressions are deleted
 *		and their targets set to 0 (G3);
 *	  - no publication may include a protected table or one of its
 *		partitions (FOR TABLE, FOR TABLES IN SCHEMA, FOR ALL TABLES, and
 *		tables moved into a published schema): checked after every
 *		statement that can change what is published (G3);
 *	  - the statement checks run again after the statement, once it holds
 *		its locks (a table may have been protected while it waited);
 *	  - a WITH HOLD cursor in a transaction that unsealed a test set (it would
 *		keep held-out rows past the transaction) (G4);
 *	  - constraint-violation DETAILs (row values) of protected tables are
 *		removed from error reports, superusers' included (G3).
 *
 *	  Must not: decide about reads of columns or rows (guard_columns.c,
 *	  guard_rows.c).
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

#include "guard_registry.h"
#include "compat.h"
#include "guard.h"
#include "ingestion.h"

static ProcessUtility_hook_type prev_process_utility_hook = NULL;
static emit_log_hook_type prev_emit_log_hook = NULL;

static void check_alter_composite(AlterTableStmt *stmt, Oid typrelid);

static char *
table_text(Oid relid)
{
	return DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid)));
}

static void
check_copy(CopyStmt *stmt)
{
	Oid			relid;
	const AsofGuardedRel *g;

	if (stmt->is_from || stmt->relation == NULL)
		return;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	g = asof_registry_lookup(relid);
	if (g == NULL || !g->has_split || asof_guard_rel_unsealed(g))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot copy protected table \"%s\" after its train/test split",
					get_rel_name(relid)),
			 errdetail("COPY %s TO would leave out the held-out rows without saying so; a backup must not lose rows silently.",
					   table_text(relid)),
			 errhint("Copy the training rows with COPY (SELECT ... FROM %s) TO ...; for a complete backup, a superuser sets asof.guard = off for the session.",
					 table_text(relid))));
}

static void
check_create_trigger(CreateTrigStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	const AsofGuardedRel *g = asof_registry_lookup(relid);

	if (g == NULL)
		return;
	/* the ingestion-time triggers of asof.track_ingestion, exactly (ingestion.c) */
	if (asof_ingestion_create_trigger_ok(relid, stmt))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot create trigger \"%s\" on protected table \"%s\"",
					stmt->trigname, get_rel_name(relid)),
			 errdetail("Triggers receive whole rows, label columns and held-out rows included."),
			 errhint("Unprotect the table first with asof.unprotect('%s').",
					 table_text(g->regrelid))));
}


/* What column att of relid is in a protected relation: "label", "future", "time" or NULL. */
static const char *
attno_role(const AsofGuardedRel *g, AttrNumber att)
{
	int			i;

	if (att == InvalidAttrNumber)
		return NULL;
	if (att == g->time_attno)
		return "time";
	for (i = 0; i < g->ncols; i++)
		if (g->attnos[i] == att)
			return g->is_label[i] ? "label" : "future";
	return NULL;
}

/* The same for a column named colname (NULL: none). */
static const char *
column_role(const AsofGuardedRel *g, Oid relid, const char *colname)
{
	if (colname == NULL)
		return NULL;
	return attno_role(g, get_attnum(relid, colname));
}

/* Is att a label or future column? */
static bool
attno_is_guarded(const AsofGuardedRel *g, AttrNumber att)
{
	const char *role = attno_role(g, att);

	return role != NULL && strcmp(role, "time") != 0;
}

/* A training set: a registration linked to the spine it was built on. */
static bool
is_training_set(const AsofGuardedRel *g)
{
	return OidIsValid(g->linked_to);
}

/*
 * Refuse a statement on a protected table.  msg is the whole errmsg, with
 * one %s for the table's name; why and hint are whole sentences (hint NULL:
 * unprotect first, or switch the guard off as a superuser).
 */
static void
refuse_ddl(const AsofGuardedRel *g, const char *msg, const char *why, const char *hint)
{
	if (hint == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg_internal(msg, g->regname),
				 errdetail_internal("%s", why),
				 errhint("Unprotect the table first with asof.unprotect('%s'), or, as a superuser, SET asof.guard = off.",
						 table_text(g->regrelid))));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg_internal(msg, g->regname),
			 errdetail_internal("%s", why),
			 errhint("%s", hint)));
}

static const AsofGuardedRel *
lookup_rangevar(RangeVar *rv)
{
	if (rv == NULL)
		return NULL;
	return asof_registry_lookup(RangeVarGetRelid(rv, NoLock, true));
}

static void
check_create_statistics(CreateStatsStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		Node	   *n = lfirst(lc);
		const AsofGuardedRel *g;

		if (!IsA(n, RangeVar))
			continue;
		g = lookup_rangevar((RangeVar *) n);
		if (g != NULL)
			refuse_ddl(g, "cannot create statistics on protected table \"%s\"",
					   "Extended statistics over a protected table are computed from every row, held-out rows and labels included.", NULL);
	}
}

/*
 * A unique or exclusion index is an oracle: INSERT ... ON CONFLICT DO
 * NOTHING (or a duplicate-key error) tells whether some row, held-out rows
 * included, has the key.  Refused when a key column is a label or future
 * column, and on a training set for any key (every column of its sealed
 * rows is held out from its owner).
 */
static void
refuse_unique_key(const AsofGuardedRel *g, bool any_guarded)
{
	if (is_training_set(g))
		refuse_ddl(g, "cannot add a unique index or constraint to training set \"%s\"",
				   "INSERT ... ON CONFLICT DO NOTHING would tell whether a sealed row, which its owner cannot read, has a given key.",
				   "Build a new training set with the key you need, or add the index to a copy of the training rows (CREATE TABLE ... AS SELECT ...).");
	if (any_guarded)
		refuse_ddl(g, "cannot add a unique index or constraint over a label or future column of protected table \"%s\"",
				   "INSERT ... ON CONFLICT DO NOTHING would tell whether some row has a given label value, before the split and in held-out rows.",
				   "Make the key of columns that are not label or future columns, or unprotect the table first.");
}

/* Does a list of IndexElem or String column names include a label or future column? */
static bool
names_label_or_future(const AsofGuardedRel *g, Oid relid, List *names)
{
	ListCell   *lc;

	foreach(lc, names)
	{
		Node	   *n = lfirst(lc);
		const char *name = NULL;

		if (IsA(n, String))
			name = strVal(n);
		else if (IsA(n, IndexElem))
			name = ((IndexElem *) n)->name;
		if (attno_is_guarded(g, get_attnum(relid, name == NULL ? "" : name)))
			return true;
	}
	return false;
}

static void
check_create_index(IndexStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	const AsofGuardedRel *g = asof_registry_lookup(relid);
	ListCell   *lc;

	if (g == NULL)
		return;
	/*
	 * On a training set, any index: with an index condition, EXPLAIN
	 * ANALYZE's "Rows Removed by Filter" counts the sealed rows that have a
	 * given value, and the index's size depends on their values.
	 */
	if (is_training_set(g))
		refuse_ddl(g, "cannot create an index on training set \"%s\"",
				   "Through an index, EXPLAIN ANALYZE counts the sealed rows that have a given value (\"Rows Removed by Filter\"), and the index's size depends on their values; its owner cannot read them.",
				   "Copy the training rows into a table of your own (CREATE TABLE ... AS SELECT ... FROM the training set, which the guard filters) and index that.");
	foreach(lc, stmt->indexParams)
	{
		IndexElem  *e = lfirst(lc);

		if (e->expr != NULL)
			refuse_ddl(g, "cannot create an expression index on protected table \"%s\"",
					   "ANALYZE collects statistics of index expressions from every row, held-out rows and labels included.", NULL);
	}
	if (stmt->whereClause != NULL)
		refuse_ddl(g, "cannot create a partial index on protected table \"%s\"",
				   "Building it evaluates its predicate on every row, held-out rows and labels included.", NULL);
	if (stmt->unique || stmt->primary || stmt->excludeOpNames != NIL)
		refuse_unique_key(g, names_label_or_future(g, relid, stmt->indexParams));
}

/*
 * An existing index of relid (a protected relation) that the guard would
 * refuse to create, or whose order would reveal what it hides: the reason,
 * or NULL.  for_cluster: as the index CLUSTER would order by (its first key
 * column must be the time column; held-out rows then sit together at one
 * end).
 */
static const char *
index_refusal(const AsofGuardedRel *g, Oid indexoid, bool for_cluster)
{
	HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	Form_pg_index ix;
	const char *why = NULL;
	int			i;

	if (!HeapTupleIsValid(tup))
		return NULL;
	ix = (Form_pg_index) GETSTRUCT(tup);
	if (!heap_attisnull(tup, Anum_pg_index_indexprs, NULL))
		why = "an expression index";
	else if (!heap_attisnull(tup, Anum_pg_index_indpred, NULL))
		why = "a partial index";
	for (i = 0; why == NULL && i < ix->indnkeyatts; i++)
		if (attno_is_guarded(g, ix->indkey.values[i]) &&
			(for_cluster || ix->indisunique || ix->indisexclusion))
			why = "an index over a label or future column";
	if (why == NULL && !for_cluster && is_training_set(g) &&
		(ix->indisunique || ix->indisexclusion))
		why = "a unique index";
	if (why == NULL && for_cluster &&
		(ix->indnkeyatts < 1 || ix->indkey.values[0] != g->time_attno))
		why = "an index that does not lead with the time column";
	ReleaseSysCache(tup);
	return why;
}

/* Has relid row-level security policies (enabled or not)? */
static bool
has_policies(Oid relid)
{
	Relation	pol = table_open(PolicyRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	bool		found;

	ScanKeyInit(&key, Anum_pg_policy_polrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(pol, PolicyPolrelidPolnameIndexId, true, NULL, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(pol, AccessShareLock);
	return found;
}

/*
 * Does relid or any of its partitions or children have a user trigger, a
 * rule or a row-level security policy (code that would run on protected
 * rows)?
 */
static bool
has_user_triggers(Oid relid)
{
	ListCell   *lc;

	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
	{
		Relation	rel = try_relation_open(lfirst_oid(lc), AccessShareLock);
		bool		found = false;

		if (rel == NULL)
			continue;
		if (rel->rd_rel->relhasrules || has_policies(RelationGetRelid(rel)))
			found = true;
		if (rel->trigdesc != NULL)
		{
			int			i;

			for (i = 0; i < rel->trigdesc->numtriggers; i++)
				if (!rel->trigdesc->triggers[i].tgisinternal &&
					!asof_ingestion_trigger_ok(RelationGetRelid(rel), &rel->trigdesc->triggers[i]))
					found = true;
		}
		relation_close(rel, AccessShareLock);
		if (found)
			return true;
	}
	return false;
}

/*
 * ALTER TABLE child INHERIT parent and ALTER TABLE parent ATTACH PARTITION
 * child: a protected table must not become a member of an unprotected one
 * (queries and ANALYZE of the parent read the child's rows unfiltered), and
 * a table with triggers must not become a member of a protected one
 * (its triggers would receive protected rows).
 */
static void
check_membership(Oid parent, Oid child)
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
						 table_text(gc->regrelid))));
	if (gp != NULL && has_user_triggers(child))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot make table \"%s\", which has triggers, rules or policies, a partition or child of protected table \"%s\"",
						get_rel_name(child), get_rel_name(parent)),
				 errdetail("Triggers, rules and row-level security policies run on whole rows, label columns and held-out rows included."),
				 errhint("Drop its triggers, rules and policies first, or unprotect %s first.",
						 table_text(gp->regrelid))));
}

/*
 * CHECK constraints are refused on protected tables whatever their
 * expression: validated, they run on every row; NOT VALID, every UPDATE
 * evaluates them on the new row, label columns included, before the split
 * (a failing CHECK tells a label value), and a function they call can be
 * replaced later by its owner.  Telling safe expressions apart would need
 * the analyzed expression and trusted functions only: refusing is simpler
 * and fails closed.
 */
static void
refuse_check(const AsofGuardedRel *g)
{
	refuse_ddl(g, "cannot add a CHECK constraint to protected table \"%s\"",
			   "UPDATE evaluates CHECK constraints on every row it writes, label columns included, and validating one evaluates it on every row, held-out rows included: a failing check would tell label values.",
			   "Check the values in the query that loads them, or unprotect the table first.");
}

static void
refuse_generated(const AsofGuardedRel *g)
{
	refuse_ddl(g, "cannot add a generated column to protected table \"%s\"",
			   "A generated column is computed from every row, held-out rows and labels included, and can be read where the label cannot.",
			   "Compute the value in a query or a feature view instead, or add the column after asof.unprotect.");
}

/* The constraints of a column definition (ADD COLUMN, CREATE TABLE). */
static void
check_column_def(const AsofGuardedRel *g, ColumnDef *def)
{
	ListCell   *c;

	foreach(c, def->constraints)
	{
		Constraint *con = lfirst(c);

		if (con->contype == CONSTR_GENERATED)
			refuse_generated(g);
		else if (con->contype == CONSTR_CHECK)
			refuse_check(g);
	}
}

static void
check_add_constraint(const AsofGuardedRel *g, Oid relid, Constraint *con)
{
	ListCell   *lc;

	switch (con->contype)
	{
		case CONSTR_CHECK:
			refuse_check(g);
			break;
		case CONSTR_PRIMARY:
		case CONSTR_UNIQUE:
			if (con->indexname != NULL)
			{
				/* ADD ... USING INDEX: the index as it is. */
				Oid			idx = get_relname_relid(con->indexname, get_rel_namespace(relid));

				if (OidIsValid(idx) && index_refusal(g, idx, false) != NULL)
					refuse_unique_key(g, true);
			}
			refuse_unique_key(g, names_label_or_future(g, relid, con->keys));
			break;
		case CONSTR_EXCLUSION:
			foreach(lc, con->exclusions)
			{
				IndexElem  *e = linitial((List *) lfirst(lc));

				if (IsA(e, IndexElem) && e->expr != NULL)
					refuse_ddl(g, "cannot add an exclusion constraint on an expression to protected table \"%s\"",
							   "Building its index evaluates the expression on every row, held-out rows and labels included.", NULL);
				if (IsA(e, IndexElem))
					refuse_unique_key(g, names_label_or_future(g, relid, list_make1(e)));
			}
			if (con->where_clause != NULL)
				refuse_ddl(g, "cannot add a partial exclusion constraint to protected table \"%s\"",
						   "Building its index evaluates its predicate on every row, held-out rows and labels included.", NULL);
			break;
		case CONSTR_FOREIGN:
			if (names_label_or_future(g, relid, con->fk_attrs))
				refuse_ddl(g, "cannot add a foreign key on a label or future column of protected table \"%s\"",
						   "Checking and cascading it read the column on every row, held-out rows included.", NULL);
			if ((con->fk_del_action != FKCONSTR_ACTION_NOACTION &&
				 con->fk_del_action != FKCONSTR_ACTION_RESTRICT) ||
				(con->fk_upd_action != FKCONSTR_ACTION_NOACTION &&
				 con->fk_upd_action != FKCONSTR_ACTION_RESTRICT))
				refuse_ddl(g, "cannot add a foreign key with a cascading action to protected table \"%s\"",
						   "An ON DELETE or ON UPDATE action other than NO ACTION and RESTRICT cannot reach the held-out rows the guard hides: they would keep keys that are gone.", NULL);
			break;
		default:
			break;
	}
}

/*
 * Rebuilding an index evaluates its expressions and predicate on every
 * row, held-out rows and labels included.  The guard refuses new
 * expression and partial indexes on protected tables; those that existed
 * before asof.protect are kept, and rebuilding one that calls a function
 * that is not built in (whose owner can replace its body) or checks a
 * domain (whose CHECK can call anything) would run user code on every row:
 * REINDEX, VACUUM FULL, CLUSTER and ALTER TABLE subcommands that rewrite
 * the table are refused then.
 */
static bool
is_user_function(Oid funcid, void *context)
{
	return funcid >= FirstNormalObjectId;
}

static bool
runs_user_code_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, CoerceToDomain) ||
		check_functions_in_node(node, is_user_function, NULL))
		return true;
	return expression_tree_walker(node, runs_user_code_walker, context);
}

/* The protected relation, relid or an inheritor, whose index rebuild runs user code, or NULL. */
static const AsofGuardedRel *
rebuild_runs_user_code(Oid relid)
{
	ListCell   *lc;

	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
	{
		const AsofGuardedRel *g = asof_registry_lookup(lfirst_oid(lc));
		Relation	rel;
		ListCell   *lc2;
		bool		found = false;

		if (g == NULL)
			continue;
		rel = try_relation_open(lfirst_oid(lc), AccessShareLock);
		if (rel == NULL)
			continue;
		foreach(lc2, RelationGetIndexList(rel))
		{
			Relation	idx = index_open(lfirst_oid(lc2), AccessShareLock);

			if (runs_user_code_walker((Node *) RelationGetIndexExpressions(idx), NULL) ||
				runs_user_code_walker((Node *) RelationGetIndexPredicate(idx), NULL))
				found = true;
			index_close(idx, AccessShareLock);
		}
		relation_close(rel, AccessShareLock);
		if (found)
			return g;
	}
	return NULL;
}

static void
refuse_rebuild(Oid relid)
{
	const AsofGuardedRel *g = OidIsValid(relid) ? rebuild_runs_user_code(relid) : NULL;

	if (g != NULL)
		refuse_ddl(g, "cannot rebuild the indexes of protected table \"%s\"",
				   "An expression or partial index of it calls a function that is not built in, or checks a domain: rebuilding it would run that code on every row, held-out rows and labels included.",
				   "Drop that index first (it was created before asof.protect), or unprotect the table first.");
}

/* The same for every protected table (REINDEX SCHEMA / DATABASE, VACUUM FULL, CLUSTER without a table). */
static void
refuse_rebuild_any(Oid nspid)
{
	ListCell   *lc;

	foreach(lc, asof_registry_registered_relids())
		if (!OidIsValid(nspid) || get_rel_namespace(lfirst_oid(lc)) == nspid)
			refuse_rebuild(lfirst_oid(lc));
}

static void
check_reindex(ReindexStmt *stmt)
{
	Oid			relid;

	switch (stmt->kind)
	{
		case REINDEX_OBJECT_INDEX:
			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
			refuse_rebuild(OidIsValid(relid) ? IndexGetRelation(relid, true) : InvalidOid);
			break;
		case REINDEX_OBJECT_TABLE:
			refuse_rebuild(RangeVarGetRelid(stmt->relation, NoLock, true));
			break;
		case REINDEX_OBJECT_SCHEMA:
			refuse_rebuild_any(get_namespace_oid(stmt->name, true));
			break;
		case REINDEX_OBJECT_DATABASE:
			refuse_rebuild_any(InvalidOid);
			break;
		default:
			break;
	}
}

static void
check_vacuum_full(VacuumStmt *stmt)
{
	ListCell   *lc;
	bool		full = false;

	foreach(lc, stmt->options)
		if (strcmp(((DefElem *) lfirst(lc))->defname, "full") == 0 &&
			defGetBoolean((DefElem *) lfirst(lc)))
			full = true;
	if (!full)
		return;
	if (stmt->rels == NIL)
		refuse_rebuild_any(InvalidOid);
	foreach(lc, stmt->rels)
	{
		VacuumRelation *vr = lfirst(lc);

		if (vr->relation != NULL)
			refuse_rebuild(RangeVarGetRelid(vr->relation, NoLock, true));
	}
}

/* The target of ALTER ... SET STATISTICS (DEFAULT, from 17: -1). */
static int
cmd_statistics_target(AlterTableCmd *cmd)
{
	if (cmd->def != NULL && IsA(cmd->def, Integer))
		return intVal(cmd->def);
	return -1;
}

/*
 * ALTER TABLE ... CLUSTER ON idx and CLUSTER t USING idx: the physical
 * order of the rows then follows the index, and ctid shows it.  Refused on
 * training sets, and on protected tables for an index that does not lead
 * with the time column or reads a label, future column or expression.
 */
static void
check_cluster_index(const AsofGuardedRel *g, Oid relid, Oid indexoid)
{
	const char *why;

	if (is_training_set(g))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot cluster training set \"%s\"", g->regname),
				 errdetail("Rows in index order show, through their physical position, where the sealed rows its owner cannot read sit between them."),
				 errhint("Order the rows in the query that reads them, or build the training set from an ordered spine.")));
	if (!OidIsValid(indexoid))
		return;
	why = index_refusal(g, indexoid, true);
	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot cluster protected table \"%s\" on index \"%s\"",
						g->regname, get_rel_name(indexoid)),
				 errdetail("It is %s: rows in its order show, through their physical position, label values before the split and where held-out rows sit between training rows.",
						   why),
				 errhint("Cluster on an index whose first column is the time column \"%s\", or order the rows in the query that reads them.",
						 get_attname(relid, g->time_attno, false))));
}

/*
 * ALTER INDEX (or ALTER TABLE) on an index of a protected relation: only
 * its statistics targets matter (asof.protect set those of expression
 * columns to 0).
 */
static void
check_alter_index(AlterTableStmt *stmt, Oid indexoid)
{
	const AsofGuardedRel *g = asof_registry_lookup(IndexGetRelation(indexoid, true));
	ListCell   *lc;

	if (g == NULL)
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);

		if (cmd->subtype == AT_SetStatistics && cmd_statistics_target(cmd) != 0)
			refuse_ddl(g, "cannot change the statistics target of an index of protected table \"%s\"",
					   "Statistics of index expressions are computed from every row, held-out rows and labels included.",
					   "Leave the target at 0; SET STATISTICS 0 is allowed.");
	}
}

/* Membership (INHERIT, ATTACH PARTITION) before the statement. */
static void
check_alter_membership(AlterTableStmt *stmt, Oid relid)
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
					check_membership(RangeVarGetRelid((RangeVar *) cmd->def, NoLock, true), relid);
				break;
			case AT_AttachPartition:
				if (IsA(cmd->def, PartitionCmd))
					check_membership(relid,
									 RangeVarGetRelid(((PartitionCmd *) cmd->def)->name, NoLock, true));
				break;
			case AT_DropInherit:
				gp = IsA(cmd->def, RangeVar) ? lookup_rangevar((RangeVar *) cmd->def) : NULL;
				if (gp != NULL)
					refuse_ddl(gp, "cannot remove a child from protected table \"%s\"",
							   "The child would lose its protection: its label columns and held-out rows would be readable.",
							   "Copy the rows you need with INSERT ... SELECT or CREATE TABLE ... AS SELECT, which the guard filters, or unprotect the table first.");
				break;
			case AT_DetachPartition:
			case AT_DetachPartitionFinalize:
				gp = asof_registry_lookup(relid);
				if (gp != NULL)
					refuse_ddl(gp, "cannot detach a partition of protected table \"%s\"",
							   "The detached table would lose its protection: its label columns and held-out rows would be readable.",
							   "Copy the rows you need with INSERT ... SELECT or CREATE TABLE ... AS SELECT, which the guard filters, or drop the partition, or unprotect the table first.");
				break;
			default:
				break;
		}
	}
}

static void
check_alter_table(AlterTableStmt *stmt)
{
	const AsofGuardedRel *g;
	Oid			relid;
	char		relkind;
	ListCell   *lc;

	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid))
		return;
	/* ALTER INDEX, or ALTER TABLE naming an index (PostgreSQL allows it). */
	relkind = get_rel_relkind(relid);
	if (relkind == RELKIND_INDEX || relkind == RELKIND_PARTITIONED_INDEX)
	{
		check_alter_index(stmt, relid);
		return;
	}
	if (relkind == RELKIND_COMPOSITE_TYPE)
	{
		check_alter_composite(stmt, relid);
		return;
	}
	check_alter_membership(stmt, relid);
	g = asof_registry_lookup(relid);
	if (g == NULL)
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);
		/* Columns are named by name or, for SET STATISTICS, by number. */
		AttrNumber	att = cmd->name != NULL ? get_attnum(relid, cmd->name) : cmd->num;
		const char *role = attno_role(g, att);

		if (ASOF_AT_IS_SET_EXPRESSION(cmd->subtype))
			refuse_ddl(g, "cannot change a generated column's expression on protected table \"%s\"",
					   "The new expression is computed from every row, held-out rows and labels included, and the column can be read where the label cannot.",
					   "Compute the value in a query or a feature view instead, or change the column after asof.unprotect.");
		switch (cmd->subtype)
		{
			case AT_AddConstraint:
				if (IsA(cmd->def, Constraint))
					check_add_constraint(g, relid, (Constraint *) cmd->def);
				break;
			case AT_ValidateConstraint:
				refuse_ddl(g, "cannot validate a constraint of protected table \"%s\"",
						   "Validating evaluates the constraint on every row, held-out rows and labels included.", NULL);
				break;
			case AT_SetStatistics:
				if (cmd_statistics_target(cmd) == 0)
					break;
				if (is_training_set(g))
					refuse_ddl(g, "cannot change a statistics target of training set \"%s\"",
							   "Statistics of a training set are computed from every row, the sealed rows its owner cannot read included.",
							   "Leave the target at 0; SET STATISTICS 0 is allowed.");
				if (role != NULL && strcmp(role, "time") != 0)
					refuse_ddl(g, "cannot change the statistics target of a label or future column of protected table \"%s\"",
							   "Statistics of label and future columns are computed from every row, held-out rows included.",
							   "Leave the target at 0; SET STATISTICS 0 is allowed.");
				break;
			case AT_SetNotNull:
				/* Validated on every row: an error tells that a NULL exists. */
				if (is_training_set(g))
					refuse_ddl(g, "cannot make a column of training set \"%s\" NOT NULL",
							   "Setting NOT NULL checks every row: its error would tell that a sealed row, which its owner cannot read, has a NULL there.",
							   "Leave NULLs out in the query that reads the training set.");
				if (role != NULL && strcmp(role, "time") != 0)
					refuse_ddl(g, "cannot make a label or future column of protected table \"%s\" NOT NULL",
							   "Setting NOT NULL checks every row, held-out rows included: its error would tell that a label is NULL before the split.",
							   NULL);
				break;
			case AT_SetAccessMethod:
			case AT_SetLogged:
			case AT_SetUnLogged:
			case AT_AddColumn:
				/* They may rewrite the table, and then rebuild its indexes. */
				refuse_rebuild(relid);
				if (cmd->subtype == AT_AddColumn && IsA(cmd->def, ColumnDef))
					check_column_def(g, (ColumnDef *) cmd->def);
				break;
			case AT_ClusterOn:
				check_cluster_index(g, relid,
									get_relname_relid(cmd->name, get_rel_namespace(relid)));
				break;
			case AT_DropColumn:
				if (role != NULL)
					refuse_ddl(g, "cannot drop or change the type of a registered column of protected table \"%s\"",
							   "The guard's registration names the time, label and future columns.", NULL);
				break;
			case AT_AlterColumnType:
				if (role != NULL)
					refuse_ddl(g, "cannot drop or change the type of a registered column of protected table \"%s\"",
							   "The guard's registration names the time, label and future columns.", NULL);
				refuse_ddl(g, "cannot change a column type of protected table \"%s\"",
						   "Rewriting the column runs its USING expression or its assignment cast, which may be user code, on every row, held-out rows and labels included.", NULL);
				break;
			case AT_ForceRowSecurity:
				refuse_ddl(g, "cannot force row-level security on protected table \"%s\"",
						   "Row-level security policies would then run on the owner's queries, label columns and held-out rows included.", NULL);
				break;
			case AT_DisableRowSecurity:
				refuse_ddl(g, "cannot disable row-level security on protected table \"%s\"",
						   "The guard's restrictive policy keeps the table closed when the guard is not loaded.", NULL);
				break;
			default:
				/* SET EXPRESSION (17+) is refused before this switch */
				break;
		}
	}
}

/*
 * CLUSTER t [USING idx], and CLUSTER without a table, which reclusters
 * every table of the caller that has a clustered index.
 */
static Oid
clustered_index(Oid relid)
{
	Relation	rel = try_relation_open(relid, AccessShareLock);
	ListCell   *lc;
	Oid			found = InvalidOid;

	if (rel == NULL)
		return InvalidOid;
	foreach(lc, RelationGetIndexList(rel))
		if (get_index_isclustered(lfirst_oid(lc)))
			found = lfirst_oid(lc);
	relation_close(rel, AccessShareLock);
	return found;
}

static void
check_cluster(ClusterStmt *stmt)
{
	ListCell   *lc;

	if (stmt->relation != NULL)
	{
		Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
		const AsofGuardedRel *g = asof_registry_lookup(relid);

		if (g != NULL)
			refuse_rebuild(relid);

		if (g != NULL)
			check_cluster_index(g, relid, stmt->indexname != NULL
								? get_relname_relid(stmt->indexname, get_rel_namespace(relid))
								: clustered_index(relid));
		return;
	}
	foreach(lc, asof_registry_registered_relids())
	{
		ListCell   *lc2;

		foreach(lc2, find_all_inheritors(lfirst_oid(lc), NoLock, NULL))
		{
			Oid			relid = lfirst_oid(lc2);
			Oid			idx = clustered_index(relid);
			const AsofGuardedRel *g = asof_registry_lookup(relid);

			if (OidIsValid(idx) && g != NULL)
			{
				check_cluster_index(g, relid, idx);
				refuse_rebuild(relid);
			}
		}
	}
}

/* ALTER STATISTICS s SET STATISTICS n: protect set 0 on those over labels. */
static void
check_alter_statistics(AlterStatsStmt *stmt)
{
	Oid			stxoid = get_statistics_object_oid(stmt->defnames, true);
	HeapTuple	tup;
	const AsofGuardedRel *g;

	if (!OidIsValid(stxoid) || asof_alter_stats_target(stmt) == 0)
		return;
	tup = SearchSysCache1(STATEXTOID, ObjectIdGetDatum(stxoid));
	if (!HeapTupleIsValid(tup))
		return;
	g = asof_registry_lookup(((Form_pg_statistic_ext) GETSTRUCT(tup))->stxrelid);
	if (g != NULL)
	{
		Form_pg_statistic_ext stx = (Form_pg_statistic_ext) GETSTRUCT(tup);
		bool		reads_guarded = !heap_attisnull(tup, Anum_pg_statistic_ext_stxexprs, NULL);
		int			i;

		for (i = 0; i < stx->stxkeys.dim1; i++)
			if (attno_is_guarded(g, stx->stxkeys.values[i]))
				reads_guarded = true;
		if (!reads_guarded)
			g = NULL;
	}
	ReleaseSysCache(tup);
	if (g != NULL)
		refuse_ddl(g, "cannot change the statistics target of an extended statistics object on protected table \"%s\"",
				   "Extended statistics over a protected table are computed from every row, held-out rows and labels included.",
				   "Leave the target at 0; SET STATISTICS 0 is allowed.");
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
					 table_text(g->regrelid))));
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
			index_refusal(g, lfirst_oid(lc), false) != NULL)
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
		char	   *stmt = psprintf("ALTER TABLE ONLY %s %s", table_text(relid), sql.data);

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
											table_text(ix->indexrelid), i + 1);

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
static void
check_new_member(Oid member, bool enforce)
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
static List *
new_members(AlterTableStmt *stmt)
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
static void
check_publications(void)
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
							 table_text(g->regrelid))));
	}
	SPI_finish();
}

/*
 * Does a value of type t contain a value of domain d (t is d, a domain
 * over it, an array of it, or a composite type with such an attribute)?
 */
static bool
type_contains_domain(Oid t, Oid d, int depth)
{
	HeapTuple	tup;
	Form_pg_type typ;
	bool		found = false;

	if (t == d)
		return true;
	if (depth > 16)
		return true;			/* fail closed */
	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(t));
	if (!HeapTupleIsValid(tup))
		return false;
	typ = (Form_pg_type) GETSTRUCT(tup);
	if (typ->typtype == TYPTYPE_DOMAIN)
		found = type_contains_domain(typ->typbasetype, d, depth + 1);
	else if (OidIsValid(typ->typelem) && IsTrueArrayType(typ))
		found = type_contains_domain(typ->typelem, d, depth + 1);
	else if (typ->typtype == TYPTYPE_COMPOSITE && OidIsValid(typ->typrelid))
	{
		Relation	rel = relation_open(typ->typrelid, AccessShareLock);
		int			i;

		for (i = 0; !found && i < RelationGetDescr(rel)->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), i);

			if (!att->attisdropped)
				found = type_contains_domain(att->atttypid, d, depth + 1);
		}
		relation_close(rel, AccessShareLock);
	}
	ReleaseSysCache(tup);
	return found;
}

/*
 * ALTER DOMAIN ... ADD CONSTRAINT (validated), VALIDATE CONSTRAINT and SET
 * NOT NULL check every column of the domain in every table, label columns
 * and held-out rows included: refused while a protected table (or a
 * partition or child of one) has such a column.  NOT VALID constraints are
 * only checked on values written later.
 */
static void
check_alter_domain(AlterDomainStmt *stmt)
{
	Oid			domain;
	ListCell   *lc;

	if (!(stmt->subtype == 'V' || stmt->subtype == 'O' ||
		  (stmt->subtype == 'C' && IsA(stmt->def, Constraint) &&
		   !((Constraint *) stmt->def)->skip_validation)))
		return;
	domain = LookupTypeNameOid(NULL, makeTypeNameFromNameList(stmt->typeName), true);
	if (!OidIsValid(domain))
		return;
	foreach(lc, asof_registry_registered_relids())
	{
		ListCell   *lc2;

		foreach(lc2, find_all_inheritors(lfirst_oid(lc), NoLock, NULL))
		{
			Relation	rel = try_relation_open(lfirst_oid(lc2), AccessShareLock);
			const AsofGuardedRel *g;
			bool		uses = false;
			int			i;

			if (rel == NULL)
				continue;
			for (i = 0; !uses && i < RelationGetDescr(rel)->natts; i++)
			{
				Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), i);

				if (!att->attisdropped)
					uses = type_contains_domain(att->atttypid, domain, 0);
			}
			relation_close(rel, AccessShareLock);
			g = uses ? asof_registry_lookup(lfirst_oid(lc2)) : NULL;
			if (g != NULL)
				refuse_ddl(g, "cannot check a domain constraint on the rows of protected table \"%s\"",
						   "Adding a validated constraint to a domain, validating one, or setting it NOT NULL evaluates it on every row of every table using the domain, held-out rows and labels included.",
						   "Add the constraint NOT VALID (it then applies to values written later), or unprotect the table first.");
		}
	}
}

/*
 * ALTER TYPE ... ALTER / DROP ATTRIBUTE ... CASCADE changes the typed tables
 * of a composite type (CREATE TABLE ... OF type) without an ALTER TABLE the
 * guard sees: refused while one of them is protected.
 */
static void
check_alter_composite(AlterTableStmt *stmt, Oid typrelid)
{
	Oid			typoid = get_rel_type_id(typrelid);
	Relation	classrel;
	TableScanDesc scan;
	HeapTuple	tup;
	ListCell   *lc;
	bool		cascades = false;

	foreach(lc, stmt->cmds)
		if (((AlterTableCmd *) lfirst(lc))->behavior == DROP_CASCADE)
			cascades = true;
	if (!cascades || !OidIsValid(typoid))
		return;
	classrel = table_open(RelationRelationId, AccessShareLock);
	scan = table_beginscan_catalog(classrel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_class c = (Form_pg_class) GETSTRUCT(tup);
		const AsofGuardedRel *g;

		if (c->reloftype != typoid)
			continue;
		g = asof_registry_lookup(c->oid);
		if (g != NULL)
			refuse_ddl(g, "cannot alter the type of protected table \"%s\"",
					   "ALTER TYPE ... CASCADE would change the typed table's columns and rewrite its rows, held-out rows and labels included.",
					   NULL);
	}
	table_endscan(scan);
	table_close(classrel, AccessShareLock);
}

/*
 * CREATE TABLE ... PARTITION OF / INHERITS a protected table: what the
 * statement itself adds (column and table constraints) is refused with the
 * same messages as on the table; what it copies (LIKE) is checked after it
 * (check_new_member).
 */
static void
check_create_table(CreateStmt *stmt)
{
	const AsofGuardedRel *g = NULL;
	ListCell   *lc;

	foreach(lc, stmt->inhRelations)
		if (g == NULL && IsA(lfirst(lc), RangeVar))
			g = lookup_rangevar((RangeVar *) lfirst(lc));
	if (g == NULL)
		return;
	foreach(lc, stmt->tableElts)
	{
		if (IsA(lfirst(lc), ColumnDef))
			check_column_def(g, (ColumnDef *) lfirst(lc));
		else if (IsA(lfirst(lc), Constraint) &&
				 ((Constraint *) lfirst(lc))->contype == CONSTR_CHECK)
			refuse_check(g);
	}
	foreach(lc, stmt->constraints)
		if (((Constraint *) lfirst(lc))->contype == CONSTR_CHECK)
			refuse_check(g);
}

static void
check_rename(RenameStmt *stmt)
{
	Oid			relid;
	const AsofGuardedRel *g;

	if (stmt->renameType != OBJECT_COLUMN || stmt->relation == NULL)
		return;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	g = asof_registry_lookup(relid);
	if (g != NULL && column_role(g, relid, stmt->subname) != NULL)
		refuse_ddl(g, "cannot rename a registered column of protected table \"%s\"",
				   "The guard's registration names the time, label and future columns.", NULL);
}

static void
check_drop_policy(DropStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		List	   *names = lfirst(lc);
		const char *polname;
		const AsofGuardedRel *g;

		if (list_length(names) < 2)
			continue;
		polname = strVal(llast(names));
		if (strncmp(polname, "asof_guard_", 11) != 0)
			continue;
		g = lookup_rangevar(makeRangeVarFromNameList(list_truncate(list_copy(names),
																	list_length(names) - 1)));
		if (g != NULL)
			refuse_ddl(g, "cannot drop the guard's policy on protected table \"%s\"",
					   "The guard's restrictive policy keeps the table closed when the guard is not loaded.", NULL);
	}
}

static void
check_policy_or_rule(RangeVar *rv, const char *msg)
{
	const AsofGuardedRel *g = lookup_rangevar(rv);

	if (g != NULL)
		refuse_ddl(g, msg,
				   "Its expressions would be evaluated on every row, label columns and held-out rows included.", NULL);
}

static void
check_load(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot LOAD a module while tables are protected by pg_asof"),
			 errdetail("A module loaded into a session can replace the hooks the leakage guard relies on."),
			 errhint("Load modules through shared_preload_libraries or session_preload_libraries, or, as a superuser, SET asof.guard = off first.")));
}

/* DROP EXTENSION pg_asof: refuse, or with CASCADE unprotect first. */
static void
check_drop_extension(DropStmt *stmt)
{
	ListCell   *lc;
	bool		ours = false;
	List	   *relids;
	StringInfoData names;

	foreach(lc, stmt->objects)
	{
		Node	   *obj = lfirst(lc);

		if (IsA(obj, String) && strcmp(strVal(obj), "pg_asof") == 0)
			ours = true;
	}
	if (!ours || !OidIsValid(get_extension_oid("pg_asof", true)))
		return;
	relids = NIL;
	foreach(lc, asof_registry_registered_relids())
		if (get_rel_name(lfirst_oid(lc)) != NULL)
			relids = lappend_oid(relids, lfirst_oid(lc));
	if (relids == NIL)
		return;

	initStringInfo(&names);
	foreach(lc, relids)
		appendStringInfo(&names, "%s%s", names.len ? ", " : "", table_text(lfirst_oid(lc)));
	if (stmt->behavior != DROP_CASCADE)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop extension pg_asof because tables are protected"),
				 errdetail("Protected tables: %s.", names.data),
				 errhint("Unprotect them with asof.unprotect(...), or use DROP EXTENSION ... CASCADE, which unprotects them.")));

	SPI_connect();
	foreach(lc, relids)
	{
		Datum		arg = ObjectIdGetDatum(lfirst_oid(lc));
		Oid			argtype = OIDOID;
		char	   *name = table_text(lfirst_oid(lc));

		/* Training sets linked to a spine go with the spine. */
		if (SPI_execute_with_args("SELECT asof.unprotect(r.tbl) FROM asof.protected_registry r "
								  "WHERE r.tbl = $1::pg_catalog.regclass AND r.linked_to IS NULL", 1,
								  &argtype, &arg, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not unprotect table %s", name);
		ereport(WARNING,
				(errmsg("table %s is no longer protected", name),
				 errdetail("DROP EXTENSION pg_asof ... CASCADE unprotects every protected table: its label columns and held-out rows are readable again.")));
	}
	SPI_finish();
}

/* The statements check_after_utility looks at (all run in one transaction). */
static bool
checked_after(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_CreateStmt:
		case T_CreateForeignTableStmt:
		case T_AlterTableStmt:
		case T_CreatePublicationStmt:
		case T_AlterPublicationStmt:
		case T_AlterObjectSchemaStmt:
		case T_CreateStatsStmt:
		case T_CreateTrigStmt:
		case T_AlterDomainStmt:
			return true;
		case T_IndexStmt:
			return !((IndexStmt *) parsetree)->concurrent;
		default:
			return false;
	}
}

/*
 * The checks that need the statement's result: new partitions and children
 * of protected tables, and publications.  The statement checks run again
 * too, now that the statement holds its locks: the table may have been
 * protected by a transaction that committed while the statement waited for
 * its lock, after the check before it.  (CLUSTER and CREATE INDEX
 * CONCURRENTLY may commit along the way; they are checked before only.)
 */
static void
check_after_utility(Node *parsetree, bool enforce)
{
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_CreateStmt:
		case T_CreateForeignTableStmt:
			if (((CreateStmt *) parsetree)->inhRelations == NIL)
				break;
			check_new_member(RangeVarGetRelid(((CreateStmt *) parsetree)->relation, NoLock, true),
							 enforce);
			if (enforce)
				check_publications();
			break;
		case T_AlterTableStmt:
			{
				List	   *members = new_members((AlterTableStmt *) parsetree);

				if (enforce)
					check_alter_table((AlterTableStmt *) parsetree);

				foreach(lc, members)
					check_new_member(lfirst_oid(lc), enforce);
				if (members != NIL && enforce)
					check_publications();
			}
			break;
		case T_CreatePublicationStmt:
		case T_AlterPublicationStmt:
		case T_AlterObjectSchemaStmt:
			if (enforce)
				check_publications();
			break;
		case T_IndexStmt:
			if (enforce)
				check_create_index((IndexStmt *) parsetree);
			break;
		case T_CreateStatsStmt:
			if (enforce)
				check_create_statistics((CreateStatsStmt *) parsetree);
			break;
		case T_CreateTrigStmt:
			if (enforce)
				check_create_trigger((CreateTrigStmt *) parsetree);
			break;
		case T_AlterDomainStmt:
			if (enforce)
				check_alter_domain((AlterDomainStmt *) parsetree);
			break;
		default:
			break;
	}
}

static void
asof_process_utility(ASOF_PROCESS_UTILITY_PARAMS)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (IsA(parsetree, DropStmt) &&
		((DropStmt *) parsetree)->removeType == OBJECT_EXTENSION)
		check_drop_extension((DropStmt *) parsetree);
	else if (asof_guard_active() && asof_registry_any_protected())
	{
		switch (nodeTag(parsetree))
		{
			case T_CopyStmt:
				check_copy((CopyStmt *) parsetree);
				break;
			case T_CreateTrigStmt:
				check_create_trigger((CreateTrigStmt *) parsetree);
				break;
			case T_CreateStatsStmt:
				check_create_statistics((CreateStatsStmt *) parsetree);
				break;
			case T_IndexStmt:
				check_create_index((IndexStmt *) parsetree);
				break;
			case T_AlterTableStmt:
				check_alter_table((AlterTableStmt *) parsetree);
				break;
			case T_CreateStmt:
			case T_CreateForeignTableStmt:
				check_create_table((CreateStmt *) parsetree);
				break;
			case T_ClusterStmt:
				check_cluster((ClusterStmt *) parsetree);
				break;
			case T_AlterStatsStmt:
				check_alter_statistics((AlterStatsStmt *) parsetree);
				break;
			case T_AlterDomainStmt:
				check_alter_domain((AlterDomainStmt *) parsetree);
				break;
			case T_ReindexStmt:
				check_reindex((ReindexStmt *) parsetree);
				break;
			case T_VacuumStmt:
				check_vacuum_full((VacuumStmt *) parsetree);
				break;
			case T_RenameStmt:
				check_rename((RenameStmt *) parsetree);
				break;
			case T_DropStmt:
				if (((DropStmt *) parsetree)->removeType == OBJECT_POLICY)
					check_drop_policy((DropStmt *) parsetree);
				break;
			case T_CreatePolicyStmt:
				check_policy_or_rule(((CreatePolicyStmt *) parsetree)->table,
									 "cannot create a row-level security policy on protected table \"%s\"");
				break;
			case T_AlterPolicyStmt:
				check_policy_or_rule(((AlterPolicyStmt *) parsetree)->table,
									 "cannot alter a row-level security policy on protected table \"%s\"");
				break;
			case T_RuleStmt:
				check_policy_or_rule(((RuleStmt *) parsetree)->relation,
									 "cannot create a rule on protected table \"%s\"");
				break;
			case T_LoadStmt:
				check_load();
				break;
			case T_DeclareCursorStmt:
				if ((((DeclareCursorStmt *) parsetree)->options & CURSOR_OPT_HOLD) &&
					asof_guard_any_unsealed())
					ereport(ERROR,
							(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							 errmsg("cannot declare a WITH HOLD cursor while a test set is unsealed"),
							 errdetail("A cursor held past the transaction would keep held-out rows open after it."),
							 errhint("Declare the cursor without WITH HOLD, or in a transaction that did not call asof.unseal.")));
				break;
			default:
				break;
		}
	}

	if (prev_process_utility_hook)
		prev_process_utility_hook(ASOF_PROCESS_UTILITY_ARGS);
	else
		standard_ProcessUtility(ASOF_PROCESS_UTILITY_ARGS);

	/*
	 * Decided again: a table may have been protected while the statement
	 * waited for its lock.
	 */
	if (!checked_after(parsetree) || !IsTransactionState() ||
		!OidIsValid(get_extension_oid("pg_asof", true)) ||
		!asof_registry_any_protected())
		return;
	check_after_utility(parsetree, asof_guard_active());
}

/*
 * Errors about a protected table lose their DETAIL (constraint violations
 * print row values there).  No catalog access here: the names come from
 * the cache; while it is not loaded (after an invalidation or a failed
 * load), every table's errors lose it (fail closed).
 */
static void
asof_emit_log(ErrorData *edata)
{
	if (edata->elevel >= ERROR && edata->table_name != NULL &&
		asof_guard_enabled &&
		(!asof_registry_is_loaded() ||
		 asof_registry_name_is_protected(edata->schema_name, edata->table_name)))
	{
		edata->detail = NULL;
		edata->detail_log = NULL;
	}
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

void
asof_guard_utility_init(void)
{
	prev_process_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = asof_process_utility;
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = asof_emit_log;
}
