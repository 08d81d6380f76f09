--
-- 93_build_parallel: parallel builds (build_parallel.c).  The views of a
-- build computed by parallel workers give the same bytes, in the same
-- order, as a serial build; the builds that must stay serial do; a
-- worker's error reaches the caller and leaves nothing behind.
--
-- Which process computed a view shows in the CONTEXT of an error raised
-- while reading its source: "parallel worker" when a worker did.  With
-- max_parallel_maintenance_workers = 2, a build of two views has a worker
-- per view; of three, two workers and the leader, in turn; of one, two
-- workers with half of the entities each (by hash).
--
SET TimeZone = 'UTC';
SET client_min_messages = warning;
SET asof.progress_interval = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_maintenance_workers = 2;
-- no table is protected yet (else user functions keep builds serial, (e))
SELECT count(*) AS protected_tables FROM asof.protected_registry;

-- 20,000 source rows, one a minute from 2024-01-01: entity k = i % 7,
-- city one of 5 (text, collation "C"), x = i / 3 (floats whose sums
-- depend on the order of additions), s text, NULLs in every column, and
-- ties on (k, te) with different x
CREATE TABLE par_src (k int, city text COLLATE "C", te timestamp, ta timestamp, x float8, s text);
INSERT INTO par_src
  SELECT CASE WHEN i % 101 = 0 THEN NULL ELSE i % 7 END,
         (ARRAY['ams', 'bos', 'cdg', 'den', NULL])[1 + i % 5],
         timestamp '2024-01-01' + i * interval '1 minute',
         timestamp '2024-01-01' + i * interval '1 minute' + (i % 13) * interval '1 minute',
         CASE WHEN i % 17 = 0 THEN NULL ELSE i / 3.0 END,
         CASE WHEN i % 11 = 0 THEN NULL ELSE 's' || (i % 97) END
    FROM generate_series(0, 19999) i;
INSERT INTO par_src
  SELECT k, city, te, ta, x + 0.1, s FROM par_src WHERE k = 3 AND te < '2024-01-02';
ANALYZE par_src;
-- 5,000 spine rows at random-looking times, NULL keys and times, a key no
-- source row has, stored out of time order
CREATE TABLE par_spine (id int, k int, city text COLLATE "C", t timestamp);
INSERT INTO par_spine
  SELECT i, CASE WHEN i % 97 = 0 THEN NULL WHEN i % 89 = 0 THEN 99 ELSE (i * 31) % 7 END,
         (ARRAY['ams', 'bos', 'cdg', 'den', 'zzz'])[1 + (i * 7) % 5],
         CASE WHEN i % 83 = 0 THEN NULL
              ELSE timestamp '2024-01-01' + ((i * 7919) % 20500) * interval '1 minute' END
    FROM generate_series(1, 5000) i;
SELECT asof.create_feature_view('par_k', 'par_src', '{k}', 'te',
  '{count(*) over 1 hour as n_1h, sum(x) over 6 hours as sum_6h, avg(x) over 1 day as avg_1d,
    stddev(x) over 1 day as sd_1d, last(x) as last_x, last_nonnull(s) as last_s}',
  available_time => 'ta', ttl => '2 hours');
SELECT asof.create_feature_view('par_city', 'par_src', '{city}', 'te',
  '{count(x) over 30 minutes as n_30m, max(s) over 1 day as max_s, min(x) over 2 hours as min_2h, last(s) as last_s}',
  cadence => '15 minutes', delay => '5 minutes');
SELECT asof.create_feature_view('par_kc', 'par_src', '{k, city}', 'te',
  '{count(*) over 1 day as n_1d, sum(x) over 1 day as sum_1d}');

-- the same build serially, then with parallel workers: same bytes, same
-- order (the training set's rows are written in spine order)
SET max_parallel_maintenance_workers = 0;
SELECT asof.build_training_set('par_serial', 'par_spine', 't', '{par_k, par_city, par_kc}');
SET max_parallel_maintenance_workers = 2;
SELECT asof.build_training_set('par_parallel', 'par_spine', 't', '{par_k, par_city, par_kc}');
SELECT (SELECT md5(string_agg(s::text, E'\n' ORDER BY ctid)) FROM par_serial s) =
       (SELECT md5(string_agg(p::text, E'\n' ORDER BY ctid)) FROM par_parallel p) AS same_bytes,
       (SELECT count(*) FROM par_parallel) AS spine_rows,
       (SELECT count(*) FROM par_parallel WHERE par_city__n_30m > 0) > 1000 AS city_features_found,
       (SELECT count(*) FROM par_parallel WHERE par_kc__n_1d > 0) > 1000 AS kc_features_found;
-- one view, its entities split between two workers; two views between
-- three workers (two and one); a spine of one entity (one worker gets
-- none of it)
SET max_parallel_maintenance_workers = 0;
SELECT asof.build_training_set('par_serial1', 'par_spine', 't', '{par_k}');
SELECT asof.build_training_set('par_serial2', 'par_spine', 't', '{par_city, par_kc}');
CREATE TABLE par_spine_one AS SELECT * FROM par_spine WHERE k = 3;
SELECT asof.build_training_set('par_serial3', 'par_spine_one', 't', '{par_k}');
SET max_parallel_maintenance_workers = 2;
SELECT asof.build_training_set('par_parallel1', 'par_spine', 't', '{par_k}');
SELECT asof.build_training_set('par_parallel3', 'par_spine_one', 't', '{par_k}');
SET max_parallel_maintenance_workers = 3;
SELECT asof.build_training_set('par_parallel2', 'par_spine', 't', '{par_city, par_kc}');
SET max_parallel_maintenance_workers = 2;
SELECT (SELECT md5(string_agg(s::text, E'\n' ORDER BY ctid)) FROM par_serial1 s) =
       (SELECT md5(string_agg(p::text, E'\n' ORDER BY ctid)) FROM par_parallel1 p) AS one_view_same,
       (SELECT md5(string_agg(s::text, E'\n' ORDER BY ctid)) FROM par_serial2 s) =
       (SELECT md5(string_agg(p::text, E'\n' ORDER BY ctid)) FROM par_parallel2 p) AS three_workers_same,
       (SELECT md5(string_agg(s::text, E'\n' ORDER BY ctid)) FROM par_serial3 s) =
       (SELECT md5(string_agg(p::text, E'\n' ORDER BY ctid)) FROM par_parallel3 p) AS one_entity_same,
       (SELECT count(*) FROM par_parallel3 WHERE par_k__n_1h > 0) > 100 AS one_entity_found;
DROP TABLE par_serial1, par_parallel1, par_serial2, par_parallel2, par_serial3, par_parallel3, par_spine_one;

-- case-insensitive entity keys: 'AMS' and 'ams' are one entity.  Each
-- worker reads every source row of the entities it has, compared with the
-- key's collation, so its values are right wherever a key lands (the hash
-- of the key type's hash opclass keeps equal keys in one part, which only
-- saves work); 'Ams' at 12:00 counts the rows of the hour before (one
-- every 12 s: i in [3300, 3600)) with i % 10 < 3, 30 each as 'ams', 'AMS'
-- and 'Ams': 90
CREATE COLLATION par_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE par_ci_src (city text COLLATE par_ci, te timestamp, x int);
INSERT INTO par_ci_src
  SELECT (ARRAY['ams', 'AMS', 'Ams', 'bos', 'BOS', 'cdg', 'den', 'ewr', 'fra', 'gru'])[1 + i % 10],
         timestamp '2024-01-01' + i * interval '12 seconds', i
    FROM generate_series(0, 29999) i;
ANALYZE par_ci_src;
CREATE TABLE par_ci_spine (id int, city text COLLATE par_ci, t timestamp);
INSERT INTO par_ci_spine
  SELECT i, (ARRAY['Ams', 'aMs', 'bOs', 'Cdg', 'DEN', 'ewr', 'FRA', 'gru', 'xyz'])[1 + i % 9],
         timestamp '2024-01-01' + (i % 96) * interval '1 hour'
    FROM generate_series(1, 2000) i;
SELECT asof.create_feature_view('par_ci', 'par_ci_src', '{city}', 'te', '{count(*) over 1 hour as n_1h, sum(x) over 1 day as s_1d}');
SET max_parallel_maintenance_workers = 0;
SELECT asof.build_training_set('par_ci_serial', 'par_ci_spine', 't', '{par_ci}');
SET max_parallel_maintenance_workers = 2;
SELECT asof.build_training_set('par_ci_parallel', 'par_ci_spine', 't', '{par_ci}');
SELECT (SELECT md5(string_agg(s::text, E'\n' ORDER BY ctid)) FROM par_ci_serial s) =
       (SELECT md5(string_agg(p::text, E'\n' ORDER BY ctid)) FROM par_ci_parallel p) AS ci_same;
SELECT DISTINCT city, t, par_ci__n_1h FROM par_ci_parallel
 WHERE t = '2024-01-01 12:00' AND city = 'ams';
SELECT asof.drop_feature_view('par_ci');
DROP TABLE par_ci_serial, par_ci_parallel, par_ci_spine, par_ci_src;
DROP COLLATION par_ci;

-- one value by hand: k = 0 at 12:00 counts its rows with te in [11:00,
-- 12:00) visible before 12:00 (ta = te + i % 13 minutes): i in [660, 719],
-- i % 7 = 0, i % 101 <> 0, i + i % 13 < 720: i = 665, 672, ..., 700 (6
-- rows; 707 = 7 x 101 has no k, 714 lands at 714 + 12 = 726)
INSERT INTO par_spine VALUES (0, 0, 'ams', '2024-01-01 12:00');
SELECT asof.build_training_set('par_one', 'par_spine', 't', '{par_city, par_k}');
SELECT par_k__n_1h FROM par_one WHERE id = 0;
DELETE FROM par_spine WHERE id = 0;

-- a worker's error reaches the caller, with the worker in its context
CREATE VIEW par_boom AS SELECT k, te, x, 1 / (k - k) AS boom FROM par_src;
SELECT asof.create_feature_view('par_boom', 'par_boom', '{k}', 'te', '{sum(boom) over 1 hour}');
\set VERBOSITY default
SELECT asof.build_training_set('par_fail', 'par_spine', 't', '{par_k, par_boom}');
-- serially, the same error without it
SET max_parallel_maintenance_workers = 0;
SELECT asof.build_training_set('par_fail', 'par_spine', 't', '{par_k, par_boom}');
SET max_parallel_maintenance_workers = 2;
-- caught in a subtransaction: the parallel build is cleaned up and the
-- next one runs
DO $$
BEGIN
  PERFORM asof.build_training_set('par_fail', 'par_spine', 't', '{par_k, par_boom}');
EXCEPTION WHEN division_by_zero THEN
  RAISE WARNING 'caught: %', SQLERRM;
END $$;
SELECT to_regclass('par_fail') IS NULL AS no_table_left,
       (SELECT count(*) FROM asof.training_sets WHERE name LIKE '%par_fail%') AS no_record_left;
BEGIN;
SELECT asof.build_training_set('par_again', 'par_spine', 't', '{par_k, par_city}');
ROLLBACK;
SELECT to_regclass('par_again') IS NULL AS rolled_back;

-- builds that stay serial: the failing view second, so that a worker would
-- have computed it
-- (a) one view, and fewer than two workers to split it
SELECT asof.build_training_set('par_fail', 'par_spine', 't', '{par_boom}');
SET max_parallel_maintenance_workers = 1;
SELECT asof.build_training_set('par_fail', 'par_spine', 't', '{par_boom}');
SET max_parallel_maintenance_workers = 2;
-- (b) a function that is not PARALLEL SAFE in the source
CREATE FUNCTION par_div(a int, b int) RETURNS int LANGUAGE sql PARALLEL RESTRICTED AS 'SELECT a / b';
CREATE VIEW par_boom_r AS SELECT k, te, par_div(1, k - k) AS boom FROM par_src;
SELECT asof.create_feature_view('par_boom_r', 'par_boom_r', '{k}', 'te', '{sum(boom) over 1 hour}');
SELECT asof.build_training_set('par_fail', 'par_spine', 't', '{par_k, par_boom_r}');
-- (c) a temporary table among the source's inheritance children (a
-- worker cannot read it)
CREATE TABLE par_src2 (LIKE par_src);
CREATE TEMP TABLE par_tmp () INHERITS (par_src2);
INSERT INTO par_tmp SELECT * FROM par_src;
CREATE VIEW par_boom_t AS SELECT k, te, 1 / (k - k) AS boom FROM par_src2;
SELECT asof.create_feature_view('par_boom_t', 'par_boom_t', '{k}', 'te', '{sum(boom) over 1 hour}');
SELECT asof.build_training_set('par_fail', 'par_spine', 't', '{par_k, par_boom_t}');
-- (d) views that read less than min_parallel_table_scan_size each
SET min_parallel_table_scan_size = '8MB';
SELECT asof.build_training_set('par_fail', 'par_spine', 't', '{par_k, par_boom}');
SET min_parallel_table_scan_size = 0;
-- (g) a prediction time that writes (PARALLEL UNSAFE): the leader reads the
-- spine in parallel mode, where writes fail; serially it works, once per
-- spine row
CREATE TABLE par_log (t timestamp);
CREATE FUNCTION par_logged(t timestamp) RETURNS timestamp LANGUAGE plpgsql AS
  'BEGIN INSERT INTO par_log VALUES (t); RETURN t; END';
SELECT asof.build_training_set('par_logged', 'par_spine', 'par_logged(t)', '{par_k, par_city}');
SELECT count(*) AS logged FROM par_log;
DROP TABLE par_logged, par_log;
DROP FUNCTION par_logged(timestamp);
-- (h) a prediction time that does not analyze: the serial read's error
SELECT asof.build_training_set('par_fail', 'par_spine', 'nosuch', '{par_k, par_city}');
-- and PARALLEL SAFE user code runs in the worker
CREATE FUNCTION par_div_s(a int, b int) RETURNS int LANGUAGE plpgsql PARALLEL SAFE AS 'BEGIN RETURN a / b; END';
CREATE VIEW par_boom_s AS SELECT k, te, par_div_s(1, k - k) AS boom FROM par_src;
SELECT asof.create_feature_view('par_boom_s', 'par_boom_s', '{k}', 'te', '{sum(boom) over 1 hour}');
SELECT asof.build_training_set('par_fail', 'par_spine', 't', '{par_k, par_boom_s}');
-- (e) while any table is protected, only built-in functions (the guard
-- cannot see what user code reads; a worker would refuse a protected
-- table, this build never gets that far)
CREATE TABLE par_prot (te timestamp, label int);
SELECT asof.protect('par_prot', 'te', '{label}');
SELECT asof.build_training_set('par_fail', 'par_spine', 't', '{par_k, par_boom_s}');
-- (f) a source over a protected table
CREATE VIEW par_boom_p AS
  SELECT s.k, s.te, 1 / (s.k - s.k) AS boom FROM par_src s LEFT JOIN par_prot p ON p.te = s.te;
SELECT asof.create_feature_view('par_boom_p', 'par_boom_p', '{k}', 'te', '{sum(boom) over 1 hour}');
SELECT asof.build_training_set('par_fail', 'par_spine', 't', '{par_k, par_boom_p}');
-- built-in code only: parallel again
SELECT asof.build_training_set('par_fail', 'par_spine', 't', '{par_k, par_boom}');
SELECT asof.drop_feature_view('par_boom_p');
DROP VIEW par_boom_p;
SELECT asof.unprotect('par_prot');
DROP TABLE par_prot;
\set VERBOSITY terse

DROP TABLE par_serial, par_parallel, par_one;
SELECT asof.drop_feature_view(v)
  FROM unnest('{par_k, par_city, par_kc, par_boom, par_boom_r, par_boom_t, par_boom_s}'::text[]) v;
DROP VIEW par_boom, par_boom_r, par_boom_t, par_boom_s;
DROP FUNCTION par_div(int, int), par_div_s(int, int);
DROP TABLE par_src, par_spine, par_tmp, par_src2;
RESET max_parallel_maintenance_workers;
RESET min_parallel_table_scan_size;
