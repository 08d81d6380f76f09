--
-- 26_engine_fixes: regression tests for defects found in the engine after
-- its first release (each section fails without its fix), checked by hand
-- against docs/point-in-time.md and, where the reference decides the same
-- thing, compared with asof.feature_view_sql (differential):
--   1. numeric NaN and infinities are counted apart: sums, averages and
--      variances recover once they leave the window;
--   2. domains over the supported types (inputs, event time, prediction
--      time);
--   3. stddev (and numeric avg/var) of exact inputs is the exact value
--      rounded once;
--   4. floating-point sums beyond the double range are +-Infinity, never
--      NaN, and recover;
--   5. error messages: empty prediction time, no internal queries, plurals,
--      a table-qualified prediction time;
--   6. values that compare equal but differ (1.0 and 1.00, 0 and -0, text
--      under a nondeterministic collation) tied on te and ta: last, min and
--      max do not depend on row order.
--
SET TimeZone = 'UTC';
SET client_min_messages = warning;
SET asof.progress_interval = 0;

-- ---------------------------------------------------------------------
-- 1. Numeric NaN and infinities.  PostgreSQL's numeric aggregates: NaN if
-- any NaN, NaN if both infinities, else the infinity; variances NaN as soon
-- as an infinity or NaN is among at least two values.
-- ---------------------------------------------------------------------
CREATE TABLE ef_nn (k int, te timestamp, n numeric);
INSERT INTO ef_nn VALUES
  (1, '2024-01-01 00:00', 'Infinity'), (1, '2024-01-01 02:00', 1),       -- the tester's case
  (2, '2024-01-01 00:00', 'NaN'), (2, '2024-01-01 00:10', 5),
  (2, '2024-01-01 00:20', '-Infinity'), (2, '2024-01-01 02:00', 3), (2, '2024-01-01 02:01', 4),
  (3, '2024-01-01 00:00', 'Infinity'), (3, '2024-01-01 00:01', '-Infinity'),
  (3, '2024-01-01 00:02', 2.5), (3, '2024-01-01 01:30', 0.5), (3, '2024-01-01 01:31', 0.25);
SELECT asof.create_feature_view('ef_nnv', 'ef_nn', '{k}', 'te',
  '{sum(n) over 1 hour as s, avg(n) over 1 hour as a, var(n) over 1 hour as v,
    stddev(n) over 1 hour as sd, count(n) over 1 hour as c}');
CREATE TABLE ef_nn_q (k int, t timestamp);
INSERT INTO ef_nn_q VALUES
  (1, '2024-01-01 00:30'), (1, '2024-01-01 03:00'),
  (2, '2024-01-01 00:05'), (2, '2024-01-01 00:15'), (2, '2024-01-01 00:50'),
  (2, '2024-01-01 01:15'), (2, '2024-01-01 01:25'), (2, '2024-01-01 02:30'),
  (3, '2024-01-01 00:01:30'), (3, '2024-01-01 00:30'), (3, '2024-01-01 01:45');
SELECT asof.build_training_set('ef_nn_ts', 'ef_nn_q', 't', '{ef_nnv}');
-- expected, by hand (window [t - 1h, t)):
--  1 00:30  {Inf}             Infinity Infinity NULL NULL 1
--  1 03:00  {1}               1 1 NULL NULL 1                 (was NaN)
--  2 00:05  {NaN}             NaN NaN NULL NULL 1
--  2 00:15  {NaN,5}           NaN NaN NaN NaN 2
--  2 00:50  {NaN,5,-Inf}      NaN NaN NaN NaN 3
--  2 01:15  {-Inf}            -Infinity -Infinity NULL NULL 1
--  2 01:25  {}                NULL NULL NULL NULL 0
--  2 02:30  {3,4}             7 3.5 0.5 0.7071067811865476 2  (was NaN)
--  3 00:01:30 {Inf,-Inf}      NaN NaN NaN NaN 2
--  3 00:30  {Inf,-Inf,2.5}    NaN NaN NaN NaN 3
--  3 01:45  {0.5,0.25}        0.75 0.375 0.03125 0.1767766952966369 2
SELECT k, t, ef_nnv__s, ef_nnv__a, ef_nnv__v, ef_nnv__sd, ef_nnv__c FROM ef_nn_ts ORDER BY k, t;
-- same rows as the reference (NaN equals NaN in SQL)
SELECT asof.feature_view_sql('ef_nnv', 'ef_nn_q', 't') AS ref \gset
SELECT count(*) AS engine_not_in_reference FROM (SELECT * FROM ef_nn_ts EXCEPT ALL (:ref)) x;
SELECT count(*) AS reference_not_in_engine FROM ((:ref) EXCEPT ALL SELECT * FROM ef_nn_ts) x;
-- features_at goes through the same states
SELECT asof.features_at('ef_nnv', '{1}', '2024-01-01 03:00'::timestamp);

-- ---------------------------------------------------------------------
-- 2. Domains: handled as their base type; min/max/last keep the domain.
-- ---------------------------------------------------------------------
CREATE DOMAIN ef_posint AS int CHECK (VALUE > 0);
CREATE DOMAIN ef_money AS numeric(10,2);
CREATE DOMAIN ef_ts AS timestamp;
CREATE DOMAIN ef_f8 AS float8;
CREATE DOMAIN ef_big AS bigint;
CREATE TABLE ef_dm (k int, te ef_ts, p ef_posint, m ef_money, f ef_f8, b ef_big);
INSERT INTO ef_dm VALUES
  (1, '2024-01-01 00:00', 1, 1.25, 0.5, 10), (1, '2024-01-01 00:10', 4, 2.50, 1.5, 20),
  (1, '2024-01-01 00:20', 7, 0.10, 2.0, 40), (2, '2024-01-01 00:00', 3, 9.99, -1, 7);
SELECT asof.create_feature_view('ef_dmv', 'ef_dm', '{k}', 'te',
  '{sum(p) over 1 hour, avg(p) over 1 hour, stddev(p) over 1 hour, var(p) over 1 hour,
    sum(m) over 1 hour, avg(m) over 1 hour, stddev(m) over 1 hour, max(p) over 1 hour,
    min(m) over 1 hour, last(m), sum(f) over 1 hour, avg(f) over 1 hour, var(f) over 1 hour,
    sum(b) over 1 hour, var(b) over 1 hour, last(te)}',
  available_time => 'te + interval ''1 minute''');
-- the prediction time column is a domain too
CREATE TABLE ef_dm_q (k int, t ef_ts);
INSERT INTO ef_dm_q VALUES (1, '2024-01-01 00:30'), (1, '2024-01-01 00:15'), (2, '2024-01-01 00:30'), (2, '2024-01-01 00:00');
SELECT asof.build_training_set('ef_dm_ts', 'ef_dm_q', 't', '{ef_dmv}');
-- result types: the contract's (sum of int: bigint, of numeric/bigint:
-- numeric, avg/stddev/var: double precision); min/max/last the input's
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'ef_dm_ts'::regclass AND attnum > 0 ORDER BY attnum;
-- expected, by hand:
--  1 00:15: rows at 00:00, 00:10 (visible at 00:01, 00:11): p {1,4} sum 5 avg 2.5
--    stddev 2.1213203435596424 var 4.5; m {1.25,2.50} sum 3.75 avg 1.875
--    stddev 0.8838834764831844; max 4; min 1.25; last 2.50; f sum 2 avg 1 var 0.5;
--    b sum 30 var 50; last te 00:10
--  1 00:30: p {1,4,7} sum 12 avg 4 stddev 3 var 9; m sum 3.85 avg 1.2833333333333334
--    stddev sqrt(2.8816666.../2) = 1.200347172002056; max 7; min 0.10; last 0.10;
--    f sum 4 avg 1.3333333333333333 var 0.58333... (PostgreSQL's var_samp gives
--    0.5833333333333333); b sum 70 var 233.33333333333334; last te 00:20
--  2 00:00: nothing visible; 2 00:30: p 3, var NULL (one value), last 9.99
SELECT * FROM ef_dm_ts ORDER BY k, t;
SELECT asof.feature_view_sql('ef_dmv', 'ef_dm_q', 't') AS ref \gset
SELECT count(*) AS engine_not_in_reference FROM (SELECT * FROM ef_dm_ts EXCEPT ALL (:ref)) x;
SELECT count(*) AS reference_not_in_engine FROM ((:ref) EXCEPT ALL SELECT * FROM ef_dm_ts) x;
SELECT asof.features_at('ef_dmv', '{1}', '2024-01-01 00:30'::ef_ts) ->> 'sum_p_1h' AS sum_p_1h;

-- ---------------------------------------------------------------------
-- 3. Exact inputs: stddev is sqrt of the exact variance rounded once (not
-- sqrt of a rounded variance); numeric avg and var rounded once too.
-- ---------------------------------------------------------------------
CREATE TABLE ef_sd (k int, te timestamp, v int);
INSERT INTO ef_sd VALUES (1, '2024-01-01 00:00', 0), (1, '2024-01-01 00:01', 2), (1, '2024-01-01 00:02', 9);
SELECT asof.create_feature_view('ef_sdv', 'ef_sd', '{k}', 'te',
  '{stddev(v) over 1 hour as sd_int, stddev(v::bigint) over 1 hour as sd_big,
    stddev(v::numeric) over 1 hour as sd_num, var(v) over 1 hour as var_int}');
-- expected: 4.725815626252609 three times (sqrt(22.3333...) rounded once;
-- the sqrt of the double 22.333333333333332 is 4.725815626252608), var 22.333333333333332
SELECT asof.features_at('ef_sdv', '{1}', '2024-01-01 01:00'::timestamp);
SELECT stddev_samp(v::numeric)::float8 AS postgres_exact FROM ef_sd;

-- The same on real flights: every value bit for bit equal to the reference
-- (which computes in numeric and casts once).
CREATE TABLE ef_fl (dep_time timestamp NOT NULL, origin text NOT NULL, destination text NOT NULL,
                    distance integer NOT NULL, delay integer);
\copy ef_fl FROM PROGRAM 'for d in ../shared/data ../../shared/data; do [ -f $d/flights-3m.csv.gz ] && exec sh -c "gzip -dc $d/flights-3m.csv.gz | head -n 40001"; done; exit 1' WITH (FORMAT csv, HEADER true)
CREATE INDEX ON ef_fl (origin, dep_time);
ANALYZE ef_fl;
SELECT asof.create_feature_view('ef_flv', 'ef_fl', '{origin}', 'dep_time', ARRAY[
    'stddev(delay) over 1 day as sd_1d',
    'stddev(delay) over 3 hours as sd_3h',
    'var(delay) over 6 hours as var_6h',
    'avg(delay) over 1 hour as avg_1h',
    'stddev(delay::bigint * 1000000007) over 1 day as sd_big',
    'avg(delay::bigint * 1000000007000) over 1 day as avg_big',
    'stddev(delay::numeric / 7) over 1 day as sd_num',
    'var(delay::numeric / 7) over 6 hours as var_num',
    'avg(delay::numeric / 7) over 6 hours as avg_num'],
  available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''');
CREATE TABLE ef_fl_q AS SELECT origin, dep_time FROM ef_fl WHERE (extract(epoch FROM dep_time)::bigint / 60) % 5 = 0;
SELECT count(*) > 5000 AS enough_spine_rows FROM ef_fl_q;
SELECT asof.build_training_set('ef_fl_ts', 'ef_fl_q', 'dep_time', '{ef_flv}');
SELECT asof.feature_view_sql('ef_flv', 'ef_fl_q', 'dep_time') AS ref \gset
CREATE TABLE ef_fl_ref AS :ref;
-- expected: 0 everywhere (compared exactly), and many non-NULL values
SELECT count(*) FILTER (WHERE e.ef_flv__sd_1d IS DISTINCT FROM r.ef_flv__sd_1d) AS sd_1d,
       count(*) FILTER (WHERE e.ef_flv__sd_3h IS DISTINCT FROM r.ef_flv__sd_3h) AS sd_3h,
       count(*) FILTER (WHERE e.ef_flv__var_6h IS DISTINCT FROM r.ef_flv__var_6h) AS var_6h,
       count(*) FILTER (WHERE e.ef_flv__avg_1h IS DISTINCT FROM r.ef_flv__avg_1h) AS avg_1h,
       count(*) FILTER (WHERE e.ef_flv__sd_big IS DISTINCT FROM r.ef_flv__sd_big) AS sd_big,
       count(*) FILTER (WHERE e.ef_flv__avg_big IS DISTINCT FROM r.ef_flv__avg_big) AS avg_big,
       count(*) FILTER (WHERE e.ef_flv__sd_num IS DISTINCT FROM r.ef_flv__sd_num) AS sd_num,
       count(*) FILTER (WHERE e.ef_flv__var_num IS DISTINCT FROM r.ef_flv__var_num) AS var_num,
       count(*) FILTER (WHERE e.ef_flv__avg_num IS DISTINCT FROM r.ef_flv__avg_num) AS avg_num,
       count(e.ef_flv__sd_3h) > 4000 AS many_values
  FROM (SELECT row_number() OVER (ORDER BY origin, dep_time) AS i, * FROM ef_fl_ts) e
  JOIN (SELECT row_number() OVER (ORDER BY origin, dep_time) AS i, * FROM ef_fl_ref) r USING (i);

-- ---------------------------------------------------------------------
-- 4. Floating-point sums beyond the double range (docs/engine.md,
-- "Decisions"): the sum is +-Infinity exactly when the exact sum of the
-- window's values is beyond the range, the average is the exact mean
-- rounded (finite when it is in range), never NaN, and both recover
-- once the values leave.  PostgreSQL raises "value out of range" here.
-- ---------------------------------------------------------------------
CREATE TABLE ef_ov (k int, te timestamp, f float8);
INSERT INTO ef_ov VALUES
  (1, '2024-01-01 00:00', 1e308), (1, '2024-01-01 00:10', 1e308), (1, '2024-01-01 01:30', 5),
  (2, '2024-01-01 00:00', -1e308), (2, '2024-01-01 00:10', -1.5e308), (2, '2024-01-01 00:20', 2),
  (3, '2024-01-01 00:00', 1e308), (3, '2024-01-01 00:10', 1e308), (3, '2024-01-01 00:20', -1e308),
  (4, '2024-01-01 00:00', 1.7e308), (4, '2024-01-01 00:40', 1.7e308), (4, '2024-01-01 00:50', -1);
SELECT asof.create_feature_view('ef_ovv', 'ef_ov', '{k}', 'te',
  '{sum(f) over 1 hour as s, avg(f) over 1 hour as a, count(f) over 1 hour as c}');
CREATE TABLE ef_ov_q (k int, t timestamp);
INSERT INTO ef_ov_q VALUES
  (1, '2024-01-01 00:30'), (1, '2024-01-01 01:05'), (1, '2024-01-01 02:00'),
  (2, '2024-01-01 00:30'), (2, '2024-01-01 01:15'),
  (3, '2024-01-01 00:15'), (3, '2024-01-01 00:30'),
  (4, '2024-01-01 00:55'), (4, '2024-01-01 01:30');
SELECT asof.build_training_set('ef_ov_ts', 'ef_ov_q', 't', '{ef_ovv}');
-- expected, by hand:
--  1 00:30 {1e308,1e308}          Infinity 1e+308 2
--  1 01:05 {1e308}                1e+308 1e+308 1   (00:00 left; no NaN left behind)
--  1 02:00 {5}                    5 5 1
--  2 00:30 {-1e308,-1.5e308,2}    -Infinity -8.333333333333334e+307 3
--  2 01:15 {2}                    2 2 1
--  3 00:15 {1e308,1e308}          Infinity 1e+308 2
--  3 00:30 {1e308,1e308,-1e308}   1e+308 3.333333333333333e+307 3  (exact sum in range)
--  4 00:55 {1.7e308,1.7e308,-1}   Infinity 1.1333333333333334e+308 3
--  4 01:30 {1.7e308,-1}           1.7e+308 8.5e+307 2
SELECT k, t, ef_ovv__s, ef_ovv__a, ef_ovv__c FROM ef_ov_ts ORDER BY k, t;
-- Variances whose squares leave the double range: var is +Infinity when the
-- exact variance is beyond the range, stddev its square root (finite), and
-- small values after the huge ones left get their exact variance again.
CREATE TABLE ef_ovvar (k int, te timestamp, f float8);
INSERT INTO ef_ovvar VALUES
  (5, '2024-01-01 00:00', 1e200), (5, '2024-01-01 00:10', -1e200), (5, '2024-01-01 01:20', 1), (5, '2024-01-01 01:25', 3),
  (6, '2024-01-01 00:00', 1e154), (6, '2024-01-01 00:01', -1e154), (6, '2024-01-01 00:02', 0),
  (7, '2024-01-01 00:00', 1e200), (7, '2024-01-01 00:05', 2), (7, '2024-01-01 00:10', 4);
SELECT asof.create_feature_view('ef_ovvarv', 'ef_ovvar', '{k}', 'te',
  '{var(f) over 1 hour as v, stddev(f) over 1 hour as sd, sum(f) over 1 hour as s}');
CREATE TABLE ef_ovvar_q (k int, t timestamp);
INSERT INTO ef_ovvar_q VALUES (5, '2024-01-01 00:30'), (5, '2024-01-01 01:05'), (5, '2024-01-01 01:30'),
  (6, '2024-01-01 00:30'), (7, '2024-01-01 00:30'), (7, '2024-01-01 01:02');
SELECT asof.build_training_set('ef_ovvar_ts', 'ef_ovvar_q', 't', '{ef_ovvarv}');
-- expected, by hand:
--  5 00:30 {1e200,-1e200}     var 2e400: Infinity, sd sqrt(2)*1e200 = 1.414213562373095e+200, sum 0
--  5 01:05 {-1e200}           NULL NULL -1e+200
--  5 01:30 {1,3}              2 1.4142135623730951 4
--  6 00:30 {1e154,-1e154,0}   1e+308 1e+154 0
--  7 00:30 {1e200,2,4}        var ~1e400/3: Infinity, sd 1e200/sqrt(3) = 5.773502691896257e+199, sum 1e+200
--  7 01:02 {2,4}              2 1.4142135623730951 6   (was NaN before the fix)
SELECT * FROM ef_ovvar_ts ORDER BY k, t;

-- Exact (numeric) inputs whose avg/var/stddev leave the double range: the
-- exact value rounded to double, +-Infinity or 0, not an error in the
-- middle of the build (the reference's cast raises "out of range").
CREATE TABLE ef_nr (k int, te timestamp, n numeric);
INSERT INTO ef_nr VALUES (1, '2024-01-01 00:00', 1e400), (1, '2024-01-01 00:01', 3e400),
                         (2, '2024-01-01 00:00', 1e-200), (2, '2024-01-01 00:01', 3e-200);
SELECT asof.create_feature_view('ef_nrv', 'ef_nr', '{k}', 'te',
  '{avg(n) over 1 hour as a, var(n) over 1 hour as v, stddev(n) over 1 hour as sd}');
-- expected: 1: avg 2e400 Infinity, var 2e800 Infinity, stddev 1.414e400 Infinity;
-- 2: avg 2e-200, var 2e-400 rounds to 0, stddev sqrt(2) * 1e-200
SELECT k, (j ->> 'a')::float8 AS avg, (j ->> 'v')::float8 AS var, (j ->> 'sd')::float8 AS stddev
  FROM (VALUES (1), (2)) q(k),
       LATERAL asof.features_at('ef_nrv', ARRAY[k::text], '2024-01-01 00:30'::timestamp) j;

-- ---------------------------------------------------------------------
-- 5. Errors: a clear message, no internal query, nothing created.
-- ---------------------------------------------------------------------
SELECT asof.build_training_set('ef_err', 'ef_nn_q', '', '{ef_nnv}');
SELECT asof.build_training_set('ef_err', 'ef_nn_q', '   ', '{ef_nnv}');
SELECT asof.build_training_set('ef_err', 'ef_nn_q', 'nope', '{ef_nnv}');
SELECT asof.build_training_set('ef_err', 'ef_nn_q', 't + (1 / 0) * interval ''1 hour''', '{ef_nnv}');
SELECT asof.features_at('ef_nnv', '{1,2}', '2024-01-01 03:00'::timestamp);
CREATE TABLE ef_ck (a int, b int, te timestamp);
SELECT asof.create_feature_view('ef_ckv', 'ef_ck', '{a,b}', 'te', '{count(*) over 1 hour}');
SELECT asof.features_at('ef_ckv', '{1}', '2024-01-01 03:00'::timestamp);
SELECT asof.build_training_set('ef_err', 'ef_nn_q', 't', '{ef_ckv}');
-- an error evaluating a feature while reading the source names the view
CREATE TABLE ef_div (k int, te timestamp, v int);
INSERT INTO ef_div VALUES (1, '2024-01-01 00:00', 0);
SELECT asof.create_feature_view('ef_divv', 'ef_div', '{k}', 'te', '{sum(10 / v) over 1 hour}');
SELECT asof.build_training_set('ef_err', 'ef_nn_q', 't', '{ef_divv}');
SELECT to_regclass('ef_err') IS NULL AS nothing_created,
       (SELECT count(*) FROM asof.training_sets WHERE name = 'public.ef_err') AS recorded;
-- the prediction time may name the spine's columns qualified by its name
SELECT asof.build_training_set('ef_qual1', 'ef_nn_q', 'ef_nn_q.t', '{ef_nnv}');
SELECT asof.build_training_set('ef_qual2', 'ef_nn_q', 'public.ef_nn_q.t + interval ''0 hours''', '{ef_nnv}');
SELECT count(*) AS differing_rows FROM (SELECT * FROM ef_qual1 EXCEPT ALL SELECT * FROM ef_nn_ts) x;
-- a temporary training set is recorded like any other (docs/engine.md,
-- "Decisions"), under the session's pg_temp_N schema
SELECT asof.build_training_set('pg_temp.ef_tmp', 'ef_nn_q', 't', '{ef_nnv}');
SELECT count(*) AS recorded_temp FROM asof.training_sets WHERE name LIKE 'pg\_temp\_%.ef\_tmp';

-- ---------------------------------------------------------------------
-- 6. Values equal under the type's ordering but different (docs/engine.md,
-- "Decisions"): values the type's ordering calls equal are ordered by
-- their binary image (bytes compared unsigned; by-value types as signed
-- integers), so on a tie of te and ta last() takes the greatest image, max
-- the greatest, min the smallest.  Images: numeric 1.0 > 1.00 (the display
-- scale sits in the low byte of the header), float 0 > -0, 'a' > 'A'.  The
-- rows are inserted in opposite orders for k 1 and 2: the answers must not
-- change.
-- ---------------------------------------------------------------------
CREATE COLLATION ef_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE ef_tie (k int, te timestamp, n numeric, f float8, s text COLLATE ef_ci);
INSERT INTO ef_tie VALUES
  (1, '2024-01-01 00:00', 1.0, '-0', 'A'), (1, '2024-01-01 00:00', 1.00, '0', 'a'),
  (2, '2024-01-01 00:00', 1.00, '0', 'a'), (2, '2024-01-01 00:00', 1.0, '-0', 'A');
SELECT asof.create_feature_view('ef_tiev', 'ef_tie', '{k}', 'te',
  '{last(n), last(f), last(s), max(n) over 1 hour as max_n, min(n) over 1 hour as min_n,
    max(f) over 1 hour as max_f, min(f) over 1 hour as min_f,
    max(s) over 1 hour as max_s, min(s) over 1 hour as min_s}');
CREATE TABLE ef_tie_q (k int, t timestamp);
INSERT INTO ef_tie_q VALUES (1, '2024-01-01 00:30'), (2, '2024-01-01 00:30');
SELECT asof.build_training_set('ef_tie_ts', 'ef_tie_q', 't', '{ef_tiev}');
-- expected: both rows 1.0 0 a | max 1.0 min 1.00 | max 0 min -0 | max a min A
SELECT * FROM ef_tie_ts ORDER BY k;

-- ---------------------------------------------------------------------
-- clean up what 29_reset does not (domains, collation)
-- ---------------------------------------------------------------------
SELECT asof.drop_feature_view(name) FROM asof.feature_views WHERE name LIKE 'ef\_%' ORDER BY name;
DROP TABLE ef_dm, ef_dm_q, ef_dm_ts, ef_tie, ef_tie_ts;
DROP DOMAIN ef_posint, ef_money, ef_ts, ef_f8, ef_big;
DROP COLLATION ef_ci;
