-- pg_asof install script, part 57: knowledge time captured at ingestion
-- (docs/online.md, "Knowledge time: asof.track_ingestion"; src/ingestion.c).
--
-- Owns: asof.track_ingestion, asof.untrack_ingestion, the two trigger
-- functions they put on a table, the check asof.protect makes of them, and
-- the event trigger that forgets dropped tables.  State is in part 56.
-- Code part: re-run by every upgrade script.

CREATE OR REPLACE FUNCTION asof.track_ingestion(tbl regclass, "column" name DEFAULT 'asof_ingested_at',
        existing timestamptz DEFAULT NULL) RETURNS void
    AS 'MODULE_PATHNAME', 'asof_track_ingestion'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof.track_ingestion(regclass, name, timestamptz) IS
'Records when each row of tbl arrives (owner only).  Adds the timestamptz column "column" (default asof_ingested_at); every row inserted from then on gets, at its transaction''s pre-commit, one stamp per transaction: asof.clock when set, else the wall clock at pre-commit.  A value the inserter gives is overwritten; UPDATE keeps the first arrival.  existing: the arrival time of the rows already there (required when there are any).  Registers tbl in asof.ingestion_tracking.  Use the column as a feature view''s available time (for a timestamp view: ''asof_ingested_at AT TIME ZONE ''''UTC'''''').  Errors: not the owner (42501), not a table (42809), already tracked (42710), the column exists (42701), rows without existing (55000), not a heap table (0A000).  Returns nothing.';

CREATE OR REPLACE FUNCTION asof.untrack_ingestion(tbl regclass) RETURNS void
    AS 'MODULE_PATHNAME', 'asof_untrack_ingestion'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof.untrack_ingestion(regclass) IS
'Stops recording arrival times in tbl (owner only): drops the two triggers of asof.track_ingestion and the registry row.  The column and its values stay (drop it with ALTER TABLE ... DROP COLUMN); rows inserted later get NULL there.  Errors: not the owner (42501), not tracked (42704).  Returns nothing.';

CREATE OR REPLACE FUNCTION asof._ingestion_stamp() RETURNS trigger
    AS 'MODULE_PATHNAME', 'asof_ingestion_stamp'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof._ingestion_stamp() IS
'Internal trigger (deferred constraint trigger AFTER INSERT FOR EACH ROW, created by asof.track_ingestion; argument: the column): writes the transaction''s stamp into the newest version of the inserted row.';

CREATE OR REPLACE FUNCTION asof._ingestion_keep() RETURNS trigger
    AS 'MODULE_PATHNAME', 'asof_ingestion_keep'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof._ingestion_keep() IS
'Internal trigger (BEFORE UPDATE FOR EACH ROW, created by asof.track_ingestion; argument: the column): the column keeps its old value, the first arrival.';

CREATE OR REPLACE FUNCTION asof._ingestion_trigger_ok(trigger oid) RETURNS boolean
    AS 'MODULE_PATHNAME', 'asof_ingestion_trigger_ok_sql'
    LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION asof._ingestion_trigger_ok(oid) IS
'Internal (asof.protect): whether trigger is exactly one of the two triggers asof.track_ingestion creates on its table (its function, shape and registered column), which the guard allows on protected tables.';

-- A dropped table leaves no registry row behind.
CREATE OR REPLACE FUNCTION asof._ingestion_forget_dropped() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  DELETE FROM asof.ingestion_tracking r
   USING pg_catalog.pg_event_trigger_dropped_objects() d
   WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = r.relation::oid AND d.objsubid = 0;
END $$;
COMMENT ON FUNCTION asof._ingestion_forget_dropped() IS
'Internal event trigger: removes the asof.ingestion_tracking rows of dropped tables.';
DROP EVENT TRIGGER IF EXISTS asof_ingestion_forget_dropped;
CREATE EVENT TRIGGER asof_ingestion_forget_dropped ON sql_drop
    EXECUTE FUNCTION asof._ingestion_forget_dropped();
COMMENT ON EVENT TRIGGER asof_ingestion_forget_dropped IS
'pg_asof: a dropped table leaves asof.ingestion_tracking.';
