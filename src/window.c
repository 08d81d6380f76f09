/*-------------------------------------------------------------------------
 *
 * window.c
 *	  Sliding-window aggregate states: add, remove, read
 *	  (docs/point-in-time.md, "Features"; design in docs/engine.md).
 *
 *	  Owns: exact accumulators (128-bit integers for int2/int4/int8 sums,
 *	  numeric for numeric inputs and int8 variances), compensated floating
 *	  point moments that are rebuilt from the window's rows when removals
 *	  have cancelled most of what was added, min/max as a binary heap with
 *	  lazy deletion by event time (removal in any order), and the
 *	  last/last_nonnull tie-breaks (greatest event time, then available
 *	  time, then value with NULLs lowest).
 *
 *	  Must not: know about tuples, SPI, sorting or schedules.  The engine
 *	  decides which rows are in a window.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/typcache.h"

#include "compat.h"
#include "window.h"

/* Rebuild floating-point moments when the history is this much larger. */
#define ASOF_FLOAT_HISTORY_RATIO 1048576.0
/* ... or when the mean drifted this far from the variance shift. */
#define ASOF_FLOAT_DRIFT_RATIO 1024.0
/*
 * Variances whose squares overflow are accumulated over x * 2^-600 (exact
 * scaling) until the scaled sum of squares is below 2^-400 again.
 */
#define ASOF_SQ_SCALE 600
#define ASOF_SQ_UNSCALE_BELOW ldexp(1.0, -400)

/* ----------------------------------------------------------------------
 * Specs and normalization
 * ----------------------------------------------------------------------
 */
static bool
is_int_type(Oid t)
{
	return t == INT2OID || t == INT4OID || t == INT8OID;
}

static bool
is_float_type(Oid t)
{
	return t == FLOAT4OID || t == FLOAT8OID;
}

void
asof_agg_spec_init(AsofAggSpec *spec, const AsofFeature *f)
{
	/* a domain is handled as its base type (same representation) */
	Oid			t = OidIsValid(f->input_type) ? getBaseType(f->input_type) : InvalidOid;

	memset(spec, 0, sizeof(*spec));
	spec->agg = f->agg;
	spec->input_type = t;
	spec->collation = f->input_collation;
	spec->result_type = f->result_type;
	if (OidIsValid(t))
		get_typlenbyval(t, &spec->typlen, &spec->typbyval);

	switch (f->agg)
	{
		case ASOF_AGG_COUNT_STAR:
			spec->acc = ASOF_ACC_COUNT;
			spec->repr = ASOF_REPR_NONE;
			return;
		case ASOF_AGG_COUNT:
			spec->acc = ASOF_ACC_COUNT;
			spec->repr = ASOF_REPR_NONE;	/* only nullness matters */
			return;
		case ASOF_AGG_SUM:
		case ASOF_AGG_AVG:
		case ASOF_AGG_STDDEV:
		case ASOF_AGG_VAR:
			if (is_int_type(t))
			{
				spec->repr = ASOF_REPR_INT;
				/* int8 squares overflow 128 bits: numeric for variances */
				if (t == INT8OID && (f->agg == ASOF_AGG_STDDEV || f->agg == ASOF_AGG_VAR))
				{
					spec->acc = ASOF_ACC_NUMERIC;
					spec->int8_input = true;
				}
				else
					spec->acc = ASOF_ACC_INT;
			}
			else if (is_float_type(t))
			{
				spec->repr = ASOF_REPR_FLOAT;
				spec->acc = ASOF_ACC_FLOAT;
			}
			else if (t == NUMERICOID)
			{
				spec->repr = ASOF_REPR_DATUM;
				spec->acc = ASOF_ACC_NUMERIC;
			}
			else
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("feature \"%s\" cannot aggregate values of type %s",
								f->name, format_type_be(t))));
			return;
		case ASOF_AGG_MIN:
		case ASOF_AGG_MAX:
		case ASOF_AGG_LAST:
		case ASOF_AGG_LAST_NONNULL:
			spec->acc = (f->agg == ASOF_AGG_MIN || f->agg == ASOF_AGG_MAX) ?
				ASOF_ACC_EXTREME : ASOF_ACC_LAST;
			if (is_int_type(t) && spec->acc == ASOF_ACC_EXTREME)
				spec->repr = ASOF_REPR_INT;
			else if (is_float_type(t) && spec->acc == ASOF_ACC_EXTREME)
				spec->repr = ASOF_REPR_FLOAT;
			else
			{
				TypeCacheEntry *tc = lookup_type_cache(t, TYPECACHE_CMP_PROC_FINFO);

				if (!OidIsValid(tc->cmp_proc_finfo.fn_oid))
					ereport(ERROR,
							(errcode(ERRCODE_UNDEFINED_FUNCTION),
							 errmsg("feature \"%s\" needs a default btree ordering for type %s",
									f->name, format_type_be(t))));
				fmgr_info_cxt(tc->cmp_proc_finfo.fn_oid, &spec->cmp, CurrentMemoryContext);
				spec->has_cmp = true;
				spec->repr = ASOF_REPR_DATUM;
			}
			return;
	}
	elog(ERROR, "unrecognized feature aggregate %d", (int) f->agg);
}

Datum
asof_agg_normalize(const AsofAggSpec *spec, Datum value)
{
	switch (spec->repr)
	{
		case ASOF_REPR_INT:
			switch (spec->input_type)
			{
				case INT2OID:
					return Int64GetDatum((int64) DatumGetInt16(value));
				case INT4OID:
					return Int64GetDatum((int64) DatumGetInt32(value));
				default:
					return value;
			}
		case ASOF_REPR_FLOAT:
			if (spec->input_type == FLOAT4OID)
				return Float8GetDatum((double) DatumGetFloat4(value));
			return value;
		default:
			return value;
	}
}

/* Convert a normalized value back to the input type (min, max). */
static Datum
denormalize(const AsofAggSpec *spec, Datum v)
{
	switch (spec->repr)
	{
		case ASOF_REPR_INT:
			if (spec->input_type == INT2OID)
				return Int16GetDatum((int16) DatumGetInt64(v));
			if (spec->input_type == INT4OID)
				return Int32GetDatum((int32) DatumGetInt64(v));
			return v;
		case ASOF_REPR_FLOAT:
			if (spec->input_type == FLOAT4OID)
				return Float4GetDatum((float4) DatumGetFloat8(v));
			return v;
		default:
			return datumCopy(v, spec->typbyval, spec->typlen);
	}
}

/*
 * Values that the type's ordering calls equal but that differ (numeric 1.0
 * and 1.00, float 0 and -0, text under a nondeterministic collation) are
 * ordered by their binary image, so last/min/max never depend on the order
 * rows arrived in (docs/engine.md, "Decisions").
 */
static int
image_cmp(const AsofAggSpec *spec, Datum a, Datum b)
{
	if (spec->typbyval)
	{
		int64		x,
					y;

		switch (spec->typlen)
		{
			case 1:
				x = (int8) DatumGetChar(a), y = (int8) DatumGetChar(b);
				break;
			case 2:
				x = DatumGetInt16(a), y = DatumGetInt16(b);
				break;
			case 4:
				x = DatumGetInt32(a), y = DatumGetInt32(b);
				break;
			default:
				x = DatumGetInt64(a), y = DatumGetInt64(b);
				break;
		}
		return (x > y) - (x < y);
	}
	if (spec->typlen == -1)
	{
		struct varlena *va = PG_DETOAST_DATUM_PACKED(a);
		struct varlena *vb = PG_DETOAST_DATUM_PACKED(b);
		Size		la = VARSIZE_ANY_EXHDR(va),
					lb = VARSIZE_ANY_EXHDR(vb);
		int			c = memcmp(VARDATA_ANY(va), VARDATA_ANY(vb), Min(la, lb));

		if (c == 0)
			c = (la > lb) - (la < lb);
		if ((Pointer) va != DatumGetPointer(a))
			pfree(va);
		if ((Pointer) vb != DatumGetPointer(b))
			pfree(vb);
		return c;
	}
	if (spec->typlen == -2)
		return strcmp(DatumGetCString(a), DatumGetCString(b));
	return memcmp(DatumGetPointer(a), DatumGetPointer(b), spec->typlen);
}

/* Total order on normalized values: the type's btree order (NaN highest). */
static int
value_cmp(const AsofAggSpec *spec, Datum a, Datum b)
{
	int			c;

	switch (spec->repr)
	{
		case ASOF_REPR_INT:
			{
				int64		x = DatumGetInt64(a),
							y = DatumGetInt64(b);

				return (x > y) - (x < y);
			}
		case ASOF_REPR_FLOAT:
			c = float8_cmp_internal(DatumGetFloat8(a), DatumGetFloat8(b));
			if (c == 0)
			{
				/* -0 before 0 (the bits as a signed integer) */
				int64		x = DatumGetInt64(a),
							y = DatumGetInt64(b);

				c = (x > y) - (x < y);
			}
			return c;
		default:
			c = DatumGetInt32(FunctionCall2Coll((FmgrInfo *) &spec->cmp,
												spec->collation, a, b));
			return c != 0 ? c : image_cmp(spec, a, b);
	}
}

static Datum
copy_value(AsofAggState *st, Datum v)
{
	const AsofAggSpec *spec = st->spec;
	MemoryContext old;
	Datum		r;

	if (spec->repr != ASOF_REPR_DATUM || spec->typbyval)
		return v;
	old = MemoryContextSwitchTo(st->cxt);
	r = datumCopy(v, false, spec->typlen);
	MemoryContextSwitchTo(old);
	return r;
}

static void
free_value(AsofAggState *st, Datum v)
{
	if (st->spec->repr == ASOF_REPR_DATUM && !st->spec->typbyval)
		pfree(DatumGetPointer(v));
}

/* ----------------------------------------------------------------------
 * Exact and compensated arithmetic helpers
 * ----------------------------------------------------------------------
 */
static inline void
ksum_add(AsofKSum *k, double x)
{
	double		t = k->s + x;

	if (fabs(k->s) >= fabs(x))
		k->c += (k->s - t) + x;
	else
		k->c += (x - t) + k->s;
	k->s = t;
}

static inline double
ksum_value(const AsofKSum *k)
{
	return k->s + k->c;
}

#define TWO_53 ((int128) 1 << 53)

static double numeric_ratio_to_double(Datum num, Datum den, bool root);
static Datum int128_to_numeric(int128 v);
static bool sqrt_ratio_fast(int128 num, int128 den, double *result);

/*
 * num / den (den > 0) rounded to double: correctly rounded when both fit
 * in 53 bits (one IEEE division of exact operands), otherwise through
 * numeric (rounded once, see numeric_ratio_to_double).
 */
static double
div_to_double(int128 num, int128 den)
{
	if (num <= TWO_53 && num >= -TWO_53 && den <= TWO_53)
		return (double) num / (double) den;
	return numeric_ratio_to_double(int128_to_numeric(num), int128_to_numeric(den), false);
}

/*
 * num / den (numerics, den > 0), or its square root, rounded once to
 * double: the quotient is computed with at least 40 significant digits
 * (40 decimals, more for small quotients; numeric_sqrt keeps that scale),
 * and only that is converted to double.
 */
/* floor(log10(|x|)) of a finite nonzero numeric, from its text */
static int
numeric_exp10(Datum x)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out, x));
	char	   *p = s + (*s == '-');
	int			e;

	if (p[0] == '0' && p[1] == '.')
	{
		for (e = -1, p += 2; *p == '0'; p++)
			e--;
	}
	else
		for (e = -1; *p >= '0' && *p <= '9'; p++)
			e++;
	pfree(s);
	return e;
}

static double
numeric_ratio_to_double(Datum num, Datum den, bool root)
{
	double		nd = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, num));
	double		dd = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, den));
	double		q = nd / dd;
	int			scale = 40;
	Datum		r;

	if (nd == 0 && DatumGetInt32(DirectFunctionCall2(numeric_cmp, num,
													NumericGetDatum(int64_to_numeric(0)))) == 0)
		return 0;
	if (!isnormal(nd) || !isnormal(dd) || !isnormal(q))
		/* beyond double precision: the exponent from the decimal digits */
		scale = Min(Max(40, 41 - numeric_exp10(num) + numeric_exp10(den)), 1000);
	else if (fabs(q) < 1)
		scale = Min(40 - (int) floor(log10(fabs(q))), 1000);
	r = DirectFunctionCall2(numeric_div,
							DirectFunctionCall2(numeric_round, num, Int32GetDatum(scale)),
							den);
	if (root)
		r = DirectFunctionCall1(numeric_sqrt, r);
	/* as numeric_float8 (strtod), but beyond the range +-Infinity or 0 */
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, r));
}

/*
 * sqrt(num / den) (0 <= num, 0 < den, both below 2^64) correctly rounded
 * to double, when that can be decided in extended precision: the quotient
 * and its square root in long double (64-bit mantissa, each correctly
 * rounded) are within 2^-63 relative of the exact root; when that is
 * farther than 2^-60 relative from every halfway point between doubles,
 * the exact root and the long double round to the same double, which is
 * then also what numeric_ratio_to_double gives (its error is ~1e-40).
 * Returns false (the caller goes through numeric) when it cannot decide:
 * near a halfway point, or without a 64-bit long double.
 */
static bool
sqrt_ratio_fast(int128 num, int128 den, double *result)
{
#if LDBL_MANT_DIG >= 64
	long double l,
				lo,
				hi,
				tol;
	double		r;

	if (num < 0 || num >= ((int128) 1 << 64) || den <= 0 || den >= ((int128) 1 << 64))
		return false;
	l = sqrtl((long double) (uint64) num / (long double) (uint64) den);
	r = (double) l;
	/* halfway points to the neighbouring doubles (exact in long double) */
	lo = ((long double) nextafter(r, -INFINITY) + r) / 2;
	hi = ((long double) nextafter(r, INFINITY) + r) / 2;
	tol = l * 0x1p-60L;
	if (l - lo > tol && hi - l > tol)
	{
		*result = r;
		return true;
	}
#endif
	return false;
}

static Datum
int128_to_numeric(int128 v)
{
	const int64 base = INT64CONST(1000000000000000000);
	int128	q;
	int64		r;

	if (v >= PG_INT64_MIN && v <= PG_INT64_MAX)
		return NumericGetDatum(int64_to_numeric((int64) v));
	q = v / base;
	r = (int64) (v % base);
	return DirectFunctionCall2(numeric_add,
							   DirectFunctionCall2(numeric_mul,
												   int128_to_numeric(q),
												   NumericGetDatum(int64_to_numeric(base))),
							   NumericGetDatum(int64_to_numeric(r)));
}

static Datum
numeric_of(const AsofAggState *st, Datum v)
{
	if (st->spec->int8_input)
		return NumericGetDatum(int64_to_numeric(DatumGetInt64(v)));
	return v;
}

/* acc := acc + sign * x (numeric, kept in the state's context) */
static void
numeric_acc_update(AsofAggState *st, Datum *acc, Datum x, bool subtract)
{
	MemoryContext old = MemoryContextSwitchTo(st->cxt);
	Datum		r;

	r = DirectFunctionCall2(subtract ? numeric_sub : numeric_add, *acc, x);
	pfree(DatumGetPointer(*acc));
	*acc = r;
	MemoryContextSwitchTo(old);
}

/* ----------------------------------------------------------------------
 * Min/max heap with lazy deletion
 * ----------------------------------------------------------------------
 */

/* true when a belongs above b in the heap */
static inline bool
heap_above(const AsofAggState *st, const AsofExtremeEntry *a, const AsofExtremeEntry *b)
{
	int			c = value_cmp(st->spec, a->value, b->value);

	return st->spec->agg == ASOF_AGG_MAX ? c > 0 : c < 0;
}

static void
heap_sift_up(AsofAggState *st, int i)
{
	AsofExtremeEntry e = st->heap[i];

	while (i > 0)
	{
		int			p = (i - 1) / 2;

		if (!heap_above(st, &e, &st->heap[p]))
			break;
		st->heap[i] = st->heap[p];
		i = p;
	}
	st->heap[i] = e;
}

static void
heap_sift_down(AsofAggState *st, int i)
{
	AsofExtremeEntry e = st->heap[i];
	int			n = st->heap_n;

	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && heap_above(st, &st->heap[c + 1], &st->heap[c]))
			c++;
		if (!heap_above(st, &st->heap[c], &e))
			break;
		st->heap[i] = st->heap[c];
		i = c;
	}
	st->heap[i] = e;
}

static void
heap_pop(AsofAggState *st)
{
	free_value(st, st->heap[0].value);
	st->heap_n--;
	if (st->heap_n > 0)
	{
		st->heap[0] = st->heap[st->heap_n];
		heap_sift_down(st, 0);
	}
}

/* Drop every dead entry (te < window_start) and rebuild the heap. */
static void
heap_compact(AsofAggState *st, int64 window_start)
{
	int			j = 0;

	for (int i = 0; i < st->heap_n; i++)
	{
		if (st->heap[i].te < window_start)
			free_value(st, st->heap[i].value);
		else
			st->heap[j++] = st->heap[i];
	}
	st->heap_n = j;
	for (int i = j / 2 - 1; i >= 0; i--)
		heap_sift_down(st, i);
}

static void
heap_push(AsofAggState *st, Datum v, int64 te, int64 window_start)
{
	/* dead entries may not outnumber live ones by much: memory stays bounded */
	if (st->heap_n >= 2 * st->n + 64)
		heap_compact(st, window_start);
	if (st->heap_n == st->heap_cap)
	{
		int			cap = st->heap_cap ? st->heap_cap * 2 : 16;

		if (st->heap)
			st->heap = repalloc_huge(st->heap, sizeof(AsofExtremeEntry) * cap);
		else
			st->heap = MemoryContextAllocHuge(st->cxt, sizeof(AsofExtremeEntry) * cap);
		st->heap_cap = cap;
	}
	st->heap[st->heap_n].value = copy_value(st, v);
	st->heap[st->heap_n].te = te;
	st->heap_n++;
	heap_sift_up(st, st->heap_n - 1);
}

/* ----------------------------------------------------------------------
 * State lifecycle
 * ----------------------------------------------------------------------
 */
void
asof_agg_init(AsofAggState *st, const AsofAggSpec *spec, MemoryContext cxt)
{
	memset(st, 0, sizeof(*st));
	st->spec = spec;
	st->cxt = cxt;
	asof_agg_restart(st);
}

/*
 * Forget everything (new entity).  Memory of by-ref copies lives in st->cxt,
 * which the engine resets per entity; only the pointers are dropped here.
 */
void
asof_agg_reset(AsofAggState *st)
{
	asof_agg_init(st, st->spec, st->cxt);
}

void
asof_agg_restart(AsofAggState *st)
{
	/* rebuilt variance moments: scaled while the spread needs it */
	st->fsq_scaled = st->n > 0 &&
		(st->nsqover > 0 ||
		 (st->fsq_scaled && ksum_value(&st->fdsq) >= ASOF_SQ_UNSCALE_BELOW));
	st->n = 0;
	st->isum = 0;
	st->isumsq = 0;
	memset(&st->fsum, 0, sizeof(AsofKSum));
	memset(&st->fabs, 0, sizeof(AsofKSum));
	memset(&st->fdsum, 0, sizeof(AsofKSum));
	memset(&st->fdsq, 0, sizeof(AsofKSum));
	st->fhist = 0;
	st->fhistsq = 0;
	st->fshift_set = false;
	st->fshift = 0;
	st->nnan = st->npinf = st->nninf = st->nsqover = 0;
	st->fsum_over = false;		/* fscaled stays on for the entity */
	memset(&st->fssum, 0, sizeof(AsofKSum));
	st->fssum_valid = st->fscaled;
	if (st->spec->acc == ASOF_ACC_NUMERIC)
	{
		MemoryContext old = MemoryContextSwitchTo(st->cxt);

		st->nsum = NumericGetDatum(int64_to_numeric(0));
		st->nsumsq = NumericGetDatum(int64_to_numeric(0));
		MemoryContextSwitchTo(old);
	}
}

static bool
is_variance(const AsofAggSpec *spec)
{
	return spec->agg == ASOF_AGG_STDDEV || spec->agg == ASOF_AGG_VAR;
}

bool
asof_agg_needs_recompute(const AsofAggState *st)
{
	int64		n;
	double		d,
				num;

	if (st->spec->acc != ASOF_ACC_FLOAT)
		return false;
	n = st->n - st->nnan - st->npinf - st->nninf;
	if (n <= 0)
		return false;
	if (!is_variance(st->spec))
		return st->fsum_over ?
		/* rebuild to fill fssum, or once the sum is well inside the range */
			(!st->fssum_valid || fabs(ksum_value(&st->fssum)) < ldexp(1.0, 1000 - 64)) :
			st->fhist > ASOF_FLOAT_HISTORY_RATIO * ksum_value(&st->fabs);

	/*
	 * Sum of squares: history as above.  Drift: the numerator
	 * sum((x - shift)^2) - n * d^2 (d = mean - shift) cancels when n * d^2
	 * dwarfs it; re-centre on the mean then.
	 */
	if (st->fhistsq > ASOF_FLOAT_HISTORY_RATIO * ksum_value(&st->fdsq))
		return true;
	if (st->nsqover > 0 ||
		(st->fsq_scaled && ksum_value(&st->fdsq) < ASOF_SQ_UNSCALE_BELOW))
		return true;			/* switch scaling (asof_agg_restart decides) */
	d = ksum_value(&st->fdsum) / (double) n;
	num = ksum_value(&st->fdsq) - d * ksum_value(&st->fdsum);
	return (double) n * d * d > ASOF_FLOAT_DRIFT_RATIO * Max(num, 0.0) &&
		d != 0.0;
}

void
asof_agg_set_shift(AsofAggState *st, double shift)
{
	if (isfinite(shift))
	{
		st->fshift = st->fsq_scaled ? ldexp(shift, -ASOF_SQ_SCALE) : shift;
		st->fshift_set = true;
	}
}

/* ----------------------------------------------------------------------
 * Add, remove
 * ----------------------------------------------------------------------
 */
static void
float_update(AsofAggState *st, double x, int sign)
{
	if (isnan(x))
		st->nnan += sign;
	else if (isinf(x))
	{
		if (x > 0)
			st->npinf += sign;
		else
			st->nninf += sign;
	}
	else if (!is_variance(st->spec))
	{
		double		ax = fabs(x);

		ksum_add(&st->fsum, sign * x);
		ksum_add(&st->fabs, sign * ax);
		st->fhist += ax;
		if (st->fscaled)
			ksum_add(&st->fssum, sign * ldexp(x, -64));
		if (!isfinite(st->fsum.s) || !isfinite(st->fsum.c))
		{
			/* beyond double precision: rebuild with the scaled sum kept */
			st->fsum_over = true;
			st->fscaled = true;
		}
	}
	else
	{
		double		dx,
					sq;

		if (st->fsq_scaled)
			x = ldexp(x, -ASOF_SQ_SCALE);
		if (!st->fshift_set)
		{
			st->fshift = x;
			st->fshift_set = true;
		}
		dx = x - st->fshift;
		sq = dx * dx;
		if (!isfinite(sq))
			st->nsqover += sign;	/* spread beyond double precision */
		else
		{
			ksum_add(&st->fdsum, sign * dx);
			ksum_add(&st->fdsq, sign * sq);
			st->fhistsq += sq;
		}
	}
	/* an empty window has exactly zero sums: no error to carry over */
	if (st->n == 0)
		asof_agg_restart(st);
}

static void
moments_update(AsofAggState *st, Datum v, int sign)
{
	switch (st->spec->acc)
	{
		case ASOF_ACC_INT:
			{
				int128	x = DatumGetInt64(v);

				st->isum += sign * x;
				if (st->spec->agg == ASOF_AGG_STDDEV || st->spec->agg == ASOF_AGG_VAR)
					st->isumsq += sign * x * x;
				break;
			}
		case ASOF_ACC_FLOAT:
			float_update(st, DatumGetFloat8(v), sign);
			break;
		case ASOF_ACC_NUMERIC:
			{
				Datum		x;

				/* NaN and infinities are counted, never accumulated */
				if (!st->spec->int8_input && numeric_is_nan(DatumGetNumeric(v)))
				{
					st->nnan += sign;
					break;
				}
				if (!st->spec->int8_input && numeric_is_inf(DatumGetNumeric(v)))
				{
					if (DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, v)) > 0)
						st->npinf += sign;
					else
						st->nninf += sign;
					break;
				}
				x = numeric_of(st, v);
				numeric_acc_update(st, &st->nsum, x, sign < 0);
				if (st->spec->agg == ASOF_AGG_STDDEV || st->spec->agg == ASOF_AGG_VAR)
				{
					Datum		sq = DirectFunctionCall2(numeric_mul, x, x);

					numeric_acc_update(st, &st->nsumsq, sq, sign < 0);
					pfree(DatumGetPointer(sq));
				}
				if (x != v)
					pfree(DatumGetPointer(x));
				break;
			}
		default:
			break;
	}
}

void
asof_agg_add(AsofAggState *st, Datum value, bool isnull, int64 te, int64 ta,
			 int64 window_start)
{
	const AsofAggSpec *spec = st->spec;

	switch (spec->acc)
	{
		case ASOF_ACC_COUNT:
			if (spec->agg == ASOF_AGG_COUNT_STAR || !isnull)
				st->n++;
			return;
		case ASOF_ACC_INT:
		case ASOF_ACC_FLOAT:
		case ASOF_ACC_NUMERIC:
			if (isnull)
				return;
			st->n++;
			moments_update(st, value, 1);
			return;
		case ASOF_ACC_EXTREME:
			if (isnull)
				return;
			st->n++;
			heap_push(st, value, te, window_start);
			return;
		case ASOF_ACC_LAST:
			{
				int			c;

				if (isnull && spec->agg == ASOF_AGG_LAST_NONNULL)
					return;
				if (st->has_last)
				{
					/* greatest te, then greatest ta, then greatest value */
					if (te != st->last_te)
						c = te > st->last_te ? 1 : -1;
					else if (ta != st->last_ta)
						c = ta > st->last_ta ? 1 : -1;
					else if (isnull)
						c = -1; /* NULL is lowest: never beats anything */
					else if (st->last_isnull)
						c = 1;
					else
						c = value_cmp(spec, value, st->last_value);
					if (c <= 0)
						return;
					if (!st->last_isnull)
						free_value(st, st->last_value);
				}
				st->has_last = true;
				st->last_te = te;
				st->last_ta = ta;
				st->last_isnull = isnull;
				st->last_value = isnull ? (Datum) 0 : copy_value(st, value);
				return;
			}
	}
}

void
asof_agg_remove(AsofAggState *st, Datum value, bool isnull)
{
	const AsofAggSpec *spec = st->spec;

	switch (spec->acc)
	{
		case ASOF_ACC_COUNT:
			if (spec->agg == ASOF_AGG_COUNT_STAR || !isnull)
				st->n--;
			return;
		case ASOF_ACC_INT:
		case ASOF_ACC_FLOAT:
		case ASOF_ACC_NUMERIC:
			if (isnull)
				return;
			st->n--;
			moments_update(st, value, -1);
			return;
		case ASOF_ACC_EXTREME:
			/* lazy: the entry dies by its event time; only count it */
			if (!isnull)
				st->n--;
			return;
		case ASOF_ACC_LAST:
			return;
	}
}

/* ----------------------------------------------------------------------
 * Read
 * ----------------------------------------------------------------------
 */
static void
read_int(AsofAggState *st, Datum *result, bool *isnull)
{
	const AsofAggSpec *spec = st->spec;
	int128	n = st->n;

	switch (spec->agg)
	{
		case ASOF_AGG_SUM:
			if (spec->input_type == INT8OID)
				*result = int128_to_numeric(st->isum);
			else
			{
				if (st->isum > PG_INT64_MAX || st->isum < PG_INT64_MIN)
					ereport(ERROR,
							(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
							 errmsg("bigint out of range")));
				*result = Int64GetDatum((int64) st->isum);
			}
			return;
		case ASOF_AGG_AVG:
			*result = Float8GetDatum(div_to_double(st->isum, n));
			return;
		case ASOF_AGG_VAR:
		case ASOF_AGG_STDDEV:
			{
				int128	a,
							b,
							num;
				double		var;

				if (n < 2)
				{
					*isnull = true;
					return;
				}
				if (__builtin_mul_overflow(n, st->isumsq, &a) ||
					__builtin_mul_overflow(st->isum, st->isum, &b) ||
					__builtin_sub_overflow(a, b, &num))
				{
					/* enormous windows: exact in numeric instead */
					Datum		nn = int128_to_numeric(n);
					Datum		nd;

					nd = DirectFunctionCall2(numeric_sub,
											 DirectFunctionCall2(numeric_mul, nn, int128_to_numeric(st->isumsq)),
											 DirectFunctionCall2(numeric_mul, int128_to_numeric(st->isum), int128_to_numeric(st->isum)));
					var = numeric_ratio_to_double(nd, int128_to_numeric(n * (n - 1)),
												  spec->agg == ASOF_AGG_STDDEV);
				}
				else if (spec->agg == ASOF_AGG_STDDEV)
				{
					/* sqrt of the exact variance, rounded once */
					if (!sqrt_ratio_fast(num, n * (n - 1), &var))
						var = numeric_ratio_to_double(int128_to_numeric(num),
													  int128_to_numeric(n * (n - 1)), true);
				}
				else
					var = div_to_double(num, n * (n - 1));
				*result = Float8GetDatum(var);
				return;
			}
		default:
			elog(ERROR, "unexpected aggregate for integer moments");
	}
}

static void
read_float(AsofAggState *st, Datum *result, bool *isnull)
{
	const AsofAggSpec *spec = st->spec;
	int64		nfinite = st->n - st->nnan - st->npinf - st->nninf;
	bool		nonfinite = st->nnan || st->npinf || st->nninf;
	double		special = 0;

	/* what PostgreSQL's float8 sum gives for infinities and NaN */
	if (st->nnan || (st->npinf && st->nninf))
		special = get_float8_nan();
	else if (st->npinf)
		special = get_float8_infinity();
	else if (st->nninf)
		special = -get_float8_infinity();

	switch (spec->agg)
	{
		case ASOF_AGG_SUM:
			/* a sum beyond the double range is +-Infinity (IEEE) */
			*result = Float8GetDatum(nonfinite ? special : st->fsum_over ?
									 ldexp(ksum_value(&st->fssum), 64) :
									 ksum_value(&st->fsum));
			return;
		case ASOF_AGG_AVG:
			*result = Float8GetDatum(nonfinite ? special : st->fsum_over ?
									 ldexp(ksum_value(&st->fssum) / (double) nfinite, 64) :
									 ksum_value(&st->fsum) / (double) nfinite);
			return;
		case ASOF_AGG_VAR:
		case ASOF_AGG_STDDEV:
			{
				double		ds,
							num,
							var;

				if (st->n < 2)
				{
					*isnull = true;
					return;
				}
				if (nonfinite || st->nsqover)
				{
					/* PostgreSQL: NaN with infinities; overflow errors there */
					*result = Float8GetDatum(get_float8_nan());
					return;
				}
				ds = ksum_value(&st->fdsum);
				num = ksum_value(&st->fdsq) - ds * ds / (double) nfinite;
				if (num < 0)
					num = 0;
				var = num / (double) (nfinite - 1);
				if (st->fsq_scaled)		/* +Infinity beyond the range */
					*result = Float8GetDatum(spec->agg == ASOF_AGG_VAR ?
											 ldexp(var, 2 * ASOF_SQ_SCALE) :
											 ldexp(sqrt(var), ASOF_SQ_SCALE));
				else
					*result = Float8GetDatum(spec->agg == ASOF_AGG_VAR ? var : sqrt(var));
				return;
			}
		default:
			elog(ERROR, "unexpected aggregate for floating-point moments");
	}
}

static void
read_numeric(AsofAggState *st, Datum *result, bool *isnull)
{
	const AsofAggSpec *spec = st->spec;
	Datum		n = NumericGetDatum(int64_to_numeric(st->n));

	if (st->nnan || st->npinf || st->nninf)
	{
		/* PostgreSQL's numeric aggregates: NaN wins, +Inf and -Inf give NaN */
		const char *special = (st->nnan || (st->npinf && st->nninf)) ? "NaN" :
			st->npinf ? "Infinity" : "-Infinity";

		if (spec->agg == ASOF_AGG_SUM)
			*result = DirectFunctionCall3(numeric_in, CStringGetDatum(special),
										  ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
		else if (spec->agg == ASOF_AGG_AVG)
			*result = DirectFunctionCall1(float8in, CStringGetDatum(special));
		else if (st->n < 2)
			*isnull = true;
		else					/* variances: any infinity or NaN gives NaN */
			*result = Float8GetDatum(get_float8_nan());
		return;
	}
	switch (spec->agg)
	{
		case ASOF_AGG_SUM:
			*result = datumCopy(st->nsum, false, -1);
			return;
		case ASOF_AGG_AVG:
			*result = Float8GetDatum(numeric_ratio_to_double(st->nsum, n, false));
			return;
		case ASOF_AGG_VAR:
		case ASOF_AGG_STDDEV:
			{
				Datum		num,
							den;
				double		var;

				if (st->n < 2)
				{
					*isnull = true;
					return;
				}
				num = DirectFunctionCall2(numeric_sub,
										  DirectFunctionCall2(numeric_mul, n, st->nsumsq),
										  DirectFunctionCall2(numeric_mul, st->nsum, st->nsum));
				den = NumericGetDatum(int64_to_numeric(st->n * (st->n - 1)));
				var = numeric_ratio_to_double(num, den, spec->agg == ASOF_AGG_STDDEV);
				*result = Float8GetDatum(var);
				return;
			}
		default:
			elog(ERROR, "unexpected aggregate for numeric moments");
	}
}

void
asof_agg_read(AsofAggState *st, int64 window_start, Datum *result, bool *isnull)
{
	const AsofAggSpec *spec = st->spec;

	*isnull = false;
	*result = (Datum) 0;
	switch (spec->acc)
	{
		case ASOF_ACC_COUNT:
			*result = Int64GetDatum(st->n);
			return;
		case ASOF_ACC_LAST:
			if (!st->has_last || st->last_isnull)
				*isnull = true;
			else
				*result = denormalize(spec, st->last_value);
			return;
		default:
			break;
	}

	/* every other aggregate over an empty window is NULL */
	if (st->n == 0)
	{
		*isnull = true;
		return;
	}
	switch (spec->acc)
	{
		case ASOF_ACC_INT:
			read_int(st, result, isnull);
			return;
		case ASOF_ACC_FLOAT:
			read_float(st, result, isnull);
			return;
		case ASOF_ACC_NUMERIC:
			read_numeric(st, result, isnull);
			return;
		case ASOF_ACC_EXTREME:
			while (st->heap_n > 0 && st->heap[0].te < window_start)
				heap_pop(st);
			if (st->heap_n == 0)
				elog(ERROR, "min/max heap is empty while its window holds %lld values",
					 (long long) st->n);
			*result = denormalize(spec, st->heap[0].value);
			return;
		default:
			break;
	}
}

bool
asof_agg_last_te(const AsofAggState *st, int64 *te)
{
	if (!st->has_last)
		return false;
	*te = st->last_te;
	return true;
}
