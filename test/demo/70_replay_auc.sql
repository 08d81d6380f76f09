-- test/demo/70_replay_auc.sql: step 7d of the flights demo (and of make
-- replay): the production AUC from the values production actually served,
-- next to the AUC from features computed offline, over exactly the same
-- flights (those departing in [replay_from, replay_until)).
-- The score is step 5's single feature, the origin's 6-hour average delay
-- (label: arrival delay > 15 minutes; asof_demo.auc); a NULL scores as the
-- offline mean of the feature over the live table's history (the flights
-- before replay_from), the same fill on both sides.
--   served:  from the serving log of each origin view, read by the data
--            scientist (the guard applies) through an audited asof.unseal;
--   offline: asof.build_training_set on the final live table with the same
--            view (spine = the live table, at = dep_time), unsealed too.
-- Flights sharing an origin and a departure minute were served the same
-- value (one request each, same entity and time): the log's first row for
-- (origin, at) is used for each.
\set ON_ERROR_STOP 1
\i test/demo/70_replay_common.sql
\if :have_replay
\if :have_log
SELECT to_regclass('asof_online."origin_late_ingest__log"') IS NOT NULL AS have_ingest_views \gset
SET client_min_messages = warning;
DROP TABLE IF EXISTS replay_offline_live, replay_offline_late;
SELECT asof.build_training_set('asof_demo.replay_offline_live', spine => 'asof_demo.flights_live',
         at => 'dep_time', feature_views => '{origin_live}') AS offline_live_rows \gset
SELECT asof.build_training_set('asof_demo.replay_offline_late', spine => 'asof_demo.flights_late',
         at => 'dep_time',
         feature_views => CASE WHEN :'have_ingest_views'::boolean THEN '{origin_late,origin_late_ingest}'
                               ELSE '{origin_late}' END::text[]) AS offline_late_rows \gset
RESET client_min_messages;

CREATE TEMP TABLE replay_auc (
    features text, available_time text, served_auc float8, offline_auc float8, flights bigint, positives bigint);
-- The May-June rows of the log and of the offline sets are held out: open
-- them for this transaction, each opening audited in asof.holdout_log.
BEGIN;
SELECT count(*) AS unsealed
  FROM unnest(ARRAY['asof_demo.replay_offline_live', 'asof_demo.replay_offline_late']::regclass[]
              || ARRAY(SELECT log_table FROM asof.online_tables
                        WHERE feature_view IN ('origin_live', 'origin_late', 'origin_late_ingest'))) t,
       LATERAL (SELECT asof.unseal(t, reason => 'replay: production AUC of the served values against offline')) u \gset
SELECT coalesce(avg(origin_live__avg_delay_6h), 0) AS fill FROM replay_offline_live WHERE dep_time < :'replay_from' \gset
INSERT INTO replay_auc
SELECT v.features, v.available_time, s.auc, o.auc, s.n, s.positives
  FROM (VALUES ('on time', 'landing', 'origin_live', 'replay_offline_live'),
               ('5% late', 'landing', 'origin_late', 'replay_offline_late'),
               ('5% late', 'ingestion stamp', 'origin_late_ingest', 'replay_offline_late')) AS v(features, available_time, view, offline)
  JOIN asof.online_tables ot ON ot.feature_view = v.view,
       LATERAL auc(format($q$
           SELECT coalesce((l.features->>'avg_delay_6h')::float8, %s), t.delay > 15
             FROM asof_demo.%I t
             JOIN (SELECT DISTINCT ON (entity, at) entity[1] AS origin, at, features
                     FROM %s ORDER BY entity, at, served_at) l
               ON l.origin = t.origin AND l.at = t.dep_time
            WHERE t.dep_time >= %L AND t.dep_time < %L$q$,
           :'fill', v.offline, ot.log_table, :'replay_from', :'replay_until')) s,
       LATERAL auc(format($q$
           SELECT coalesce(%I, %s), delay > 15 FROM asof_demo.%I
            WHERE dep_time >= %L AND dep_time < %L$q$,
           v.view || '__avg_delay_6h', :'fill', v.offline, :'replay_from', :'replay_until')) o;
COMMIT;
\echo
\echo 'Production AUC (origin''s 6-hour average delay, label: arrival delay > 15 min) of the'
\echo 'values production served (serving log), and of the same view computed offline:'
SELECT features, available_time, round(served_auc::numeric, 4) AS "served AUC",
       round(offline_auc::numeric, 4) AS "offline AUC",
       to_char(served_auc - offline_auc, 'SG0.0000') AS "served - offline", flights
  FROM replay_auc ORDER BY features, available_time DESC;
-- Where every served value equals the offline one (on time; late with the
-- ingestion stamp), the two AUCs are the same number.
SELECT bool_and(flights > 0 AND served_auc BETWEEN 0 AND 1)
       AND bool_and(served_auc = offline_auc) FILTER (WHERE available_time = 'ingestion stamp' OR features = 'on time')
       AS auc_ok
  FROM replay_auc \gset
\if :auc_ok
\else
\echo '=> FAILED: no flights scored, or served and offline AUCs differ where parity holds.'
SELECT 1 / 0 AS replay_auc_failed;
\endif
\else
\echo 'SKIPPED: this build has no serving log: no served values to score.'
\endif
\else
\echo 'SKIPPED: see step 7a.'
\endif
