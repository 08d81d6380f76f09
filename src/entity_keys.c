/*-------------------------------------------------------------------------
 *
 * entity_keys.c
 *	  Entity keys to dense ids for one-column integer and text keys
 *	  (entity_keys.h): a simplehash over the value (integers) or the bytes
 *	  (text types with a deterministic collation, where texteq is byte
 *	  equality).
 *
 *	  Owns: which keys qualify, the hash table.
 *	  Must not: copy keys.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "utils/lsyscache.h"

#include "compat.h"
#include "entity_keys.h"

typedef struct KeyEntry
{
	Datum		key;			/* the value, or a pointer to the detoasted
								 * varlena */
	uint32		hash;
	int32		id;
	char		status;
} KeyEntry;

static inline bool
key_equal(bool bytes, Datum a, Datum b)
{
	if (!bytes)
		return a == b;
	else
	{
		struct varlena *va = (struct varlena *) DatumGetPointer(a);
		struct varlena *vb = (struct varlena *) DatumGetPointer(b);
		Size		la = VARSIZE_ANY_EXHDR(va);

		return la == VARSIZE_ANY_EXHDR(vb) &&
			memcmp(VARDATA_ANY(va), VARDATA_ANY(vb), la) == 0;
	}
}

static inline uint32
key_hash(bool bytes, Datum k)
{
	if (!bytes)
		return murmurhash32((uint32) k ^ murmurhash32((uint32) ((uint64) k >> 32)));
	else
	{
		struct varlena *v = (struct varlena *) DatumGetPointer(k);

		return hash_bytes((const unsigned char *) VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
	}
}

#define SH_PREFIX keymap
#define SH_ELEMENT_TYPE KeyEntry
#define SH_KEY_TYPE Datum
#define SH_KEY key
/* private_data: a bool, true to compare bytes (text), else values */
#define SH_HASH_KEY(tb, k) key_hash(*(bool *) (tb)->private_data, k)
#define SH_EQUAL(tb, a, b) key_equal(*(bool *) (tb)->private_data, a, b)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) a->hash
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

struct AsofEntityKeys
{
	keymap_hash *table;
	bool		bytes;
	int16		typlen;			/* integers: 2, 4 or 8 */
};

AsofEntityKeys *
asof_entity_keys_create(Oid type, Oid collation, MemoryContext cxt)
{
	AsofEntityKeys *m;
	bool		bytes;

	switch (type)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			bytes = false;
			break;
		case TEXTOID:
		case VARCHAROID:
			/* texteq compares bytes only under a deterministic collation */
			if (!OidIsValid(collation) || !get_collation_isdeterministic(collation))
				return NULL;
			bytes = true;
			break;
		default:
			return NULL;
	}
	m = MemoryContextAllocZero(cxt, sizeof(AsofEntityKeys));
	m->bytes = bytes;
	m->typlen = get_typlen(type);
	m->table = keymap_create(cxt, 1024, &m->bytes);
	return m;
}

int32
asof_entity_keys_lookup(AsofEntityKeys *m, Datum key, bool insert, int32 newid,
						bool *isnew)
{
	KeyEntry   *entry;
	bool		found;

	*isnew = false;
	if (!m->bytes)
	{
		/* the value, sign-extended alike for every integer width */
		if (m->typlen == 2)
			key = Int64GetDatum((int64) DatumGetInt16(key));
		else if (m->typlen == 4)
			key = Int64GetDatum((int64) DatumGetInt32(key));
	}
	if (!insert)
	{
		entry = keymap_lookup(m->table, key);
		return entry ? entry->id : 0;
	}
	entry = keymap_insert(m->table, key, &found);
	if (!found)
	{
		entry->id = newid;
		*isnew = true;
	}
	return entry->id;
}
