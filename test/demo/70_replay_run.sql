-- test/demo/70_replay_run.sql: step 7b of the flights demo (and of make
-- replay): production, replayed in time order under the simulated clock
-- asof.clock, on the live tables test/demo/70_replay_setup.sql made.
--
-- Defines asof_demo.replay(replay_from, replay_until, progress_every) and
-- calls it for the period [replay_from, replay_until).  The simulated world,
-- tick after tick (hourly, the views' cadence):
--   ingester   inserts each flight into the live tables when it is ingested:
--              at its landing time (dep_time + (30 + distance / 8)
--              minutes) into flights_live; into flights_late at its landing
--              time too, except a seeded 5% (asof_demo.ingested_late) that
--              arrive 2 hours after landing;
--   scheduler  asof.run_due_materializations() at every tick, as the cron
--              job would (each view as its run_as role, asof_demo_jobs);
--   serving    every flight departing in the period gets its features from
--              asof.online_features for each view, at its departure time,
--              as role asof_demo_serving, logged (asof.log_serving = on)
--              when the build has the serving log.
--
-- Granularity, and why batching is exact.  A view serves at time t the
-- snapshot of tick k(t), the latest tick tau with tau + 10 min <= t, and a
-- snapshot of tau holds what the source held when the job ran at tau,
-- filtered by the view's rule (available time < tau, event time < tau).
-- So what is served changes only at ticks:
--   - ingestion: a row ingested at any time in [tau - 1 h, tau) is in the
--     snapshot of tau and of no earlier tick, wherever in that hour it
--     arrived.  The driver ingests each hour's rows in one transaction that
--     commits just before tau, with asof.clock = tau - 1 microsecond (the
--     ingestion stamp, taken at commit, then is that time: later than each
--     row's true arrival but in the same hour, so every snapshot and every
--     offline recomputation as of a tick sees exactly the same rows);
--   - materialization: asof.clock = tau, then run_due_materializations(),
--     after the hour's ingestion and before any request it serves;
--   - serving: the departures of [tau + 10 min, tau + 1 h + 10 min) are all
--     served from the snapshot of tau; each is served at its own departure
--     time ("at", which also decides the route's 1-day TTL), with asof.clock
--     = that time, so the log's served_at is the request time.  Departures
--     sharing a minute are served by one statement.
-- The flights' times are wall-clock times local to their origin (the file
-- has no zones); asof.clock, read as UTC, carries those wall-clock values,
-- as the timestamp views read asof_ingested_at AT TIME ZONE 'UTC'.
--
-- The driver is production: it runs with asof.guard = off (a superuser; the
-- guard logs the switch).  What the flights will do, it reads from
-- asof_demo.flights into a temporary table of this session.  After the
-- last tick the rows still in flight are ingested too, so the final tables
-- hold every flight departing before replay_until.  One row per run goes to
-- asof_demo.replay_runs (counts and timings).
\set ON_ERROR_STOP 1
\i test/demo/70_replay_common.sql
\if :have_replay
\if :{?replay_progress}
\else
\set replay_progress 24
\endif

-- The seeded 5%: a hash of the row's own values (not of its id), so the
-- same flights are late in the sample as in the 3M file, on every run.
CREATE OR REPLACE FUNCTION ingested_late(dep_time timestamp, origin text, destination text,
                                         distance integer, delay integer)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT ('x' || substr(md5(concat_ws('|', to_char(dep_time, 'YYYY-MM-DD HH24:MI'), origin,
                                        destination, distance, delay)), 1, 7))::bit(28)::int % 100 < 5
$$;
COMMENT ON FUNCTION ingested_late(timestamp, text, text, integer, integer) IS
'Whether the flight (its dep_time, origin, destination, distance, delay) is one of the seeded 5% the late-data replay ingests 2 hours after landing: the first 28 bits of the md5 of its values, modulo 100, below 5.';

SET client_min_messages = warning;
CREATE TABLE IF NOT EXISTS replay_runs (
    started          timestamptz NOT NULL DEFAULT clock_timestamp(),
    replay_from      timestamp NOT NULL,
    replay_until     timestamp NOT NULL,
    ticks            integer,       -- ticks run, the first one included
    rows_ingested    bigint,        -- rows inserted into the two live tables
    late_rows        bigint,        -- of them, ingested 2 hours late (flights_late)
    requests         bigint,        -- departing flights served
    calls            bigint,        -- online_features calls (requests x views)
    values_served    bigint,        -- non-NULL feature values they returned
    materializations bigint,        -- ticks x views materialized
    ingest_s         float8,        -- seconds ingesting
    materialize_s    float8,        -- seconds in run_due_materializations
    serve_s          float8,        -- seconds serving
    total_s          float8
);
RESET client_min_messages;

CREATE OR REPLACE PROCEDURE replay(replay_from timestamp, replay_until timestamp,
                                   progress_every integer DEFAULT 24)
LANGUAGE plpgsql AS $proc$
DECLARE
    first_tick timestamp := replay_from - interval '1 hour';
    last_tick timestamp := replay_until - interval '1 hour';
    n_ticks integer;
    tick timestamp;
    k integer := 0;
    views text[];
    serve_sql text;
    with_log boolean := to_regprocedure('asof.serving_log_flush(integer)') IS NOT NULL;
    with_ingest boolean := to_regprocedure('asof.track_ingestion(regclass,name,timestamptz)') IS NOT NULL;
    r record;
    n bigint;
    m bigint;
    n_values bigint := 0;
    dropped0 bigint;
    t0 timestamptz := clock_timestamp();
    t timestamptz;
    ing_s float8 := 0;
    mat_s float8 := 0;
    srv_s float8 := 0;
    rows_in bigint := 0;
    late_in bigint := 0;
    served bigint := 0;
    mats bigint := 0;
    elapsed float8;
    run_id timestamptz;
BEGIN
    IF replay_from <> date_trunc('hour', replay_from) OR replay_until <> date_trunc('hour', replay_until)
       OR replay_until <= replay_from THEN
        RAISE EXCEPTION 'the replay''s period must be whole hours, replay_from before replay_until'
              USING ERRCODE = '22023';
    END IF;
    n_ticks := (extract(epoch FROM last_tick - first_tick) / 3600)::integer + 1;
    PERFORM set_config('asof.guard', 'off', false);
    IF with_log THEN
        PERFORM set_config('asof.log_serving', 'on', false);
        SELECT s.dropped_buffer_full + s.dropped_standby + s.dropped_no_worker + s.failed
          INTO dropped0 FROM asof.serving_log_status() s;
    END IF;

    -- What the flights will do: when each is ingested into each live table.
    IF to_regclass('pg_temp.replay_arrivals') IS NOT NULL THEN
        DROP TABLE pg_temp.replay_arrivals;
    END IF;
    CREATE TEMP TABLE replay_arrivals AS
    SELECT id, dep_time, origin, destination, distance, delay,
           landing, landing + CASE WHEN late THEN interval '2 hours' ELSE interval '0' END AS late_at, late
      FROM (SELECT f.*, f.dep_time + (30 + f.distance / 8) * interval '1 minute' AS landing,
                   asof_demo.ingested_late(f.dep_time, f.origin, f.destination, f.distance, f.delay) AS late
              FROM asof_demo.flights f
             WHERE f.dep_time >= first_tick - interval '1 day' AND f.dep_time < replay_until) f
     WHERE landing >= first_tick;
    CREATE INDEX ON replay_arrivals (landing);
    CREATE INDEX ON replay_arrivals (late_at);
    CREATE INDEX ON replay_arrivals (dep_time);
    ANALYZE replay_arrivals;
    INSERT INTO asof_demo.replay_runs (replay_from, replay_until) VALUES (replay_from, replay_until)
    RETURNING started INTO run_id;
    COMMIT;

    -- One statement serves the flights departing at one minute, every view.
    SELECT array_agg(feature_view ORDER BY feature_view) INTO views
      FROM asof.materialization_schedule
     WHERE feature_view IN ('origin_live', 'route_live', 'origin_late', 'route_late',
                            'origin_late_ingest', 'route_late_ingest');
    -- (every served value is used, by counting the non-NULL ones: the
    -- calls are STABLE, and an unused one would not be made at all)
    SELECT format('SELECT count(*), sum(%s) FROM unnest($2, $3) AS d(origin, destination), LATERAL (SELECT %s) s',
                  string_agg(format('(SELECT count(*) FROM jsonb_each(s.%I) e WHERE e.value <> ''null'')', v), ' + '),
                  string_agg(format('asof.online_features(%L, %s, $1) AS %I', v,
                                    CASE WHEN v LIKE 'route%' THEN 'ARRAY[d.origin, d.destination]'
                                         ELSE 'ARRAY[d.origin]' END, v), ', '))
      INTO serve_sql FROM unnest(views) v;

    tick := first_tick;
    WHILE tick <= last_tick LOOP
        IF tick > first_tick THEN
            -- the ingester: the hour's arrivals, committed just before the tick
            t := clock_timestamp();
            PERFORM set_config('asof.clock', to_char(tick - interval '1 microsecond', 'YYYY-MM-DD HH24:MI:SS.US') || '+00', false);
            INSERT INTO asof_demo.flights_live (id, dep_time, origin, destination, distance, delay)
            SELECT id, dep_time, origin, destination, distance, delay FROM replay_arrivals
             WHERE landing >= tick - interval '1 hour' AND landing < tick;
            GET DIAGNOSTICS n = ROW_COUNT;
            rows_in := rows_in + n;
            INSERT INTO asof_demo.flights_late (id, dep_time, origin, destination, distance, delay)
            SELECT id, dep_time, origin, destination, distance, delay FROM replay_arrivals
             WHERE late_at >= tick - interval '1 hour' AND late_at < tick;
            GET DIAGNOSTICS n = ROW_COUNT;
            rows_in := rows_in + n;
            late_in := late_in + (SELECT count(*) FROM replay_arrivals
                                   WHERE late AND late_at >= tick - interval '1 hour' AND late_at < tick);
            COMMIT;
            ing_s := ing_s + extract(epoch FROM clock_timestamp() - t);

            -- the scheduler, at the tick
            t := clock_timestamp();
            PERFORM set_config('asof.clock', to_char(tick, 'YYYY-MM-DD HH24:MI:SS') || '+00', false);
            FOR r IN SELECT * FROM asof.run_due_materializations() LOOP
                IF r.error IS NOT NULL THEN
                    RAISE EXCEPTION 'replay: materializing tick % of feature view "%" failed: %',
                          r.tick, r.feature_view, r.error;
                END IF;
                mats := mats + 1;
            END LOOP;
            COMMIT;
            mat_s := mat_s + extract(epoch FROM clock_timestamp() - t);
        END IF;

        -- serving: the departures this tick's snapshot answers, each at its time
        t := clock_timestamp();
        FOR r IN SELECT dep_time, array_agg(origin ORDER BY id) AS origins,
                        array_agg(destination ORDER BY id) AS destinations
                   FROM replay_arrivals
                  WHERE dep_time >= greatest(tick + interval '10 minutes', replay_from)
                    AND dep_time < least(tick + interval '70 minutes', replay_until)
                  GROUP BY dep_time ORDER BY dep_time LOOP
            PERFORM set_config('role', 'none', false);
            PERFORM set_config('asof.clock', to_char(r.dep_time, 'YYYY-MM-DD HH24:MI:SS') || '+00', false);
            PERFORM set_config('role', 'asof_demo_serving', false);
            EXECUTE serve_sql INTO n, m USING r.dep_time, r.origins, r.destinations;
            served := served + n;
            n_values := n_values + m;
        END LOOP;
        PERFORM set_config('role', 'none', false);
        -- the serving log's buffer is never waited on by serving (a full
        -- one drops entries): let its worker catch up at every tick
        IF with_log THEN
            IF NOT asof.serving_log_flush(600000) THEN
                RAISE EXCEPTION 'replay: the serving log did not catch up within 10 minutes';
            END IF;
        END IF;
        COMMIT;
        srv_s := srv_s + extract(epoch FROM clock_timestamp() - t);

        k := k + 1;
        IF progress_every > 0 AND (k % progress_every = 0 OR tick = last_tick) THEN
            elapsed := extract(epoch FROM clock_timestamp() - t0);
            RAISE NOTICE 'replay: tick % (% of %), % s: % rows ingested (% rows/s), % ticks/s (% s materializing), % flights served (% online_features calls/s while serving)',
                  to_char(tick, 'YYYY-MM-DD HH24:MI'), k, n_ticks, round(elapsed::numeric, 1),
                  rows_in, round((rows_in / elapsed)::numeric), round((k / elapsed)::numeric, 2),
                  round(mat_s::numeric, 1), served,
                  round((served * array_length(views, 1) / greatest(srv_s, 1e-6))::numeric);
        END IF;
        tick := tick + interval '1 hour';
    END LOOP;

    -- After the last tick: the flights still in the air (and the late ones)
    -- are ingested, so the final tables hold every flight of the period.
    t := clock_timestamp();
    SELECT max(late_at) INTO tick FROM replay_arrivals;
    PERFORM set_config('asof.clock', to_char(greatest(tick, last_tick), 'YYYY-MM-DD HH24:MI:SS.US') || '+00', false);
    INSERT INTO asof_demo.flights_live (id, dep_time, origin, destination, distance, delay)
    SELECT id, dep_time, origin, destination, distance, delay FROM replay_arrivals WHERE landing >= last_tick;
    GET DIAGNOSTICS n = ROW_COUNT;
    rows_in := rows_in + n;
    INSERT INTO asof_demo.flights_late (id, dep_time, origin, destination, distance, delay)
    SELECT id, dep_time, origin, destination, distance, delay FROM replay_arrivals WHERE late_at >= last_tick;
    GET DIAGNOSTICS n = ROW_COUNT;
    rows_in := rows_in + n;
    late_in := late_in + (SELECT count(*) FROM replay_arrivals WHERE late AND late_at >= last_tick);
    COMMIT;     -- (the ingestion stamps are taken here, under the clock)
    IF with_log THEN
        SELECT s.dropped_buffer_full + s.dropped_standby + s.dropped_no_worker + s.failed - dropped0
          INTO n FROM asof.serving_log_status() s;
        IF n > 0 THEN
            RAISE EXCEPTION 'replay: % serving log entries were dropped or failed (asof.serving_log_status())', n;
        END IF;
    END IF;
    PERFORM set_config('asof.clock', '', false);
    PERFORM set_config('asof.guard', 'on', false);
    PERFORM set_config('asof.log_serving', 'off', false) WHERE with_log;
    ing_s := ing_s + extract(epoch FROM clock_timestamp() - t);
    UPDATE asof_demo.replay_runs
       SET ticks = n_ticks, rows_ingested = rows_in, late_rows = late_in, requests = served,
           calls = served * array_length(views, 1), values_served = n_values, materializations = mats,
           ingest_s = ing_s, materialize_s = mat_s, serve_s = srv_s,
           total_s = extract(epoch FROM clock_timestamp() - t0)
     WHERE started = run_id;
    COMMIT;
END
$proc$;
COMMENT ON PROCEDURE replay(timestamp, timestamp, integer) IS
'The production replay of test/demo/70_replay_run.sql: ticks hourly from replay_from - 1 hour to replay_until - 1 hour (whole hours); at each, ingests the hour''s arrivals into asof_demo.flights_live (at landing) and asof_demo.flights_late (5% 2 hours late), runs asof.run_due_materializations(), and serves every flight departing in [replay_from, replay_until) at its departure time from every scheduled replay view as asof_demo_serving.  Needs a superuser (asof.clock, asof.guard = off).  A NOTICE every progress_every ticks (0: none); one row in asof_demo.replay_runs.';

\echo 'Replaying':' ':replay_from' to ':replay_until' (hourly ticks; ingestion, run_due_materializations, serving)'
SET client_min_messages = notice;
CALL replay(:'replay_from', :'replay_until', :replay_progress);
SELECT ticks, rows_ingested, late_rows, requests AS flights_served, calls AS online_features_calls,
       values_served AS non_null_values_served, materializations
  FROM replay_runs ORDER BY started DESC LIMIT 1;
\if :{?replay_timings}
SELECT round(total_s::numeric, 1) AS total_s, round(ingest_s::numeric, 1) AS ingest_s,
       round(materialize_s::numeric, 1) AS materialize_s, round(serve_s::numeric, 1) AS serve_s,
       round(rows_ingested / total_s) AS rows_per_s, round((ticks / total_s)::numeric, 2) AS ticks_per_s,
       round(calls / nullif(serve_s, 0)) AS serving_calls_per_s
  FROM replay_runs ORDER BY started DESC LIMIT 1;
\endif
\else
\echo 'SKIPPED: see step 7a.'
\endif
