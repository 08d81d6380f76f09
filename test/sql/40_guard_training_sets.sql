--
-- 40_guard_training_sets: G5.  Feature views and training sets are the
-- legitimate path: before a split, features over label or future columns of
-- a protected source are refused; after it, spine rows whose effective time
-- is after the split get NULL features (counted), features_at refuses them,
-- and a training set built on a protected spine is protected like it
-- (linked split, immature labels set to NULL and counted).
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
CREATE ROLE regress_asof_g_owner;
CREATE ROLE regress_asof_g_analyst;
CREATE SCHEMA g40;
GRANT USAGE, CREATE ON SCHEMA g40 TO regress_asof_g_owner, regress_asof_g_analyst;
-- The source: flights from SFO; 2001-03-10 will be held out.
CREATE TABLE g40.flights (origin text, dep_time timestamp, distance int, delay int, arr_time timestamp);
INSERT INTO g40.flights VALUES
    ('SFO', '2001-01-10 06:00', 300, 10, '2001-01-10 08:00'),
    ('SFO', '2001-02-10 06:00', 400, 20, '2001-02-10 08:00'),
    ('SFO', '2001-03-10 06:00', 500, 40, '2001-03-10 08:00');
GRANT SELECT ON g40.flights TO PUBLIC;
SELECT asof.protect('g40.flights', 'dep_time', '{delay}', future_columns => '{arr_time}');
SELECT asof.create_feature_view('g40_label', 'g40.flights', '{origin}', 'dep_time',
    '{last(delay), count(*) over 30 days}');
SELECT asof.create_feature_view('g40_clean', 'g40.flights', '{origin}', 'dep_time',
    '{last(distance), count(*) over 30 days}');
SELECT asof.create_feature_view('g40_future', 'g40.flights', '{origin}', 'dep_time',
    '{last(distance)}', available_time => 'arr_time');
CREATE TABLE g40.spine (origin text, t timestamp);
INSERT INTO g40.spine VALUES ('SFO', '2001-02-15'), ('SFO', '2001-03-01'),
                             ('SFO', '2001-03-20'), ('LAX', '2001-02-15');

-- Before the split: features over a label or a future column are refused,
-- the others work (they see every row: no split yet).
SELECT asof.build_training_set('g40.ts_label', 'g40.spine', 't', '{g40_label}');
SELECT asof.build_training_set('g40.ts_future', 'g40.spine', 't', '{g40_future}');
SELECT asof.features_at('g40_label', '{SFO}', '2001-02-15'::timestamp);
SELECT asof.features_at('g40_clean', '{SFO}', '2001-03-20'::timestamp);

SELECT asof.split('g40.flights', '2001-03-01');

-- After the split, on an unprotected spine: rows up to the cutoff are
-- computed from training rows (2001-02-15: last delay 20, one flight in
-- the 30 days before; 2001-03-01 is not after the cutoff: the same); the
-- row at 2001-03-20 would need the held-out flight of 2001-03-10: NULL,
-- counted; LAX has no flights: count 0.
SELECT asof.build_training_set('g40.ts_label', 'g40.spine', 't', '{g40_label}');
SELECT * FROM g40.ts_label ORDER BY origin, t;
SELECT asof.build_training_set('g40.ts_future', 'g40.spine', 't', '{g40_future}');
SELECT * FROM g40.ts_future ORDER BY origin, t;
-- The training set on an unprotected spine is not protected.
SELECT table_name FROM asof.protected_tables ORDER BY table_name::text;

-- features_at: refused for a time after the split, fine before it.
SELECT asof.features_at('g40_label', '{SFO}', '2001-03-20'::timestamp);
SELECT asof.features_at('g40_label', '{SFO}', '2001-02-15'::timestamp);
-- Unsealed in this transaction: allowed, and sees the held-out flight.
BEGIN;
SELECT asof.unseal('g40.flights', 'evaluate features at 2001-03-20');
SELECT asof.features_at('g40_label', '{SFO}', '2001-03-20'::timestamp);
COMMIT;
SELECT asof.features_at('g40_label', '{SFO}', '2001-03-20'::timestamp);

-- A protected spine (its own split 2001-03-01): outcome is the label,
-- known at outcome_at.  Row 2's label arrives after the split: immature.
-- Rows 3 and 4 are held out.
CREATE TABLE g40.pspine (origin text, t timestamp, outcome int, outcome_at timestamp);
ALTER TABLE g40.pspine OWNER TO regress_asof_g_owner;
INSERT INTO g40.pspine VALUES ('SFO', '2001-02-01', 1, '2001-02-02'),
                              ('SFO', '2001-02-25', 0, '2001-03-05'),
                              ('SFO', '2001-03-10', 1, '2001-03-11'),
                              ('SFO', '2001-03-20', 0, '2001-03-21');
GRANT SELECT ON g40.pspine TO regress_asof_g_analyst;
SET ROLE regress_asof_g_owner;
SELECT asof.protect('g40.pspine', 't', '{outcome}', label_time => 'outcome_at');
-- Before the spine's split, building reads its label: refused.
RESET ROLE;
SELECT asof.build_training_set('g40.ts_p', 'g40.pspine', 't', '{g40_clean}');
SET ROLE regress_asof_g_owner;
SELECT asof.split('g40.pspine', '2001-03-01');
RESET ROLE;
-- Built by another role.  Every spine row is written; the held-out rows 3
-- and 4 are sealed in the training set, which is protected like the spine,
-- and get their real features, held-out flights included (row 4: the
-- flight of 2001-03-10, distance 500, is visible at 2001-03-20): the
-- source is the protected table itself, its event time is the time column
-- and the features call built-in functions only, so no other row can see
-- those flights.  The immature label of row 2 is NULL.
SET ROLE regress_asof_g_analyst;
SELECT asof.build_training_set('g40.ts_p', 'g40.pspine', 't', '{g40_clean}');
SELECT * FROM g40.ts_p ORDER BY t;
RESET ROLE;
SELECT table_name, test_from, training_set_of, label_columns, label_time
  FROM asof.protected_tables ORDER BY table_name::text;
-- It cannot be split or unprotected on its own, by its owner or anyone.
SET ROLE regress_asof_g_analyst;
SELECT asof.split('g40.ts_p', '2001-04-01');
SELECT asof.unprotect('g40.ts_p');
-- Unsealing it is the spine owner's.
SELECT asof.unseal('g40.ts_p', 'mine');
RESET ROLE;
SET ROLE regress_asof_g_owner;
BEGIN;
SELECT asof.unseal('g40.ts_p', 'spine owner opens the training set');
COMMIT;
RESET ROLE;
BEGIN;
SELECT asof.unseal('g40.pspine', 'evaluate on the held-out rows');
SELECT t, outcome, g40_clean__last_distance, g40_clean__count_30d FROM g40.ts_p ORDER BY t;
COMMIT;
SELECT table_name, event, role, detail FROM asof.holdout_log
 WHERE table_name = 'g40.ts_p' ORDER BY at, event;

-- Through a view over the protected table, no such exemption: the rows
-- whose effective time is after the source's split get NULL features,
-- counted, sealed or not.
CREATE VIEW g40.flights_v AS SELECT * FROM g40.flights;
SELECT asof.create_feature_view('g40_viewsrc', 'g40.flights_v', '{origin}', 'dep_time',
    '{last(distance)}');
SELECT asof.build_training_set('g40.ts_v', 'g40.pspine', 't', '{g40_viewsrc}');
BEGIN;
SELECT asof.unseal('g40.pspine', 'look at ts_v');
SELECT t, g40_viewsrc__last_distance FROM g40.ts_v ORDER BY t;
COMMIT;
-- A prediction time other than the spine's time column: the spine is read
-- as a user reads it (training rows only).
SELECT asof.build_training_set('g40.ts_at', 'g40.pspine', 'outcome_at', '{g40_clean}');
SELECT count(*) FROM g40.ts_at;

-- A build that fails inside an exception block leaves nothing armed: a
-- later features_at past the split, in the same transaction, is still
-- refused.
SELECT asof.create_feature_view('g40_boom', 'g40.flights', '{origin}', 'dep_time',
    '{avg(1 / (distance - 400)) over 30 days}');
BEGIN;
DO $$
BEGIN
  PERFORM asof.build_training_set('g40.ts_boom', 'g40.pspine', 't', '{g40_boom}');
EXCEPTION WHEN division_by_zero THEN
  RAISE NOTICE 'build failed: %', SQLERRM;
END $$;
SELECT asof.features_at('g40_label', '{SFO}', '2001-03-20'::timestamp);
ROLLBACK;
SELECT asof.drop_feature_view('g40_boom');

-- Unsealed spine: every row is visible in this transaction (unsealing a
-- spine opens its training sets too); afterwards the held-out rows are
-- hidden again.
SET ROLE regress_asof_g_owner;
BEGIN;
SELECT asof.unseal('g40.pspine', 'build the evaluation set');
SELECT asof.build_training_set('g40.ts_eval', 'g40.pspine', 't', '{g40_clean}');
SELECT origin, t, outcome, g40_clean__last_distance FROM g40.ts_eval ORDER BY t;
COMMIT;
SELECT origin, t, outcome FROM g40.ts_eval ORDER BY t;
RESET ROLE;

-- The training sets' split follows the spine's.
SET ROLE regress_asof_g_owner;
SELECT asof.split('g40.pspine', '2001-02-20');
RESET ROLE;
SELECT table_name, test_from FROM asof.protected_tables ORDER BY table_name::text;
SELECT count(*) FROM g40.ts_p;

-- Unprotecting the spine unprotects its training sets.
SET ROLE regress_asof_g_owner;
SELECT asof.unprotect('g40.pspine');
RESET ROLE;
SELECT table_name FROM asof.protected_tables ORDER BY table_name::text;
SELECT count(*) FROM g40.ts_eval;

-- Clean up.
SELECT asof.drop_feature_view('g40_label');
SELECT asof.drop_feature_view('g40_clean');
SELECT asof.drop_feature_view('g40_future');
SELECT asof.drop_feature_view('g40_viewsrc');
DROP SCHEMA g40 CASCADE;
DROP OWNED BY regress_asof_g_owner, regress_asof_g_analyst;
DROP ROLE regress_asof_g_owner;
DROP ROLE regress_asof_g_analyst;
DELETE FROM asof.holdout_log;
DELETE FROM asof.training_sets;
