/*-------------------------------------------------------------------------
 *
 * online_table.c
 *	  The online table of a feature view (docs/online.md): creating
 *	  asof_online.<view> (entity columns, tick, one column per feature named
 *	  and typed as in the training set, the event time of each last value;
 *	  primary key entity + tick) with its served row type
 *	  asof_online.<view>__served, the two serving queries online.c runs and
 *	  the registry row in asof.online_tables; and protecting it like a
 *	  training set when the view reads a protected table.
 *
 *	  Owns: the table's shape and the text of the serving queries.
 *	  Must not: write snapshots (materialize.c) or serve (online.c).
 *	  Called as the extension's owner, connected to SPI.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "feature_view.h"
#include "guard.h"
#include "guard_registry.h"
#include "guard_sources.h"
#include "online.h"

/* "OPERATOR(schema.=)" of a type's default equality. */
static char *
eq_operator(Oid type)
{
	TypeCacheEntry *tc = lookup_type_cache(type, TYPECACHE_EQ_OPR);
	HeapTuple	tup;
	Form_pg_operator op;
	char	   *s;

	if (!OidIsValid(tc->eq_opr))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("type %s has no equality operator", format_type_be(type))));
	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(tc->eq_opr));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator %u", tc->eq_opr);
	op = (Form_pg_operator) GETSTRUCT(tup);
	s = psprintf("OPERATOR(%s.%s)", quote_identifier(get_namespace_name(op->oprnamespace)),
				 NameStr(op->oprname));
	ReleaseSysCache(tup);
	return s;
}

static char *
collate_clause(Oid type, Oid collation)
{
	HeapTuple	tp;
	char	   *s;
	Form_pg_collation c;

	if (!OidIsValid(collation) || collation == get_typcollation(type))
		return "";
	tp = SearchSysCache1(COLLOID, ObjectIdGetDatum(collation));
	if (!HeapTupleIsValid(tp))
		return "";
	c = (Form_pg_collation) GETSTRUCT(tp);
	s = psprintf(" COLLATE %s",
				 quote_qualified_identifier(get_namespace_name(c->collnamespace),
											NameStr(c->collname)));
	ReleaseSysCache(tp);
	return s;
}

/* ----------------------------------------------------------------------
 * The online table and its serving queries
 * ----------------------------------------------------------------------
 */

/* The column expression a served feature i has in a serving query. */
static void
append_served_feature(StringInfo s, const AsofFeatureView *v, int i,
					  const char *at_param)
{
	const AsofFeature *f = &v->features[i];
	const char *col = quote_identifier(psprintf("%s__%s", v->name, f->name));

	if (f->agg == ASOF_AGG_COUNT || f->agg == ASOF_AGG_COUNT_STAR)
		appendStringInfo(s, "COALESCE(o.%s, 0::pg_catalog.int8)", col);
	else if (asof_feature_is_last(f) && v->has_ttl)
	{
		/* NULL when the chosen row's te < at - ttl */
		appendStringInfo(s, "CASE WHEN o.asof_event_time_%d OPERATOR(pg_catalog.>=) ", i + 1);
		if (v->time_type == TIMESTAMPTZOID)
			appendStringInfo(s, "pg_catalog.timezone('UTC'::text, %s OPERATOR(pg_catalog.-) '" INT64_FORMAT " microseconds'::pg_catalog.interval)",
							 at_param, v->ttl_us);
		else
			appendStringInfo(s, "(%s OPERATOR(pg_catalog.-) '" INT64_FORMAT " microseconds'::pg_catalog.interval)",
							 at_param, v->ttl_us);
		appendStringInfo(s, " THEN o.%s END", col);
	}
	else
		appendStringInfo(s, "o.%s", col);
}

/*
 * FROM clause shared by both serving queries: the newest retained tick at
 * or before $2 (k(at), UTC wall clock) joined with the entity rows.  One
 * statement, so one snapshot: the tick and its rows always agree.
 */
static void
append_served_from(StringInfo s, const AsofFeatureView *v, const char *table,
				   bool batch)
{
	appendStringInfo(s, " FROM (SELECT pg_catalog.max(m.tick) AS tick FROM asof.materializations m"
					 " WHERE m.feature_view OPERATOR(pg_catalog.=) %s"
					 " AND m.tick OPERATOR(pg_catalog.<=) $2) t",
					 quote_literal_cstr(v->name));
	if (batch)
		appendStringInfoString(s, " CROSS JOIN pg_catalog.generate_subscripts($1, 1) i");
	appendStringInfo(s, " LEFT JOIN %s o ON o.tick OPERATOR(pg_catalog.=) ", table);
	if (v->time_type == TIMESTAMPTZOID)
		appendStringInfoString(s, "pg_catalog.timezone('UTC'::text, t.tick)");
	else
		appendStringInfoString(s, "t.tick");
	for (int k = 0; k < v->nkeys; k++)
	{
		if (batch)
			appendStringInfo(s, " AND o.%s %s CAST($1[i][%d] AS %s)",
							 quote_identifier(v->key_names[k]), eq_operator(v->key_types[k]),
							 k + 1, format_type_be_qualified(v->key_types[k]));
		else
			appendStringInfo(s, " AND o.%s %s CAST($1[%d] AS %s)",
							 quote_identifier(v->key_names[k]), eq_operator(v->key_types[k]),
							 k + 1, format_type_be_qualified(v->key_types[k]));
	}
}

/*
 * serve_sql($1 text[] entity, $2 timestamp k, $3 timestamp at): one row
 * (tick timestamp, features jsonb), tick NULL when no snapshot is retained.
 * batch_sql($1 text[][] entities, $2, $3): the served type's columns, one
 * row per entity in input order.
 */
static void
serving_sql(const AsofFeatureView *v, const char *table, char **serve, char **batch)
{
	StringInfoData s;
	StringInfoData b;

	initStringInfo(&s);
	appendStringInfoString(&s, "SELECT t.tick, ");
	for (int i = 0; i < v->nfeatures; i++)
	{
		if (i % 50 == 0)
			appendStringInfoString(&s, i == 0 ? "pg_catalog.jsonb_build_object(" :
								   ") OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(");
		else
			appendStringInfoString(&s, ", ");
		appendStringInfo(&s, "%s::pg_catalog.text, ", quote_literal_cstr(v->features[i].name));
		append_served_feature(&s, v, i, "$3");
	}
	if (v->nfeatures == 0)
		appendStringInfoString(&s, "pg_catalog.jsonb_build_object(");
	appendStringInfoChar(&s, ')');
	append_served_from(&s, v, table, false);
	*serve = s.data;

	initStringInfo(&b);
	appendStringInfoString(&b, "SELECT ");
	for (int k = 0; k < v->nkeys; k++)
		appendStringInfo(&b, "CAST($1[i][%d] AS %s), ", k + 1,
						 format_type_be_qualified(v->key_types[k]));
	if (v->time_type == TIMESTAMPTZOID)
		appendStringInfoString(&b, "pg_catalog.timezone('UTC'::text, t.tick)");
	else
		appendStringInfoString(&b, "t.tick");
	for (int i = 0; i < v->nfeatures; i++)
	{
		appendStringInfoString(&b, ", ");
		append_served_feature(&b, v, i, "$3");
	}
	append_served_from(&b, v, table, true);
	appendStringInfoString(&b, " ORDER BY i");
	*batch = b.data;
}

/*
 * The serving log table asof_online."<view>__log" (docs/online.md,
 * "Serving log"): written only by the serving log's worker
 * (serving_log.c), as the extension's owner; nobody else gets more than
 * SELECT (asof.grant_online_read).  As the extension's owner, SPI
 * connected.  Returns its qualified name.
 */
static char *
create_log_table(const AsofFeatureView *v)
{
	char	   *log = quote_qualified_identifier(ONLINE_SCHEMA, psprintf("%s__log", v->name));
	const char *timetype = format_type_be_qualified(v->time_type);

	asof_online_spi(psprintf("CREATE TABLE %s (served_at pg_catalog.timestamptz NOT NULL, "
							 "at %s NOT NULL, tick %s NOT NULL, entity pg_catalog.text[] NOT NULL, "
							 "features pg_catalog.jsonb NOT NULL, role pg_catalog.name NOT NULL)",
							 log, timetype, timetype),
					0, NULL, NULL, NULL, SPI_OK_UTILITY);
	asof_online_spi(psprintf("CREATE INDEX ON %s (served_at)", log), 0, NULL, NULL, NULL, SPI_OK_UTILITY);
	asof_online_spi(psprintf("COMMENT ON TABLE %s IS %s", log,
							 quote_literal_cstr(psprintf("pg_asof serving log of feature view \"%s\": one row per entity served by asof.online_features or asof.online_features_batch while asof.log_serving was on (request time, tick served, values served, role), written only by pg_asof's background worker.  Read it with asof.grant_online_read.  Dropped with the feature view.", v->name))),
					0, NULL, NULL, NULL, SPI_OK_UTILITY);
	return log;
}

/*
 * Create the online table, its served type and its registry row, as the
 * extension's owner (connected to SPI).  Returns the qualified table name.
 */
char *
asof_online_create_table(const AsofFeatureView *v, int retain_ticks)
{
	StringInfoData t;
	StringInfoData ty;
	char	   *table = quote_qualified_identifier(ONLINE_SCHEMA, v->name);
	char	   *tname = psprintf("%s__served", v->name);
	char	   *served;
	const char *timetype = format_type_be_qualified(v->time_type);
	char	   *serve;
	char	   *batch;
	Oid			types[6] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[6];

	if (strlen(tname) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("feature view name \"%s\" is too long for an online table", v->name),
				 errdetail("The online table's row type is named \"<view>__served\", which must fit in %d bytes.",
						   NAMEDATALEN - 1),
				 errhint("Create the feature view again under a shorter name.")));
	served = quote_qualified_identifier(ONLINE_SCHEMA, tname);
	for (int k = 0; k < v->nkeys; k++)
		if (strcmp(v->key_names[k], "tick") == 0 ||
			strncmp(v->key_names[k], "asof_event_time_", 16) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("entity column \"%s\" of feature view \"%s\" has a name the online table uses",
							v->key_names[k], v->name),
					 errdetail("The online table has a column \"tick\" and columns \"asof_event_time_<n>\"."),
					 errhint("Create the feature view over a view of the source that renames the column.")));

	initStringInfo(&t);
	initStringInfo(&ty);
	appendStringInfo(&t, "CREATE TABLE %s (", table);
	appendStringInfo(&ty, "CREATE TYPE %s AS (", served);
	for (int k = 0; k < v->nkeys; k++)
	{
		const char *col = psprintf("%s %s%s, ", quote_identifier(v->key_names[k]),
								   format_type_be_qualified(v->key_types[k]),
								   collate_clause(v->key_types[k], v->key_collations[k]));

		appendStringInfoString(&t, col);
		appendStringInfoString(&ty, col);
	}
	appendStringInfo(&t, "tick %s NOT NULL", timetype);
	appendStringInfo(&ty, "tick %s", timetype);
	for (int i = 0; i < v->nfeatures; i++)
	{
		const AsofFeature *f = &v->features[i];
		const char *col = psprintf(", %s %s%s",
								   quote_identifier(psprintf("%s__%s", v->name, f->name)),
								   format_type_be_qualified(f->result_type),
								   f->result_type == f->input_type ?
								   collate_clause(f->result_type, f->input_collation) : "");

		appendStringInfoString(&t, col);
		appendStringInfoString(&ty, col);
	}
	for (int i = 0; i < v->nfeatures; i++)
		if (asof_feature_is_last(&v->features[i]))
			appendStringInfo(&t, ", asof_event_time_%d %s", i + 1, timetype);
	appendStringInfoString(&t, ", PRIMARY KEY (");
	for (int k = 0; k < v->nkeys; k++)
		appendStringInfo(&t, "%s, ", quote_identifier(v->key_names[k]));
	appendStringInfoString(&t, "tick))");
	appendStringInfoChar(&ty, ')');

	asof_online_spi(t.data, 0, NULL, NULL, NULL, SPI_OK_UTILITY);
	asof_online_spi(ty.data, 0, NULL, NULL, NULL, SPI_OK_UTILITY);
	asof_online_spi(psprintf("COMMENT ON TABLE %s IS %s", table,
					 quote_literal_cstr(psprintf("pg_asof online table of feature view \"%s\": derived data, one row per (entity, tick) of the retained snapshots, written only by asof.materialize.  Read it through asof.online_features.  Dropped with the feature view.", v->name))),
			0, NULL, NULL, NULL, SPI_OK_UTILITY);
	serving_sql(v, table, &serve, &batch);
	values[0] = CStringGetTextDatum(v->name);
	values[1] = CStringGetTextDatum(table);
	values[2] = CStringGetTextDatum(served);
	values[3] = CStringGetTextDatum(serve);
	values[4] = CStringGetTextDatum(batch);
	values[5] = CStringGetTextDatum(create_log_table(v));
	asof_online_spi(psprintf("INSERT INTO asof.online_tables (feature_view, online_table, served_type, "
					 "retain_ticks, serve_sql, batch_sql, created, log_table) "
					 "VALUES ($1, $2::pg_catalog.regclass, $3::pg_catalog.regtype, %d, $4, $5, pg_catalog.now(), "
					 "$6::pg_catalog.regclass)",
					 retain_ticks),
			6, types, values, NULL, SPI_OK_INSERT);
	return table;
}

/*
 * Protect table (time column "tick"; future_cols, entity_cols: name[]
 * literals) and link it to the protected table prot, unless it is
 * protected already.
 */
static void
protect_linked(const char *table, const char *prot, const char *future_cols,
			   const char *entity_cols)
{
	Datum		values[2];
	Oid			online;
	Oid			source;
	const AsofGuardedRel *g;

	values[0] = CStringGetTextDatum(prot);
	values[1] = CStringGetTextDatum(table);
	online = DatumGetObjectId(DirectFunctionCall1(regclassin, CStringGetDatum(table)));
	source = DatumGetObjectId(DirectFunctionCall1(regclassin, CStringGetDatum(prot)));
	asof_online_spi("SELECT o.linked_to::pg_catalog.text FROM asof.protected_registry o WHERE o.tbl OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
			1, (Oid[]) {TEXTOID}, &values[1], NULL, SPI_OK_SELECT);
	if (SPI_processed > 0)
	{
		char	   *linked = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		/* protected already: it must follow the table its source reads now */
		if (linked != NULL && strcmp(linked, prot) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("online table %s follows the train/test split of %s, but its feature view now reads protected table %s",
							table, linked, prot),
					 errdetail("An online table follows the split of one protected table, chosen when it was first protected."),
					 errhint("Drop and re-create the feature view (its online table is derived data), then materialize again.")));
		if (linked != NULL)
			return;
	}
	else
	{
		/*
		 * Derived data like a training set (G3): no statistics on any
		 * column; the features may be derived from labels: future columns.
		 */
		asof_guard_stop_statistics(online);
		/*
		 * asof.protect's implementation, directly: this runs as the
		 * extension's owner, who owns the online table, in a
		 * security-restricted operation, where the public entry point
		 * refuses to run.
		 */
		asof_online_spi(psprintf("SELECT asof._protect(%u, $2::pg_catalog.regclass, 'tick', '{}'::pg_catalog.name[], "
								 "%s, %s, NULL)", GetUserId(), future_cols, entity_cols),
						2, (Oid[]) {TEXTOID, TEXTOID}, values, NULL, SPI_OK_SELECT);
	}
	/*
	 * Linked to the protected source once it has a split, whose split it
	 * then follows; before that, its future columns are refused to roles
	 * the guard applies to, as the source's labels are.
	 */
	g = asof_registry_lookup(source);
	if (g != NULL && g->has_split)
		asof_guard_link(online, source);
}

/*
 * The leakage guard: when the source reads a protected table (itself or
 * through views), the online table and the serving log are protected too,
 * with "tick" as their time column, and linked to that table as a
 * training set is linked to its spine: they take the table's split and
 * follow it, so ticks at or after the split are hidden from every role
 * the guard applies to.  The features (the online table's feature
 * columns, the log's "features") are future columns.  Done at each
 * materialize, so a source protected later is followed too.  As the
 * extension's owner, connected to SPI.
 */
void
asof_online_protect_table(const AsofFeatureView *v, const char *table)
{
	StringInfoData keys;
	StringInfoData feats;
	AsofSourceShape shape;
	char	   *prot;
	Datum		name;

	/*
	 * Which protected table the source reads, exactly, or an error: every
	 * protected table counts, split or not, guard on or off (the online
	 * table outlives this call and every later split).
	 */
	asof_source_shape_online(v->source, v->event_time, &shape);
	asof_source_refuse_online(v->name, v->source, &shape);
	if (shape.hidden == NIL)
		return;
	prot = asof_table_text(linitial_oid(shape.hidden));
	initStringInfo(&keys);
	appendStringInfoString(&keys, "ARRAY[");
	for (int k = 0; k < v->nkeys; k++)
		appendStringInfo(&keys, "%s%s", k ? ", " : "", quote_literal_cstr(v->key_names[k]));
	appendStringInfoString(&keys, "]::pg_catalog.name[]");
	initStringInfo(&feats);
	appendStringInfoString(&feats, "ARRAY[");
	for (int i = 0; i < v->nfeatures; i++)
		appendStringInfo(&feats, "%s%s", i ? ", " : "",
						 quote_literal_cstr(psprintf("%s__%s", v->name, v->features[i].name)));
	appendStringInfoString(&feats, "]::pg_catalog.name[]");
	protect_linked(table, prot, feats.data, keys.data);

	name = CStringGetTextDatum(v->name);
	asof_online_spi("SELECT o.log_table::pg_catalog.text FROM asof.online_tables o "
					"WHERE o.feature_view OPERATOR(pg_catalog.=) $1",
					1, (Oid[]) {TEXTOID}, &name, NULL, SPI_OK_SELECT);
	if (SPI_processed == 1)
		protect_linked(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), prot,
					   "'{features}'::pg_catalog.name[]", "'{}'::pg_catalog.name[]");
}

static void
follow_context(void *arg)
{
	errcontext("protecting the online table of feature view \"%s\" with the table it reads",
			   (const char *) arg);
}

/*
 * After asof.protect or asof.split of relid: the online tables of feature
 * views whose source reads it are protected and linked to it now, not at
 * their next materialize; one that follows another table's split, or whose
 * source the guard could not follow, refuses the call
 * (asof_online_protect_table).
 */
void
asof_online_follow_protected(Oid relid)
{
	AsofAsOwner s;
	List	   *views = NIL;
	List	   *tables = NIL;
	ListCell   *lv;
	ListCell   *lt;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	asof_as_owner_begin(&s, false);
	asof_online_spi("SELECT o.feature_view, o.online_table::pg_catalog.text FROM asof.online_tables o ORDER BY 1",
					0, NULL, NULL, NULL, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		views = lappend(views, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		tables = lappend(tables, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
	}
	forboth(lv, views, lt, tables)
	{
		AsofFeatureView *v = asof_load_feature_view(lfirst(lv));
		AsofSourceShape shape;
		ErrorContextCallback ctx = {error_context_stack, follow_context, lfirst(lv)};

		error_context_stack = &ctx;
		asof_source_shape_online(v->source, v->event_time, &shape);
		/*
		 * Sources that read relid, and sources whose reads the analysis
		 * cannot see (a function, a foreign table): those are refused now
		 * that a table is protected, and so is this call.
		 */
		if (list_member_oid(shape.hidden, relid) || shape.user_code || shape.foreign)
			asof_online_protect_table(v, lfirst(lt));
		error_context_stack = ctx.previous;
	}
	asof_as_owner_end(&s);
	SPI_finish();
}

/*
 * asof.protect, asof.split and asof.unprotect of an online table or a
 * serving log are refused: they are protected, linked and split only as
 * their feature view's source is (asof_online_protect_table); a split of
 * their own would open their features before the source's split, and
 * unprotecting them would open held-out ticks.  what: the refused call.
 */
void
asof_online_refuse_direct(Oid relid, const char *what)
{
	Datum		arg = ObjectIdGetDatum(relid);
	char	   *view = NULL;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	asof_online_spi("SELECT o.feature_view FROM asof.online_tables o "
					"WHERE o.online_table::pg_catalog.oid OPERATOR(pg_catalog.=) $1 "
					"OR o.log_table::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
					1, (Oid[]) {OIDOID}, &arg, NULL, SPI_OK_SELECT);
	if (SPI_processed > 0)
		view = pstrdup(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	SPI_finish();
	if (view != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot %s %s, the online table or serving log of feature view \"%s\"",
						what, asof_table_text(relid), view),
				 errdetail("It is protected, linked and split only as the protected table its feature view reads is, so that its features never open before that table's split."),
				 errhint("Call asof.%s on the protected table the feature view reads; the online table and serving log follow it.",
						 what)));
}
