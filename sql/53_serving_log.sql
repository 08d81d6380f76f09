-- pg_asof install script, part 53: the serving log (docs/online.md,
-- "Serving log"; src/serving_log.c).  Code part: re-run by every upgrade
-- script.  The log tables asof_online."<view>__log" are created by
-- asof.materialize with the online table (asof.online_tables.log_table).

CREATE OR REPLACE FUNCTION asof.serving_log_flush(timeout_ms integer DEFAULT 10000)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'asof_serving_log_flush'
    LANGUAGE C VOLATILE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION asof.serving_log_flush(integer) IS
'Waits until every serving log entry this session queued (asof.log_serving = on) is committed to its log table asof_online."<view>__log" by pg_asof''s background worker, or was dropped (asof.serving_log_status() counts those); at most timeout_ms (integer, milliseconds, default 10000).  Returns true when nothing of this session is pending, false on timeout.  A statement that starts after it returns sees the rows (READ COMMITTED).  Errors: 22023 timeout_ms negative or NULL.';

CREATE OR REPLACE FUNCTION asof.serving_log_status(
    OUT logged bigint, OUT written bigint, OUT queued bigint, OUT failed bigint,
    OUT dropped_buffer_full bigint, OUT dropped_standby bigint, OUT dropped_no_worker bigint,
    OUT buffer_bytes bigint, OUT buffer_used_bytes bigint, OUT workers integer)
    RETURNS record
    AS 'MODULE_PATHNAME', 'asof_serving_log_status'
    LANGUAGE C VOLATILE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION asof.serving_log_status() IS
'The serving log''s counters since the server started, for all databases: logged (entries queued), written (committed to log tables), queued (in shared memory, not yet committed), failed (the worker could not write them: the view''s online table was dropped, or an error, logged in the server log), dropped_buffer_full (asof.serving_log_buffer was full: serving never waits), dropped_standby (served on a hot standby, where nothing can be written), dropped_no_worker (more than 8 databases had entries queued at once); buffer_bytes, buffer_used_bytes: the shared ring and its part in use; workers: serving log writers running (one per database with entries, exiting after 2 s without entries).  One row.';
