--
-- 25_training_set_registry: asof.build_training_set as an ordinary user:
-- the reads run with the caller's privileges, the build is recorded in
-- asof.training_sets (versions per name) which nobody can write directly;
-- schema-qualified names, a view as the spine, an empty spine.
--
SET TimeZone = 'UTC';
SET client_min_messages = warning;
CREATE SCHEMA r_out;
CREATE TABLE r_f (id int, te timestamp, v int);
INSERT INTO r_f VALUES (1, '2024-01-01 00:00', 5), (2, '2024-01-01 00:00', 7);
CREATE TABLE r_q (id int, t timestamp, label boolean);
INSERT INTO r_q VALUES (1, '2024-01-02', true), (2, '2024-01-02', false), (3, '2024-01-02', true);
CREATE VIEW r_q_view AS SELECT id, t + interval '1 hour' AS t, label FROM r_q WHERE label;
CREATE ROLE regress_r_builder;
CREATE ROLE regress_r_outsider;
GRANT CREATE, USAGE ON SCHEMA r_out TO regress_r_builder, regress_r_outsider;
GRANT SELECT ON r_f, r_q, r_q_view TO regress_r_builder;
GRANT SELECT ON r_q TO regress_r_outsider;              -- the spine, not the source
SELECT asof.create_feature_view('r_v', 'r_f', '{id}', 'te', '{sum(v) over 2 days, last(v)}');

SET ROLE regress_r_builder;
SELECT asof.build_training_set('r_out.ts', 'r_q', 't', '{r_v}') AS rows;
SELECT asof.build_training_set('r_out.ts_view', 'r_q_view', 't', '{r_v}') AS rows_from_view;
SELECT * FROM r_out.ts ORDER BY id;
SELECT * FROM r_out.ts_view ORDER BY id;
SELECT relowner::regrole FROM pg_class WHERE oid = 'r_out.ts'::regclass;
-- a second build under the same name (after dropping the table) is version 2
DROP TABLE r_out.ts;
SELECT asof.build_training_set('r_out.ts', 'r_q', 't', '{r_v}') AS rows;
-- the registry cannot be written directly
INSERT INTO asof.training_sets (name, version, spine, at, feature_views, definitions, row_count, built_at, duration, built_by)
  VALUES ('forged', 1, 'x', 't', '{}', '[]', 0, now(), '0', 'me');
DELETE FROM asof.training_sets WHERE name = 'r_out.ts';
-- an empty spine gives an empty table
CREATE TABLE r_out.empty_q (id int, t timestamp);
SELECT asof.build_training_set('r_out.ts_empty', 'r_out.empty_q', 't', '{r_v}') AS rows;
RESET ROLE;

SELECT name, version, spine, at, feature_views, row_count, built_by,
       definitions -> 0 ->> 'name' AS view, definitions -> 0 -> 'features' -> 0 ->> 'agg' AS agg,
       definitions -> 0 -> 'features' -> 0 ->> 'window_us' AS window_us
  FROM asof.training_sets WHERE name LIKE 'r_out.%' ORDER BY name, version;

-- someone who may read the spine but not the source cannot build or look up
SET ROLE regress_r_outsider;
SELECT asof.build_training_set('r_out.ts_outsider', 'r_q', 't', '{r_v}');
SELECT asof.features_at('r_v', '{1}', '2024-01-02'::timestamp);
RESET ROLE;
SELECT to_regclass('r_out.ts_outsider') AS not_created;

DROP SCHEMA r_out CASCADE;
REVOKE SELECT ON r_f, r_q, r_q_view FROM regress_r_builder;
REVOKE SELECT ON r_q FROM regress_r_outsider;
DROP VIEW r_q_view;
DROP ROLE regress_r_builder;
DROP ROLE regress_r_outsider;
