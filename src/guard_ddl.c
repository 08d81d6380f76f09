/*-------------------------------------------------------------------------
 *
 * guard_ddl.c
 *	  The guard's rules for statements that change a protected table's
 *	  definition (G3, G5, docs/leakage-guard.md): refused are CREATE
 *	  STATISTICS, expression indexes, partial indexes, exclusion constraints
 *	  on expressions or with WHERE, unique indexes, primary keys, unique and
 *	  exclusion constraints over a label or future column (ON CONFLICT DO
 *	  NOTHING would be an oracle for label values), every CHECK constraint
 *	  (validated or NOT VALID: UPDATE evaluates it on labels), generated
 *	  columns (stored, or virtual in 18) and SET EXPRESSION, raising a
 *	  statistics target of a label or future column, of an index expression
 *	  (ALTER INDEX) or of an extended statistics object (ALTER STATISTICS),
 *	  every ALTER COLUMN TYPE (USING expressions and assignment casts run on
 *	  every row), foreign keys on label or future columns or with cascading
 *	  actions, renaming or dropping registered columns, DISABLE ROW LEVEL
 *	  SECURITY; ALTER DOMAIN ... ADD CONSTRAINT (validated), VALIDATE
 *	  CONSTRAINT and SET NOT NULL on a domain that a protected table's
 *	  column uses, and ALTER TYPE ... CASCADE on the type of a protected
 *	  typed table; what CREATE TABLE ... PARTITION OF / INHERITS adds
 *	  itself.  Training sets also refuse every index, raising any column's
 *	  statistics target, unique constraints and SET NOT NULL.
 *
 *	  Also owns the helpers the rule files share: a column's role in a
 *	  protected relation, and the refusal (guard_ddl.h).
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

static void check_alter_composite(AlterTableStmt *stmt, Oid typrelid);

/* What column att of relid is in a protected relation: "label", "future", "time" or NULL. */
const char *
asof_ddl_attno_role(const AsofGuardedRel *g, AttrNumber att)
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
const char *
asof_ddl_column_role(const AsofGuardedRel *g, Oid relid, const char *colname)
{
	if (colname == NULL)
		return NULL;
	return asof_ddl_attno_role(g, get_attnum(relid, colname));
}

/* Is att a label or future column? */
bool
asof_ddl_attno_is_guarded(const AsofGuardedRel *g, AttrNumber att)
{
	const char *role = asof_ddl_attno_role(g, att);

	return role != NULL && strcmp(role, "time") != 0;
}

/* A training set: a registration linked to the spine it was built on. */
bool
asof_ddl_is_training_set(const AsofGuardedRel *g)
{
	return OidIsValid(g->linked_to);
}

/*
 * Refuse a statement on a protected table.  msg is the whole errmsg, with
 * one %s for the table's name; why and hint are whole sentences (hint NULL:
 * unprotect first, or switch the guard off as a superuser).
 */
void
asof_ddl_refuse(const AsofGuardedRel *g, const char *msg, const char *why, const char *hint)
{
	if (hint == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg_internal(msg, g->regname),
				 errdetail_internal("%s", why),
				 errhint("Unprotect the table first with asof.unprotect('%s'), or, as a superuser, SET asof.guard = off.",
						 asof_table_text(g->regrelid))));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg_internal(msg, g->regname),
			 errdetail_internal("%s", why),
			 errhint("%s", hint)));
}

const AsofGuardedRel *
asof_ddl_lookup_rangevar(RangeVar *rv)
{
	if (rv == NULL)
		return NULL;
	return asof_registry_lookup(RangeVarGetRelid(rv, NoLock, true));
}

void
asof_ddl_check_create_statistics(CreateStatsStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		Node	   *n = lfirst(lc);
		const AsofGuardedRel *g;

		if (!IsA(n, RangeVar))
			continue;
		g = asof_ddl_lookup_rangevar((RangeVar *) n);
		if (g != NULL)
			asof_ddl_refuse(g, "cannot create statistics on protected table \"%s\"",
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
	if (asof_ddl_is_training_set(g))
		asof_ddl_refuse(g, "cannot add a unique index or constraint to training set \"%s\"",
				   "INSERT ... ON CONFLICT DO NOTHING would tell whether a sealed row, which its owner cannot read, has a given key.",
				   "Build a new training set with the key you need, or add the index to a copy of the training rows (CREATE TABLE ... AS SELECT ...).");
	if (any_guarded)
		asof_ddl_refuse(g, "cannot add a unique index or constraint over a label or future column of protected table \"%s\"",
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
		if (asof_ddl_attno_is_guarded(g, get_attnum(relid, name == NULL ? "" : name)))
			return true;
	}
	return false;
}

void
asof_ddl_check_create_index(IndexStmt *stmt)
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
	if (asof_ddl_is_training_set(g))
		asof_ddl_refuse(g, "cannot create an index on training set \"%s\"",
				   "Through an index, EXPLAIN ANALYZE counts the sealed rows that have a given value (\"Rows Removed by Filter\"), and the index's size depends on their values; its owner cannot read them.",
				   "Copy the training rows into a table of your own (CREATE TABLE ... AS SELECT ... FROM the training set, which the guard filters) and index that.");
	foreach(lc, stmt->indexParams)
	{
		IndexElem  *e = lfirst(lc);

		if (e->expr != NULL)
			asof_ddl_refuse(g, "cannot create an expression index on protected table \"%s\"",
					   "ANALYZE collects statistics of index expressions from every row, held-out rows and labels included.", NULL);
	}
	if (stmt->whereClause != NULL)
		asof_ddl_refuse(g, "cannot create a partial index on protected table \"%s\"",
				   "Building it evaluates its predicate on every row, held-out rows and labels included.", NULL);
	if (stmt->unique || stmt->primary || stmt->excludeOpNames != NIL)
		refuse_unique_key(g, names_label_or_future(g, relid, stmt->indexParams));
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
	asof_ddl_refuse(g, "cannot add a CHECK constraint to protected table \"%s\"",
			   "UPDATE evaluates CHECK constraints on every row it writes, label columns included, and validating one evaluates it on every row, held-out rows included: a failing check would tell label values.",
			   "Check the values in the query that loads them, or unprotect the table first.");
}

static void
refuse_generated(const AsofGuardedRel *g)
{
	asof_ddl_refuse(g, "cannot add a generated column to protected table \"%s\"",
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

				if (OidIsValid(idx) && asof_ddl_index_refusal(g, idx, false) != NULL)
					refuse_unique_key(g, true);
			}
			refuse_unique_key(g, names_label_or_future(g, relid, con->keys));
			break;
		case CONSTR_EXCLUSION:
			foreach(lc, con->exclusions)
			{
				IndexElem  *e = linitial((List *) lfirst(lc));

				if (IsA(e, IndexElem) && e->expr != NULL)
					asof_ddl_refuse(g, "cannot add an exclusion constraint on an expression to protected table \"%s\"",
							   "Building its index evaluates the expression on every row, held-out rows and labels included.", NULL);
				if (IsA(e, IndexElem))
					refuse_unique_key(g, names_label_or_future(g, relid, list_make1(e)));
			}
			if (con->where_clause != NULL)
				asof_ddl_refuse(g, "cannot add a partial exclusion constraint to protected table \"%s\"",
						   "Building its index evaluates its predicate on every row, held-out rows and labels included.", NULL);
			break;
		case CONSTR_FOREIGN:
			if (names_label_or_future(g, relid, con->fk_attrs))
				asof_ddl_refuse(g, "cannot add a foreign key on a label or future column of protected table \"%s\"",
						   "Checking and cascading it read the column on every row, held-out rows included.", NULL);
			if ((con->fk_del_action != FKCONSTR_ACTION_NOACTION &&
				 con->fk_del_action != FKCONSTR_ACTION_RESTRICT) ||
				(con->fk_upd_action != FKCONSTR_ACTION_NOACTION &&
				 con->fk_upd_action != FKCONSTR_ACTION_RESTRICT))
				asof_ddl_refuse(g, "cannot add a foreign key with a cascading action to protected table \"%s\"",
						   "An ON DELETE or ON UPDATE action other than NO ACTION and RESTRICT cannot reach the held-out rows the guard hides: they would keep keys that are gone.", NULL);
			break;
		default:
			break;
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
			asof_ddl_refuse(g, "cannot change the statistics target of an index of protected table \"%s\"",
					   "Statistics of index expressions are computed from every row, held-out rows and labels included.",
					   "Leave the target at 0; SET STATISTICS 0 is allowed.");
	}
}

void
asof_ddl_check_alter_table(AlterTableStmt *stmt)
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
	asof_members_check_alter(stmt, relid);
	g = asof_registry_lookup(relid);
	if (g == NULL)
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);
		/* Columns are named by name or, for SET STATISTICS, by number. */
		AttrNumber	att = cmd->name != NULL ? get_attnum(relid, cmd->name) : cmd->num;
		const char *role = asof_ddl_attno_role(g, att);

		if (ASOF_AT_IS_SET_EXPRESSION(cmd->subtype))
			asof_ddl_refuse(g, "cannot change a generated column's expression on protected table \"%s\"",
					   "The new expression is computed from every row, held-out rows and labels included, and the column can be read where the label cannot.",
					   "Compute the value in a query or a feature view instead, or change the column after asof.unprotect.");
		switch (cmd->subtype)
		{
			case AT_AddConstraint:
				if (IsA(cmd->def, Constraint))
					check_add_constraint(g, relid, (Constraint *) cmd->def);
				break;
			case AT_ValidateConstraint:
				asof_ddl_refuse(g, "cannot validate a constraint of protected table \"%s\"",
						   "Validating evaluates the constraint on every row, held-out rows and labels included.", NULL);
				break;
			case AT_SetStatistics:
				if (cmd_statistics_target(cmd) == 0)
					break;
				if (asof_ddl_is_training_set(g))
					asof_ddl_refuse(g, "cannot change a statistics target of training set \"%s\"",
							   "Statistics of a training set are computed from every row, the sealed rows its owner cannot read included.",
							   "Leave the target at 0; SET STATISTICS 0 is allowed.");
				if (role != NULL && strcmp(role, "time") != 0)
					asof_ddl_refuse(g, "cannot change the statistics target of a label or future column of protected table \"%s\"",
							   "Statistics of label and future columns are computed from every row, held-out rows included.",
							   "Leave the target at 0; SET STATISTICS 0 is allowed.");
				break;
			case AT_SetNotNull:
				/* Validated on every row: an error tells that a NULL exists. */
				if (asof_ddl_is_training_set(g))
					asof_ddl_refuse(g, "cannot make a column of training set \"%s\" NOT NULL",
							   "Setting NOT NULL checks every row: its error would tell that a sealed row, which its owner cannot read, has a NULL there.",
							   "Leave NULLs out in the query that reads the training set.");
				if (role != NULL && strcmp(role, "time") != 0)
					asof_ddl_refuse(g, "cannot make a label or future column of protected table \"%s\" NOT NULL",
							   "Setting NOT NULL checks every row, held-out rows included: its error would tell that a label is NULL before the split.",
							   NULL);
				break;
			case AT_SetAccessMethod:
			case AT_SetLogged:
			case AT_SetUnLogged:
			case AT_AddColumn:
				/* They may rewrite the table, and then rebuild its indexes. */
				asof_ddl_refuse_rebuild(relid);
				if (cmd->subtype == AT_AddColumn && IsA(cmd->def, ColumnDef))
					check_column_def(g, (ColumnDef *) cmd->def);
				break;
			case AT_ClusterOn:
				asof_ddl_check_cluster_index(g, relid,
									get_relname_relid(cmd->name, get_rel_namespace(relid)));
				break;
			case AT_DropColumn:
				if (role != NULL)
					asof_ddl_refuse(g, "cannot drop or change the type of a registered column of protected table \"%s\"",
							   "The guard's registration names the time, label and future columns.", NULL);
				break;
			case AT_AlterColumnType:
				if (role != NULL)
					asof_ddl_refuse(g, "cannot drop or change the type of a registered column of protected table \"%s\"",
							   "The guard's registration names the time, label and future columns.", NULL);
				asof_ddl_refuse(g, "cannot change a column type of protected table \"%s\"",
						   "Rewriting the column runs its USING expression or its assignment cast, which may be user code, on every row, held-out rows and labels included.", NULL);
				break;
			case AT_ForceRowSecurity:
				asof_ddl_refuse(g, "cannot force row-level security on protected table \"%s\"",
						   "Row-level security policies would then run on the owner's queries, label columns and held-out rows included.", NULL);
				break;
			case AT_DisableRowSecurity:
				asof_ddl_refuse(g, "cannot disable row-level security on protected table \"%s\"",
						   "The guard's restrictive policy keeps the table closed when the guard is not loaded.", NULL);
				break;
			default:
				/* SET EXPRESSION (17+) is refused before this switch */
				break;
		}
	}
}

/* ALTER STATISTICS s SET STATISTICS n: protect set 0 on those over labels. */
void
asof_ddl_check_alter_statistics(AlterStatsStmt *stmt)
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
			if (asof_ddl_attno_is_guarded(g, stx->stxkeys.values[i]))
				reads_guarded = true;
		if (!reads_guarded)
			g = NULL;
	}
	ReleaseSysCache(tup);
	if (g != NULL)
		asof_ddl_refuse(g, "cannot change the statistics target of an extended statistics object on protected table \"%s\"",
				   "Extended statistics over a protected table are computed from every row, held-out rows and labels included.",
				   "Leave the target at 0; SET STATISTICS 0 is allowed.");
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
void
asof_ddl_check_alter_domain(AlterDomainStmt *stmt)
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
				asof_ddl_refuse(g, "cannot check a domain constraint on the rows of protected table \"%s\"",
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
			asof_ddl_refuse(g, "cannot alter the type of protected table \"%s\"",
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
 * (asof_members_check_new).
 */
void
asof_ddl_check_create_table(CreateStmt *stmt)
{
	const AsofGuardedRel *g = NULL;
	ListCell   *lc;

	foreach(lc, stmt->inhRelations)
		if (g == NULL && IsA(lfirst(lc), RangeVar))
			g = asof_ddl_lookup_rangevar((RangeVar *) lfirst(lc));
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
