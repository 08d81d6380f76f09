--
-- 20_engine_examples: the ten worked examples of docs/point-in-time.md
-- ("Worked examples"), each through asof.build_training_set and through
-- asof.features_at (the same engine, one entity at a time).  Expected
-- values are the contract's, checked by hand.
--
SET TimeZone = 'UTC';
SET client_min_messages = warning;

-- 1. Late correction: B (te 11:00) is known only from 13:00 (ta).
CREATE TABLE ex1_f (d int, te timestamptz, ta timestamptz, v text);
INSERT INTO ex1_f VALUES
  (1, '2024-01-01 10:00+00', '2024-01-01 10:05+00', 'A'),
  (1, '2024-01-01 11:00+00', '2024-01-01 13:00+00', 'B');
SELECT asof.create_feature_view('ex1', 'ex1_f', '{d}', 'te', '{last(v)}', available_time => 'ta');
CREATE TABLE ex1_q (d int, t timestamptz, expected text);
INSERT INTO ex1_q VALUES
  (1, '2024-01-01 12:00+00', 'A'),
  (1, '2024-01-01 13:00:00.000001+00', 'B'),
  (1, '2024-01-01 13:00+00', 'A');          -- strict bound: ta = k is not visible
SELECT asof.build_training_set('ex1_ts', 'ex1_q', 't', '{ex1}');
SELECT d, t, expected, ex1__last_v, asof.features_at('ex1', ARRAY[d::text], t)
  FROM ex1_ts ORDER BY t;

-- 2. Ties on te: the greatest ta wins; on (te, ta): the greatest value.
CREATE TABLE ex2_f (k int, te timestamp, ta timestamp, v int);
INSERT INTO ex2_f VALUES
  (1, '2024-01-01 00:00', '2024-01-01 00:00:02', 2),
  (1, '2024-01-01 00:00', '2024-01-01 00:00:03', 3),
  (1, '2024-01-01 00:00', '2024-01-01 00:00:01', 1);
SELECT asof.create_feature_view('ex2', 'ex2_f', '{k}', 'te', '{last(v)}', available_time => 'ta');
CREATE TABLE ex2_q (k int, t timestamp);
INSERT INTO ex2_q VALUES (1, '2024-01-01 01:00');
SELECT asof.build_training_set('ex2_ts', 'ex2_q', 't', '{ex2}');
SELECT k, t, ex2__last_v AS expect_3, asof.features_at('ex2', ARRAY[k::text], t) FROM ex2_ts;
CREATE TABLE ex2b_f (k int, te timestamp, ta timestamp, v text);
INSERT INTO ex2b_f VALUES (1, '2024-01-01 10:00', '2024-01-01 10:00', 'A'),
                          (1, '2024-01-01 10:00', '2024-01-01 10:00', 'B');
SELECT asof.create_feature_view('ex2b', 'ex2b_f', '{k}', 'te', '{last(v)}', available_time => 'ta');
CREATE TABLE ex2b_q (k int, t timestamp);
INSERT INTO ex2b_q VALUES (1, '2024-01-01 11:00');
SELECT asof.build_training_set('ex2b_ts', 'ex2b_q', 't', '{ex2b}');
SELECT k, t, ex2b__last_v AS expect_b, asof.features_at('ex2b', ARRAY[k::text], t) FROM ex2b_ts;
-- the same with the rows stored in the other order
TRUNCATE ex2b_f;
INSERT INTO ex2b_f VALUES (1, '2024-01-01 10:00', '2024-01-01 10:00', 'B'),
                          (1, '2024-01-01 10:00', '2024-01-01 10:00', 'A');
SELECT asof.features_at('ex2b', '{1}', '2024-01-01 11:00'::timestamp) AS expect_b;

-- 3. Spine duplicates stay duplicates.
CREATE TABLE ex3_f (id int, te timestamp, f int);
INSERT INTO ex3_f VALUES (7, '2024-01-01 11:00', 5), (8, '2024-01-01 11:00', 9);
SELECT asof.create_feature_view('ex3', 'ex3_f', '{id}', 'te', '{last(f)}');
CREATE TABLE ex3_q (id int, t timestamp, label text);
INSERT INTO ex3_q VALUES (7, '2024-01-01 12:00', 'A'), (7, '2024-01-01 12:00', 'B'),
                         (8, '2024-01-01 12:00', 'C');
SELECT asof.build_training_set('ex3_ts', 'ex3_q', 't', '{ex3}') AS rows_3;
SELECT label, id, ex3__last_f, asof.features_at('ex3', ARRAY[id::text], t)
  FROM ex3_ts ORDER BY label;

-- 4. TTL: a value exactly ttl old is served, a microsecond older is not.
CREATE TABLE ex4_f (id int, te timestamptz, v int);
INSERT INTO ex4_f VALUES (1, '2024-01-01 09:00+00', 3), (2, '2020-01-01 09:00+00', 4);
SELECT asof.create_feature_view('ex4', 'ex4_f', '{id}', 'te', '{last(v)}', ttl => '1 hour');
SELECT asof.create_feature_view('ex4_nottl', 'ex4_f', '{id}', 'te', '{last(v)}');
CREATE TABLE ex4_q (id int, t timestamptz, expected text);
INSERT INTO ex4_q VALUES (1, '2024-01-01 10:00+00', '3'),
                         (1, '2024-01-01 10:00:00.000001+00', 'NULL'),
                         (2, '2024-01-01 10:00+00', 'NULL; without ttl 4');
SELECT asof.build_training_set('ex4_ts', 'ex4_q', 't', '{ex4, ex4_nottl}');
SELECT id, t, expected, ex4__last_v, ex4_nottl__last_v,
       asof.features_at('ex4', ARRAY[id::text], t) AS ttl_1h,
       asof.features_at('ex4_nottl', ARRAY[id::text], t) AS no_ttl
  FROM ex4_ts ORDER BY id, t;

-- 5. Window edges: [k - W, k).  The row at exactly t is not visible, the
-- row at exactly t - W is in the window.
CREATE TABLE ex5_f (card int, te timestamp, amount numeric);
INSERT INTO ex5_f VALUES (1, '2024-01-01 00:03:15', 78.92), (1, '2024-01-01 00:04:20', 31.54);
SELECT asof.create_feature_view('ex5', 'ex5_f', '{card}', 'te',
  '{sum(amount) over 65 seconds, count(*) over 65 seconds}');
CREATE TABLE ex5_q (card int, t timestamp);
INSERT INTO ex5_q VALUES (1, '2024-01-01 00:04:20'), (1, '2024-01-01 00:04:20.000001'),
                         (1, '2024-01-01 00:04:21');
SELECT asof.build_training_set('ex5_ts', 'ex5_q', 't', '{ex5}');
SELECT t, ex5__sum_amount_65s, ex5__count_65s, asof.features_at('ex5', ARRAY[card::text], t)
  FROM ex5_ts ORDER BY t;

-- 6. Daily batch: cadence 1 day, anchor midnight.
CREATE TABLE ex6_f (id int, te timestamp, v int);
INSERT INTO ex6_f VALUES (1, '2023-12-19 15:00', 1), (1, '2023-12-20 01:00', 1);
SELECT asof.create_feature_view('ex6', 'ex6_f', '{id}', 'te',
  '{sum(v) over 10 days, count(*) over 10 days}', cadence => '1 day');
SELECT asof.create_feature_view('ex6_d2', 'ex6_f', '{id}', 'te',
  '{sum(v) over 10 days, count(*) over 10 days}', cadence => '1 day', delay => '2 hours');
CREATE TABLE ex6_q (id int, t timestamp);
INSERT INTO ex6_q VALUES (1, '2023-12-20 12:01'), (1, '2023-12-20 01:30');
SELECT asof.build_training_set('ex6_ts', 'ex6_q', 't', '{ex6, ex6_d2}');
-- 12:01: sum 1 (the 01:00 event lands in the next tick); with delay 2h at
-- 01:30 the 12-19 tick serves: count 0, sum NULL.
SELECT t, ex6__sum_v_10d, ex6__count_10d, ex6_d2__sum_v_10d, ex6_d2__count_10d
  FROM ex6_ts ORDER BY t;
SELECT t, asof.features_at('ex6', ARRAY[id::text], t) AS no_delay,
       asof.features_at('ex6_d2', ARRAY[id::text], t) AS delay_2h
  FROM ex6_q ORDER BY t;

-- 7. Time zones: 09:00+02 is 07:00 UTC, before the 07:30 UTC event, under
-- every TimeZone.
CREATE TABLE ex7_f (id int, te timestamptz, v int);
INSERT INTO ex7_f VALUES (1, '2021-04-01 07:30+00', 1);
SELECT asof.create_feature_view('ex7', 'ex7_f', '{id}', 'te', '{last(v)}');
CREATE TABLE ex7_q (id int, t timestamptz);
INSERT INTO ex7_q VALUES (1, '2021-04-01 09:00+02'), (1, '2021-04-01 09:31+02');
SET TimeZone = 'Europe/Berlin';
SELECT asof.build_training_set('ex7_ts_berlin', 'ex7_q', 't', '{ex7}');
SELECT t, ex7__last_v, asof.features_at('ex7', ARRAY[id::text], t) FROM ex7_ts_berlin ORDER BY t;
SET TimeZone = 'UTC';
SELECT asof.build_training_set('ex7_ts_utc', 'ex7_q', 't', '{ex7}');
SELECT t, ex7__last_v, asof.features_at('ex7', ARRAY[id::text], t) FROM ex7_ts_utc ORDER BY t;
-- (daylight saving: see 21_engine_boundaries)

-- 8. Last row vs last non-null.
CREATE TABLE ex8_f (id int, te timestamp, v int);
INSERT INTO ex8_f VALUES (1, '2024-01-01 00:00', 42), (1, '2024-01-01 01:00', NULL);
SELECT asof.create_feature_view('ex8', 'ex8_f', '{id}', 'te', '{last(v), last_nonnull(v)}');
CREATE TABLE ex8_q (id int, t timestamp);
INSERT INTO ex8_q VALUES (1, '2024-01-01 02:00');
SELECT asof.build_training_set('ex8_ts', 'ex8_q', 't', '{ex8}');
SELECT t, ex8__last_v, ex8__last_nonnull_v, asof.features_at('ex8', ARRAY[id::text], t) FROM ex8_ts;

-- 9. Composite keys match on every key column.
CREATE TABLE ex9_f (driver int, cust int, te timestamp, score float8);
INSERT INTO ex9_f VALUES (1001, 1, '2024-01-01 09:00', 0.1), (1001, 2, '2024-01-01 09:00', 0.9);
SELECT asof.create_feature_view('ex9', 'ex9_f', '{driver, cust}', 'te', '{last(score)}');
CREATE TABLE ex9_q (driver int, cust int, t timestamp);
INSERT INTO ex9_q VALUES (1001, 2, '2024-01-01 10:00');
SELECT asof.build_training_set('ex9_ts', 'ex9_q', 't', '{ex9}');
SELECT driver, cust, ex9__last_score, asof.features_at('ex9', ARRAY[driver::text, cust::text], t)
  FROM ex9_ts;
-- a spine offering only driver is an error, and creates nothing
CREATE TABLE ex9_q_short (driver int, t timestamp);
INSERT INTO ex9_q_short VALUES (1001, '2024-01-01 10:00');
SELECT asof.build_training_set('ex9_ts_short', 'ex9_q_short', 't', '{ex9}');
SELECT asof.features_at('ex9', '{1001}', '2024-01-01 10:00'::timestamp);
SELECT to_regclass('ex9_ts_short') AS not_created;

-- 10. Unmatched spine rows stay, with NULL features and count 0.
CREATE TABLE ex10_f (id int, te timestamp, v int);
INSERT INTO ex10_f VALUES (1, '2024-01-01 00:00', 10), (2, '2024-01-01 00:00', 20);
SELECT asof.create_feature_view('ex10', 'ex10_f', '{id}', 'te',
  '{count(*) over 1 day, count(v) over 1 day, sum(v) over 1 day, last(v)}');
CREATE TABLE ex10_q (id int, t timestamp);
INSERT INTO ex10_q VALUES (1, '2024-01-01 12:00'), (2, '2024-01-01 12:00'), (3, '2024-01-01 12:00');
SELECT asof.build_training_set('ex10_ts', 'ex10_q', 't', '{ex10}') AS rows_3;
SELECT id, ex10__count_1d, ex10__count_v_1d, ex10__sum_v_1d, ex10__last_v,
       asof.features_at('ex10', ARRAY[id::text], t)
  FROM ex10_ts ORDER BY id;

-- Every build above is recorded, with the definitions as of the build.
SELECT name, version, spine, at, feature_views, row_count,
       jsonb_array_length(definitions) AS ndefs, built_by = current_user AS by_me,
       duration >= interval '0' AS has_duration
  FROM asof.training_sets ORDER BY name;
