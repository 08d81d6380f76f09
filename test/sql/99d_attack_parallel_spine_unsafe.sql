--
-- 99d_attack_parallel_spine_unsafe: a parallel build must give what a
-- serial build gives.  The leader reads the spine in parallel mode: a
-- spine that calls code not allowed there (a sequence, a PL/pgSQL
-- EXCEPTION block) must keep the build serial (build_parallel.c,
-- spine_safe), or it would fail where the serial build succeeds (found by
-- an attack on the first version, which checked the views' sources only).
--
SET TimeZone = 'UTC';
SET client_min_messages = warning;
SET asof.progress_interval = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_maintenance_workers = 2;
CREATE TABLE pa_src (k int, te timestamp, x float8);
INSERT INTO pa_src VALUES (1, '2024-01-01 00:00', 1), (2, '2024-01-01 00:00', 2),
                          (1, '2024-01-01 01:00', 4);
SELECT asof.create_feature_view('pa_a', 'pa_src', '{k}', 'te', '{count(*) over 1 day as n}');
SELECT asof.create_feature_view('pa_b', 'pa_src', '{k}', 'te', '{sum(x) over 1 day as s}');
CREATE TABLE pa_spine_t (id int, k int, t timestamp);
INSERT INTO pa_spine_t VALUES (1, 1, '2024-01-01 12:00'), (2, 2, '2024-01-01 12:00');
-- (a) a spine view numbering its rows with a sequence
CREATE SEQUENCE pa_seq;
CREATE VIEW pa_spine_seq AS SELECT nextval('pa_seq') AS n, id, k, t FROM pa_spine_t;
SELECT asof.build_training_set('pa_ts_seq', 'pa_spine_seq', 't', '{pa_a, pa_b}');
-- k = 1: rows at 00:00 and 01:00 (n 2, sum 5); k = 2: the row at 00:00
SELECT id, pa_a__n, pa_b__s FROM pa_ts_seq ORDER BY id;
-- (b) a spine view calling a function with an EXCEPTION block
CREATE FUNCTION pa_safe_int(v int) RETURNS int LANGUAGE plpgsql AS
  $$ BEGIN BEGIN RETURN v; EXCEPTION WHEN others THEN RETURN NULL; END; END $$;
CREATE VIEW pa_spine_exc AS SELECT pa_safe_int(id) AS id, k, t FROM pa_spine_t;
SELECT asof.build_training_set('pa_ts_exc', 'pa_spine_exc', 't', '{pa_a, pa_b}');
SELECT id, pa_a__n, pa_b__s FROM pa_ts_exc ORDER BY id;

DROP TABLE IF EXISTS pa_ts_seq, pa_ts_exc;
SELECT asof.drop_feature_view(v) FROM unnest('{pa_a, pa_b}'::text[]) v;
DROP VIEW pa_spine_seq, pa_spine_exc;
DROP FUNCTION pa_safe_int(int);
DROP SEQUENCE pa_seq;
DROP TABLE pa_src, pa_spine_t;
RESET max_parallel_maintenance_workers;
RESET min_parallel_table_scan_size;
