-- test/demo/70_replay_setup.sql: step 7a of the flights demo (and of make
-- replay): production, set up for a replay of the flights in time order.
--
-- Two live tables, each protected and split at 2001-05-01 like flights:
--   flights_live  the on-time replay: every flight is ingested when it lands;
--   flights_late  the late-data replay: a seeded 5% of the flights (by a hash
--                 of the row, so the same flights on every run and in the
--                 sample as in the 3M file) are ingested 2 hours after they
--                 land; with asof.track_ingestion, each row records when it
--                 was really ingested (asof_ingested_at).
-- Each is loaded with the history the replay needs: the flights that landed
-- before its first tick (one hour before replay_from), from 8 days before
-- replay_from on.  Older flights cannot change any served value (the
-- longest window is 7 days, the route's last(delay) has a 1-day TTL), so
-- the 7-day windows are full from the first tick and the history is small.
--
-- Feature views keyed by origin and by route only (times are local to the
-- origin airport; a destination key would mix time zones), defined as
-- origin_lagged and route_lagged (test/demo/30_feature_views.sql):
--   origin_live, route_live                 over flights_live
--   origin_late, route_late                 over flights_late, available
--                                           time = landing time
--   origin_late_ingest, route_late_ingest   over flights_late, available
--                                           time = the ingestion stamp
-- all scheduled (asof.schedule_materialization) with run_as asof_demo_jobs,
-- a role exempt from the guard, and readable by asof_demo_serving, the
-- serving role (asof.guard = off, asof.log_serving = on).  The first tick
-- is materialized here (the schedule's first run), under asof.clock.
-- Needs a superuser (asof.clock); creates the two roles if missing.
\set ON_ERROR_STOP 1
\i test/demo/70_replay_common.sql
\if :have_replay
SET client_min_messages = warning;
DROP TABLE IF EXISTS flights_live, flights_late, replay_offline_live, replay_offline_late CASCADE;
RESET client_min_messages;
SELECT :'replay_from'::timestamp - interval '1 hour' AS first_tick,
       :'replay_from'::timestamp - interval '8 days' AS history_from \gset

-- The roles: the scheduler's (may materialize the views: a member of their
-- owner) and the serving one.  Both exempt from the guard, as production
-- roles are (docs/online.md, The leakage guard).
SET client_min_messages = warning;
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'asof_demo_jobs') THEN
        CREATE ROLE asof_demo_jobs;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'asof_demo_serving') THEN
        CREATE ROLE asof_demo_serving;
    END IF;
    EXECUTE format('GRANT %I TO asof_demo_jobs', current_user);
END $$;
ALTER ROLE asof_demo_jobs SET asof.guard = off;
ALTER ROLE asof_demo_serving SET asof.guard = off;
\if :have_log
ALTER ROLE asof_demo_serving SET asof.log_serving = on;
\endif
GRANT USAGE ON SCHEMA asof_demo TO asof_demo_serving;
RESET client_min_messages;

CREATE TABLE flights_live (
    id          bigint NOT NULL,    -- asof_demo.flights.id
    dep_time    timestamp NOT NULL,
    origin      text NOT NULL,
    destination text NOT NULL,
    distance    integer NOT NULL,
    delay       integer
);
CREATE TABLE flights_late (LIKE flights_live);
-- What a production source has: indexes on each view's entity and event
-- time (asof.features_at, asof.parity_report) and on the event time
-- (asof.materialize reads a window of it).
CREATE INDEX ON flights_live (origin, dep_time);
CREATE INDEX ON flights_live (origin, destination, dep_time);
CREATE INDEX ON flights_live (dep_time);
CREATE INDEX ON flights_late (origin, dep_time);
CREATE INDEX ON flights_late (origin, destination, dep_time);
CREATE INDEX ON flights_late (dep_time);

-- The history: the flights landed before the first tick (production's
-- loader is exempt from the guard: it reads the held-out period too when
-- replay_from is later than the split).
SET asof.guard = off;
INSERT INTO flights_live
SELECT id, dep_time, origin, destination, distance, delay
  FROM flights
 WHERE dep_time >= :'history_from'
   AND dep_time + (30 + distance / 8) * interval '1 minute' < :'first_tick';
INSERT INTO flights_late SELECT * FROM flights_live;
RESET asof.guard;
ANALYZE flights_live;
ANALYZE flights_late;
\if :have_ingest
-- Rows inserted from now on record when they were ingested; the history
-- was loaded just before the first tick.
SELECT asof.track_ingestion('asof_demo.flights_late',
         existing => (:'first_tick'::timestamp - interval '1 microsecond') AT TIME ZONE 'UTC') \gset
\endif

SELECT count(*) AS protected
  FROM unnest('{asof_demo.flights_live,asof_demo.flights_late}'::regclass[]) t,
       LATERAL (SELECT asof.protect(t, time_column => 'dep_time', label_columns => '{delay}',
                  entity_columns => '{origin,destination}',
                  label_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''')) p \gset
SET client_min_messages = warning;
SELECT count(*) AS split
  FROM unnest('{asof_demo.flights_live,asof_demo.flights_late}'::regclass[]) t,
       LATERAL (SELECT asof.split(t, test_from => '2001-05-01')) s \gset
RESET client_min_messages;

\set origin_features '{"avg(delay) over 1 hour", "avg(delay) over 6 hours", "avg(delay) over 1 day", "avg(delay) over 7 days", "count(*) over 1 day", "max(delay) over 1 day", "avg((delay > 15)::int) over 1 day as late_share_1d"}'
\set route_features '{"avg(delay) over 1 day", "avg(delay) over 7 days", "count(*) over 7 days", "last(delay)"}'
\set landing 'dep_time + (30 + distance / 8) * interval ''1 minute'''
SELECT count(asof.create_feature_view(v.name, source => v.src, entity => e.entity,
         event_time => 'dep_time', available_time => v.avail,
         features => CASE WHEN v.by_route THEN :'route_features' ELSE :'origin_features' END::text[],
         cadence => '1 hour', delay => '10 minutes',
         ttl => CASE WHEN v.by_route THEN interval '1 day' END)) AS views
  FROM (VALUES ('origin_live', 'asof_demo.flights_live', false, :'landing'),
               ('route_live', 'asof_demo.flights_live', true, :'landing'),
               ('origin_late', 'asof_demo.flights_late', false, :'landing'),
               ('route_late', 'asof_demo.flights_late', true, :'landing')
       ) AS v(name, src, by_route, avail),
       LATERAL (SELECT CASE WHEN v.by_route THEN '{origin,destination}' ELSE '{origin}' END::name[] AS entity) e \gset
\if :have_ingest
SELECT count(asof.create_feature_view(v.name, source => 'asof_demo.flights_late', entity => v.entity,
         event_time => 'dep_time', available_time => 'asof_ingested_at AT TIME ZONE ''UTC''',
         features => CASE WHEN v.by_route THEN :'route_features' ELSE :'origin_features' END::text[],
         cadence => '1 hour', delay => '10 minutes',
         ttl => CASE WHEN v.by_route THEN interval '1 day' END)) AS views
  FROM (VALUES ('origin_late_ingest', false, '{origin}'::name[]),
               ('route_late_ingest', true, '{origin,destination}'::name[])) AS v(name, by_route, entity) \gset
\endif

-- Scheduled, run by the exempt jobs role.  There is no pg_cron in this
-- database: the replay's driver calls asof.run_due_materializations()
-- itself at every simulated tick (the WARNING saying so is silenced).
SET client_min_messages = error;
SELECT count(*) AS scheduled
  FROM asof.feature_view_registry f,
       LATERAL (SELECT asof.schedule_materialization(f.name, run_as => 'asof_demo_jobs')) s
 WHERE f.name IN ('origin_live', 'route_live', 'origin_late', 'route_late',
                'origin_late_ingest', 'route_late_ingest') \gset
RESET client_min_messages;
-- The schedule's first run, at the first tick: every view starts there.
SELECT set_config('asof.clock', :'first_tick' || '+00', false) \gset
SELECT count(*) AS views_materialized,
       count(*) FILTER (WHERE error IS NOT NULL) AS errors,
       min(tick) AS first_tick
  FROM asof.run_due_materializations();
RESET asof.clock;
SELECT count(*) AS granted
  FROM asof.materialization_schedule m,
       LATERAL (SELECT asof.grant_online_read(m.feature_view, 'asof_demo_serving')) g
 WHERE m.feature_view IN ('origin_live', 'route_live', 'origin_late', 'route_late',
                        'origin_late_ingest', 'route_late_ingest') \gset

-- The serving role also monitors (asof.parity_report recomputes through
-- the engine with its privileges): it reads the live tables.
GRANT SELECT ON flights_live, flights_late TO asof_demo_serving;

\echo
\echo 'The live tables: the history loaded before the first tick.'
SET asof.guard = off;
SELECT 'flights_live' AS live_table, count(*) AS history_flights,
       min(dep_time) AS first_departure, max(dep_time) AS last_departure
  FROM flights_live;
RESET asof.guard;
\if :have_ingest
\else
\echo 'track_ingestion: SKIPPED (this build has no asof.track_ingestion): no ingestion-time views.'
\endif
\else
\if :have_cron_here
\echo 'SKIPPED: pg_cron is installed in this database; its job would materialize the replay''s views at the wall clock.'
\elif :is_superuser
\echo 'SKIPPED: this build has no production side (asof.run_due_materializations, asof.clock).'
\else
\echo 'SKIPPED: the replay sets asof.clock, which needs a superuser.'
\endif
\endif
