/*-------------------------------------------------------------------------
 *
 * guard.c
 *	  The leakage guard's settings (asof.guard, asof.require_split) and the
 *	  installation of its hooks, called from _PG_init, with the one hook
 *	  that has no file of its own: a dropped relation's registration is
 *	  removed with it (object_access_hook).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/plancache.h"

#include "guard.h"
#include "guard_registry.h"
#include "pg_asof.h"

static object_access_hook_type prev_object_access_hook = NULL;

/*
 * Switching the guard off is logged; switching it in either direction drops
 * cached plans, which were built for the other setting.
 */
static void
asof_guard_assign(bool newval, void *extra)
{
	if (newval == asof_guard_enabled)
		return;
	if (!newval && IsUnderPostmaster && !IsParallelWorker())
	{
		/* No catalog access outside a live transaction (e.g. at abort). */
		const char *who = NULL;

		if (IsTransactionState() && OidIsValid(GetSessionUserId()))
			who = GetUserNameFromId(GetSessionUserId(), true);
		ereport(LOG,
				(errmsg("pg_asof leakage guard switched off for session user \"%s\"",
						who ? who : "(unknown)"),
				 errhidestmt(true)));
	}
	ResetPlanCache();
}

/*
 * A dropped relation takes its registration with it (guard_registry.c),
 * temporary tables dropped at the end of their session included.
 */
static void
asof_object_access(ObjectAccessType access, Oid classId, Oid objectId,
				   int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
	if (access == OAT_DROP && classId == RelationRelationId && subId == 0 &&
		IsTransactionState())
		asof_registry_forget(objectId);
}

void
asof_guard_init(void)
{
	DefineCustomBoolVariable("asof.guard",
							 "Enables the pg_asof leakage guard.",
							 "When on (the default), label and future columns of protected tables cannot be read before their train/test split, and held-out rows are invisible after it, to every role.  Only superusers can change it; switching it off is written to the server log.",
							 &asof_guard_enabled,
							 true,
							 PGC_SUSET,
							 0,
							 NULL,
							 asof_guard_assign,
							 NULL);
	DefineCustomBoolVariable("asof.require_split",
							 "Refuses every read of a protected table that has no train/test split yet.",
							 "When off (the default), the columns of a protected table other than its label and future columns can be read before its split.",
							 &asof_require_split,
							 false,
							 PGC_USERSET,
							 0,
							 NULL,
							 NULL,
							 NULL);
	asof_guard_state_init();
	prev_object_access_hook = object_access_hook;
	object_access_hook = asof_object_access;
	asof_guard_columns_init();
	asof_guard_rows_init();
	asof_guard_utility_init();
}
