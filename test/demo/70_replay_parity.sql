-- test/demo/70_replay_parity.sql: step 7c of the flights demo (and of make
-- replay): what production served, against what the engine computes
-- offline on the final tables, request by request (asof.parity_report over
-- the serving log), as production monitoring: run by the serving role,
-- exempt from the guard, not through asof.unseal.
--   on-time data (origin_live, route_live): 0 mismatches on every feature,
--     every request compared (none stale), and the log holds one request per
--     departing flight of the period, counted independently from
--     asof_demo.flights, a quarter of them or more with a non-NULL 7-day
--     average (on the 1% sample a route flies every few days), and every
--     non-NULL value the driver counted as it served (so an empty or
--     all-NULL replay cannot pass);
--   late data, available time = landing (origin_late, route_late): the
--     mismatch rate per feature the late 5% cause (at least one mismatch);
--   late data, available time = ingestion stamp (origin_late_ingest,
--     route_late_ingest): 0 mismatches again.
-- A failed check stops the step (division by zero after an explanation).
\set ON_ERROR_STOP 1
\i test/demo/70_replay_common.sql
\if :have_replay
\if :have_log
-- The requests the log must hold: every flight departing in the period.
SET asof.guard = off;
SELECT count(*) AS departures FROM flights
 WHERE dep_time >= :'replay_from' AND dep_time < :'replay_until' \gset
RESET asof.guard;
SELECT array_agg(m.feature_view ORDER BY m.feature_view) AS views,
       string_agg(format('SELECT %L AS feature_view, * FROM %s', m.feature_view, o.log_table), ' UNION ALL ')
         AS all_logs
  FROM asof.materialization_schedule m JOIN asof.online_tables o USING (feature_view)
 WHERE m.feature_view IN ('origin_live', 'route_live', 'origin_late', 'route_late',
                          'origin_late_ingest', 'route_late_ingest') \gset

-- Monitoring runs as the serving role, exempt from the guard (its role
-- setting, applied here by hand: this session did not log in as it).
SET asof.guard = off;
SET ROLE asof_demo_serving;
CREATE TEMP TABLE replay_log_counts AS
SELECT feature_view, count(*) AS requests,
       count(*) FILTER (WHERE features->>'avg_delay_7d' IS NOT NULL) AS avg_7d_not_null,
       sum((SELECT count(*) FROM jsonb_each(features) e WHERE e.value <> 'null')) AS values_not_null,
       count(*) FILTER (WHERE served_at <> at AT TIME ZONE 'UTC') AS served_at_not_at,
       count(*) FILTER (WHERE role <> 'asof_demo_serving') AS other_role,
       count(DISTINCT tick) AS ticks_served
  FROM (:all_logs) l
 GROUP BY feature_view;
RESET ROLE;
RESET asof.guard;
\echo
\echo 'The serving log: one row per request, each served at its departure time.'
SELECT feature_view, requests, ticks_served, values_not_null AS "non-NULL values",
       avg_7d_not_null AS "non-NULL avg_delay_7d"
  FROM replay_log_counts ORDER BY feature_view;
SELECT count(*) = cardinality(:'views'::text[])
       AND bool_and(requests = :departures AND served_at_not_at = 0 AND other_role = 0
                    AND avg_7d_not_null * 4 >= requests)
       AND :departures > 0
       AND sum(values_not_null) = (SELECT values_served FROM replay_runs ORDER BY started DESC LIMIT 1)
       AS log_ok
  FROM replay_log_counts \gset
\if :log_ok
\echo '=> every view logged' :departures 'requests, one per departing flight, a quarter of them or more with a 7-day average; the non-NULL values logged are those the replay counted as it served them.'
\else
\echo '=> FAILED: the serving log does not hold one request per departing flight (' :departures '), each at its time, with the values served.'
SELECT 1 / 0 AS replay_log_failed;
\endif

\if :have_parity
SET asof.guard = off;
SET ROLE asof_demo_serving;
CREATE TEMP TABLE replay_parity AS
SELECT v AS feature_view, r.*
  FROM unnest(:'views'::text[]) v, LATERAL asof.parity_report(v) r;
RESET ROLE;
RESET asof.guard;

\echo
\echo 'On-time data: served against recomputed offline on the final table, per feature.'
SELECT feature_view, feature, requests, stale, compared, mismatches, missing, extra,
       smape, max_abs_diff
  FROM replay_parity WHERE feature_view IN ('origin_live', 'route_live')
 ORDER BY feature_view, feature;
SELECT count(*) = 11
       AND bool_and(mismatches = 0 AND stale = 0 AND compared = requests AND requests = :departures
                    AND missing = 0 AND extra = 0) AS ontime_ok
  FROM replay_parity WHERE feature_view IN ('origin_live', 'route_live') \gset
\if :ontime_ok
\echo '=> 0 mismatches on every feature of both views: what was served is what the engine computes.'
\else
\echo '=> FAILED: served and offline values differ on on-time data.'
SELECT 1 / 0 AS replay_parity_failed;
\endif

\echo
\echo 'Late data (5% of the flights ingested 2 hours after landing): mismatch rate per feature,'
\echo 'with available time = landing time, and with available time = the ingestion stamp.'
SELECT f.key AS "view", f.feature,
       l.compared AS "requests",
       l.mismatches AS "landing: mismatches",
       to_char(100 * l.mismatch_rate, 'FM990.000') || ' %' AS "landing: rate",
       i.mismatches AS "ingestion stamp: mismatches"
  FROM (SELECT DISTINCT regexp_replace(feature_view, '_late.*', '') AS key, feature FROM replay_parity
         WHERE feature_view LIKE '%\_late%') f
  JOIN replay_parity l ON l.feature_view = f.key || '_late' AND l.feature = f.feature
  LEFT JOIN replay_parity i ON i.feature_view = f.key || '_late_ingest' AND i.feature = f.feature
 ORDER BY f.key, f.feature;
SELECT coalesce(sum(mismatches) FILTER (WHERE feature_view IN ('origin_late', 'route_late')), 0) > 0 AS late_seen,
       coalesce(sum(mismatches) FILTER (WHERE feature_view LIKE '%\_ingest'), 0) = 0
         AND count(*) FILTER (WHERE feature_view LIKE '%\_ingest') IN (0, 11) AS ingest_ok,
       count(*) FILTER (WHERE feature_view LIKE '%\_ingest') > 0 AS have_ingest_views
  FROM replay_parity \gset
\if :late_seen
\else
\echo '=> FAILED: the late rows caused no mismatch with available time = landing time.'
SELECT 1 / 0 AS replay_late_failed;
\endif
\if :have_ingest_views
\if :ingest_ok
\echo '=> with the ingestion stamp as available time: 0 mismatches again.'
\else
\echo '=> FAILED: mismatches with available time = the ingestion stamp.'
SELECT 1 / 0 AS replay_ingest_failed;
\endif
\else
\echo 'available time = ingestion stamp: SKIPPED (this build has no asof.track_ingestion).'
\endif
\else
\echo 'parity: SKIPPED (this build has no asof.parity_report).'
\endif
\else
\echo 'SKIPPED: this build has no serving log (asof.log_serving): nothing to compare.'
\endif
\else
\echo 'SKIPPED: see step 7a.'
\endif
