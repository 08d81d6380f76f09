-- pg_asof install script, part 52: scheduling materializations (state is in
-- part 50).  Code part: re-run by every upgrade script.  docs/online.md.
--
-- One pg_cron job per database, every minute, calls
-- asof.run_due_materializations(), which materializes every due tick of
-- every scheduled view in order and catches up missed ticks.  Cadences are
-- never mapped to cron expressions (Debian 12's pg_cron 1.4 has minute
-- granularity and GMT only).

CREATE OR REPLACE FUNCTION asof.schedule_materialization(feature_view text,
                                                         run_as regrole DEFAULT current_user::regrole,
                                                         validate boolean DEFAULT false)
    RETURNS void
    AS 'MODULE_PATHNAME', 'asof_schedule_materialization'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof.schedule_materialization(text, regrole, boolean) IS
'Adds scheduled feature view feature_view (text) to asof.materialization_schedule: asof.run_due_materializations() then materializes each of its ticks as role run_as (regrole, default the caller), and creates the pg_cron job "pg_asof: run due materializations" (every minute) when pg_cron is installed in this database; without pg_cron, a WARNING says how to install it or to call asof.run_due_materializations() from any other scheduler.  validate (boolean): each tick is materialized with asof.materialize(..., validate => true): a snapshot with a high-severity alert is not published, and the previous tick keeps being served (run_as then needs INSERT on asof.validation_alerts).  Scheduling again replaces run_as and validate.  Caller: the view''s owner (and a member of run_as) or a superuser.  Errors: 42501 run_as cannot materialize the view (not its owner), or the view reads a protected table with a split and run_as does not have asof.guard = off (ALTER ROLE ... SET asof.guard = off), 55000 continuous view, 42704 unknown view.';

CREATE OR REPLACE FUNCTION asof.unschedule_materialization(feature_view text)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'asof_unschedule_materialization'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof.unschedule_materialization(text) IS
'Removes feature view feature_view (text) from asof.materialization_schedule; returns whether it was scheduled.  Its online table and retained snapshots stay.  The pg_cron job stays (it does nothing for unscheduled views).  Caller: the view''s owner or a superuser.';

CREATE OR REPLACE FUNCTION asof.run_due_materializations()
    RETURNS TABLE (feature_view text, tick timestamp, entities bigint, error text)
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
#variable_conflict use_column
DECLARE
  s record;
  now_w timestamp := pg_catalog.timezone('UTC', asof.now());
  saved_role text := pg_catalog.current_setting('role');
  saved_guard text := pg_catalog.current_setting('asof.guard');
  latest timestamp;
  newest timestamp;
  t timestamp;
  x numeric;
  c numeric;
  n bigint;
  msg text;
BEGIN
  FOR s IN SELECT ms.feature_view AS name, ms.run_as, ms.validate, f.cadence, f.anchor, f.time_type,
                  COALESCE(o.retain_ticks, 48) AS retain,
                  EXISTS (SELECT 1 FROM pg_catalog.pg_db_role_setting rs, pg_catalog.unnest(rs.setconfig) cf
                           WHERE rs.setrole IN (ms.run_as, 0)
                             AND rs.setdatabase IN (0, (SELECT d.oid FROM pg_catalog.pg_database d
                                                         WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()))
                             AND pg_catalog.lower(cf) IN ('asof.guard=off', 'asof.guard=false', 'asof.guard=0', 'asof.guard=no'))
                    AS guard_off
             FROM asof.materialization_schedule ms
             JOIN asof.feature_view_registry f ON f.name OPERATOR(pg_catalog.=) ms.feature_view
             LEFT JOIN asof.online_tables o ON o.feature_view OPERATOR(pg_catalog.=) ms.feature_view
            WHERE pg_catalog.pg_has_role(ms.run_as, 'MEMBER') AND f.cadence IS NOT NULL
            ORDER BY ms.feature_view
  LOOP
    -- the latest tick at or before now, in exact microseconds
    x := pg_catalog."extract"('epoch', now_w)
         OPERATOR(pg_catalog.-) pg_catalog."extract"('epoch', pg_catalog.timezone('UTC', s.anchor));
    c := pg_catalog."extract"('epoch', s.cadence);
    latest := now_w OPERATOR(pg_catalog.-)
              pg_catalog.make_interval(secs => (x OPERATOR(pg_catalog.-) (c OPERATOR(pg_catalog.*) pg_catalog.floor(x OPERATOR(pg_catalog./) c)))::pg_catalog.float8);
    SELECT pg_catalog.max(m.tick) INTO newest FROM asof.materializations m
     WHERE m.feature_view OPERATOR(pg_catalog.=) s.name;
    -- catch up the ticks after the newest one, at most as many as are kept
    t := CASE WHEN newest IS NULL THEN latest
              ELSE GREATEST(newest OPERATOR(pg_catalog.+) s.cadence,
                                       latest OPERATOR(pg_catalog.-) ((s.retain OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.*) s.cadence))
         END;
    WHILE t OPERATOR(pg_catalog.<=) latest LOOP
      BEGIN
        -- run_as's own settings: the guard first, while still the caller
        IF s.guard_off AND pg_catalog.current_setting('asof.guard')::boolean THEN
          PERFORM pg_catalog.set_config('asof.guard', 'off', true);
        END IF;
        PERFORM pg_catalog.set_config('role', s.run_as::pg_catalog.text, true);
        IF s.time_type OPERATOR(pg_catalog.=) 'timestamp with time zone'::pg_catalog.regtype THEN
          n := asof.materialize(s.name, pg_catalog.timezone('UTC', t), validate => s.validate);
        ELSE
          n := asof.materialize(s.name, t, validate => s.validate);
        END IF;
        PERFORM pg_catalog.set_config('role', saved_role, true);
        PERFORM pg_catalog.set_config('asof.guard', saved_guard, true);
        feature_view := s.name; tick := t; entities := n; error := NULL;
        RETURN NEXT;
      EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
        RAISE WARNING 'could not materialize tick % of feature view "%": %', t, s.name, msg;
        feature_view := s.name; tick := t; entities := NULL; error := msg;
        RETURN NEXT;
        EXIT;   -- its later ticks wait for the next run
      END;
      t := t OPERATOR(pg_catalog.+) s.cadence;
    END LOOP;
  END LOOP;
END $$;
COMMENT ON FUNCTION asof.run_due_materializations() IS
'Materializes every due tick of every feature view in asof.materialization_schedule whose run_as role the caller may act as (all for a superuser): for each view, in name order, the ticks after its newest snapshot up to the latest tick at or before now (asof.clock when set), in order, each as run_as (with asof.guard off when run_as has ALTER ROLE ... SET asof.guard = off), catching up missed ticks (at most as many as the online table keeps); the first view''s first tick is the latest one.  Returns one row per tick attempted: feature_view, tick (UTC wall clock), entities written, error (NULL on success; a failed tick also raises a WARNING and postpones the view''s later ticks to the next run).  Called every minute by the pg_cron job, or by any other scheduler.';
