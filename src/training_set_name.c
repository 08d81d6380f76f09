/*-------------------------------------------------------------------------
 *
 * training_set_name.c
 *	  The name of a training set's output table, claimed for the building
 *	  transaction (docs/engine.md, "Concurrent builds").
 *
 *	  Two asof.build_training_set calls naming the same table used to both
 *	  start building; the second then waited on the first's uncommitted
 *	  pg_type row and failed, once the first committed, with a unique
 *	  violation of a system catalog.  Here the name is claimed with a
 *	  transaction-level advisory lock keyed on (database, schema, table
 *	  name), taken without waiting: a second builder is refused at once
 *	  (42P07, with a hint), and the table's existence is looked up again
 *	  under the lock, so a build that committed just before is seen too.
 *
 *	  Owns: the lock tag, taking it, the error for a name another
 *	  transaction is building.
 *	  Must not: create the table or report that it already exists
 *	  (training_set.c does both).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"

#include "training_set_name.h"

/*
 * Advisory lock tags: field1 database, field2 schema OID, field3 hash of
 * the table name, field4 this class.  pg_advisory_lock() uses 1 and 2 in
 * field4, so user advisory locks never collide with these.  In pg_locks: an
 * advisory lock with classid = schema OID, objid = name hash, objsubid =
 * ASOF_LOCK_TRAINING_SET_NAME.
 */
#define ASOF_LOCK_TRAINING_SET_NAME	0x6173	/* "as" */

Oid
asof_claim_training_set_name(Oid nsp, const char *relname)
{
	LOCKTAG		tag;
	uint32		namehash;

	/* the claim: this transaction's, or refused at once */
	namehash = DatumGetUInt32(hash_any((const unsigned char *) relname,
									   strlen(relname)));
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, nsp, namehash,
						 ASOF_LOCK_TRAINING_SET_NAME);
	if (LockAcquire(&tag, ExclusiveLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("training set \"%s.%s\" is being built by another transaction",
						get_namespace_name(nsp), relname),
				 errdetail("Another call of asof.build_training_set with this table name has not yet committed or rolled back."),
				 errhint("Choose another name for the training set, or retry when the other transaction has ended (if it commits, drop its table first).")));

	/* under the claim: a build committed before it was taken is visible */
	AcceptInvalidationMessages();
	return get_relname_relid(relname, nsp);
}
