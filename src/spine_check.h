/*-------------------------------------------------------------------------
 *
 * spine_check.h
 *	  The checks of a spine against a feature view, shared by every path
 *	  that reads a spine (asof.build_training_set, asof.feature_view_sql):
 *	  the same rule and the same message wherever a spine is refused.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_SPINE_CHECK_H
#define PG_ASOF_SPINE_CHECK_H

#include "postgres.h"

#include "access/tupdesc.h"

#include "feature_view.h"

extern int	asof_spine_entity_column(const AsofFeatureView *v, TupleDesc spine,
									 const char *spine_name, int key);
extern void asof_check_prediction_time_type(const AsofFeatureView *v, Oid at_type);

#endif							/* PG_ASOF_SPINE_CHECK_H */
