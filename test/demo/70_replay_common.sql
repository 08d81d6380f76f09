-- test/demo/70_replay_common.sql: included by every file of the production
-- replay (step 7 of the flights demo, make replay: test/demo/70_replay_*.sql).
-- Sets the replay's period (psql variables replay_from and replay_until,
-- timestamps; defaults: 1 May 2001, the demo's short version) and finds out which pieces this build and this server have, so
-- that a part whose API is missing says so and is skipped, never faked:
--   have_replay  the production side (asof.run_due_materializations,
--                asof.clock) and a superuser (asof.clock is superuser-only)
--   have_log     the serving log (asof.serving_log_flush, asof.log_serving)
--   have_ingest  asof.track_ingestion
--   have_parity  asof.parity_report
-- Creates nothing.
\if :{?replay_from}
\else
\set replay_from '2001-05-01 00:00'
\endif
\if :{?replay_until}
\else
\set replay_until '2001-05-02 00:00'
\endif
SET search_path = asof_demo, public;
SELECT to_regprocedure('asof.run_due_materializations()') IS NOT NULL
         AND to_regprocedure('asof.create_feature_view(text,regclass,name[],text,text[],text,interval,timestamptz,interval,interval)') IS NOT NULL
         AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
         AND NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') AS have_replay,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS is_superuser,
       EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') AS have_cron_here,
       to_regprocedure('asof.serving_log_flush(integer)') IS NOT NULL
         AND EXISTS (SELECT FROM pg_settings WHERE name = 'asof.log_serving') AS have_log,
       to_regprocedure('asof.track_ingestion(regclass,name,timestamptz)') IS NOT NULL AS have_ingest,
       to_regprocedure('asof.parity_report(text,timestamptz,timestamptz)') IS NOT NULL AS have_parity
\gset
