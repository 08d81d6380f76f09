--
-- 87_replay_late: the late-data half of the replay 86_replay ran on the
-- committed sample (1 and 2 May 2001), the served AUC, and the clean-up.
-- In flights_late, 23 of the 356 replayed flights were ingested 2 hours
-- after landing.  The expected mismatches were derived independently from
-- the CSV file (a Python loop computing, for each of the 344 requests and
-- each feature, the value over the rows landed before the tick k(at)
-- against the value over those of them ingested before it; exact
-- fractions; last(delay) by departure time with its 1-day TTL):
--   origin_late (available time = landing):
--     avg_delay_1h 0, avg_delay_6h 5, avg_delay_1d 5, avg_delay_7d 5,
--     count_1d 5, max_delay_1d 3, late_share_1d 3;
--   route_late: 0 on every feature (no late flight landed within the 2
--     hours before a tick on the route of a request at that tick);
--   origin_late_ingest, route_late_ingest (available time = the ingestion
--     stamp): 0 on every feature.
-- count_1d also by hand: a request of origin o at tick tau misses a late
-- flight when one of o landed in [tau - 2 h, tau) (there before tau
-- offline, ingested after tau): 5 requests.
--
SET asof.progress_interval = 0;
\set replay_from '2001-05-01 00:00'
\set replay_until '2001-05-03 00:00'
\set ECHO none
\i test/demo/70_replay_common.sql
\set ECHO all
\if :have_log
-- Served against asof.features_at on the final table, feature by feature.
SET asof.guard = off;
SELECT v AS feature_view, e.key AS feature,
       count(*) FILTER (WHERE e.value IS DISTINCT FROM o.features->e.key) AS mismatches
  FROM unnest('{origin_late,route_late}'::text[]) v,
       LATERAL (SELECT * FROM asof_online.origin_late__log WHERE v = 'origin_late'
                UNION ALL SELECT * FROM asof_online.route_late__log WHERE v = 'route_late') l,
       LATERAL (SELECT asof.features_at(v, l.entity, l.at) AS features) o,
       LATERAL jsonb_each(l.features) e
 GROUP BY 1, 2 ORDER BY 1, 2;
RESET asof.guard;
\endif

-- The same from asof.parity_report, as the serving role (production
-- monitoring, exempt from the guard), for the four late-data views.
\if :have_parity
SET asof.guard = off;
SET ROLE asof_demo_serving;
SELECT v AS feature_view, r.feature, r.requests, r.stale, r.compared, r.mismatches, r.missing, r.extra
  FROM unnest('{origin_late,route_late,origin_late_ingest,route_late_ingest}'::text[]) v,
       LATERAL asof.parity_report(v) r
 WHERE to_regclass('asof_online.' || quote_ident(v)) IS NOT NULL
 ORDER BY 1, 2;
RESET ROLE;
RESET asof.guard;
\endif

\if :have_ingest
-- The ingestion stamps of flights_late, computed independently from the
-- CSV file (Python): the 1342 history rows carry the existing stamp, just
-- before the first tick; the 344 rows ingested by the loop (322 on time,
-- 22 late) the commit just before the tick after their arrival; the 12
-- rows still to come after the last tick (1 late), the final ingestion's,
-- at the last arrival (2001-05-03 03:37, a late flight).  No row is stamped
-- before it arrived.
SET asof.guard = off;
SELECT CASE WHEN a.landing < '2001-04-30 23:00' THEN '1 history'
            WHEN a.ingested >= '2001-05-02 23:00' THEN '4 after the last tick'
            WHEN a.late THEN '3 late' ELSE '2 on time' END AS rows,
       count(*),
       count(*) FILTER (WHERE f.asof_ingested_at AT TIME ZONE 'UTC' =
                        CASE WHEN a.landing < '2001-04-30 23:00' THEN '2001-04-30 22:59:59.999999'
                             WHEN a.ingested >= '2001-05-02 23:00' THEN '2001-05-03 03:37'
                             ELSE date_trunc('hour', a.ingested) + interval '1 hour' - interval '1 microsecond'
                        END) AS stamped_as_expected,
       count(*) FILTER (WHERE f.asof_ingested_at AT TIME ZONE 'UTC' < a.landing
                           OR (a.landing >= '2001-04-30 23:00' AND f.asof_ingested_at AT TIME ZONE 'UTC' < a.ingested))
         AS stamped_before_arrival
  FROM asof_demo.flights_late f,
       LATERAL (SELECT f.dep_time + (30 + f.distance / 8) * interval '1 minute' AS landing,
                       ingested_late(f.dep_time, f.origin, f.destination, f.distance, f.delay) AS late) l,
       LATERAL (SELECT l.landing, l.late,
                       l.landing + CASE WHEN l.late THEN interval '2 hours' ELSE interval '0' END AS ingested) a
 GROUP BY 1 ORDER BY 1;
RESET asof.guard;
\endif

-- The served AUC against the offline one, over the same 344 flights
-- (test/demo/70_replay_auc.sql fails when they differ where parity holds).
\set ECHO none
\i test/demo/70_replay_auc.sql
\set ECHO all
\if :have_log
SELECT features, available_time, flights, served_auc = offline_auc AS same_auc,
       served_auc BETWEEN 0 AND 1 AS auc_ok
  FROM replay_auc ORDER BY 1, 2 DESC;
-- Each opening is in the audit log.
SELECT table_name, event, detail FROM asof.holdout_log
 WHERE event = 'unseal' AND detail LIKE '%replay%' ORDER BY table_name;
\endif

-- Clean-up: the views (with their online tables and logs), the live
-- tables, the roles.
SET client_min_messages = warning;
DROP TABLE asof_demo.flights_live, asof_demo.flights_late CASCADE;
DROP TABLE IF EXISTS asof_demo.replay_offline_live, asof_demo.replay_offline_late;
DROP SCHEMA asof_demo CASCADE;
DROP OWNED BY asof_demo_jobs, asof_demo_serving;
-- (kept when another database of the server still uses them, e.g. after
-- make demo against the server make installcheck runs on)
DO $$
BEGIN
    DROP ROLE asof_demo_jobs, asof_demo_serving;
EXCEPTION WHEN dependent_objects_still_exist THEN
    NULL;
END $$;
RESET client_min_messages;
SELECT count(*) AS replay_views_left FROM asof.feature_view_registry
 WHERE name IN ('origin_live', 'route_live', 'origin_late', 'route_late', 'origin_late_ingest', 'route_late_ingest');
