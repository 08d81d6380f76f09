--
-- 99e_attack_parallel_key_hash_unsafe: a parallel build must give what a
-- serial build gives.  The engine calls the entity key type's equality
-- and hash functions in the workers, and the leader calls the hash
-- function in parallel mode to split a view's entities: a key type whose
-- hash function is PARALLEL UNSAFE (here it writes a row) keeps the build
-- serial (found by an attack: the parallel build failed with "cannot
-- execute INSERT during a parallel operation").
--
SET TimeZone = 'UTC';
SET client_min_messages = warning;
SET asof.progress_interval = 0;
SET min_parallel_table_scan_size = 0;
CREATE TYPE hu_key AS (a int);
CREATE TABLE hu_calls (n int);
CREATE FUNCTION hu_eq(hu_key, hu_key) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1.a = $2.a';
CREATE FUNCTION hu_lt(hu_key, hu_key) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1.a < $2.a';
CREATE FUNCTION hu_cmp(hu_key, hu_key) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT btint4cmp($1.a, $2.a)';
-- PARALLEL UNSAFE (the default) and it acts so: it writes
CREATE FUNCTION hu_hash(hu_key) RETURNS int LANGUAGE plpgsql VOLATILE AS
  'BEGIN INSERT INTO public.hu_calls VALUES (1); RETURN hashint4($1.a); END';
CREATE OPERATOR = (LEFTARG = hu_key, RIGHTARG = hu_key, FUNCTION = hu_eq, HASHES, MERGES);
CREATE OPERATOR < (LEFTARG = hu_key, RIGHTARG = hu_key, FUNCTION = hu_lt);
CREATE OPERATOR CLASS hu_btree DEFAULT FOR TYPE hu_key USING btree AS
  OPERATOR 1 <, OPERATOR 3 =, FUNCTION 1 hu_cmp(hu_key, hu_key);
CREATE OPERATOR CLASS hu_hash DEFAULT FOR TYPE hu_key USING hash AS
  OPERATOR 1 =, FUNCTION 1 hu_hash(hu_key);
CREATE TABLE hu_src (k hu_key, te timestamp, x float8);
-- entity (1): x 1 and 2; entity (2): x 10
INSERT INTO hu_src VALUES (ROW(1), '2024-01-01 00:00', 1), (ROW(1), '2024-01-01 01:00', 2),
                          (ROW(2), '2024-01-01 00:30', 10);
ANALYZE hu_src;
CREATE TABLE hu_spine (id int, k hu_key, t timestamp);
INSERT INTO hu_spine VALUES (1, ROW(1), '2024-01-01 12:00'), (2, ROW(2), '2024-01-01 12:00'),
                            (3, ROW(3), '2024-01-01 12:00');
ANALYZE hu_spine;
SELECT asof.create_feature_view('hu_a', 'hu_src', '{k}', 'te', '{count(*) over 1 day as n}');
SELECT asof.create_feature_view('hu_b', 'hu_src', '{k}', 'te', '{sum(x) over 1 day as s}');
-- serially
SET max_parallel_maintenance_workers = 0;
SELECT asof.build_training_set('hu_serial', 'hu_spine', 't', '{hu_a, hu_b}');
SELECT id, k, hu_a__n, hu_b__s FROM hu_serial ORDER BY id;
-- a worker per view: the same rows (serially, or workers that can call the
-- key type's functions)
SET max_parallel_maintenance_workers = 2;
SELECT asof.build_training_set('hu_parallel', 'hu_spine', 't', '{hu_a, hu_b}');
SELECT id, k, hu_a__n, hu_b__s FROM hu_parallel ORDER BY id;
-- one view split by the key type's hash: the same rows
SELECT asof.build_training_set('hu_parallel1', 'hu_spine', 't', '{hu_a}');
SELECT id, k, hu_a__n FROM hu_parallel1 ORDER BY id;

DROP TABLE IF EXISTS hu_serial, hu_parallel, hu_parallel1;
SELECT asof.drop_feature_view(v) FROM unnest('{hu_a, hu_b}'::text[]) v;
DROP TABLE hu_spine, hu_src, hu_calls;
DROP TYPE hu_key CASCADE;
RESET max_parallel_maintenance_workers;
