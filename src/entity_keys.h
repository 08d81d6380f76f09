/*-------------------------------------------------------------------------
 *
 * entity_keys.h
 *	  The engine's map from entity keys to dense ids (1, 2, ...) when the
 *	  entity is one column of an integer type (int2, int4, int8) or of a
 *	  text type with a deterministic collation (text, varchar): equality is
 *	  then equality of the value or of the bytes, so the map hashes and
 *	  compares them directly instead of calling the type's hash and
 *	  equality functions through a generic tuple hash table.  Every other
 *	  key goes through the generic table in engine.c.
 *
 *	  Owns: which keys qualify, the hash table.
 *	  Must not: copy keys (the caller keeps them alive as long as the map).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_ENTITY_KEYS_H
#define PG_ASOF_ENTITY_KEYS_H

#include "postgres.h"

typedef struct AsofEntityKeys AsofEntityKeys;

/* NULL when the key type does not qualify. */
extern AsofEntityKeys *asof_entity_keys_create(Oid type, Oid collation,
											   MemoryContext cxt);

/*
 * The id of key, 0 when absent; with insert, an absent key gets id
 * newid (*isnew set) and the map keeps the pointer key (not a copy).
 */
extern int32 asof_entity_keys_lookup(AsofEntityKeys *m, Datum key,
									 bool insert, int32 newid, bool *isnew);

#endif							/* PG_ASOF_ENTITY_KEYS_H */
