/*-------------------------------------------------------------------------
 *
 * feature_spec.c
 *	  Parsing and validating the pieces of a feature view definition
 *	  (docs/point-in-time.md, "Features" and "Feature names"):
 *
 *	  - feature texts `agg(expr) over W [as name]`, `count(*) over W`,
 *		`last(expr)`, `last_nonnull(expr)`, split with PostgreSQL's own
 *		SQL scanner so quotes, comments and nested parentheses behave as
 *		in SQL;
 *	  - default feature names (`avg_delay_1h`);
 *	  - absolute intervals (no month component, a day is 24 hours);
 *	  - SQL expressions over the source row, analyzed by PostgreSQL's parser
 *		against the source relation, checked (no subqueries, aggregates,
 *		window functions, set-returning or volatile functions; per-row values
 *		only: no user-defined function that is not immutable, no clock or
 *		session value), and normalized to a text that means the same under any search_path,
 *		DateStyle and TimeZone.
 *
 *	  This file never runs a query on data and never touches the catalog
 *	  tables: feature_view.c does that.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "catalog/pg_am.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "common/int.h"
#include "common/keywords.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/formatting.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/regproc.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "feature_spec.h"

static const struct
{
	const char *name;
	AsofAgg		agg;
}			agg_names[] =
{
	{"count", ASOF_AGG_COUNT},
	{"sum", ASOF_AGG_SUM},
	{"avg", ASOF_AGG_AVG},
	{"min", ASOF_AGG_MIN},
	{"max", ASOF_AGG_MAX},
	{"stddev", ASOF_AGG_STDDEV},
	{"var", ASOF_AGG_VAR},
	{"last", ASOF_AGG_LAST},
	{"last_nonnull", ASOF_AGG_LAST_NONNULL},
};

const char *
asof_agg_name(AsofAgg agg)
{
	if (agg == ASOF_AGG_COUNT_STAR)
		return "count";
	for (int i = 0; i < lengthof(agg_names); i++)
		if (agg_names[i].agg == agg)
			return agg_names[i].name;
	elog(ERROR, "unrecognized feature aggregate %d", (int) agg);
	return NULL;				/* keep compiler quiet */
}

/*
 * The aggregate named `name` (as stored in the catalog: "count(*)" for
 * count(*)); -1 when there is none.
 */
AsofAgg
asof_agg_from_name(const char *name)
{
	if (strcmp(name, "count(*)") == 0)
		return ASOF_AGG_COUNT_STAR;
	for (int i = 0; i < lengthof(agg_names); i++)
		if (strcmp(agg_names[i].name, name) == 0)
			return agg_names[i].agg;
	return (AsofAgg) -1;
}

static bool
agg_is_last(AsofAgg agg)
{
	return agg == ASOF_AGG_LAST || agg == ASOF_AGG_LAST_NONNULL;
}

/*
 * Interval -> microseconds, with a day counted as exactly 24 hours.  A
 * month or year component, a value below zero, or zero (unless
 * zero_allowed) is an error naming `what`.
 */
int64
asof_interval_us(const Interval *iv, const char *what, bool zero_allowed)
{
	int64		us;

	if (iv->month != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s cannot have a month or year component", what),
				 errdetail("Months and years have no fixed length; pg_asof uses absolute intervals only."),
				 errhint("Write it in days, hours, minutes or seconds (a day counts as exactly 24 hours).")));
	if (pg_mul_s64_overflow((int64) iv->day, USECS_PER_DAY, &us) ||
		pg_add_s64_overflow(us, iv->time, &us))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s is out of range", what)));
	if (us < 0 || (us == 0 && !zero_allowed))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be %s", what,
						zero_allowed ? "zero or positive" : "positive"),
				 errdetail("The value given is %s microseconds.",
						   psprintf(INT64_FORMAT, us))));
	return us;
}

/*
 * A duration in microseconds written with the largest unit of d, h, min,
 * s, ms, us that divides it exactly: 5400000000 -> "90min".
 */
char *
asof_format_duration(int64 us)
{
	static const struct
	{
		int64		us;
		const char *unit;
	}			units[] =
	{
		{USECS_PER_DAY, "d"},
		{USECS_PER_HOUR, "h"},
		{USECS_PER_MINUTE, "min"},
		{USECS_PER_SEC, "s"},
		{1000, "ms"},
	};

	for (int i = 0; i < lengthof(units); i++)
		if (us != 0 && us % units[i].us == 0)
			return psprintf(INT64_FORMAT "%s", us / units[i].us, units[i].unit);
	return psprintf(INT64_FORMAT "us", us);
}

/*
 * The expression part of a default name: lower-cased, every run of
 * characters other than a-z and 0-9 replaced by one "_", leading and
 * trailing "_" removed.
 */
static char *
name_part(const char *expr)
{
	StringInfoData buf;
	bool		pending = false;

	initStringInfo(&buf);
	for (const char *p = expr; *p; p++)
	{
		char		c = *p;

		if (c >= 'A' && c <= 'Z')
			c = c - 'A' + 'a';
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		{
			if (pending && buf.len > 0)
				appendStringInfoChar(&buf, '_');
			pending = false;
			appendStringInfoChar(&buf, c);
		}
		else
			pending = true;
	}
	return buf.data;
}

/*
 * Default feature name: <agg>_<expr>_<window>; count(*): count_<window>;
 * last values: last_<expr> / last_nonnull_<expr>.  An expression with no
 * letter or digit contributes nothing (no empty part, no "__").
 */
char *
asof_default_feature_name(AsofAgg agg, const char *expr, int64 window_us)
{
	StringInfoData buf;
	char	   *part = expr ? name_part(expr) : "";

	initStringInfo(&buf);
	appendStringInfoString(&buf, asof_agg_name(agg));
	if (part[0] != '\0')
		appendStringInfo(&buf, "_%s", part);
	if (!agg_is_last(agg))
		appendStringInfo(&buf, "_%s", asof_format_duration(window_us));
	return buf.data;
}

/* Skip white space (the scanner has already rejected anything else). */
static char *
trimmed(const char *start, const char *end)
{
	while (start < end && isspace((unsigned char) *start))
		start++;
	while (end > start && isspace((unsigned char) end[-1]))
		end--;
	return pnstrdup(start, end - start);
}

/* The word at `p` (letters, digits, underscores), lower-cased. */
static char *
word_at(const char *p)
{
	const char *q = p;

	while (isalnum((unsigned char) *q) || *q == '_')
		q++;
	return asc_tolower(p, q - p);
}

/*
 * The scanner's token codes this parser needs.  They are numbers generated
 * by the grammar, which differ between majors, and parser/gram.h that names
 * them is not installed from PostgreSQL 16 on: so keywords are looked up in
 * the scanner's own keyword table and the other codes are learned once by
 * scanning a sample of each token.
 */
static struct
{
	bool		known;
	int			ident;
	int			sconst;
	int			iconst;
	int			fconst;
	int			over;
	int			as;
}			scan_tok;

static void
learn_token_codes(void)
{
	core_yy_extra_type yyext;
	core_yyscan_t scanner;
	core_YYSTYPE lval;
	int			loc;

	if (scan_tok.known)
		return;
	scanner = scanner_init("x 'x' 1 1.5", &yyext, &ScanKeywords, ScanKeywordTokens);
	scan_tok.ident = core_yylex(&lval, &loc, scanner);
	scan_tok.sconst = core_yylex(&lval, &loc, scanner);
	scan_tok.iconst = core_yylex(&lval, &loc, scanner);
	scan_tok.fconst = core_yylex(&lval, &loc, scanner);
	scanner_finish(scanner);
	scan_tok.over = ScanKeywordTokens[ScanKeywordLookup("over", &ScanKeywords)];
	scan_tok.as = ScanKeywordTokens[ScanKeywordLookup("as", &ScanKeywords)];
	scan_tok.known = true;
}

/*
 * Split a feature text into aggregate, argument, window and name.  Errors
 * carry the feature text in their message or detail; the caller adds an
 * error context naming the feature's position.
 */
void
asof_parse_feature(const char *text, AsofFeatureText *out)
{
	core_yy_extra_type yyext;
	core_yyscan_t scanner;
	core_YYSTYPE lval;
	int			loc;
	int			tok;
	char	   *aggname;
	int			open_loc;
	int			close_loc = -1;
	int			depth;
	int			over_end = -1;
	int			as_loc = -1;
	int			window_sconst = 0;
	char	   *window_str = NULL;

	memset(out, 0, sizeof(*out));
	if (text == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("feature cannot be null")));

	learn_token_codes();
	scanner = scanner_init(text, &yyext, &ScanKeywords, ScanKeywordTokens);

	/* aggregate name */
	tok = core_yylex(&lval, &loc, scanner);
	if (tok == 0 || tok == '(' || !(isalpha((unsigned char) text[loc]) || text[loc] == '_'))
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("invalid feature \"%s\"", text),
				 errdetail("A feature is written agg(expr) over W, count(*) over W, last(expr) or last_nonnull(expr), optionally followed by \"as name\".")));
	aggname = (tok == scan_tok.ident) ? lval.str : word_at(text + loc);
	out->agg = asof_agg_from_name(aggname);
	if ((int) out->agg < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unsupported feature aggregate \"%s\" in feature \"%s\"", aggname, text),
				 errhint("Use count, sum, avg, min, max, stddev, var, last or last_nonnull.")));

	/* argument, up to the matching parenthesis */
	tok = core_yylex(&lval, &loc, scanner);
	if (tok != '(')
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("invalid feature \"%s\"", text),
				 errdetail("Expected \"(\" after \"%s\".", aggname)));
	open_loc = loc;
	depth = 1;
	while ((tok = core_yylex(&lval, &loc, scanner)) != 0)
	{
		if (tok == '(')
			depth++;
		else if (tok == ')' && --depth == 0)
		{
			close_loc = loc;
			break;
		}
	}
	if (close_loc < 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("invalid feature \"%s\"", text),
				 errdetail("The parenthesis after \"%s\" is not closed.", aggname)));
	out->expr = trimmed(text + open_loc + 1, text + close_loc);
	if (out->expr[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("invalid feature \"%s\"", text),
				 errdetail("The aggregate has no argument.")));
	if (strcmp(out->expr, "*") == 0)
	{
		if (out->agg != ASOF_AGG_COUNT)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid feature \"%s\"", text),
					 errdetail("Only count accepts \"*\".")));
		out->agg = ASOF_AGG_COUNT_STAR;
		out->expr = NULL;
	}

	/* optional "over W", optional "as name" */
	tok = core_yylex(&lval, &loc, scanner);
	if (tok == scan_tok.over)
	{
		over_end = loc + 4;
		while ((tok = core_yylex(&lval, &loc, scanner)) != 0 && tok != scan_tok.as)
		{
			if (tok == scan_tok.sconst)
			{
				window_sconst++;
				window_str = lval.str;
			}
			else
				window_sconst += 2;
		}
	}
	if (tok == scan_tok.as)
	{
		as_loc = loc;
		tok = core_yylex(&lval, &loc, scanner);
		if (tok == scan_tok.ident)
			out->name = lval.str;
		else if (tok != 0 && tok != scan_tok.sconst && tok != scan_tok.iconst && tok != scan_tok.fconst &&
				 (isalpha((unsigned char) text[loc]) || text[loc] == '_'))
			out->name = word_at(text + loc);	/* a keyword, e.g. "last" */
		else
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("invalid feature \"%s\"", text),
					 errdetail("Expected a name after \"as\".")));
		out->explicit_name = true;
		tok = core_yylex(&lval, &loc, scanner);
	}
	if (tok != 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("invalid feature \"%s\"", text),
				 errdetail("Unexpected text \"%s\".", text + loc)));
	scanner_finish(scanner);

	if (over_end >= 0)
	{
		Interval   *iv;

		if (agg_is_last(out->agg))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s takes no window, in feature \"%s\"", aggname, text),
					 errdetail("A last value is taken over every visible row; its age is limited by the feature view's ttl.")));
		/* one quoted literal is accepted too: over '1 hour' */
		out->window = (window_sconst == 1) ? window_str :
			trimmed(text + over_end, as_loc >= 0 ? text + as_loc : text + strlen(text));
		if (out->window[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("invalid feature \"%s\"", text),
					 errdetail("\"over\" must be followed by an interval, e.g. \"over 1 hour\".")));
		iv = DatumGetIntervalP(DirectFunctionCall3(interval_in,
												   CStringGetDatum(out->window),
												   ObjectIdGetDatum(InvalidOid),
												   Int32GetDatum(-1)));
		out->window_us = asof_interval_us(iv, psprintf("window \"%s\"", out->window), false);
	}
	else if (!agg_is_last(out->agg))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s needs a window, in feature \"%s\"", aggname, text),
				 errhint("Add one, e.g. \"%s over 1 hour\".", text)));

	if (!out->explicit_name)
		out->name = asof_default_feature_name(out->agg, out->expr, out->window_us);
	if (out->name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("feature name cannot be empty, in feature \"%s\"", text)));
}

/*
 * True when `type` has a default btree operator class, i.e. an ordering
 * min, max and last can use.
 */
bool
asof_type_has_btree_order(Oid type)
{
	return OidIsValid(GetDefaultOpClass(type, BTREE_AM_OID));
}

/* The six input types sum, avg, stddev and var accept. */
static bool
is_numeric_input(Oid type)
{
	switch (getBaseType(type))
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case NUMERICOID:
		case FLOAT4OID:
		case FLOAT8OID:
			return true;
		default:
			return false;
	}
}

/*
 * The contract's result type of `agg` over `input_type`; an error naming
 * the feature when the aggregate does not fit the type.
 */
Oid
asof_feature_result_type(AsofAgg agg, Oid input_type, const char *feature)
{
	switch (agg)
	{
		case ASOF_AGG_COUNT_STAR:
		case ASOF_AGG_COUNT:
			return INT8OID;
		case ASOF_AGG_SUM:
		case ASOF_AGG_AVG:
		case ASOF_AGG_STDDEV:
		case ASOF_AGG_VAR:
			if (!is_numeric_input(input_type))
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("%s cannot be computed over type %s, in feature \"%s\"",
								asof_agg_name(agg), format_type_be(input_type), feature),
						 errhint("sum, avg, stddev and var need smallint, integer, bigint, numeric, real or double precision; cast the argument.")));
			if (agg != ASOF_AGG_SUM)
				return FLOAT8OID;
			switch (getBaseType(input_type))
			{
				case INT2OID:
				case INT4OID:
					return INT8OID;
				case INT8OID:
				case NUMERICOID:
					return NUMERICOID;
				default:
					return FLOAT8OID;
			}
		case ASOF_AGG_MIN:
		case ASOF_AGG_MAX:
		case ASOF_AGG_LAST:
		case ASOF_AGG_LAST_NONNULL:
			if (!asof_type_has_btree_order(input_type))
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_FUNCTION),
						 errmsg("%s cannot be computed over type %s, in feature \"%s\"",
								asof_agg_name(agg), format_type_be(input_type), feature),
						 errdetail("Type %s has no default btree ordering.",
								   format_type_be(input_type))));
			return input_type;
	}
	return InvalidOid;			/* keep compiler quiet */
}

/*
 * Deparse an analyzed expression over `rel` so that it reads the same under
 * any search_path (everything outside pg_catalog schema-qualified),
 * DateStyle, IntervalStyle and TimeZone (constants printed in ISO form, in
 * UTC).
 */
char *
asof_normalize_expr(Relation rel, Node *expr)
{
	int			nestlevel = NewGUCNestLevel();
	char	   *sql;

	(void) set_config_option("search_path", "pg_catalog", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("DateStyle", "ISO, YMD", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("IntervalStyle", "postgres", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("TimeZone", "UTC", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("extra_float_digits", "3", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	sql = deparse_expression(expr,
							 deparse_context_for(RelationGetRelationName(rel),
												 RelationGetRelid(rel)),
							 false, false);
	AtEOXact_GUC(true, nestlevel);
	return sql;
}

/*
 * The leakage rule for expressions over the source row: their value must
 * depend on the row alone, so that it cannot read facts from after the
 * prediction time and is the same in every build.  Refused:
 *
 * - functions (also behind operators, casts and type I/O) outside
 *	 pg_catalog that are not IMMUTABLE: a stable user function may read
 *	 other tables, i.e. rows that are not yet visible at k(t);
 * - built-in stable functions without arguments (now(),
 *	 statement_timestamp(), transaction_timestamp(), txid_current(),
 *	 pg_backend_pid(), ...) and current_setting(): their value is the
 *	 clock's or the session's, not the row's;
 * - SQL value functions (CURRENT_DATE, CURRENT_TIME, CURRENT_TIMESTAMP,
 *	 LOCALTIME, LOCALTIMESTAMP, CURRENT_USER, ...) for the same reason.
 *
 * Built-in stable functions with arguments stay allowed: timestamptz
 * arithmetic and formatting need them, and they are evaluated with
 * TimeZone = UTC.  Volatile functions are refused before this check.
 */
static bool
per_row_func_checker(Oid funcid, void *context)
{
	const char *what = (const char *) context;
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	Form_pg_proc proc;
	bool		user_stable;
	bool		session_value;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", funcid);
	proc = (Form_pg_proc) GETSTRUCT(tup);
	user_stable = (proc->pronamespace != PG_CATALOG_NAMESPACE &&
				   proc->provolatile != PROVOLATILE_IMMUTABLE);
	session_value = (proc->pronamespace == PG_CATALOG_NAMESPACE &&
					 proc->provolatile == PROVOLATILE_STABLE &&
					 (proc->pronargs == 0 || funcid == F_CURRENT_SETTING_TEXT ||
					  funcid == F_CURRENT_SETTING_TEXT_BOOL));
	ReleaseSysCache(tup);

	if (user_stable)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("%s cannot use function %s because it is not immutable",
						what, format_procedure(funcid)),
				 errdetail("A stable function may read other tables, including rows that are not yet visible at the prediction time; feature view expressions must depend on the source row alone."),
				 errhint("Declare the function IMMUTABLE if its result depends on its arguments only, or join the other table into the source (a view) with its own event and available times.")));
	if (session_value)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("%s cannot use function %s", what, format_procedure(funcid)),
				 errdetail("Its value depends on when or in which session it is evaluated, not on the source row, so a feature value could change from one build to the next."),
				 errhint("Use columns of the source row, e.g. the event time, instead.")));
	return false;
}

static const char *
sql_value_function_name(SQLValueFunction *svf)
{
	switch (svf->op)
	{
		case SVFOP_CURRENT_DATE:
			return "CURRENT_DATE";
		case SVFOP_CURRENT_TIME:
		case SVFOP_CURRENT_TIME_N:
			return "CURRENT_TIME";
		case SVFOP_CURRENT_TIMESTAMP:
		case SVFOP_CURRENT_TIMESTAMP_N:
			return "CURRENT_TIMESTAMP";
		case SVFOP_LOCALTIME:
		case SVFOP_LOCALTIME_N:
			return "LOCALTIME";
		case SVFOP_LOCALTIMESTAMP:
		case SVFOP_LOCALTIMESTAMP_N:
			return "LOCALTIMESTAMP";
		case SVFOP_CURRENT_ROLE:
			return "CURRENT_ROLE";
		case SVFOP_CURRENT_USER:
			return "CURRENT_USER";
		case SVFOP_USER:
			return "USER";
		case SVFOP_SESSION_USER:
			return "SESSION_USER";
		case SVFOP_CURRENT_CATALOG:
			return "CURRENT_CATALOG";
		case SVFOP_CURRENT_SCHEMA:
			return "CURRENT_SCHEMA";
	}
	return "?";
}

static bool
per_row_walker(Node *node, void *context)
{
	const char *what = (const char *) context;

	if (node == NULL)
		return false;
	if (IsA(node, SQLValueFunction))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("%s cannot use %s", what,
						sql_value_function_name((SQLValueFunction *) node)),
				 errdetail("Its value depends on when or in which session it is evaluated, not on the source row, so a feature value could change from one build to the next."),
				 errhint("Use columns of the source row, e.g. the event time, instead.")));
	(void) check_functions_in_node(node, per_row_func_checker, context);
	return expression_tree_walker(node, per_row_walker, context);
}

typedef struct ExprErrorContext
{
	const char *what;
	const char *text;
} ExprErrorContext;

/*
 * Errors the parser raises while analyzing an expression point into the
 * expression's own text (as an internal query), not into the statement
 * that called us, and say which expression it is.
 */
static void
expr_errcontext(void *arg)
{
	ExprErrorContext *ec = (ExprErrorContext *) arg;
	int			pos = geterrposition();

	if (pos > 0)
	{
		errposition(0);
		internalerrposition(Max(pos - (int) strlen("SELECT "), 1));
		internalerrquery(ec->text);
	}
	errcontext("%s \"%s\"", ec->what, ec->text);
}

/*
 * Analyze `text`, an SQL expression over a row of `rel`, and check that it
 * is allowed: a single scalar expression, no subquery, aggregate, window
 * function, set-returning or volatile function.  `what` names it in errors
 * ("event time", "feature \"avg(x) over 1h\""...).  `source`: `rel` is a
 * feature view's source (a spine otherwise), and the expression must also
 * be a per-row value (see per_row_walker).  A `normalized` text (as stored
 * in the catalog) is analyzed with search_path = pg_catalog, as it was
 * written for.  An untyped literal ('abc') is taken as text, as in a
 * select list.
 */
void
asof_analyze_source_expr(Relation rel, const char *text, const char *what,
						 bool source, bool normalized, AsofSourceExpr *out)
{
	const char *row = source ? "source row" : "spine row";
	char	   *sql = psprintf("SELECT %s", text);
	List	   *raw;
	RawStmt    *rs;
	SelectStmt *sel;
	ResTarget  *rt;
	ParseState *pstate;
	ParseNamespaceItem *nsitem;
	Node	   *expr;
	int			nestlevel = -1;
	ExprErrorContext ec = {what, text};
	ErrorContextCallback cb;

	if (text == NULL || text[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s cannot be empty", what)));

	cb.callback = expr_errcontext;
	cb.arg = &ec;
	cb.previous = error_context_stack;
	error_context_stack = &cb;

	raw = asof_raw_parser(sql);
	rs = linitial_node(RawStmt, raw);
	sel = (SelectStmt *) rs->stmt;
	if (list_length(raw) != 1 || !IsA(sel, SelectStmt) ||
		sel->op != SETOP_NONE || sel->valuesLists != NIL ||
		list_length(sel->targetList) != 1 || sel->fromClause != NIL ||
		sel->whereClause != NULL || sel->groupClause != NIL ||
		sel->havingClause != NULL || sel->windowClause != NIL ||
		sel->distinctClause != NIL || sel->sortClause != NIL ||
		sel->limitCount != NULL || sel->limitOffset != NULL ||
		sel->lockingClause != NIL || sel->withClause != NULL ||
		sel->intoClause != NULL ||
		linitial_node(ResTarget, sel->targetList)->name != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("%s must be a single SQL expression over the %s", what, row)));
	rt = linitial_node(ResTarget, sel->targetList);
	if (IsA(rt->val, ColumnRef) &&
		IsA(llast(((ColumnRef *) rt->val)->fields), A_Star))
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("%s must be a single SQL expression over the %s", what, row)));

	if (normalized)
	{
		nestlevel = NewGUCNestLevel();
		(void) set_config_option("search_path", "pg_catalog", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	}

	pstate = make_parsestate(NULL);
	pstate->p_sourcetext = sql;
	nsitem = addRangeTableEntryForRelation(pstate, rel, AccessShareLock,
										   NULL, false, false);
	addNSItemToQuery(pstate, nsitem, false, true, true);
	expr = transformExpr(pstate, rt->val, EXPR_KIND_SELECT_TARGET);
	if (exprType(expr) == UNKNOWNOID)
		expr = coerce_type(pstate, expr, UNKNOWNOID, TEXTOID, -1,
						   COERCION_IMPLICIT, COERCE_IMPLICIT_CAST, -1);
	assign_expr_collations(pstate, expr);

	if (pstate->p_hasSubLinks)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot contain a subquery", what)));
	if (pstate->p_hasAggs || contain_agg_clause(expr))
		ereport(ERROR,
				(errcode(ERRCODE_GROUPING_ERROR),
				 errmsg("%s cannot contain an aggregate function", what),
				 errhint("Features aggregate over a window themselves: write e.g. \"avg(delay) over 1 hour\".")));
	if (pstate->p_hasWindowFuncs || contain_window_function(expr))
		ereport(ERROR,
				(errcode(ERRCODE_WINDOWING_ERROR),
				 errmsg("%s cannot contain a window function", what)));
	if (pstate->p_hasTargetSRFs || expression_returns_set(expr))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot contain a set-returning function", what)));
	if (contain_volatile_functions(expr))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot contain a volatile function", what),
				 errhint("A feature value must be the same each time it is computed; use immutable functions (or built-in stable ones, such as timestamptz arithmetic).")));
	if (source)
		(void) per_row_walker(expr, (void *) what);

	if (nestlevel >= 0)
		AtEOXact_GUC(true, nestlevel);
	free_parsestate(pstate);
	error_context_stack = cb.previous;

	out->expr = expr;
	out->type = exprType(expr);
	out->typmod = exprTypmod(expr);
	out->collation = exprCollation(expr);
	out->immutable = !contain_mutable_functions(expr);
	out->sql = asof_normalize_expr(rel, expr);
}
