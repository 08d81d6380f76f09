/*-------------------------------------------------------------------------
 *
 * clock.c
 *	  "Now" for the production side: the asof.clock setting.
 *
 *	  asof.clock (superuser only, empty by default) replaces the wall clock
 *	  for asof.materialize's default tick and its "tick in the future"
 *	  check, asof.run_due_materializations, and the default "at" of
 *	  asof.online_features, so tests and replays never wait for time to
 *	  pass.  Production never sets it.  Its text is read as a timestamptz
 *	  with TimeZone UTC (a value without an offset is UTC), so "now" never
 *	  depends on the session's TimeZone.
 *
 *	  Owns: the setting, asof_clock_now(), asof.now(), and the ISO text of
 *	  a time in messages (asof_time_text).
 *	  Must not: know about feature views or schedules.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "miscadmin.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "online.h"
#include "pg_asof.h"

PG_FUNCTION_INFO_V1(asof_now);

static char *asof_clock = NULL;

void
asof_clock_init(void)
{
	DefineCustomStringVariable("asof.clock",
							   "Replaces the wall clock as \"now\" for pg_asof's scheduler and serving defaults.",
							   "Empty (the default) means the transaction's now().  A timestamptz literal; without an offset it is read as UTC.  For tests and replays only: production never sets it.",
							   &asof_clock,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);
}

/* "now" as a timestamptz: asof.clock when set, else now(). */
TimestampTz
asof_clock_now(void)
{
	int			nestlevel;
	TimestampTz result;

	if (asof_clock == NULL || asof_clock[0] == '\0')
		return GetCurrentTransactionStartTimestamp();
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("TimeZone", "UTC", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	result = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
													 CStringGetDatum(asof_clock),
													 ObjectIdGetDatum(InvalidOid),
													 Int32GetDatum(-1)));
	AtEOXact_GUC(true, nestlevel);
	if (TIMESTAMP_NOT_FINITE(result))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("asof.clock must be a finite time"),
				 errhint("Set asof.clock to a timestamptz such as '2001-01-02 10:05+00', or to '' for the wall clock.")));
	return result;
}

/* asof.now() -> timestamptz */
Datum
asof_now(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(asof_clock_now());
}

/*
 * A time (int64 microseconds) as ISO 8601 text for messages, whatever the
 * DateStyle: "2001-01-01 10:00:00", with "+00" for a timestamptz (UTC).
 */
char *
asof_time_text(int64 us, bool tz)
{
	struct pg_tm tm;
	fsec_t		fsec;
	char		buf[MAXDATELEN + 1];

	if (TIMESTAMP_NOT_FINITE(us) || timestamp2tm(us, NULL, &tm, &fsec, NULL, NULL) != 0)
		return pstrdup(us == DT_NOBEGIN ? "-infinity" : "infinity");
	EncodeDateTime(&tm, fsec, false, 0, NULL, USE_ISO_DATES, buf);
	return tz ? psprintf("%s+00", buf) : pstrdup(buf);
}
