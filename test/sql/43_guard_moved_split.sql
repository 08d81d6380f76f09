--
-- 43_guard_moved_split: G5, issue 14.  A training set built on a protected
-- spine follows the spine's split when it moves: labels that the new split
-- makes immature are set to NULL at once (a later split must not reveal
-- labels the model could not have known).  Moved later, a WARNING says the
-- training set must be built again (labels and features set to NULL under
-- the old split stay NULL) and asof.training_sets_to_rebuild lists it until
-- it is; moved earlier, its training rows are what a new build gives (a
-- NOTICE).  Checked by brute force with the guard off.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
CREATE SCHEMA g43;
-- Hourly rows g = 0..71 from 2024-01-01; the label is known 6 hours later.
CREATE TABLE g43.ev (e int, ts timestamp, v int, lbl int);
INSERT INTO g43.ev SELECT 1, '2024-01-01'::timestamp + g * interval '1 hour', g, g % 2
  FROM generate_series(0, 71) g;
SELECT asof.protect('g43.ev', time_column => 'ts', label_columns => '{lbl}',
                    label_time => 'ts + interval ''6 hours''');
SET client_min_messages = warning;
SELECT asof.split('g43.ev', test_from => '2024-01-02 12:00');
RESET client_min_messages;
SELECT asof.create_feature_view('g43_fv', 'g43.ev', '{e}', 'ts', '{count(*) over 1 day}');
-- At 12:00 the labels of 06:00..11:00 are immature: 6 NULL.
SELECT asof.build_training_set('g43.ts', 'g43.ev', 'ts', '{g43_fv}');
SELECT * FROM asof.training_sets_to_rebuild;

-- leaks(): training rows (before the current split, read with the guard
-- off) whose label is visible although its label time is at or after the
-- split; lost(): training rows whose label is NULL although it was known.
CREATE FUNCTION g43.labels(OUT split timestamp, OUT training_rows bigint, OUT leaks bigint, OUT lost bigint)
LANGUAGE sql AS $$
  SELECT r.test_from::timestamp,
         count(*) FILTER (WHERE t.ts < r.test_from::timestamp),
         count(*) FILTER (WHERE t.ts < r.test_from::timestamp AND t.lbl IS NOT NULL
                            AND t.ts + interval '6 hours' >= r.test_from::timestamp),
         count(*) FILTER (WHERE t.ts < r.test_from::timestamp AND t.lbl IS NULL
                            AND t.ts + interval '6 hours' < r.test_from::timestamp)
  FROM g43.ts t, asof.protected_tables r WHERE r.table_name = 'g43.ev'::regclass
  GROUP BY r.test_from
$$;
SET asof.guard = off;
SELECT * FROM g43.labels();
RESET asof.guard;

-- The split moves later, to 2024-01-03 00:00: rows 12:00..23:00 become
-- training rows; the labels of 18:00..23:00 are immature (6 set to NULL);
-- those of 06:00..11:00 are mature now but stay NULL (6 lost: rebuild).
SELECT asof.split('g43.ev', test_from => '2024-01-03 00:00');
SET asof.guard = off;
SELECT * FROM g43.labels();
RESET asof.guard;
SELECT training_set, spine, built_with_split, current_split FROM asof.training_sets_to_rebuild;
-- What a user sees now: 36 + 12 training rows, 6 + 6 labels NULL.
SELECT count(*) AS rows, count(*) - count(lbl) AS null_labels FROM g43.ts;

-- The split moves earlier, to 2024-01-02 06:00: the labels of 00:00..05:00
-- become immature (6 set to NULL).
SELECT asof.split('g43.ev', test_from => '2024-01-02 06:00');
SET asof.guard = off;
SELECT * FROM g43.labels();
RESET asof.guard;
-- Still to rebuild: it was moved later before.
SELECT training_set, built_with_split, current_split FROM asof.training_sets_to_rebuild;

-- Rebuilt, it matches the split again: nothing to rebuild, no label lost.
SET client_min_messages = warning;
DROP TABLE g43.ts;
SELECT asof.build_training_set('g43.ts', 'g43.ev', 'ts', '{g43_fv}');
RESET client_min_messages;
SELECT count(*) FROM asof.training_sets_to_rebuild;
SET asof.guard = off;
SELECT * FROM g43.labels();
RESET asof.guard;
-- Moved earlier only (06:00 -> 03:00): labels of 21:00..02:00 the day
-- before become immature (6 set to NULL), nothing to rebuild.
SELECT asof.split('g43.ev', test_from => '2024-01-02 03:00');
SELECT count(*) FROM asof.training_sets_to_rebuild;
SET asof.guard = off;
SELECT * FROM g43.labels();
RESET asof.guard;
-- A label time that calls a user function: moving the split later would
-- mean running it over held-out rows, so it is refused (nothing changes);
-- moving it earlier works.
CREATE FUNCTION g43.plus6(t timestamp) RETURNS timestamp LANGUAGE sql IMMUTABLE
  AS 'SELECT t + interval ''6 hours''';
CREATE TABLE g43.ev2 (LIKE g43.ev);
INSERT INTO g43.ev2 SELECT 1, '2024-01-01'::timestamp + g * interval '1 hour', g, g % 2
  FROM generate_series(0, 71) g;
SET client_min_messages = warning;
SELECT asof.protect('g43.ev2', time_column => 'ts', label_columns => '{lbl}', label_time => 'g43.plus6(ts)');
SELECT asof.split('g43.ev2', test_from => '2024-01-02 12:00');
SELECT asof.create_feature_view('g43_fv2', 'g43.ev2', '{e}', 'ts', '{count(*) over 1 day}');
SELECT asof.build_training_set('g43.ts2', 'g43.ev2', 'ts', '{g43_fv2}');
RESET client_min_messages;
SELECT asof.split('g43.ev2', test_from => '2024-01-03 00:00');
SELECT test_from FROM asof.protected_tables WHERE table_name = 'g43.ev2'::regclass;
-- Earlier, to 06:00: the labels of 00:00..05:00 become immature (6); a
-- user sees the 30 training rows, 6 labels NULL.
SELECT asof.split('g43.ev2', test_from => '2024-01-02 06:00');
SELECT count(*) AS rows, count(*) - count(lbl) AS null_labels FROM g43.ts2;
SELECT asof.drop_feature_view('g43_fv2');

-- Plain users cannot write the record.
CREATE ROLE regress_g43_user;
SET ROLE regress_g43_user;
INSERT INTO asof.training_set_splits VALUES ('pg_class', 'pg_class', '2000-01-01');
SELECT asof._training_set_follow_split('pg_class', 'pg_class', '2000-01-01', true);
RESET ROLE;
DROP ROLE regress_g43_user;

-- Clean up.
SET client_min_messages = warning;
SELECT asof.drop_feature_view('g43_fv');
SELECT asof.unprotect('g43.ev');
SELECT asof.unprotect('g43.ev2');
DELETE FROM asof.training_sets WHERE name::text LIKE 'g43.%';
DELETE FROM asof.training_set_splits;
DELETE FROM asof.holdout_log;
DROP SCHEMA g43 CASCADE;
