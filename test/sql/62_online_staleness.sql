--
-- 62_online_staleness: when the job does not run, serving goes on from the
-- newest retained snapshot, and the tick it serves says how old it is;
-- asof.run_due_materializations() catches the missed ticks up, in order.
-- Scheduling without pg_cron in the database: the view is listed and a
-- WARNING says how to install pg_cron or drive the list from another
-- scheduler (test/t/online_cron.sh covers pg_cron itself).
--
SET TimeZone = 'UTC';
SET asof.progress_interval = 0;
CREATE TABLE os_src (k text, te timestamp, v int);
INSERT INTO os_src SELECT 'e' || (i % 3), '2001-01-01 06:00'::timestamp + i * interval '10 minutes', i
  FROM generate_series(0, 47) i;      -- 06:00 to 13:50, one row every 10 minutes
-- the view's source is a view that fails while os_div.x is 0
CREATE TABLE os_div (x int);
INSERT INTO os_div VALUES (1);
CREATE VIEW os_srcv AS SELECT k, te, v / (SELECT x FROM os_div) AS v FROM os_src;
SELECT asof.create_feature_view('os_v', 'os_srcv', '{k}', event_time => 'te',
         features => '{count(*) over 1 hour, max(v) over 1 day}', cadence => '1 hour', delay => '5 minutes');
SELECT asof.create_feature_view('os_cont', 'os_src', '{k}', event_time => 'te',
         features => '{count(*) over 1 hour}');

-- scheduling: the caller's own role by default; validate is stored
SELECT asof.schedule_materialization('os_v', validate => true);
SELECT feature_view, run_as, validate FROM asof.materialization_schedule;
SELECT asof.schedule_materialization('os_cont');
SELECT asof.schedule_materialization('os_nope');
SELECT asof.schedule_materialization('os_v', run_as => 'pg_monitor');
SELECT asof.schedule_materialization('os_v');
SELECT feature_view, run_as, validate FROM asof.materialization_schedule;

-- the first run materializes the latest tick only
SET asof.clock = '2001-01-01 09:02+00';
SELECT * FROM asof.run_due_materializations();
SELECT * FROM asof.run_due_materializations();   -- nothing due
SET asof.clock = '2001-01-01 10:00+00';
SELECT * FROM asof.run_due_materializations();   -- the 10:00 tick is due at 10:00

-- the job stops; at 12:30 the newest snapshot is still 10:00's
SET asof.clock = '2001-01-01 12:30+00';
SELECT k, tick, os_v__count_1h, os_v__max_v_1d
  FROM asof.online_features_batch('os_v', '{e0,e1,e2}', asof.now() AT TIME ZONE 'UTC', NULL::asof_online.os_v__served);
SELECT asof.online_features('os_v', '{e0}') AS served_at_1230,
       asof.features_at('os_v', '{e0}', '2001-01-01 12:30'::timestamp) AS up_to_date;
-- it catches up 11:00 and 12:00, in order
SELECT * FROM asof.run_due_materializations();
SELECT k, tick, os_v__count_1h, os_v__max_v_1d
  FROM asof.online_features_batch('os_v', '{e0,e1,e2}', '2001-01-01 12:30'::timestamp, NULL::asof_online.os_v__served);
SELECT asof.online_features('os_v', '{e0}') = asof.features_at('os_v', '{e0}', '2001-01-01 12:30'::timestamp) AS caught_up;
-- before its publication time (12:05) the 12:00 tick is not served
SELECT tick FROM asof.online_features_batch('os_v', '{e0}', '2001-01-01 12:04:59.999999'::timestamp, NULL::asof_online.os_v__served);
SELECT tick FROM asof.online_features_batch('os_v', '{e0}', '2001-01-01 12:05'::timestamp, NULL::asof_online.os_v__served);

-- a tick that fails is reported, with a WARNING, and retried at the next run
SET asof.clock = '2001-01-01 13:10+00';
UPDATE os_div SET x = 0;
SELECT * FROM asof.run_due_materializations();
UPDATE os_div SET x = 1;
SELECT * FROM asof.run_due_materializations();
SELECT tick, entities FROM asof.materializations WHERE feature_view = 'os_v' ORDER BY tick;

-- a role that may not run as the scheduled role does not run its views
CREATE ROLE regress_online_other;
SET asof.clock = '2001-01-01 15:00+00';
SET ROLE regress_online_other;
SELECT * FROM asof.run_due_materializations();
RESET ROLE;

-- unscheduling: nothing is due any more; the snapshots stay
SELECT asof.unschedule_materialization('os_v');
SELECT asof.unschedule_materialization('os_v');
SELECT * FROM asof.run_due_materializations();
SELECT count(*) AS snapshots FROM asof.materializations WHERE feature_view = 'os_v';

-- dropping a scheduled view removes it from the schedule
SELECT asof.schedule_materialization('os_v');
SELECT asof.drop_feature_view('os_v');
SELECT count(*) AS scheduled FROM asof.materialization_schedule;
SELECT asof.drop_feature_view('os_cont');
DROP VIEW os_srcv;
DROP TABLE os_src, os_div;
DROP ROLE regress_online_other;
