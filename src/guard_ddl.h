/*-------------------------------------------------------------------------
 *
 * guard_ddl.h
 *	  What the guard's utility-statement rules share (private to
 *	  guard_utility.c, guard_ddl.c, guard_ddl_rebuild.c and
 *	  guard_members.c): the column roles of a protected relation, the
 *	  refusal, and each file's statement checks.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_GUARD_DDL_H
#define PG_ASOF_GUARD_DDL_H

#include "postgres.h"

#include "nodes/parsenodes.h"

#include "guard_registry.h"

/* guard_ddl.c: column roles and the refusal */
extern const char *asof_ddl_attno_role(const AsofGuardedRel *g, AttrNumber att);
extern const char *asof_ddl_column_role(const AsofGuardedRel *g, Oid relid, const char *colname);
extern bool asof_ddl_attno_is_guarded(const AsofGuardedRel *g, AttrNumber att);
extern bool asof_ddl_is_training_set(const AsofGuardedRel *g);
extern void asof_ddl_refuse(const AsofGuardedRel *g, const char *msg, const char *why,
							const char *hint);
extern const AsofGuardedRel *asof_ddl_lookup_rangevar(RangeVar *rv);

/* guard_ddl.c: statements that change a protected table's definition */
extern void asof_ddl_check_create_statistics(CreateStatsStmt *stmt);
extern void asof_ddl_check_create_index(IndexStmt *stmt);
extern void asof_ddl_check_alter_table(AlterTableStmt *stmt);
extern void asof_ddl_check_alter_statistics(AlterStatsStmt *stmt);
extern void asof_ddl_check_alter_domain(AlterDomainStmt *stmt);
extern void asof_ddl_check_create_table(CreateStmt *stmt);

/* guard_ddl_rebuild.c: statements that rebuild or reorder a table */
extern const char *asof_ddl_index_refusal(const AsofGuardedRel *g, Oid indexoid, bool for_cluster);
extern void asof_ddl_refuse_rebuild(Oid relid);
extern void asof_ddl_check_cluster_index(const AsofGuardedRel *g, Oid relid, Oid indexoid);
extern void asof_ddl_check_reindex(ReindexStmt *stmt);
extern void asof_ddl_check_vacuum_full(VacuumStmt *stmt);
extern void asof_ddl_check_cluster(ClusterStmt *stmt);

/* guard_members.c: partitions, children and publications */
extern void asof_members_check(Oid parent, Oid child);
extern void asof_members_check_alter(AlterTableStmt *stmt, Oid relid);
extern void asof_members_check_new(Oid member, bool enforce);
extern List *asof_members_new(AlterTableStmt *stmt);
extern void asof_members_check_publications(void);

/* guard_utility.c */
extern bool asof_ddl_has_user_triggers(Oid relid);

#endif							/* PG_ASOF_GUARD_DDL_H */
