--
-- 22_engine_errors: bad input to asof.build_training_set and
-- asof.features_at gives a clear error and creates nothing.
--
SET TimeZone = 'UTC';
SET client_min_messages = warning;
CREATE TABLE e_f (id int, te timestamp, v int);
INSERT INTO e_f VALUES (1, '2024-01-01 00:00', 1);
SELECT asof.create_feature_view('e_v', 'e_f', '{id}', 'te', '{sum(v) over 1 day, last(v)}');
CREATE TABLE e_ftz (id int, te timestamptz, v int);
SELECT asof.create_feature_view('e_vtz', 'e_ftz', '{id}', 'te', '{last(v)}');
CREATE TABLE e_q (id int, t timestamp, ttz timestamptz, d date, n int);
INSERT INTO e_q VALUES (1, '2024-01-02', '2024-01-02', '2024-01-02', 1);
CREATE TABLE e_q_collide (id int, t timestamp, e_v__last_v int);
CREATE TABLE e_q_bigint (id bigint, t timestamp);
CREATE TABLE e_q_noid (other int, t timestamp);
SELECT count(*) AS builds_before FROM asof.training_sets \gset

-- the target exists
CREATE TABLE e_exists (x int);
SELECT asof.build_training_set('e_exists', 'e_q', 't', '{e_v}');
-- unknown spine, unknown view, empty or NULL arguments
SELECT asof.build_training_set('e_out', 'e_no_such_spine', 't', '{e_v}');
SELECT asof.build_training_set('e_out', 'e_q', 't', '{e_no_such_view}');
SELECT asof.build_training_set('e_out', 'e_q', 't', '{}');
SELECT asof.build_training_set('e_out', 'e_q', NULL, '{e_v}');
SELECT asof.build_training_set('e_out', 'e_q', 't', '{e_v, NULL}');
SELECT asof.build_training_set('e_out', 'e_q', 't', '{e_v, e_v}');
-- entity column missing or of another type
SELECT asof.build_training_set('e_out', 'e_q_noid', 't', '{e_v}');
SELECT asof.build_training_set('e_out', 'e_q_bigint', 't', '{e_v}');
-- prediction time: timestamp vs timestamptz, date with timestamptz, other types
SELECT asof.build_training_set('e_out', 'e_q', 'ttz', '{e_v}');
SELECT asof.build_training_set('e_out', 'e_q', 't', '{e_vtz}');
SELECT asof.build_training_set('e_out', 'e_q', 'd', '{e_vtz}');
SELECT asof.build_training_set('e_out', 'e_q', 'n', '{e_v}');
SELECT asof.build_training_set('e_out', 'e_q', 'no_such_column', '{e_v}');
-- the prediction time must be one expression over the spine
SELECT asof.build_training_set('e_out', 'e_q', 't FROM e_q', '{e_v}');
SELECT asof.build_training_set('e_out', 'e_q', 't); DROP TABLE e_f; SELECT (1', '{e_v}');
SELECT asof.build_training_set('e_out', 'e_q', 't, t', '{e_v}');
-- a feature column colliding with a spine column
SELECT asof.build_training_set('e_out', 'e_q_collide', 't', '{e_v}');
-- (a column name longer than 63 bytes is refused when the view is created)
-- nothing was created or recorded
SELECT to_regclass('e_out') AS no_table,
       (SELECT count(*) FROM asof.training_sets) - :builds_before AS new_builds;

-- features_at: time type, number of entity values, unknown view, NULLs
SELECT asof.features_at('e_v', '{1}', '2024-01-02'::timestamptz);
SELECT asof.features_at('e_vtz', '{1}', '2024-01-02'::timestamp);
SELECT asof.features_at('e_v', '{1, 2}', '2024-01-02'::timestamp);
SELECT asof.features_at('e_v', '{}', '2024-01-02'::timestamp);
SELECT asof.features_at('e_no_such_view', '{1}', '2024-01-02'::timestamp);
SELECT asof.features_at(NULL, '{1}', '2024-01-02'::timestamp);
SELECT asof.features_at('e_v', NULL, '2024-01-02'::timestamp);
SELECT asof.features_at('e_v', '{not_an_integer}', '2024-01-02'::timestamp);
-- and the one that works
SELECT asof.features_at('e_v', '{1}', '2024-01-02'::timestamp);
