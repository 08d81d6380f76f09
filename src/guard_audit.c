/*-------------------------------------------------------------------------
 *
 * guard_audit.c
 *	  Audit records that survive the caller's rollback (G4).  PostgreSQL
 *	  has no autonomous transactions, so the record is written by a dynamic
 *	  background worker connected to the same database, in a transaction of
 *	  its own; the caller waits until the worker has committed (or fails if
 *	  it could not), so asof.unseal never opens the test set unaudited.
 *
 *	  Must not: decide whether an unseal is allowed (guard_api.c does).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "guard_registry.h"
#include "guard.h"

typedef struct AsofAuditArgs
{
	Oid			dbid;
	Oid			connect_as;		/* the registry's owner */
	Oid			relid;
	bool		done;			/* set by the worker after its commit */
	char		table_name[2 * NAMEDATALEN + 8];
	char		role[NAMEDATALEN];
	char		event[32];
	char		detail[FLEXIBLE_ARRAY_MEMBER];
} AsofAuditArgs;

PGDLLEXPORT void asof_audit_worker_main(Datum arg);

void
asof_audit_autonomous(Oid relid, const char *table_name, const char *event,
					  const char *detail)
{
	dsm_segment *seg;
	AsofAuditArgs *args;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	Relation	reg;
	Size		size = offsetof(AsofAuditArgs, detail) + strlen(detail) + 1;

	seg = dsm_create(size, 0);
	args = dsm_segment_address(seg);
	memset(args, 0, size);
	args->dbid = MyDatabaseId;
	reg = table_open(asof_registry_registry_relid(), AccessShareLock);
	args->connect_as = reg->rd_rel->relowner;
	table_close(reg, AccessShareLock);
	args->relid = relid;
	strlcpy(args->table_name, table_name, sizeof(args->table_name));
	/* The caller of the public guard function, not its implementation's owner. */
	strlcpy(args->role,
			GetUserNameFromId(OidIsValid(asof_guard_api_caller()) ?
							  asof_guard_api_caller() : GetUserId(), false),
			sizeof(args->role));
	strlcpy(args->event, event, sizeof(args->event));
	strcpy(args->detail, detail);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_asof");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "asof_audit_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_asof audit writer");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_asof audit writer");
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start the pg_asof audit writer"),
				 errdetail("The test set is opened only after its audit record is committed."),
				 errhint("Raise max_worker_processes, or retry when fewer background workers run.")));
	status = WaitForBackgroundWorkerShutdown(handle);
	if (status != BGWH_STOPPED || !args->done)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not write the audit record for table %s", table_name),
				 errdetail("The pg_asof audit writer did not commit; see the server log.")));
	dsm_detach(seg);
}

void
asof_audit_worker_main(Datum arg)
{
	dsm_segment *seg;
	AsofAuditArgs *args;
	Oid			types[6] = {OIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[5];

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_asof audit writer: could not map its arguments")));
	args = dsm_segment_address(seg);
	BackgroundWorkerInitializeConnectionByOid(args->dbid, args->connect_as, 0);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pg_asof audit record");
	values[0] = ObjectIdGetDatum(args->relid);
	values[1] = CStringGetTextDatum(args->table_name);
	values[2] = CStringGetTextDatum(args->event);
	values[3] = CStringGetTextDatum(args->role);
	values[4] = CStringGetTextDatum(args->detail);
	if (SPI_execute_with_args("INSERT INTO asof.holdout_log (at, tbl, table_name, event, role, detail) "
							  "VALUES (pg_catalog.now(), $1::pg_catalog.regclass, $2, $3, $4, $5)",
							  5, types, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "pg_asof audit writer: insert failed");
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	args->done = true;
	dsm_detach(seg);
	proc_exit(0);
}
