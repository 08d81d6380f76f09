--
-- 86_replay: the production replay of the flights demo (step 7 of make
-- demo, make replay: test/demo/70_replay_*.sql) on the committed sample
-- data/flights-sample.csv.gz, 1 and 2 May 2001, on-time data; 87_replay_late
-- checks the late-data half of the same run and cleans up.
-- The expected counts were computed independently from the CSV file (a
-- Python loop over its lines; landing = dep_time + 30 + distance / 8
-- minutes; the seeded late flights = the first 7 hex digits of the md5 of
-- "YYYY-MM-DD HH:MI|origin|destination|distance|delay", modulo 100, < 5):
--   1342 history flights (departed from 2001-04-23 on, landed before the
--   first tick, 2001-04-30 23:00) in each live table;
--   356 flights ingested into each live table by the replay (landed at or
--   after the first tick, departed before 2001-05-03), 23 of them late;
--   344 departures in [2001-05-01, 2001-05-03): one request each per view;
--   49 ticks, 2001-04-30 23:00 to 2001-05-02 23:00 (the first one run by
--   the setup), so 48 materializations per view in the loop.
-- An empty replay cannot pass: the log must hold the 344 requests of every
-- view, and the four landing-time views must have served at least
-- N = 4000 non-NULL feature values (count features included).
--
SET asof.progress_interval = 0;
\set flights_file 'data/flights-sample.csv.gz'
\set replay_progress 0
\set replay_from '2001-05-01 00:00'
\set replay_until '2001-05-03 00:00'
\o /dev/null
\set ECHO none
\i test/demo/00_load.sql
\set ECHO all
\o
SET client_min_messages = warning;
SELECT asof.protect('asof_demo.flights', time_column => 'dep_time', label_columns => '{delay}',
         entity_columns => '{origin,destination}',
         label_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''');
SELECT asof.split('asof_demo.flights', test_from => '2001-05-01');
RESET client_min_messages;

-- The setup and the replay, as make demo runs them (over two days).
\set ECHO none
\i test/demo/70_replay_setup.sql
\i test/demo/70_replay_run.sql
\set ECHO all

-- 712 = 2 x 356 rows ingested; with ingestion-time views 6 views, else 4.
SELECT ticks, rows_ingested, late_rows, requests,
       calls / requests AS views, materializations / (ticks - 1) AS materializations_per_tick
  FROM asof_demo.replay_runs;
-- The final live tables: history and replayed flights, the same rows in
-- both (1342 + 356), each flight once.
SET asof.guard = off;
SELECT (SELECT count(*) FROM asof_demo.flights_live) AS live,
       (SELECT count(DISTINCT id) FROM asof_demo.flights_live) AS live_ids,
       (SELECT count(*) FROM asof_demo.flights_late) AS late,
       (SELECT count(*) FROM (SELECT id, dep_time, origin, destination, distance, delay FROM asof_demo.flights_live
                              EXCEPT ALL
                              SELECT id, dep_time, origin, destination, distance, delay FROM asof_demo.flights_late) d)
         AS live_not_late;
-- Every tick published, one snapshot per view and tick; the online table
-- keeps the 48 most recent (the first tick, 2001-04-30 23:00, is gone).
SELECT feature_view, count(*) AS ticks, min(tick), max(tick)
  FROM asof.materializations
 WHERE feature_view IN ('origin_live', 'route_live', 'origin_late', 'route_late')
 GROUP BY 1 ORDER BY 1;
RESET asof.guard;

-- The log and the parity report (test/demo/70_replay_parity.sql fails on
-- a mismatch of on-time data, on a late-data run without mismatches, and
-- on an incomplete log).
\set ECHO none
\i test/demo/70_replay_parity.sql
\set ECHO all
\if :have_log
-- Every request was served the snapshot of k(at), the latest hourly tick at
-- least 10 minutes before it (no stale tick), at its own time, by the
-- serving role; at least N = 4000 non-NULL values.
SET asof.guard = off;
SELECT count(*) AS requests,
       count(*) FILTER (WHERE tick <> date_trunc('hour', at - interval '10 minutes')) AS not_k_at,
       count(*) FILTER (WHERE served_at <> at AT TIME ZONE 'UTC') AS not_at_its_time,
       count(DISTINCT role) AS roles
  FROM (SELECT * FROM asof_online.origin_live__log UNION ALL SELECT * FROM asof_online.route_live__log
        UNION ALL SELECT * FROM asof_online.origin_late__log UNION ALL SELECT * FROM asof_online.route_late__log) l;
SELECT sum(values_not_null) >= 4000 AS at_least_4000_values
  FROM replay_log_counts WHERE feature_view IN ('origin_live', 'route_live', 'origin_late', 'route_late');
-- Parity, independently of asof.parity_report: every on-time request
-- against asof.features_at on the final table (what the engine computes
-- offline), every feature.
SELECT v AS feature_view, count(*) AS requests,
       count(*) FILTER (WHERE l.features <> asof.features_at(v, l.entity, l.at)) AS differ
  FROM unnest('{origin_live,route_live}'::text[]) v,
       LATERAL (SELECT * FROM asof_online.origin_live__log WHERE v = 'origin_live'
                UNION ALL SELECT * FROM asof_online.route_live__log WHERE v = 'route_live') l
 GROUP BY v ORDER BY v;
RESET asof.guard;
-- A data scientist (the guard applies) sees no logged request of the
-- held-out period.
SELECT count(*) AS visible FROM asof_online.origin_live__log;
\endif
