/*-------------------------------------------------------------------------
 *
 * feature_describe.c
 *	  asof.describe_feature_view(name): the exact rule a feature view
 *	  follows, in words and formulas with its actual values: effective time
 *	  k(t), the visibility predicate, each feature's window and result
 *	  type, the TTL rule.  Reads the definition through the loader and the
 *	  catalog (for the texts as written); computes nothing on data.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "feature_spec.h"
#include "feature_view.h"

/* The anchor in ISO form: UTC for timestamptz views, UTC wall clock else. */
static char *
format_anchor(AsofFeatureView *fv)
{
	int			nestlevel = NewGUCNestLevel();
	char	   *s;

	(void) set_config_option("DateStyle", "ISO, YMD", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("TimeZone", "UTC", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	if (fv->time_type == TIMESTAMPTZOID)
		s = DatumGetCString(DirectFunctionCall1(timestamptz_out,
												TimestampTzGetDatum(fv->anchor_us)));
	else
		s = DatumGetCString(DirectFunctionCall1(timestamp_out,
												TimestampGetDatum(fv->anchor_us)));
	AtEOXact_GUC(true, nestlevel);
	return s;
}

PG_FUNCTION_INFO_V1(asof_describe_feature_view);

/* asof.describe_feature_view(name text) -> text */
Datum
asof_describe_feature_view(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	MemoryContext caller = CurrentMemoryContext;
	AsofFeatureView *fv = asof_load_feature_view(name);
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	char	   *te;
	char	   *ta;
	char	  **defs;
	char	  **args;
	StringInfoData b;
	const char *d = asof_format_duration(fv->delay_us);
	char	   *anchor = format_anchor(fv);

	/* the texts as the user wrote them */
	SPI_connect();
	if (SPI_execute_with_args("SELECT event_time, coalesce(available_time, event_time) "
							  "FROM asof.feature_view_registry WHERE name = $1",
							  1, types, values, NULL, true, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "feature view \"%s\" vanished", name);
	te = MemoryContextStrdup(caller, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	ta = MemoryContextStrdup(caller, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2));
	if (SPI_execute_with_args("SELECT definition, coalesce(argument, '*') "
							  "FROM asof.feature_view_feature_registry "
							  "WHERE feature_view = $1 ORDER BY position",
							  1, types, values, NULL, true, 0) != SPI_OK_SELECT ||
		SPI_processed != (uint64) fv->nfeatures)
		elog(ERROR, "feature view \"%s\" changed while being described", name);
	defs = MemoryContextAlloc(caller, sizeof(char *) * fv->nfeatures);
	args = MemoryContextAlloc(caller, sizeof(char *) * fv->nfeatures);
	for (int i = 0; i < fv->nfeatures; i++)
	{
		defs[i] = MemoryContextStrdup(caller, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		args[i] = MemoryContextStrdup(caller, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
	}
	SPI_finish();

	initStringInfo(&b);
	appendStringInfo(&b, "feature view %s on %s, entity (", quote_identifier(fv->name),
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(fv->source)),
												get_rel_name(fv->source)));
	for (int i = 0; i < fv->nkeys; i++)
		appendStringInfo(&b, "%s%s", i ? ", " : "", quote_identifier(fv->key_names[i]));
	appendStringInfo(&b, ")\n");
	appendStringInfo(&b, "  event time      te(r) = %s\n", te);
	appendStringInfo(&b, "  available time  ta(r) = %s%s\n", ta,
					 fv->available_time ? "" : "  (no available_time given: the event time)");
	appendStringInfo(&b, "  times are %s%s; expressions are evaluated with TimeZone = UTC\n",
					 format_type_be(fv->time_type),
					 fv->time_type == TIMESTAMPOID ? " (wall-clock values, taken as they are)" : " (instants)");

	appendStringInfo(&b, "\neffective time k(t), for a spine row with prediction time t:\n");
	if (fv->has_cadence)
	{
		const char *c = asof_format_duration(fv->cadence_us);

		appendStringInfo(&b, "  scheduled: a materialization job runs at every tick a + n*c (n any integer); its results are served from tick + d on\n");
		appendStringInfo(&b, "  cadence c = %s, anchor a = %s%s, delay d = %s\n",
						 c, anchor,
						 fv->time_type == TIMESTAMPOID ? " (the anchor's UTC wall clock)" : "",
						 fv->delay_us ? d : "0");
		appendStringInfo(&b, "  k(t) = max { a + n*c : a + n*c + d <= t } = the latest tick %s + n*%s with tick + %s <= t\n",
						 anchor, c, fv->delay_us ? d : "0");
	}
	else
	{
		appendStringInfo(&b, "  continuous (no cadence): delay d = %s\n", fv->delay_us ? d : "0");
		if (fv->delay_us)
			appendStringInfo(&b, "  k(t) = t - d = t - %s\n", d);
		else
			appendStringInfo(&b, "  k(t) = t - d = t\n");
	}
	appendStringInfo(&b, "  a NULL or infinite t, or a k(t) outside the timestamp range, gives NULL features (count 0)\n");

	appendStringInfo(&b, "\nvisibility: source row r is visible to spine row (e, t) when\n  ");
	for (int i = 0; i < fv->nkeys; i++)
		appendStringInfo(&b, "r.%s = e.%s AND ", quote_identifier(fv->key_names[i]),
						 quote_identifier(fv->key_names[i]));
	appendStringInfo(&b, "ta(r) < k(t) AND te(r) < k(t)\n");
	appendStringInfo(&b, "  both bounds strict: a fact available at exactly k(t) is not yet visible; NULL keys never match; a row with NULL te or ta is never visible\n");

	appendStringInfo(&b, "\nfeatures (training set column, type: value):\n");
	for (int i = 0; i < fv->nfeatures; i++)
	{
		AsofFeature *f = &fv->features[i];
		char	   *col = psprintf("%s__%s", fv->name, f->name);
		const char *type = (f->agg == ASOF_AGG_COUNT || f->agg == ASOF_AGG_COUNT_STAR) ?
			"bigint" : format_type_with_typemod(f->result_type,
												f->result_type == f->input_type ? f->input_typmod : -1);

		appendStringInfo(&b, "  %s, %s: %s\n", quote_identifier(col), type, defs[i]);
		if (f->agg == ASOF_AGG_LAST || f->agg == ASOF_AGG_LAST_NONNULL)
		{
			appendStringInfo(&b, "    %s of the visible row%s with the greatest te(r), then the greatest ta(r), then the greatest %s (NULLs lowest)\n",
							 args[i], f->agg == ASOF_AGG_LAST_NONNULL ? psprintf("s whose %s is not NULL, the one", args[i]) : "",
							 args[i]);
			if (fv->has_ttl)
				appendStringInfo(&b, "    NULL when that row's te(r) < t - ttl = t - %s\n",
								 asof_format_duration(fv->ttl_us));
			else
				appendStringInfo(&b, "    never expires (no ttl)\n");
		}
		else
		{
			const char *w = asof_format_duration(f->window_us);
			const char *what;

			switch (f->agg)
			{
				case ASOF_AGG_COUNT_STAR:
					what = "number of";
					break;
				case ASOF_AGG_COUNT:
					what = psprintf("number of non-NULL %s over", args[i]);
					break;
				case ASOF_AGG_STDDEV:
					what = psprintf("sample standard deviation of %s over", args[i]);
					break;
				case ASOF_AGG_VAR:
					what = psprintf("sample variance of %s over", args[i]);
					break;
				default:
					what = psprintf("%s(%s) over", asof_agg_name(f->agg), args[i]);
					break;
			}
			appendStringInfo(&b, "    %s the visible rows with k(t) - %s <= te(r) < k(t)%s\n",
							 what, w,
							 (f->agg == ASOF_AGG_COUNT || f->agg == ASOF_AGG_COUNT_STAR) ?
							 " (0 when there are none)" :
							 (f->agg == ASOF_AGG_STDDEV || f->agg == ASOF_AGG_VAR) ?
							 " (NULL for fewer than two values)" : " (NULL when there are none)");
		}
	}

	appendStringInfo(&b, "\nttl: %s\n", fv->has_ttl ?
					 psprintf("%s, for last values only: a value whose row has te(r) < t - %s is not served (one exactly %s old is)",
							  asof_format_duration(fv->ttl_us), asof_format_duration(fv->ttl_us),
							  asof_format_duration(fv->ttl_us)) :
					 "none: last values never expire");
	appendStringInfo(&b, "intervals are absolute (a day is exactly 24 hours): results do not depend on the TimeZone setting");

	PG_RETURN_TEXT_P(cstring_to_text(b.data));
}
