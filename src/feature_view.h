/*-------------------------------------------------------------------------
 *
 * feature_view.h
 *	  The in-memory form of a feature view definition: what the catalog
 *	  (feature_view.c / feature_spec.c) hands to the engine (engine.c,
 *	  training_set.c) and to the reference formulation (reference_sql.c).
 *
 *	  All times are int64 microseconds since 2000-01-01 (PostgreSQL's
 *	  Timestamp and TimestampTz representation).  For timestamp without
 *	  time zone views they are wall-clock values; the anchor is converted to
 *	  its UTC wall-clock value once, when the definition is loaded.  All
 *	  intervals (cadence, delay, window, TTL) are absolute: a day is exactly
 *	  86,400,000,000 microseconds; month components are rejected at creation.
 *
 *	  The contract these fields follow is docs/point-in-time.md.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_FEATURE_VIEW_H
#define PG_ASOF_FEATURE_VIEW_H

#include "postgres.h"

#include "lib/stringinfo.h"

/* The aggregate a feature computes. */
typedef enum AsofAgg
{
	ASOF_AGG_COUNT_STAR,		/* count(*) over W */
	ASOF_AGG_COUNT,				/* count(expr) over W */
	ASOF_AGG_SUM,
	ASOF_AGG_AVG,
	ASOF_AGG_MIN,
	ASOF_AGG_MAX,
	ASOF_AGG_STDDEV,			/* sample standard deviation */
	ASOF_AGG_VAR,				/* sample variance */
	ASOF_AGG_LAST,				/* value of the latest visible row */
	ASOF_AGG_LAST_NONNULL		/* value of the latest visible non-null row */
} AsofAgg;

typedef struct AsofFeature
{
	char	   *name;			/* feature name (column suffix), e.g. avg_delay_1h */
	AsofAgg		agg;
	char	   *expr;			/* SQL expression over the source row,
								 * normalized (see event_time); NULL for
								 * count(*) */
	int64		window_us;		/* window W in microseconds; 0 for last and
								 * last_nonnull */
	Oid			input_type;		/* type of expr (InvalidOid for count(*)) */
	int32		input_typmod;
	Oid			input_collation;	/* for min/max/last on text */
	Oid			result_type;	/* per the contract's result-type table */
} AsofFeature;

typedef struct AsofFeatureView
{
	char	   *name;
	Oid			source;			/* the source relation (table or view) */
	int			nkeys;
	char	  **key_names;		/* entity column names of the source */
	Oid		   *key_types;
	Oid		   *key_collations;
	/*
	 * event_time, available_time and every feature's expr are SQL
	 * expressions over an unqualified source row (write them into a query
	 * whose FROM clause holds the source alone, or under a subquery with
	 * it), normalized when the view was created: everything outside
	 * pg_catalog is schema-qualified and constants are in ISO/UTC form, so
	 * the text means the same under any search_path (best evaluated with
	 * search_path = pg_catalog, pg_temp), DateStyle and TimeZone.  The
	 * contract evaluates them with TimeZone = UTC.
	 */
	char	   *event_time;		/* SQL expression (or column name) */
	char	   *available_time; /* SQL expression; NULL means event_time */
	Oid			time_type;		/* TIMESTAMPOID or TIMESTAMPTZOID */
	bool		has_cadence;	/* false: continuous, k(t) = t - delay */
	int64		cadence_us;
	int64		anchor_us;		/* anchor as an instant (timestamptz) or,
								 * for timestamp views, its UTC wall clock */
	int64		delay_us;
	bool		has_ttl;		/* false: last values never expire */
	int64		ttl_us;
	int			nfeatures;
	AsofFeature *features;
	bool		immutable_exprs;	/* added by spec: every expression above is
									 * immutable, so TimeZone cannot change
									 * its value (no need to set it) */
} AsofFeatureView;

/*
 * Load a feature view by name from the catalog; errors (undefined_object)
 * when there is none.  Allocated in CurrentMemoryContext.  Implemented in
 * feature_view.c.
 */
extern AsofFeatureView *asof_load_feature_view(const char *name);

/*
 * The view's definition as recorded with a training set (a JSON object;
 * training_set.c); parallel builds compare it between leader and worker.
 */
extern void asof_view_definition_json(StringInfo b, const AsofFeatureView *v);

/*
 * The role that owns pg_asof's schemas (as which registries are written),
 * and the owner of a feature view (of its helper view; InvalidOid when
 * there is none).  Implemented in feature_view.c.
 */
extern Oid	asof_extension_owner(void);
extern Oid	asof_feature_view_owner(const char *name);

#endif							/* PG_ASOF_FEATURE_VIEW_H */
