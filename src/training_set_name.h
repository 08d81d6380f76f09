/*-------------------------------------------------------------------------
 *
 * training_set_name.h
 *	  Claiming a training set's table name for the building transaction
 *	  (training_set_name.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ASOF_TRAINING_SET_NAME_H
#define PG_ASOF_TRAINING_SET_NAME_H

#include "postgres.h"

/*
 * Claims table name relname in schema nsp for the current transaction
 * (released at its end, or at the end of the subtransaction that took it
 * if that aborts).  Raises 42P07 at once when another transaction holds
 * the claim.  Returns the OID of an existing relation of that name, looked
 * up under the claim, or InvalidOid.
 */
extern Oid	asof_claim_training_set_name(Oid nsp, const char *relname);

#endif							/* PG_ASOF_TRAINING_SET_NAME_H */
