--
-- 21_engine_boundaries: the edges of docs/point-in-time.md, hand-checked:
-- strict visibility on both times, inclusive window start, tick and TTL
-- edges, times before the anchor, NULLs, infinities and overflow, empty
-- windows, result types and exactness, min/max when rows leave in another
-- order than they came, floating-point cancellation, dates, TimeZone and
-- daylight saving.
--
SET TimeZone = 'UTC';
SET client_min_messages = warning;

-- Visibility: ta < k AND te < k, both strict (continuous, delay 0: k = t).
CREATE TABLE b_vis_f (id int, te timestamp, ta timestamp, v text);
INSERT INTO b_vis_f VALUES
  (1, '2024-01-01 09:00', '2024-01-01 10:00', 'ta = k'),          -- known exactly at k
  (2, '2024-01-01 10:00', '2024-01-01 09:00', 'te = k'),          -- happens exactly at k
  (3, '2024-01-01 09:59:59.999999', '2024-01-01 09:59:59.999999', 'just before');
SELECT asof.create_feature_view('b_vis', 'b_vis_f', '{id}', 'te',
  '{last(v), count(*) over 1 hour}', available_time => 'ta');
CREATE TABLE b_vis_q (id int, t timestamp);
INSERT INTO b_vis_q VALUES (1, '2024-01-01 10:00'), (2, '2024-01-01 10:00'), (3, '2024-01-01 10:00'),
                           (1, '2024-01-01 10:00:00.000001'), (2, '2024-01-01 10:00:00.000001');
SELECT asof.build_training_set('b_vis_ts', 'b_vis_q', 't', '{b_vis}');
-- expected: at 10:00 only id 3 sees its row; a microsecond later 1 and 2 do
SELECT id, t, b_vis__last_v, b_vis__count_1h FROM b_vis_ts ORDER BY t, id;

-- Window start inclusive: te = k - W is in, a microsecond earlier is out.
CREATE TABLE b_win_f (id int, te timestamp, v int);
INSERT INTO b_win_f VALUES (1, '2024-01-01 09:00', 1), (1, '2024-01-01 08:59:59.999999', 100);
SELECT asof.create_feature_view('b_win', 'b_win_f', '{id}', 'te',
  '{sum(v) over 1 hour, count(*) over 1 hour, min(v) over 1 hour, max(v) over 1 hour}');
SELECT asof.features_at('b_win', '{1}', '2024-01-01 10:00'::timestamp) AS expect_only_1,
       asof.features_at('b_win', '{1}', '2024-01-01 09:59:59.999999'::timestamp) AS expect_both;

-- Ticks: k = max{a + n*c : a + n*c + d <= t}.  Cadence 1 hour, delay 10
-- minutes, anchor default (2000-01-01 00:00 UTC).  At 10:10 the 10:00 tick
-- is served (inclusive), at 10:09:59.999999 the 09:00 tick.
CREATE TABLE b_tick_f (id int, te timestamp, v int);
INSERT INTO b_tick_f VALUES (1, '2024-01-01 09:30', 1), (1, '2024-01-01 09:59:59.999999', 2),
                            (1, '2024-01-01 10:00', 3);
SELECT asof.create_feature_view('b_tick', 'b_tick_f', '{id}', 'te',
  '{last(v), count(*) over 1 day}', cadence => '1 hour', delay => '10 minutes');
CREATE TABLE b_tick_q (id int, t timestamp);
INSERT INTO b_tick_q VALUES (1, '2024-01-01 10:09:59.999999'), (1, '2024-01-01 10:10'),
                            (1, '2024-01-01 11:09:59.999999'), (1, '2024-01-01 11:10');
SELECT asof.build_training_set('b_tick_ts', 'b_tick_q', 't', '{b_tick}');
-- expected: NULL/0, 2/2, 2/2, 3/3
SELECT t, b_tick__last_v, b_tick__count_1d FROM b_tick_ts ORDER BY t;

-- Times before the anchor: floor division.  Anchor 2000-01-01 06:00 UTC,
-- cadence 1 day; t = 1999-12-31 05:00 is served by the 1999-12-30 06:00
-- tick, t = 1999-12-31 06:00 by the 1999-12-31 06:00 tick.
CREATE TABLE b_anchor_f (id int, te timestamptz, v int);
INSERT INTO b_anchor_f VALUES (1, '1999-12-30 05:59:59+00', 1), (1, '1999-12-30 06:00+00', 2),
                              (1, '1999-12-31 05:59+00', 3);
SELECT asof.create_feature_view('b_anchor', 'b_anchor_f', '{id}', 'te', '{last(v)}',
  cadence => '1 day', anchor => '2000-01-01 06:00+00');
CREATE TABLE b_anchor_q (id int, t timestamptz);
INSERT INTO b_anchor_q VALUES (1, '1999-12-31 05:00+00'), (1, '1999-12-31 05:59:59.999999+00'),
                              (1, '1999-12-31 06:00+00');
SELECT asof.build_training_set('b_anchor_ts', 'b_anchor_q', 't', '{b_anchor}');
-- expected: 1, 1, 3
SELECT t, b_anchor__last_v FROM b_anchor_ts ORDER BY t;
-- A timestamp view uses the anchor's UTC wall clock: '2000-01-01 06:00+02'
-- is 04:00, so ticks are at 04:00.
CREATE TABLE b_anchor2_f (id int, te timestamp, v int);
INSERT INTO b_anchor2_f VALUES (1, '2024-01-01 03:59', 1), (1, '2024-01-01 04:00', 2);
SELECT asof.create_feature_view('b_anchor2', 'b_anchor2_f', '{id}', 'te', '{last(v)}',
  cadence => '1 day', anchor => '2000-01-01 06:00+02');
SELECT asof.features_at('b_anchor2', '{1}', '2024-01-02 03:59:59'::timestamp) AS expect_1,
       asof.features_at('b_anchor2', '{1}', '2024-01-02 04:00'::timestamp) AS expect_2;

-- Per-tick reuse keeps TTL per row: same tick, different t.
CREATE TABLE b_ttl_f (id int, te timestamp, v int);
INSERT INTO b_ttl_f VALUES (1, '2024-01-01 09:50', 7);
SELECT asof.create_feature_view('b_ttl', 'b_ttl_f', '{id}', 'te', '{last(v), count(*) over 1 hour}',
  cadence => '1 hour', ttl => '30 minutes');
CREATE TABLE b_ttl_q (id int, t timestamp);
INSERT INTO b_ttl_q VALUES (1, '2024-01-01 10:15'), (1, '2024-01-01 10:20'),
                           (1, '2024-01-01 10:20:00.000001'), (1, '2024-01-01 10:59');
SELECT asof.build_training_set('b_ttl_ts', 'b_ttl_q', 't', '{b_ttl}');
-- expected: 7, 7 (exactly 30 minutes old), NULL, NULL; count 1 throughout
SELECT t, b_ttl__last_v, b_ttl__count_1h FROM b_ttl_ts ORDER BY t;

-- NULLs: a NULL key never matches, a NULL te or ta is never visible, NULL
-- inputs are ignored by every aggregate except count(*).
CREATE TABLE b_null_f (id int, te timestamp, ta timestamp, v int);
INSERT INTO b_null_f VALUES
  (NULL, '2024-01-01 09:00', '2024-01-01 09:00', 1000),
  (1, NULL, '2024-01-01 09:00', 1000),
  (1, '2024-01-01 09:00', NULL, 1000),
  (1, '2024-01-01 09:10', '2024-01-01 09:10', NULL),
  (1, '2024-01-01 09:20', '2024-01-01 09:20', 4),
  (1, '2024-01-01 09:30', '2024-01-01 09:30', 6);
SELECT asof.create_feature_view('b_null', 'b_null_f', '{id}', 'te',
  '{count(*) over 1 hour, count(v) over 1 hour, sum(v) over 1 hour, avg(v) over 1 hour, min(v) over 1 hour, max(v) over 1 hour, var(v) over 1 hour, stddev(v) over 1 hour, last(v), last_nonnull(v)}',
  available_time => 'ta');
CREATE TABLE b_null_q (id int, t timestamp);
INSERT INTO b_null_q VALUES (1, '2024-01-01 10:00'), (NULL, '2024-01-01 10:00'), (1, NULL),
                            (1, '2024-01-01 09:25'), (1, '2024-01-01 09:15'),
                            (1, '2024-01-01 11:00');
SELECT asof.build_training_set('b_null_ts', 'b_null_q', 't', '{b_null}');
-- 10:00: count(*) 3, count 2, sum 10, avg 5, min 4, max 6, var 2, stddev 1.414..,
-- last 6; 09:25: one value (4): var/stddev NULL; 09:15: only the NULL row:
-- count(*) 1, count 0, the rest NULL, last NULL, last_nonnull NULL;
-- 11:00: empty window, last values stay; NULL key or t: NULL/0.
SELECT id, t, b_null__count_1h AS n, b_null__count_v_1h AS nv, b_null__sum_v_1h AS sum,
       b_null__avg_v_1h AS avg, b_null__min_v_1h AS min, b_null__max_v_1h AS max,
       b_null__var_v_1h AS var, round(b_null__stddev_v_1h::numeric, 12) AS stddev,
       b_null__last_v AS last, b_null__last_nonnull_v AS last_nn
  FROM b_null_ts ORDER BY t NULLS FIRST, id NULLS FIRST;
SELECT asof.features_at('b_null', '{1}', NULL::timestamp) AS null_t,
       asof.features_at('b_null', '{NULL}', '2024-01-01 10:00'::timestamp) AS null_key;

-- Infinite and out-of-range times: NULL features, count 0, no error.  An
-- event at -infinity is visible but in no window.
CREATE TABLE b_inf_f (id int, te timestamp, v int);
INSERT INTO b_inf_f VALUES (1, '-infinity', 5), (2, '4714-11-24 00:00:00 BC', 6),
                           (3, 'infinity', 7);
SELECT asof.create_feature_view('b_inf', 'b_inf_f', '{id}', 'te',
  '{last(v), count(*) over 1 day}', ttl => '1000000 days');
SELECT asof.create_feature_view('b_inf_d', 'b_inf_f', '{id}', 'te',
  '{last(v), count(*) over 1 hour}', delay => '1 hour');
CREATE TABLE b_inf_q (id int, t timestamp);
INSERT INTO b_inf_q VALUES (1, '2024-01-01'), (1, 'infinity'), (1, '-infinity'),
  (2, '4714-11-24 00:30:00 BC'), (3, '294276-12-31 23:59:59');
SELECT asof.build_training_set('b_inf_ts', 'b_inf_q', 't', '{b_inf, b_inf_d}');
-- 1 @2024: the -infinity event is visible but in no window (count 0);
-- with a TTL it is older than any bound (NULL), without one it is the
-- last value (5); infinite t: NULL/0.
-- 2 @ MIN + 30 min: the 1-day window start and the ttl bound are out of
-- range (NULL/0); with delay 1 hour k itself is out of range (NULL/0).
-- 3: an event at +infinity is never visible.
SELECT id, t, b_inf__last_v, b_inf__count_1d, b_inf_d__last_v, b_inf_d__count_1h
  FROM b_inf_ts ORDER BY id, t;

-- Result types and exact accumulation.
CREATE TABLE b_types_f (id int, te timestamp, i2 int2, i8 int8, n numeric, f4 real, f8 float8, s text);
INSERT INTO b_types_f VALUES
  (1, '2024-01-01 09:00', 32767, 9000000000000000000, 0.1, 1.5, 0.1, 'pear'),
  (1, '2024-01-01 09:10', 32767, 9000000000000000000, 0.2, 2.5, 0.2, 'apple'),
  (1, '2024-01-01 09:20', 32767, 9000000000000000001, 0.3, 3.5, 0.3, 'zucchini');
SELECT asof.create_feature_view('b_types', 'b_types_f', '{id}', 'te', ARRAY[
  'sum(i2) over 1 day', 'sum(i8) over 1 day', 'avg(i8) over 1 day', 'var(i8) over 1 day',
  'sum(n) over 1 day', 'avg(n) over 1 day', 'var(n) over 1 day',
  'sum(f4) over 1 day', 'sum(f8) over 1 day', 'min(s) over 1 day', 'max(s) over 1 day',
  'last(s)', 'min(f4) over 1 day', 'max(n) over 1 day']);
CREATE TABLE b_types_q (id int, t timestamp);
INSERT INTO b_types_q VALUES (1, '2024-01-01 10:00');
SELECT asof.build_training_set('b_types_ts', 'b_types_q', 't', '{b_types}');
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'b_types_ts'::regclass AND attnum > 2 ORDER BY attnum;
-- sum(i8) = 27000000000000000001 exactly (numeric), var(i8) = 1/3 exactly
-- rounded, sum(n) = 0.6 exactly; the float8 sum is compensated: 0.6, where
-- PostgreSQL's left-to-right sum gives 0.6000000000000001 (both within the
-- contract's 1e-9 * sum(|x|)).
SELECT b_types__sum_i2_1d, b_types__sum_i8_1d, b_types__avg_i8_1d,
       b_types__var_i8_1d = 1.0/3 AS var_i8_is_one_third,
       b_types__sum_n_1d, b_types__avg_n_1d, b_types__var_n_1d,
       b_types__sum_f4_1d, b_types__sum_f8_1d, b_types__min_s_1d, b_types__max_s_1d,
       b_types__last_s, b_types__min_f4_1d, b_types__max_n_1d
  FROM b_types_ts;
-- the same as PostgreSQL's aggregates over the same rows (avg/var as float8)
SELECT sum(i2) AS sum_i2, sum(i8) AS sum_i8, avg(i8)::float8 AS avg_i8, var_samp(n)::float8 AS var_n,
       sum(f4::float8) AS sum_f4, sum(f8) AS sum_f8
  FROM b_types_f;

-- Min/max with removal in another order than arrival: the largest value
-- becomes visible last (ta 05:00) but its event time is the oldest, so it
-- leaves the 6-hour window first.  A FIFO deque would keep it.
CREATE TABLE b_mm_f (id int, te timestamp, ta timestamp, v int);
INSERT INTO b_mm_f VALUES (1, '2024-01-01 00:00', '2024-01-01 05:00', 100),
                          (1, '2024-01-01 01:00', '2024-01-01 01:00', 50),
                          (1, '2024-01-01 02:00', '2024-01-01 02:00', 70);
SELECT asof.create_feature_view('b_mm', 'b_mm_f', '{id}', 'te',
  '{min(v) over 6 hours, max(v) over 6 hours, count(*) over 6 hours}', available_time => 'ta');
CREATE TABLE b_mm_q (id int, t timestamp);
INSERT INTO b_mm_q VALUES (1, '2024-01-01 04:00'), (1, '2024-01-01 05:00:00.000001'),
                          (1, '2024-01-01 06:30'), (1, '2024-01-01 07:30'), (1, '2024-01-01 08:30');
SELECT asof.build_training_set('b_mm_ts', 'b_mm_q', 't', '{b_mm}');
-- expected: 50/70/2, 50/100/3, 50/70/2, 70/70/1, NULL/NULL/0
SELECT t, b_mm__min_v_6h, b_mm__max_v_6h, b_mm__count_6h FROM b_mm_ts ORDER BY t;

-- Floating-point cancellation: a huge value enters and leaves the window;
-- the sums of what remains are exact (recomputed from the window's rows).
CREATE TABLE b_fp_f (id int, te timestamp, v float8);
INSERT INTO b_fp_f VALUES (1, '2024-01-01 00:00', 1e300), (1, '2024-01-01 00:10', -1e300),
                          (1, '2024-01-01 01:00', 100000001), (1, '2024-01-01 01:10', 100000002),
                          (1, '2024-01-01 01:20', 100000003),
                          (1, '2024-01-01 02:00', 'infinity'), (1, '2024-01-01 02:10', 'NaN');
SELECT asof.create_feature_view('b_fp', 'b_fp_f', '{id}', 'te',
  '{sum(v) over 1 hour, avg(v) over 1 hour, var(v) over 1 hour, stddev(v) over 1 hour, max(v) over 1 hour}');
CREATE TABLE b_fp_q (id int, t timestamp);
INSERT INTO b_fp_q VALUES (1, '2024-01-01 00:05'), (1, '2024-01-01 00:30'), (1, '2024-01-01 01:30'),
                          (1, '2024-01-01 02:05'), (1, '2024-01-01 02:15'), (1, '2024-01-01 03:30');
SELECT asof.build_training_set('b_fp_ts', 'b_fp_q', 't', '{b_fp}');
-- expected: 1e300 (var of one row NULL); 0 (1e300 - 1e300; their squares
-- overflow double precision: var +Infinity, stddev sqrt(2) * 1e300 =
-- 1.4142135623730952e+300, PostgreSQL raises an error there; see 26);
-- after both left: 300000006, avg 100000002, var 1, stddev 1 exactly (the
-- variance is accumulated around the window's mean); +infinity (var NaN);
-- NaN; empty window: NULL.
SELECT t, b_fp__sum_v_1h AS sum, b_fp__avg_v_1h AS avg, b_fp__var_v_1h AS var,
       b_fp__stddev_v_1h AS stddev, b_fp__max_v_1h AS max
  FROM b_fp_ts ORDER BY t;

-- A date prediction time is midnight, for timestamp views only.
CREATE TABLE b_date_q (id int, d date);
INSERT INTO b_date_q VALUES (1, '2024-01-01'), (1, '2024-01-02');
SELECT asof.build_training_set('b_date_ts', 'b_date_q', 'd', '{b_mm}');
-- 2024-01-01 00:00 sees nothing; 2024-01-02 00:00 sees nothing in 6 hours
SELECT d, b_mm__count_6h FROM b_date_ts ORDER BY d;
SELECT asof.build_training_set('b_date_ts2', 'b_date_q', 'd + time ''05:30''', '{b_mm}');
SELECT d, b_mm__max_v_6h FROM b_date_ts2 ORDER BY d;

-- TimeZone: a daily cadence (anchor midnight UTC) and a 1-day window across
-- the 2021-03-28 daylight saving change in Berlin give the same values
-- under every TimeZone.  The available time "te + 1 day - 23 hours" is
-- te + 1 hour when evaluated in UTC (as the contract says) but te itself
-- across the change when evaluated in Berlin: evaluating it in the
-- session's zone would change what is visible.
CREATE TABLE b_tz_f (id int, te timestamptz, v int);
INSERT INTO b_tz_f SELECT 1, '2021-03-26 00:00+00'::timestamptz + n * interval '30 minutes', n
  FROM generate_series(0, 192) n;
SELECT asof.create_feature_view('b_tz', 'b_tz_f', '{id}', 'te',
  '{count(*) over 1 day, sum(v) over 1 day, last(v)}',
  available_time => 'te + interval ''1 day'' - interval ''23 hours''', cadence => '1 day');
CREATE TABLE b_tz_q (id int, t timestamptz);
INSERT INTO b_tz_q SELECT 1, ts
  FROM generate_series('2021-03-27 00:00+00'::timestamptz, '2021-03-30 00:00+00', '7 hours') ts;
SET TimeZone = 'Europe/Berlin';
SELECT asof.build_training_set('b_tz_berlin', 'b_tz_q', 't', '{b_tz}');
SET TimeZone = 'America/New_York';
SELECT asof.build_training_set('b_tz_ny', 'b_tz_q', 't', '{b_tz}');
SET TimeZone = 'UTC';
SELECT asof.build_training_set('b_tz_utc', 'b_tz_q', 't', '{b_tz}');
SELECT (SELECT count(*) FROM b_tz_utc) AS rows,
       (SELECT count(*) FROM (TABLE b_tz_utc EXCEPT TABLE b_tz_berlin) x) AS berlin_differs,
       (SELECT count(*) FROM (TABLE b_tz_utc EXCEPT TABLE b_tz_ny) x) AS ny_differs;
-- by hand: at 2021-03-28 11:00 UTC the 03-28 00:00 tick is served; the
-- window is te in [03-27 00:00, 03-28 00:00) and visible needs
-- ta = te + 1 hour < 03-28 00:00, so te = 03-27 00:00 ... 22:30: v = 48 ...
-- 93, count 46, sum 3243, last 93.  Every day has 46 (the 1-day window
-- is 24 hours in UTC also across the change).
SELECT t, b_tz__count_1d, b_tz__sum_v_1d, b_tz__last_v FROM b_tz_utc ORDER BY t;
SET TimeZone = 'Europe/Berlin';
SELECT asof.features_at('b_tz', '{1}', '2021-03-28 13:00+02'::timestamptz) AS berlin,
       asof.features_at('b_tz', '{1}', '2021-03-28 11:00+00'::timestamptz) AS same_instant;
SET TimeZone = 'UTC';

-- What production serves now: events in the past, at => now().
SELECT asof.features_at('b_tz', '{1}', now()) ->> 'last_v' AS last_now;
