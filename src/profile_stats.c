/*-------------------------------------------------------------------------
 *
 * profile_stats.c
 *	  The accumulator behind asof.profile (docs/validation.md): one pass
 *	  over (time, columns...) rows counts, per partition and column, every
 *	  distinct value exactly, then derives the statistics from those
 *	  counts.
 *
 *	  Owns: partition arithmetic (absolute microseconds, origin
 *	  2000-01-03 00:00, never the session's TimeZone), the value hash
 *	  tables, exact distinct counts, the most frequent value, mean and
 *	  sample standard deviation, min/max and percentile_disc quantiles,
 *	  values unseen in earlier partitions.
 *	  Must not: run queries, look at the guard, call any function of the
 *	  column's type except its output function (for the most frequent
 *	  value) and the built-in numeric-to-float8 conversion.  Values are
 *	  compared by their binary representation, which for every built-in
 *	  type is equality of their text forms (1.0 and 1.00 are two values).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "profile.h"

/* One value of one column in one partition (part -1: the seen-set). */
typedef struct ValKey
{
	int32		part;
	uint32		hash;			/* of the value's bytes */
	int32		len;			/* bytes compared; -1: by-value Datum */
	const char *data;			/* bytes compared (by reference types) */
	Datum		val;			/* the value, for output */
} ValKey;

typedef struct ValEntry
{
	ValKey		key;
	char		status;
	int64		count;
	double		num;			/* numeric columns: the value as float8 */
} ValEntry;

#define SH_PREFIX		valtab
#define SH_ELEMENT_TYPE	ValEntry
#define SH_KEY_TYPE		ValKey
#define SH_KEY			key
#define SH_HASH_KEY(tb, k)	hash_combine((k).hash, murmurhash32((uint32) (k).part))
#define SH_EQUAL(tb, a, b)	valkey_equal(&(a), &(b))
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
static inline bool valkey_equal(const ValKey *a, const ValKey *b);
#include "lib/simplehash.h"

typedef struct PartEntry
{
	int64		start;
	char		status;
	int32		index;
} PartEntry;

#define SH_PREFIX		parttab
#define SH_ELEMENT_TYPE	PartEntry
#define SH_KEY_TYPE		int64
#define SH_KEY			start
#define SH_HASH_KEY(tb, k)	murmurhash32((uint32) ((k) ^ ((k) >> 32)))
#define SH_EQUAL(tb, a, b)	((a) == (b))
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

typedef struct ProfileColumn
{
	Oid			type;
	int16		typlen;
	bool		typbyval;
	ProfileKind kind;
	valtab_hash *values;
	ProfileStats *stats;		/* per final partition, after finish */
} ProfileColumn;

typedef struct ProfilePart
{
	int64		start;
	int64		rows;
	int64	   *nulls;			/* per column */
} ProfilePart;

struct ProfileScan
{
	DestReceiver pub;
	MemoryContext cxt;			/* everything */
	MemoryContext rowcxt;		/* detoasted values, reset every few rows */
	Oid			time_type;
	int64		grain;
	int			ncols;
	ProfileColumn *cols;
	parttab_hash *parts;
	ProfilePart *seen;			/* partitions in order of first row */
	int			nseen,
				maxseen;
	int			last;			/* index of the last row's partition */
	int64		skipped;		/* rows with a NULL or infinite time */
	int64		nrows;
	/* after finish */
	int			nfinal;
	int64	   *final_start;
	int		   *final_seen;		/* index into seen[], or -1 (empty) */
};

static inline bool
valkey_equal(const ValKey *a, const ValKey *b)
{
	if (a->part != b->part || a->hash != b->hash || a->len != b->len)
		return false;
	if (a->len < 0)
		return a->val == b->val;
	return memcmp(a->data, b->data, a->len) == 0;
}

/* The bytes a value is compared by, and their hash. */
static void
value_key(ProfileColumn *c, Datum d, ValKey *k)
{
	if (c->typbyval)
	{
		uint64		x = (uint64) d;

		k->len = -1;
		k->data = NULL;
		k->val = d;
		k->hash = hash_combine(murmurhash32((uint32) x), murmurhash32((uint32) (x >> 32)));
		return;
	}
	if (c->typlen == -1)
	{
		struct varlena *v = (struct varlena *) PG_DETOAST_DATUM_PACKED(d);

		k->data = VARDATA_ANY(v);
		k->len = VARSIZE_ANY_EXHDR(v);
		k->val = PointerGetDatum(v);
	}
	else if (c->typlen == -2)
	{
		k->data = DatumGetCString(d);
		k->len = strlen(k->data);
		k->val = d;
	}
	else
	{
		k->data = DatumGetPointer(d);
		k->len = c->typlen;
		k->val = d;
	}
	k->hash = hash_bytes((const unsigned char *) k->data, k->len);
}

/* Copy a new entry's value into the scan's context. */
static void
value_copy(ProfileScan *s, ProfileColumn *c, ValKey *k)
{
	char	   *copy;

	if (k->len < 0)
		return;
	if (c->typlen == -1)
	{
		copy = MemoryContextAlloc(s->cxt, k->len + VARHDRSZ);
		SET_VARSIZE(copy, k->len + VARHDRSZ);
		memcpy(VARDATA(copy), k->data, k->len);
		k->data = VARDATA(copy);
	}
	else
	{
		copy = MemoryContextAlloc(s->cxt, k->len + 1);
		memcpy(copy, k->data, k->len);
		copy[k->len] = '\0';
		k->data = copy;
	}
	k->val = PointerGetDatum(copy);
}

static double
value_number(Oid type, Datum d)
{
	switch (type)
	{
		case INT2OID:
			return (double) DatumGetInt16(d);
		case INT4OID:
			return (double) DatumGetInt32(d);
		case INT8OID:
			return (double) DatumGetInt64(d);
		case FLOAT4OID:
			return (double) DatumGetFloat4(d);
		case FLOAT8OID:
			return DatumGetFloat8(d);
		case NUMERICOID:
			return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, d));
	}
	elog(ERROR, "type %u is not numeric", type);
	return 0;
}

ProfileScan *
profile_scan_create(Oid time_type, int64 grain, int ncols, const Oid *types)
{
	ProfileScan *s = palloc0(sizeof(ProfileScan));

	s->cxt = AllocSetContextCreate(CurrentMemoryContext, "asof profile",
								   ALLOCSET_DEFAULT_SIZES);
	s->rowcxt = AllocSetContextCreate(s->cxt, "asof profile row",
									  ALLOCSET_DEFAULT_SIZES);
	s->time_type = time_type;
	s->grain = grain;
	s->ncols = ncols;
	s->cols = palloc0(sizeof(ProfileColumn) * Max(ncols, 1));
	for (int i = 0; i < ncols; i++)
	{
		ProfileColumn *c = &s->cols[i];
		Oid			base = getBaseType(types[i]);
		char		category;
		bool		preferred;

		c->type = base;
		get_typlenbyval(base, &c->typlen, &c->typbyval);
		get_type_category_preferred(base, &category, &preferred);
		if (base == INT2OID || base == INT4OID || base == INT8OID ||
			base == FLOAT4OID || base == FLOAT8OID || base == NUMERICOID)
			c->kind = PROFILE_NUMERIC;
		else if (category == TYPCATEGORY_STRING || category == TYPCATEGORY_ENUM)
			c->kind = PROFILE_CATEGORICAL;
		else
			c->kind = PROFILE_OTHER;
		c->values = valtab_create(s->cxt, 1024, NULL);
	}
	s->parts = parttab_create(s->cxt, 64, NULL);
	s->last = -1;
	return s;
}

/* The partition of a row, created on first sight. */
static int
partition_of(ProfileScan *s, int64 t)
{
	int64		r = (t - PROFILE_ORIGIN) % s->grain;
	int64		start;
	PartEntry  *pe;
	bool		found;

	if (r < 0)
		r += s->grain;
	start = t - r;
	if (s->last >= 0 && s->seen[s->last].start == start)
		return s->last;
	pe = parttab_insert(s->parts, start, &found);
	if (!found)
	{
		if (s->nseen == s->maxseen)
		{
			s->maxseen = Max(64, s->maxseen * 2);
			s->seen = s->seen ? repalloc(s->seen, sizeof(ProfilePart) * s->maxseen)
				: MemoryContextAlloc(s->cxt, sizeof(ProfilePart) * s->maxseen);
		}
		s->seen[s->nseen].start = start;
		s->seen[s->nseen].rows = 0;
		s->seen[s->nseen].nulls = MemoryContextAllocZero(s->cxt, sizeof(int64) * Max(s->ncols, 1));
		pe->index = s->nseen++;
	}
	s->last = pe->index;
	return pe->index;
}

static bool
profile_receive(TupleTableSlot *slot, DestReceiver *self)
{
	ProfileScan *s = (ProfileScan *) self;
	MemoryContext old;
	int64		t;
	int			p;

	slot_getallattrs(slot);
	if (slot->tts_isnull[0])
	{
		s->skipped++;
		return true;
	}
	if (s->time_type == DATEOID)
	{
		DateADT		d = DatumGetDateADT(slot->tts_values[0]);

		if (DATE_NOT_FINITE(d))
		{
			s->skipped++;
			return true;
		}
		t = (int64) d * USECS_PER_DAY;
	}
	else
	{
		t = DatumGetInt64(slot->tts_values[0]);
		if (TIMESTAMP_NOT_FINITE(t))
		{
			s->skipped++;
			return true;
		}
	}
	if ((++s->nrows & 1023) == 0)
	{
		MemoryContextReset(s->rowcxt);
		CHECK_FOR_INTERRUPTS();
	}
	old = MemoryContextSwitchTo(s->rowcxt);
	p = partition_of(s, t);
	s->seen[p].rows++;
	for (int i = 0; i < s->ncols; i++)
	{
		ProfileColumn *c = &s->cols[i];
		ValKey		k;
		ValEntry   *e;
		bool		found;

		if (slot->tts_isnull[i + 1])
		{
			s->seen[p].nulls[i]++;
			continue;
		}
		value_key(c, slot->tts_values[i + 1], &k);
		k.part = p;
		e = valtab_insert(c->values, k, &found);
		if (!found)
		{
			if (c->kind == PROFILE_NUMERIC)
				e->num = value_number(c->type, k.val);
			value_copy(s, c, &e->key);
			e->count = 0;
		}
		e->count++;
	}
	MemoryContextSwitchTo(old);
	return true;
}

static void
profile_startup(DestReceiver *self, int operation, TupleDesc desc)
{
}

static void
profile_noop(DestReceiver *self)
{
}

DestReceiver *
profile_scan_receiver(ProfileScan *s)
{
	s->pub.receiveSlot = profile_receive;
	s->pub.rStartup = profile_startup;
	s->pub.rShutdown = profile_noop;
	s->pub.rDestroy = profile_noop;
	s->pub.mydest = DestNone;
	return &s->pub;
}

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a,
				y = *(const int64 *) b;

	return x < y ? -1 : x > y;
}

static int
cmp_num(const void *a, const void *b)
{
	const ValEntry *x = *(ValEntry *const *) a,
			   *y = *(ValEntry *const *) b;

	/* PostgreSQL's float8 order: NaN after every other value */
	return float8_cmp_internal(x->num, y->num);
}

/* percentile_disc: the first value whose cumulative count reaches ceil(p n) */
static double
quantile(ValEntry **v, int nv, int64 n, double p)
{
	int64		target = (int64) ceil(p * (double) n);
	int64		cum = 0;

	if (target < 1)
		target = 1;
	for (int i = 0; i < nv; i++)
	{
		cum += v[i]->count;
		if (cum >= target)
			return v[i]->num;
	}
	return v[nv - 1]->num;
}

/*
 * Whether a should be the most frequent value rather than b (same count):
 * the smaller number for numeric columns, else the smaller text in byte
 * order.
 */
static bool
top_before(ProfileColumn *c, Oid out, ValEntry *a, ValEntry *b, char **btext)
{
	char	   *at;

	if (c->kind == PROFILE_NUMERIC && float8_cmp_internal(a->num, b->num) != 0)
	{
		if (float8_cmp_internal(a->num, b->num) > 0)
			return false;
		*btext = NULL;			/* the top changes: its text is not known */
		return true;
	}
	if (*btext == NULL)
		*btext = OidOutputFunctionCall(out, b->key.val);
	at = OidOutputFunctionCall(out, a->key.val);
	if (strcmp(at, *btext) < 0)
	{
		*btext = at;
		return true;
	}
	return false;
}

/* Statistics of one column in one partition from its value counts. */
static void
column_stats(ProfileColumn *c, Oid out, ValEntry **v, int nv,
			 int64 rows, int64 nulls, ProfileStats *st)
{
	int64		n = rows - nulls;
	ValEntry   *top = NULL;
	char	   *toptext = NULL;

	memset(st, 0, sizeof(*st));
	st->rows = rows;
	st->nulls = nulls;
	st->distinct = nv;
	if (nv == 0)
		return;
	for (int i = 0; i < nv; i++)
		if (top == NULL || v[i]->count > top->count ||
			(v[i]->count == top->count && top_before(c, out, v[i], top, &toptext)))
		{
			if (top != NULL && v[i]->count > top->count)
				toptext = NULL;
			top = v[i];
		}
	st->top_value = toptext ? toptext : OidOutputFunctionCall(out, top->key.val);
	st->top_fraction = (double) top->count / (double) n;
	if (c->kind == PROFILE_NUMERIC)
	{
		long double sum = 0,
					ss = 0,
					mean;

		qsort(v, nv, sizeof(ValEntry *), cmp_num);
		for (int i = 0; i < nv; i++)
			sum += (long double) v[i]->num * v[i]->count;
		mean = sum / n;
		for (int i = 0; i < nv; i++)
			ss += ((long double) v[i]->num - mean) * ((long double) v[i]->num - mean) * v[i]->count;
		st->has_numbers = true;
		st->mean = (double) mean;
		st->has_stddev = n > 1;
		st->stddev = n > 1 ? sqrt((double) (ss / (n - 1))) : 0;
		st->min = v[0]->num;
		st->max = v[nv - 1]->num;
		st->p05 = quantile(v, nv, n, 0.05);
		st->p50 = quantile(v, nv, n, 0.50);
		st->p95 = quantile(v, nv, n, 0.95);
	}
}

/* Values of a categorical column unseen in earlier partitions. */
static void
column_novelty(valtab_hash *seen, ValEntry **v, int nv, ProfileStats *st)
{
	st->has_novelty = nv > 0;
	for (int i = 0; i < nv; i++)
	{
		ValKey		k = v[i]->key;

		k.part = -1;
		if (valtab_lookup(seen, k) == NULL)
		{
			st->new_values++;
			st->new_rows += v[i]->count;
		}
	}
	for (int i = 0; i < nv; i++)
	{
		ValKey		k = v[i]->key;
		bool		found;

		k.part = -1;
		(void) valtab_insert(seen, k, &found);
	}
}

/* Too many partitions for one call: the grain is too short for the span. */
#define PROFILE_MAX_PARTITIONS	1000000

int
profile_scan_finish(ProfileScan *s)
{
	MemoryContext old = MemoryContextSwitchTo(s->cxt);
	int64	   *starts;
	int64		first,
				last,
				span;

	/* phase 1: the partitions in time order, gaps included */
	s->nfinal = 0;
	if (s->nseen > 0)
	{
		starts = palloc(sizeof(int64) * s->nseen);
		for (int i = 0; i < s->nseen; i++)
			starts[i] = s->seen[i].start;
		qsort(starts, s->nseen, sizeof(int64), cmp_int64);
		first = starts[0];
		last = starts[s->nseen - 1];
		span = (last - first) / s->grain + 1;
		if (span > PROFILE_MAX_PARTITIONS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("profile would have %lld partitions, more than %d",
							(long long) span, PROFILE_MAX_PARTITIONS),
					 errhint("Choose a longer grain, or a shorter period.")));
		s->nfinal = (int) span;
		s->final_start = palloc(sizeof(int64) * s->nfinal);
		s->final_seen = palloc(sizeof(int) * s->nfinal);
		for (int f = 0; f < s->nfinal; f++)
		{
			PartEntry  *pe;

			s->final_start[f] = first + f * s->grain;
			pe = parttab_lookup(s->parts, s->final_start[f]);
			s->final_seen[f] = pe ? pe->index : -1;
		}
	}

	/* phase 2: per column, its entries grouped by partition, then statistics */
	for (int i = 0; i < s->ncols; i++)
	{
		ProfileColumn *c = &s->cols[i];
		int		   *count = palloc0(sizeof(int) * (s->nseen + 1));
		int		   *offset = palloc0(sizeof(int) * (s->nseen + 1));
		ValEntry  **byp = palloc(sizeof(ValEntry *) * Max(c->values->members, 1));
		valtab_iterator it;
		ValEntry   *e;
		valtab_hash *seen = NULL;
		Oid			out;
		bool		isvarlena;

		getTypeOutputInfo(c->type, &out, &isvarlena);
		valtab_start_iterate(c->values, &it);
		while ((e = valtab_iterate(c->values, &it)) != NULL)
			count[e->key.part]++;
		for (int p = 1; p <= s->nseen; p++)
			offset[p] = offset[p - 1] + count[p - 1];
		memset(count, 0, sizeof(int) * (s->nseen + 1));
		valtab_start_iterate(c->values, &it);
		while ((e = valtab_iterate(c->values, &it)) != NULL)
			byp[offset[e->key.part] + count[e->key.part]++] = e;
		if (c->kind == PROFILE_CATEGORICAL)
			seen = valtab_create(s->cxt, 1024, NULL);
		c->stats = palloc0(sizeof(ProfileStats) * Max(s->nfinal, 1));
		for (int f = 0; f < s->nfinal; f++)
		{
			int			p = s->final_seen[f];

			if (p < 0)
				continue;		/* empty partition: all zero */
			column_stats(c, out, byp + offset[p], count[p],
						 s->seen[p].rows, s->seen[p].nulls[i], &c->stats[f]);
			if (seen)
				column_novelty(seen, byp + offset[p], count[p], &c->stats[f]);
			CHECK_FOR_INTERRUPTS();
		}
	}
	MemoryContextSwitchTo(old);
	return s->nfinal;
}

int64
profile_scan_partition_start(ProfileScan *s, int part)
{
	return s->final_start[part];
}

void
profile_scan_stats(ProfileScan *s, int part, int col, ProfileStats *out)
{
	*out = s->cols[col].stats[part];
}

int64
profile_scan_skipped(ProfileScan *s)
{
	return s->skipped;
}
