/*-------------------------------------------------------------------------
 *
 * feature_spec.h
 *	  Parsing and validating the pieces of a feature view definition:
 *	  feature texts (`agg(expr) over W as name`), default feature names,
 *	  absolute intervals, and SQL expressions over the source row.
 *	  Implemented in feature_spec.c; used by feature_view.c (creation,
 *	  loading) and reference_sql.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_FEATURE_SPEC_H
#define PG_ASOF_FEATURE_SPEC_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "nodes/nodes.h"
#include "utils/relcache.h"

#include "feature_view.h"

/* A feature text, split into its parts (nothing checked against a source). */
typedef struct AsofFeatureText
{
	AsofAgg		agg;
	char	   *expr;			/* argument as written, trimmed; NULL for
								 * count(*) */
	char	   *window;			/* window as written, NULL for last values */
	int64		window_us;		/* 0 for last values */
	char	   *name;			/* the `as` name, or the default name */
	bool		explicit_name;	/* name came from `as` */
} AsofFeatureText;

/* An expression over the source row, analyzed and checked. */
typedef struct AsofSourceExpr
{
	Node	   *expr;			/* analyzed expression tree */
	Oid			type;
	int32		typmod;
	Oid			collation;
	bool		immutable;		/* no stable function: TimeZone-independent */
	char	   *sql;			/* normalized text: means the same under any
								 * search_path, DateStyle or TimeZone */
} AsofSourceExpr;

extern void asof_parse_feature(const char *text, AsofFeatureText *out);
extern const char *asof_agg_name(AsofAgg agg);
extern AsofAgg asof_agg_from_name(const char *name);
extern char *asof_format_duration(int64 us);
extern char *asof_default_feature_name(AsofAgg agg, const char *expr,
									   int64 window_us);
extern int64 asof_interval_us(const Interval *iv, const char *what,
							  bool zero_allowed);
extern void asof_analyze_source_expr(Relation rel, const char *text,
									 const char *what, bool source,
									 bool normalized, AsofSourceExpr *out);
extern char *asof_normalize_expr(Relation rel, Node *expr);
extern Oid	asof_feature_result_type(AsofAgg agg, Oid input_type,
									 const char *feature);
extern bool asof_type_has_btree_order(Oid type);

#endif							/* PG_ASOF_FEATURE_SPEC_H */
