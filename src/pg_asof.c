/*-------------------------------------------------------------------------
 *
 * pg_asof.c
 *	  Module entry point: refuses to load outside shared_preload_libraries
 *	  (except into pg_upgrade's binary-upgrade server, without hooks), then
 *	  lets each part install its settings and hooks.  No logic of its
 *	  own lives here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "compat.h"
#include "pg_asof.h"
#include "serving_log.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	/*
	 * The leakage guard works through executor and planner hooks that must
	 * be in place in every backend from its start: a library loaded later
	 * (by CREATE EXTENSION or LOAD) would leave the guard silently off in
	 * other sessions, which is worse than no guard.
	 */
	if (!process_shared_preload_libraries_in_progress)
	{
		/*
		 * pg_upgrade LOADs every library the old cluster's functions name
		 * into the new server, which runs in binary-upgrade mode: no
		 * session but pg_upgrade's can connect, so there is nothing to
		 * guard.  Load without hooks (as pg_cron does).
		 */
		if (IsBinaryUpgrade)
			return;
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_asof must be loaded via \"shared_preload_libraries\""),
				 errdetail("The leakage guard installs its hooks when the server starts; loaded later it would be off in other sessions."),
				 errhint("Add pg_asof to \"shared_preload_libraries\" in postgresql.conf and restart the server.")));
	}

	asof_training_set_init();
	asof_guard_init();
	asof_clock_init();
	asof_serving_log_init();

	asof_reserve_guc_prefix("asof");
}

PG_FUNCTION_INFO_V1(asof_version);

/*
 * asof.version(): the library's version, to compare with the extension's.
 */
Datum
asof_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(PG_ASOF_VERSION));
}
