--
-- 20_engine_examples: the ten worked examples of docs/point-in-time.md
-- ("Worked examples"), each through asof.build_training_set and through
-- asof.features_at (the same engine, one entity at a time).  Expected
-- values are the contract's, checked by hand.
--
SET TimeZone = 'UTC';
SET client_min_messages = warning;

-- 1. Late correction: B (te 11:00) is known only from 13:00 (ta).
CREATE TABLE wx1_f (d int, te timestamptz, ta timestamptz, v text);
INSERT INTO wx1_f VALUES
  (1, '2024-01-01 10:00+00', '2024-01-01 10:05+00', 'A'),
  (1, '2024-01-01 11:00+00', '2024-01-01 13:00+00', 'B');
SELECT asof.create_feature_view('wx1', 'wx1_f', '{d}', 'te', '{last(v)}', available_time => 'ta');
CREATE TABLE wx1_q (d int, t timestamptz, expected text);
INSERT INTO wx1_q VALUES
  (1, '2024-01-01 12:00+00', 'A'),
  (1, '2024-01-01 13:00:00.000001+00', 'B'),
  (1, '2024-01-01 13:00+00', 'A');          -- strict bound: ta = k is not visible
SELECT asof.build_training_set('wx1_ts', 'wx1_q', 't', '{wx1}');
SELECT d, t, expected, wx1__last_v, asof.features_at('wx1', ARRAY[d::text], t)
  FROM wx1_ts ORDER BY t;

-- 2. Ties on te: the greatest ta wins; on (te, ta): the greatest value.
CREATE TABLE wx2_f (k int, te timestamp, ta timestamp, v int);
INSERT INTO wx2_f VALUES
  (1, '2024-01-01 00:00', '2024-01-01 00:00:02', 2),
  (1, '2024-01-01 00:00', '2024-01-01 00:00:03', 3),
  (1, '2024-01-01 00:00', '2024-01-01 00:00:01', 1);
SELECT asof.create_feature_view('wx2', 'wx2_f', '{k}', 'te', '{last(v)}', available_time => 'ta');
CREATE TABLE wx2_q (k int, t timestamp);
INSERT INTO wx2_q VALUES (1, '2024-01-01 01:00');
SELECT asof.build_training_set('wx2_ts', 'wx2_q', 't', '{wx2}');
SELECT k, t, wx2__last_v AS expect_3, asof.features_at('wx2', ARRAY[k::text], t) FROM wx2_ts;
CREATE TABLE wx2b_f (k int, te timestamp, ta timestamp, v text);
INSERT INTO wx2b_f VALUES (1, '2024-01-01 10:00', '2024-01-01 10:00', 'A'),
                          (1, '2024-01-01 10:00', '2024-01-01 10:00', 'B');
SELECT asof.create_feature_view('wx2b', 'wx2b_f', '{k}', 'te', '{last(v)}', available_time => 'ta');
CREATE TABLE wx2b_q (k int, t timestamp);
INSERT INTO wx2b_q VALUES (1, '2024-01-01 11:00');
SELECT asof.build_training_set('wx2b_ts', 'wx2b_q', 't', '{wx2b}');
SELECT k, t, wx2b__last_v AS expect_b, asof.features_at('wx2b', ARRAY[k::text], t) FROM wx2b_ts;
-- the same with the rows stored in the other order
TRUNCATE wx2b_f;
INSERT INTO wx2b_f VALUES (1, '2024-01-01 10:00', '2024-01-01 10:00', 'B'),
                          (1, '2024-01-01 10:00', '2024-01-01 10:00', 'A');
SELECT asof.features_at('wx2b', '{1}', '2024-01-01 11:00'::timestamp) AS expect_b;

-- 3. Spine duplicates stay duplicates.
CREATE TABLE wx3_f (id int, te timestamp, f int);
INSERT INTO wx3_f VALUES (7, '2024-01-01 11:00', 5), (8, '2024-01-01 11:00', 9);
SELECT asof.create_feature_view('wx3', 'wx3_f', '{id}', 'te', '{last(f)}');
CREATE TABLE wx3_q (id int, t timestamp, label text);
INSERT INTO wx3_q VALUES (7, '2024-01-01 12:00', 'A'), (7, '2024-01-01 12:00', 'B'),
                         (8, '2024-01-01 12:00', 'C');
SELECT asof.build_training_set('wx3_ts', 'wx3_q', 't', '{wx3}') AS rows_3;
SELECT label, id, wx3__last_f, asof.features_at('wx3', ARRAY[id::text], t)
  FROM wx3_ts ORDER BY label;

-- 4. TTL: a value exactly ttl old is served, a microsecond older is not.
CREATE TABLE wx4_f (id int, te timestamptz, v int);
INSERT INTO wx4_f VALUES (1, '2024-01-01 09:00+00', 3), (2, '2020-01-01 09:00+00', 4);
SELECT asof.create_feature_view('wx4', 'wx4_f', '{id}', 'te', '{last(v)}', ttl => '1 hour');
SELECT asof.create_feature_view('wx4_nottl', 'wx4_f', '{id}', 'te', '{last(v)}');
CREATE TABLE wx4_q (id int, t timestamptz, expected text);
INSERT INTO wx4_q VALUES (1, '2024-01-01 10:00+00', '3'),
                         (1, '2024-01-01 10:00:00.000001+00', 'NULL'),
                         (2, '2024-01-01 10:00+00', 'NULL; without ttl 4');
SELECT asof.build_training_set('wx4_ts', 'wx4_q', 't', '{wx4, wx4_nottl}');
SELECT id, t, expected, wx4__last_v, wx4_nottl__last_v,
       asof.features_at('wx4', ARRAY[id::text], t) AS ttl_1h,
       asof.features_at('wx4_nottl', ARRAY[id::text], t) AS no_ttl
  FROM wx4_ts ORDER BY id, t;

-- 5. Window edges: [k - W, k).  The row at exactly t is not visible, the
-- row at exactly t - W is in the window.
CREATE TABLE wx5_f (card int, te timestamp, amount numeric);
INSERT INTO wx5_f VALUES (1, '2024-01-01 00:03:15', 78.92), (1, '2024-01-01 00:04:20', 31.54);
SELECT asof.create_feature_view('wx5', 'wx5_f', '{card}', 'te',
  '{sum(amount) over 65 seconds, count(*) over 65 seconds}');
CREATE TABLE wx5_q (card int, t timestamp);
INSERT INTO wx5_q VALUES (1, '2024-01-01 00:04:20'), (1, '2024-01-01 00:04:20.000001'),
                         (1, '2024-01-01 00:04:21');
SELECT asof.build_training_set('wx5_ts', 'wx5_q', 't', '{wx5}');
SELECT t, wx5__sum_amount_65s, wx5__count_65s, asof.features_at('wx5', ARRAY[card::text], t)
  FROM wx5_ts ORDER BY t;

-- 6. Daily batch: cadence 1 day, anchor midnight.
CREATE TABLE wx6_f (id int, te timestamp, v int);
INSERT INTO wx6_f VALUES (1, '2023-12-19 15:00', 1), (1, '2023-12-20 01:00', 1);
SELECT asof.create_feature_view('wx6', 'wx6_f', '{id}', 'te',
  '{sum(v) over 10 days, count(*) over 10 days}', cadence => '1 day');
SELECT asof.create_feature_view('wx6_d2', 'wx6_f', '{id}', 'te',
  '{sum(v) over 10 days, count(*) over 10 days}', cadence => '1 day', delay => '2 hours');
CREATE TABLE wx6_q (id int, t timestamp);
INSERT INTO wx6_q VALUES (1, '2023-12-20 12:01'), (1, '2023-12-20 01:30');
SELECT asof.build_training_set('wx6_ts', 'wx6_q', 't', '{wx6, wx6_d2}');
-- 12:01: sum 1 (the 01:00 event lands in the next tick); with delay 2h at
-- 01:30 the 12-19 tick serves: count 0, sum NULL.
SELECT t, wx6__sum_v_10d, wx6__count_10d, wx6_d2__sum_v_10d, wx6_d2__count_10d
  FROM wx6_ts ORDER BY t;
SELECT t, asof.features_at('wx6', ARRAY[id::text], t) AS no_delay,
       asof.features_at('wx6_d2', ARRAY[id::text], t) AS delay_2h
  FROM wx6_q ORDER BY t;

-- 7. Time zones: 09:00+02 is 07:00 UTC, before the 07:30 UTC event, under
-- every TimeZone.
CREATE TABLE wx7_f (id int, te timestamptz, v int);
INSERT INTO wx7_f VALUES (1, '2021-04-01 07:30+00', 1);
SELECT asof.create_feature_view('wx7', 'wx7_f', '{id}', 'te', '{last(v)}');
CREATE TABLE wx7_q (id int, t timestamptz);
INSERT INTO wx7_q VALUES (1, '2021-04-01 09:00+02'), (1, '2021-04-01 09:31+02');
SET TimeZone = 'Europe/Berlin';
SELECT asof.build_training_set('wx7_ts_berlin', 'wx7_q', 't', '{wx7}');
SELECT t, wx7__last_v, asof.features_at('wx7', ARRAY[id::text], t) FROM wx7_ts_berlin ORDER BY t;
SET TimeZone = 'UTC';
SELECT asof.build_training_set('wx7_ts_utc', 'wx7_q', 't', '{wx7}');
SELECT t, wx7__last_v, asof.features_at('wx7', ARRAY[id::text], t) FROM wx7_ts_utc ORDER BY t;
-- (daylight saving: see 21_engine_boundaries)

-- 8. Last row vs last non-null.
CREATE TABLE wx8_f (id int, te timestamp, v int);
INSERT INTO wx8_f VALUES (1, '2024-01-01 00:00', 42), (1, '2024-01-01 01:00', NULL);
SELECT asof.create_feature_view('wx8', 'wx8_f', '{id}', 'te', '{last(v), last_nonnull(v)}');
CREATE TABLE wx8_q (id int, t timestamp);
INSERT INTO wx8_q VALUES (1, '2024-01-01 02:00');
SELECT asof.build_training_set('wx8_ts', 'wx8_q', 't', '{wx8}');
SELECT t, wx8__last_v, wx8__last_nonnull_v, asof.features_at('wx8', ARRAY[id::text], t) FROM wx8_ts;

-- 9. Composite keys match on every key column.
CREATE TABLE wx9_f (driver int, cust int, te timestamp, score float8);
INSERT INTO wx9_f VALUES (1001, 1, '2024-01-01 09:00', 0.1), (1001, 2, '2024-01-01 09:00', 0.9);
SELECT asof.create_feature_view('wx9', 'wx9_f', '{driver, cust}', 'te', '{last(score)}');
CREATE TABLE wx9_q (driver int, cust int, t timestamp);
INSERT INTO wx9_q VALUES (1001, 2, '2024-01-01 10:00');
SELECT asof.build_training_set('wx9_ts', 'wx9_q', 't', '{wx9}');
SELECT driver, cust, wx9__last_score, asof.features_at('wx9', ARRAY[driver::text, cust::text], t)
  FROM wx9_ts;
-- a spine offering only driver is an error, and creates nothing
CREATE TABLE wx9_q_short (driver int, t timestamp);
INSERT INTO wx9_q_short VALUES (1001, '2024-01-01 10:00');
SELECT asof.build_training_set('wx9_ts_short', 'wx9_q_short', 't', '{wx9}');
SELECT asof.features_at('wx9', '{1001}', '2024-01-01 10:00'::timestamp);
SELECT to_regclass('wx9_ts_short') AS not_created;

-- 10. Unmatched spine rows stay, with NULL features and count 0.
CREATE TABLE wx10_f (id int, te timestamp, v int);
INSERT INTO wx10_f VALUES (1, '2024-01-01 00:00', 10), (2, '2024-01-01 00:00', 20);
SELECT asof.create_feature_view('wx10', 'wx10_f', '{id}', 'te',
  '{count(*) over 1 day, count(v) over 1 day, sum(v) over 1 day, last(v)}');
CREATE TABLE wx10_q (id int, t timestamp);
INSERT INTO wx10_q VALUES (1, '2024-01-01 12:00'), (2, '2024-01-01 12:00'), (3, '2024-01-01 12:00');
SELECT asof.build_training_set('wx10_ts', 'wx10_q', 't', '{wx10}') AS rows_3;
SELECT id, wx10__count_1d, wx10__count_v_1d, wx10__sum_v_1d, wx10__last_v,
       asof.features_at('wx10', ARRAY[id::text], t)
  FROM wx10_ts ORDER BY id;

-- Every build above is recorded, with the definitions as of the build.
SELECT name, version, spine, at, feature_views, row_count,
       jsonb_array_length(definitions) AS ndefs, built_by = current_user AS by_me,
       duration >= interval '0' AS has_duration
  FROM asof.training_sets ORDER BY name;
