/*-------------------------------------------------------------------------
 *
 * online_admin.c
 *	  asof.schedule_materialization, asof.unschedule_materialization,
 *	  asof.grant_online_read and asof.revoke_online_read (docs/online.md):
 *	  the registry asof.materialization_schedule, the one pg_cron job per
 *	  database, the guard's check of a run_as role, grants on online tables.
 *
 *	  These objects belong to the extension's owner; each function checks
 *	  that the caller may act on the feature view (its owner, a member of
 *	  the owning role, or a superuser), then writes as the extension's owner
 *	  with search_path = pg_catalog, pg_temp.
 *
 *	  Owns: those checks and writes, and running statements as the
 *	  extension's owner (asof_as_owner_begin / _end, also used by
 *	  materialize.c).
 *	  Must not: decide what is due (asof.run_due_materializations, SQL) or
 *	  compute snapshots (materialize.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "commands/dbcommands.h"
#include "feature_view.h"
#include "online.h"

PG_FUNCTION_INFO_V1(asof_schedule_materialization);
PG_FUNCTION_INFO_V1(asof_unschedule_materialization);
PG_FUNCTION_INFO_V1(asof_grant_online_read);
PG_FUNCTION_INFO_V1(asof_revoke_online_read);

#define CRON_JOB_NAME "pg_asof: run due materializations"

/* The owner of feature view name; errors when there is none. */
static Oid
view_owner(const char *name)
{
	Oid			owner = asof_feature_view_owner(name);

	if (!OidIsValid(owner))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("feature view \"%s\" does not exist", name)));
	return owner;
}

/* Errors unless the caller may act for feature view name. */
static void
check_view_owner(const char *name, const char *action)
{
	Oid			owner = view_owner(name);

	if (!superuser() && !has_privs_of_role(GetUserId(), owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of feature view \"%s\" to %s", name, action),
				 errdetail("Feature view \"%s\" is owned by role \"%s\".", name,
						   GetUserNameFromId(owner, false))));
}

/*
 * Run statements as the extension's owner, with search_path = pg_catalog,
 * pg_temp, connected to SPI (restricted: as a security-restricted
 * operation); asof_as_owner_end restores the caller.
 */
void
asof_as_owner_begin(AsofAsOwner *s, bool restricted)
{
	GetUserIdAndSecContext(&s->userid, &s->sec);
	SetUserIdAndSecContext(asof_extension_owner(),
						   s->sec | SECURITY_LOCAL_USERID_CHANGE |
						   (restricted ? SECURITY_RESTRICTED_OPERATION : 0));
	s->nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

void
asof_as_owner_end(AsofAsOwner *s)
{
	SPI_finish();
	AtEOXact_GUC(true, s->nestlevel);
	SetUserIdAndSecContext(s->userid, s->sec);
}

void
asof_online_spi(const char *sql, int nargs, Oid *types, Datum *values,
				const char *nulls, int expect)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);

	if (rc != expect)
		elog(ERROR, "SPI_execute_with_args(\"%s\") returned %d", sql, rc);
}

static void
run(const char *sql, int nargs, Oid *types, Datum *values, int expect)
{
	asof_online_spi(sql, nargs, types, values, NULL, expect);
}

/*
 * The protected table (not a training set or online table) a source reads,
 * itself or through views, as text, or NULL: with split_only, only tables
 * with a split; those first, the earliest split first.  SPI is connected.
 */
char *
asof_online_protected_input(Oid source, bool split_only)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(source)};

	run(psprintf("WITH RECURSIVE rels(oid) AS (SELECT $1 UNION "
				 "SELECT d.refobjid FROM rels JOIN pg_catalog.pg_rewrite rw ON rw.ev_class OPERATOR(pg_catalog.=) rels.oid "
				 "JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
				 "AND d.objid OPERATOR(pg_catalog.=) rw.oid "
				 "AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
				 "AND d.refobjid OPERATOR(pg_catalog.<>) rels.oid) "
				 "SELECT p.tbl::pg_catalog.text FROM asof.protected_registry p "
				 "WHERE p.tbl::pg_catalog.oid IN (SELECT oid FROM rels) AND p.linked_to IS NULL%s "
				 "ORDER BY p.test_from IS NULL, p.test_from, 1 LIMIT 1",
				 split_only ? " AND p.test_from IS NOT NULL" : ""),
		1, types, values, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/*
 * Whether role has asof.guard = off among its settings, for every database
 * or for this one, or this database has it for every role.
 */
static bool
role_guard_off(Oid role)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(role)};

	run("SELECT 1 FROM pg_catalog.pg_db_role_setting s, pg_catalog.unnest(s.setconfig) c "
		"WHERE s.setrole IN ($1, 0) "
		"AND s.setdatabase IN (0, (SELECT d.oid FROM pg_catalog.pg_database d "
		"WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())) "
		"AND pg_catalog.lower(c) IN ('asof.guard=off', 'asof.guard=false', 'asof.guard=0', 'asof.guard=no')",
		1, types, values, SPI_OK_SELECT);
	return SPI_processed > 0;
}

/*
 * asof.schedule_materialization(feature_view text, run_as regrole, validate
 * boolean) -> void
 */
Datum
asof_schedule_materialization(PG_FUNCTION_ARGS)
{
	char	   *name;
	AsofFeatureView *v;
	Oid			run_as;
	AsofAsOwner s;
	bool		have_cron;
	char	   *prot;
	Oid			types[3] = {TEXTOID, REGROLEOID, BOOLOID};
	Datum		values[3];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("feature_view and run_as of asof.schedule_materialization must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	run_as = PG_GETARG_OID(1);
	v = asof_load_feature_view(name);
	check_view_owner(name, "schedule it");
	if (!v->has_cadence)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("feature view \"%s\" is continuous and has no ticks to materialize", name),
				 errhint("Serve a continuous view with asof.features_at(%s, entity, at).",
						 quote_literal_cstr(name))));
	if (!superuser() && !is_member_of_role(GetUserId(), run_as))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be a member of role \"%s\" to schedule materializations as it",
						GetUserNameFromId(run_as, false))));
	if (!superuser_arg(run_as) && !has_privs_of_role(run_as, view_owner(name)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" cannot materialize feature view \"%s\"",
						GetUserNameFromId(run_as, false), name),
				 errdetail("Only the view's owner, a member of the owning role, or a superuser can materialize it."),
				 errhint("Pass run_as => the view's owner.")));

	values[0] = CStringGetTextDatum(name);
	values[1] = ObjectIdGetDatum(run_as);
	values[2] = BoolGetDatum(!PG_ARGISNULL(2) && PG_GETARG_BOOL(2));
	asof_as_owner_begin(&s, false);
	prot = asof_online_protected_input(v->source, true);
	if (prot && !role_guard_off(run_as))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" cannot materialize feature view \"%s\" after the split of \"%s\"",
						GetUserNameFromId(run_as, false), name, prot),
				 errdetail("The view reads protected table \"%s\"; the leakage guard refuses ticks after its split to roles with asof.guard on, so every later tick would fail.",
						   prot),
				 errhint("Run it as a production role exempt from the guard: ALTER ROLE %s SET asof.guard = off.",
						 quote_identifier(GetUserNameFromId(run_as, false)))));
	run("INSERT INTO asof.materialization_schedule AS s (feature_view, run_as, validate, scheduled_at, scheduled_by) "
		"VALUES ($1, $2, $3, pg_catalog.now(), pg_catalog.session_user()) "
		"ON CONFLICT (feature_view) DO UPDATE SET run_as = EXCLUDED.run_as, validate = EXCLUDED.validate, "
		"scheduled_at = EXCLUDED.scheduled_at, scheduled_by = EXCLUDED.scheduled_by",
		3, types, values, SPI_OK_INSERT);
	run("SELECT 1 FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'pg_cron'",
		0, NULL, NULL, SPI_OK_SELECT);
	have_cron = SPI_processed > 0;
	if (have_cron)
	{
		run("SELECT 1 FROM cron.job WHERE jobname OPERATOR(pg_catalog.=) '" CRON_JOB_NAME "' "
			"AND database OPERATOR(pg_catalog.=) pg_catalog.current_database()",
			0, NULL, NULL, SPI_OK_SELECT);
		if (SPI_processed == 0)
			run("SELECT cron.schedule('" CRON_JOB_NAME "', '* * * * *', "
				"'SELECT asof.run_due_materializations()')",
				0, NULL, NULL, SPI_OK_SELECT);
	}
	asof_as_owner_end(&s);
	if (!have_cron)
		ereport(WARNING,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("pg_cron is not installed in this database: no job runs the materializations of \"%s\"", name),
				 errdetail("Feature view \"%s\" is in asof.materialization_schedule; asof.run_due_materializations() materializes its due ticks when it is called.", name),
				 errhint("Install pg_cron (Debian: apt-get install postgresql-15-cron; shared_preload_libraries = 'pg_asof,pg_cron'; cron.database_name = '%s'; restart; CREATE EXTENSION pg_cron) and schedule again, or call asof.run_due_materializations() every minute from any other scheduler.",
						 get_database_name(MyDatabaseId))));
	PG_RETURN_VOID();
}

/* asof.unschedule_materialization(feature_view text) -> boolean */
Datum
asof_unschedule_materialization(PG_FUNCTION_ARGS)
{
	char	   *name;
	AsofAsOwner s;
	bool		result;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("feature_view must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	check_view_owner(name, "unschedule it");
	values[0] = CStringGetTextDatum(name);
	asof_as_owner_begin(&s, false);
	run("DELETE FROM asof.materialization_schedule WHERE feature_view OPERATOR(pg_catalog.=) $1",
		1, types, values, SPI_OK_DELETE);
	result = SPI_processed > 0;
	asof_as_owner_end(&s);
	PG_RETURN_BOOL(result);
}

/* GRANT or REVOKE SELECT on the view's online table to or from role. */
static void
grant_online(FunctionCallInfo fcinfo, bool grant)
{
	char	   *name;
	Oid			role;
	AsofAsOwner s;
	char	   *table;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("feature_view and role must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	role = PG_GETARG_OID(1);
	check_view_owner(name, grant ? "grant reads of its online table" : "revoke reads of its online table");
	values[0] = CStringGetTextDatum(name);
	asof_as_owner_begin(&s, false);
	run("SELECT online_table::pg_catalog.text || ', ' || log_table::pg_catalog.text "
		"FROM asof.online_tables WHERE feature_view OPERATOR(pg_catalog.=) $1",
		1, types, values, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("feature view \"%s\" has no online table yet", name),
				 errhint("Its online table is created by the first asof.materialize(%s).",
						 quote_literal_cstr(name))));
	table = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	run(psprintf("%s SELECT ON %s %s %s", grant ? "GRANT" : "REVOKE", table,
				 grant ? "TO" : "FROM",
				 quote_identifier(GetUserNameFromId(role, false))),
		0, NULL, NULL, SPI_OK_UTILITY);
	asof_as_owner_end(&s);
}

/* asof.grant_online_read(feature_view text, role regrole) -> void */
Datum
asof_grant_online_read(PG_FUNCTION_ARGS)
{
	grant_online(fcinfo, true);
	PG_RETURN_VOID();
}

/* asof.revoke_online_read(feature_view text, role regrole) -> void */
Datum
asof_revoke_online_read(PG_FUNCTION_ARGS)
{
	grant_online(fcinfo, false);
	PG_RETURN_VOID();
}
