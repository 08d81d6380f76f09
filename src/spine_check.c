/*-------------------------------------------------------------------------
 *
 * spine_check.c
 *	  A spine against a feature view (docs/point-in-time.md, "Words":
 *	  the spine supplies the entity key and a prediction time): each entity
 *	  column under the view's name and type, and a prediction time of the
 *	  view's time type (or a date for timestamp views).  One check, one
 *	  message, for asof.build_training_set and asof.feature_view_sql.
 *
 *	  Must not: read the spine's rows or build anything.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

#include "spine_check.h"

/*
 * The 0-based index in `spine` (dropped columns skipped) of the view's
 * entity column number `key`; an error when the spine lacks it or has it
 * with another type.
 */
int
asof_spine_entity_column(const AsofFeatureView *v, TupleDesc spine,
						 const char *spine_name, int key)
{
	for (int c = 0; c < spine->natts; c++)
	{
		Form_pg_attribute a = TupleDescAttr(spine, c);

		if (a->attisdropped || strcmp(NameStr(a->attname), v->key_names[key]) != 0)
			continue;
		if (a->atttypid != v->key_types[key])
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("entity column \"%s\" has type %s in spine \"%s\" but %s in feature view \"%s\"",
							v->key_names[key], format_type_be(a->atttypid),
							spine_name, format_type_be(v->key_types[key]), v->name),
					 errhint("Cast the spine's column in a view over the spine.")));
		return c;
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("spine \"%s\" has no entity column \"%s\" of feature view \"%s\"",
					spine_name, v->key_names[key], v->name),
			 errdetail_plural("Feature view \"%s\" is keyed by %d column; the spine must supply it under the same name.",
							  "Feature view \"%s\" is keyed by %d columns; the spine must supply every one of them under the same name.",
							  v->nkeys, v->name, v->nkeys)));
	return -1;					/* keep compiler quiet */
}

/*
 * A prediction time of type at_type must be of the view's time type; a
 * date is taken as midnight for timestamp (without time zone) views.
 */
void
asof_check_prediction_time_type(const AsofFeatureView *v, Oid at_type)
{
	if (at_type == v->time_type)
		return;
	if (at_type == DATEOID && v->time_type == TIMESTAMPOID)
		return;
	if (at_type == DATEOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("prediction time of type date cannot be used with feature view \"%s\" of type %s",
						v->name, format_type_be(v->time_type)),
				 errdetail("A date is taken as midnight only for timestamp without time zone views."),
				 errhint("Cast the prediction time to timestamp with time zone explicitly.")));
	if (at_type == TIMESTAMPTZOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("prediction time has type %s but feature view \"%s\" has type %s",
						format_type_be(at_type), v->name, format_type_be(v->time_type)),
				 errdetail("Feature view \"%s\" compares wall-clock times without a time zone, and a timestamp with time zone is an instant: which wall-clock time it stands for depends on the zone the view's data was recorded in.",
						   v->name),
				 errhint("Convert the prediction time to that zone's wall clock, e.g. \"at AT TIME ZONE 'America/Chicago'\" for data recorded in Chicago time; \"at AT TIME ZONE 'UTC'\" is right only for data recorded in UTC.")));
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("prediction time has type %s but feature view \"%s\" has type %s",
					format_type_be(at_type), v->name, format_type_be(v->time_type)),
			 errdetail("Feature view \"%s\" compares instants, and a timestamp without time zone is a wall-clock time: which instant it stands for depends on the zone it was recorded in.",
					   v->name),
			 errhint("Convert the prediction time to an instant with the zone of its wall clock, e.g. \"at AT TIME ZONE 'America/Chicago'\" for times recorded in Chicago time.")));
}
