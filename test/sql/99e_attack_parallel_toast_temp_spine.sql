--
-- 99e_attack_parallel_toast_temp_spine: a parallel build must give what a
-- serial build gives.  A temporary spine is allowed (the leader reads
-- it); an entity key stored out of line in its TOAST table is sent to the
-- workers as the value itself, not as a TOAST pointer a worker could not
-- read (found by an attack: the build failed with "cannot access
-- temporary tables during a parallel operation").
--
SET TimeZone = 'UTC';
SET client_min_messages = warning;
SET asof.progress_interval = 0;
SET min_parallel_table_scan_size = 0;
CREATE TABLE tt_src (k text, te timestamp, x float8);
-- two entities, keys of 3001 characters; k1: 3 rows (x 1, 2, 3), k2: 1 row (x 10)
INSERT INTO tt_src VALUES
  (repeat('a', 3000) || '1', '2024-01-01 00:00', 1),
  (repeat('a', 3000) || '1', '2024-01-01 01:00', 2),
  (repeat('a', 3000) || '1', '2024-01-01 02:00', 3),
  (repeat('a', 3000) || '2', '2024-01-01 00:30', 10);
ANALYZE tt_src;
SELECT asof.create_feature_view('tt_a', 'tt_src', '{k}', 'te', '{count(*) over 1 day as n}');
SELECT asof.create_feature_view('tt_b', 'tt_src', '{k}', 'te', '{sum(x) over 1 day as s}');
-- the spine: temporary, its keys stored out of line (STORAGE EXTERNAL: no
-- compression, so a 3001-byte value goes to the TOAST table)
CREATE TEMP TABLE tt_spine (id int, k text, t timestamp);
ALTER TABLE tt_spine ALTER COLUMN k SET STORAGE EXTERNAL;
INSERT INTO tt_spine VALUES
  (1, repeat('a', 3000) || '1', '2024-01-01 12:00'),
  (2, repeat('a', 3000) || '2', '2024-01-01 12:00'),
  (3, repeat('a', 3000) || '3', '2024-01-01 12:00');
SELECT pg_column_size(k) > 3000 AS stored_uncompressed FROM tt_spine WHERE id = 1;
-- serially
SET max_parallel_maintenance_workers = 0;
SELECT asof.build_training_set('tt_serial', 'tt_spine', 't', '{tt_a, tt_b}');
SELECT id, right(k, 1) AS k_end, tt_a__n, tt_b__s FROM tt_serial ORDER BY id;
-- in parallel: a worker per view; the same rows
SET max_parallel_maintenance_workers = 2;
SELECT asof.build_training_set('tt_parallel', 'tt_spine', 't', '{tt_a, tt_b}');
SELECT id, right(k, 1) AS k_end, tt_a__n, tt_b__s FROM tt_parallel ORDER BY id;
-- one view split between two workers; the same rows
SELECT asof.build_training_set('tt_parallel1', 'tt_spine', 't', '{tt_a}');
SELECT id, right(k, 1) AS k_end, tt_a__n FROM tt_parallel1 ORDER BY id;

DROP TABLE IF EXISTS tt_serial, tt_parallel, tt_parallel1;
SELECT asof.drop_feature_view(v) FROM unnest('{tt_a, tt_b}'::text[]) v;
DROP TABLE tt_spine, tt_src;
RESET max_parallel_maintenance_workers;
