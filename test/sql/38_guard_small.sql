--
-- 38_guard_small: smaller defects of issue 10.
--
-- A timestamptz prediction time on a timestamp (wall-clock) feature view is
-- refused with a hint that keeps the wall-clock value: AT TIME ZONE with the
-- zone the data was recorded in, not 'UTC'.  The data below is recorded in
-- Chicago time (UTC-6 in January): events at 08:30 (v=1) and 09:30 (v=2)
-- local.  A prediction at the instant 09:00 Chicago time (15:00 UTC) must
-- see the 08:30 event only.
--
SET client_min_messages = warning;
CREATE SCHEMA g38;
SET search_path = g38, public;
SET TimeZone = 'America/Chicago';
CREATE TABLE g38.f (id int, te timestamp, v int);
INSERT INTO g38.f VALUES (1, '2024-01-10 08:30', 1), (1, '2024-01-10 09:30', 2);
SELECT asof.create_feature_view('g38_v', 'g38.f', '{id}', 'te', '{last(v), count(*) over 1 day}');
CREATE TABLE g38.ftz (id int, te timestamptz, v int);
INSERT INTO g38.ftz VALUES (1, '2024-01-10 08:30-06', 1), (1, '2024-01-10 09:30-06', 2);
SELECT asof.create_feature_view('g38_vtz', 'g38.ftz', '{id}', 'te', '{last(v)}');
RESET client_min_messages;

-- features_at: a timestamptz (an instant) on the wall-clock view is refused;
-- the detail says why, the hint names AT TIME ZONE with the data's zone.
SELECT asof.features_at('g38_v', '{1}', '2024-01-10 09:00-06'::timestamptz);
-- The hint's conversion keeps the wall clock: 09:00 in Chicago sees only
-- the 08:30 event (last 1, count 1) ...
SELECT asof.features_at('g38_v', '{1}', '2024-01-10 09:00-06'::timestamptz AT TIME ZONE 'America/Chicago');
-- ... and so does the session's own conversion when its TimeZone is the
-- data's zone (here it is) ...
SELECT asof.features_at('g38_v', '{1}', '2024-01-10 09:00-06'::timestamptz::timestamp);
-- ... whereas 'UTC' (the old hint) reads 15:00 on the Chicago wall clock and
-- sees the 09:30 event, half an hour in the future of the prediction.
SELECT asof.features_at('g38_v', '{1}', '2024-01-10 09:00-06'::timestamptz AT TIME ZONE 'UTC');

-- The other direction: a wall-clock time on a timestamptz view.
SELECT asof.features_at('g38_vtz', '{1}', '2024-01-10 09:00'::timestamp);
SELECT asof.features_at('g38_vtz', '{1}', '2024-01-10 09:00'::timestamp AT TIME ZONE 'America/Chicago');

-- build_training_set: the same refusal and hint for a timestamptz spine
-- column; the hint's expression gives the features_at values.  The `at`
-- expression is evaluated with TimeZone UTC (docs/engine.md), so there a
-- plain cast (ttz::timestamp) gives the UTC wall clock: that is why the hint
-- names the zone.
CREATE TABLE g38.q (id int, ttz timestamptz);
INSERT INTO g38.q VALUES (1, '2024-01-10 09:00-06');
SELECT asof.build_training_set('g38.out_refused', 'g38.q', 'ttz', '{g38_v}');
SELECT to_regclass('g38.out_refused') AS no_table,
       (SELECT count(*) FROM asof.training_sets WHERE name = 'g38.out_refused') AS builds_recorded;
SET client_min_messages = warning;
SELECT asof.build_training_set('g38.out_zone', 'g38.q', 'ttz AT TIME ZONE ''America/Chicago''', '{g38_v}');
SELECT asof.build_training_set('g38.out_cast', 'g38.q', 'ttz::timestamp', '{g38_v}');
RESET client_min_messages;
SELECT 'zone' AS at, g38_v__last_v, g38_v__count_1d FROM g38.out_zone
UNION ALL
SELECT 'cast', g38_v__last_v, g38_v__count_1d FROM g38.out_cast;

-- clean up
SET client_min_messages = warning;
SELECT asof.drop_feature_view('g38_v');
SELECT asof.drop_feature_view('g38_vtz');
DELETE FROM asof.training_sets WHERE name LIKE 'g38.%';
DROP SCHEMA g38 CASCADE;
RESET client_min_messages;
RESET TimeZone;
RESET search_path;
