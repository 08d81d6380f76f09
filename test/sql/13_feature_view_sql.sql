--
-- 13_feature_view_sql: the contract's worked examples (docs/point-in-time.md,
-- "Worked examples"), each computed by running the plain-SQL reference
-- formulation asof.feature_view_sql returns.  Expected values are the
-- contract's, checked by hand.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

-- ref(view, spine, at): the rows of the reference query, in spine id order
-- (every spine here has an id column), as text.
CREATE FUNCTION pg_temp.ref(v text, spine regclass, at text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format('SELECT CAST(x AS text) FROM (%s) AS x ORDER BY x.id',
                              asof.feature_view_sql(v, spine, at));
END $$;

-- 1. Late correction: a row becomes visible only once available, strictly
-- after its available time.
CREATE TABLE ex1_f (d int, te timestamp, ta timestamp, v text);
INSERT INTO ex1_f VALUES (1, '2024-01-01 10:00', '2024-01-01 10:05', 'A'),
                         (1, '2024-01-01 11:00', '2024-01-01 13:00', 'B');
CREATE TABLE ex1_q (id int, d int, t timestamp);
INSERT INTO ex1_q VALUES (1, 1, '2024-01-01 12:00'),
                         (2, 1, '2024-01-01 13:00:00.000001'),
                         (3, 1, '2024-01-01 13:00');
SELECT asof.create_feature_view('ex1', 'ex1_f', '{d}', 'te', '{"last(v)"}', available_time => 'ta');
SELECT * FROM pg_temp.ref('ex1', 'ex1_q', 't');

-- 2. Ties: the greatest te, then the greatest ta, then the greatest value;
-- exactly one output row per spine row.
CREATE TABLE ex2_f (k int, te timestamp, ta timestamp, v int);
INSERT INTO ex2_f VALUES (1, '2024-01-01 00:00', '2024-01-01 00:00:02', 2),
                         (1, '2024-01-01 00:00', '2024-01-01 00:00:03', 3),
                         (1, '2024-01-01 00:00', '2024-01-01 00:00:01', 1);
CREATE TABLE ex2_q (id int, k int, t timestamp);
INSERT INTO ex2_q VALUES (1, 1, '2024-01-01 01:00');
SELECT asof.create_feature_view('ex2', 'ex2_f', '{k}', 'te', '{"last(v)"}', available_time => 'ta');
SELECT * FROM pg_temp.ref('ex2', 'ex2_q', 't');
-- equal te and ta: the greatest value, 'B', under every plan, 100 times
CREATE TABLE ex2b_f (k int, te timestamp, ta timestamp, v text);
INSERT INTO ex2b_f VALUES (1, '2024-01-01 10:00', '2024-01-01 10:00', 'B'),
                          (1, '2024-01-01 10:00', '2024-01-01 10:00', 'A');
INSERT INTO ex2b_f SELECT 2, '2024-01-01 09:00', '2024-01-01 09:00', 'x' FROM generate_series(1, 2000);
INSERT INTO ex2b_f VALUES (1, '2024-01-01 10:00', '2024-01-01 10:00', 'A');
ANALYZE ex2b_f;
CREATE TABLE ex2b_q (id int, k int, t timestamp);
INSERT INTO ex2b_q VALUES (1, 1, '2024-01-01 11:00');
SELECT asof.create_feature_view('ex2b', 'ex2b_f', '{k}', 'te', '{"last(v)"}', available_time => 'ta');
SELECT count(DISTINCT r) AS distinct_results, min(r) AS result
  FROM generate_series(1, 100), LATERAL (SELECT string_agg(x, ';') AS r FROM pg_temp.ref('ex2b', 'ex2b_q', 't') x) s;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 4;
-- force_parallel_mode is named debug_parallel_query from PostgreSQL 16 on
SELECT CASE WHEN current_setting('server_version_num')::int >= 160000
            THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END AS force_parallel \gset
SET :force_parallel = on;
SELECT count(DISTINCT r) AS distinct_results, min(r) AS result
  FROM generate_series(1, 100), LATERAL (SELECT string_agg(x, ';') AS r FROM pg_temp.ref('ex2b', 'ex2b_q', 't') x) s;
CREATE INDEX ON ex2b_f (k, te);
SET enable_seqscan = off;
SELECT count(DISTINCT r) AS distinct_results, min(r) AS result
  FROM generate_series(1, 100), LATERAL (SELECT string_agg(x, ';') AS r FROM pg_temp.ref('ex2b', 'ex2b_q', 't') x) s;
RESET enable_seqscan;
RESET :force_parallel;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;

-- 3. Spine duplicates stay duplicates: exactly 3 rows, A->5, B->5, C->9.
CREATE TABLE ex3_f (e int, te timestamp, f int);
INSERT INTO ex3_f VALUES (7, '2024-01-01 11:00', 5), (8, '2024-01-01 11:00', 9);
CREATE TABLE ex3_q (id int, e int, t timestamp, label text);
INSERT INTO ex3_q VALUES (1, 7, '2024-01-01 12:00', 'A'), (2, 7, '2024-01-01 12:00', 'B'),
                         (3, 8, '2024-01-01 12:00', 'C');
SELECT asof.create_feature_view('ex3', 'ex3_f', '{e}', 'te', '{"last(f)"}');
SELECT * FROM pg_temp.ref('ex3', 'ex3_q', 't');

-- 4. TTL: a value exactly ttl old is served, one microsecond older is not;
-- without a ttl a four-year-old value is served.
CREATE TABLE ex4_f (id int, te timestamp, v int);
INSERT INTO ex4_f VALUES (1, '2024-01-01 09:00', 3);
CREATE TABLE ex4_q (id int, t timestamp);
INSERT INTO ex4_q VALUES (1, '2024-01-01 10:00'), (1, '2024-01-01 10:00:00.000001'),
                         (1, '2028-01-01 09:00');
SELECT asof.create_feature_view('ex4', 'ex4_f', '{id}', 'te', '{"last(v)", "last_nonnull(v)"}', ttl => '1 hour');
SELECT asof.create_feature_view('ex4_no_ttl', 'ex4_f', '{id}', 'te', '{"last(v)"}');
SELECT * FROM pg_temp.ref('ex4', 'ex4_q', 't');
SELECT * FROM pg_temp.ref('ex4_no_ttl', 'ex4_q', 't');

-- 5. Window edges: [k - W, k): the row at exactly t is not visible, the
-- row at exactly t - W is in the window.
CREATE TABLE ex5_f (card int, te timestamp, amount numeric);
INSERT INTO ex5_f VALUES (1, '2024-01-01 00:03:15', 78.92), (1, '2024-01-01 00:04:20', 31.54);
CREATE TABLE ex5_q (id int, card int, t timestamp);
INSERT INTO ex5_q VALUES (1, 1, '2024-01-01 00:04:20'), (2, 1, '2024-01-01 00:04:20.000001'),
                         (3, 1, '2024-01-01 00:04:20.000002');
SELECT asof.create_feature_view('ex5', 'ex5_f', '{card}', 'te', '{"sum(amount) over 65 seconds"}');
SELECT * FROM pg_temp.ref('ex5', 'ex5_q', 't');

-- 6. Daily batch: cadence 1 day, anchor midnight.  Delay 0: at 12-20 12:01
-- the 12-20 00:00 tick is served, holding the 12-19 15:00 event only.
-- Delay 2 hours: at 12-20 01:30 the 12-20 tick is not served yet, the
-- 12-19 00:00 tick holds nothing: count 0, sum NULL.
CREATE TABLE ex6_f (k int, te timestamp, v int);
INSERT INTO ex6_f VALUES (1, '2023-12-19 15:00', 1), (1, '2023-12-20 01:00', 1);
CREATE TABLE ex6_q (id int, k int, t timestamp);
INSERT INTO ex6_q VALUES (1, 1, '2023-12-20 12:01'), (2, 1, '2023-12-20 01:30'),
                         (3, 1, '2023-12-21 02:00'), (4, 1, '2023-12-21 01:59:59.999999');
SELECT asof.create_feature_view('ex6', 'ex6_f', '{k}', 'te',
  '{"sum(v) over 10 days", "count(*) over 10 days"}', cadence => '1 day', anchor => '2000-01-01 00:00+00');
SELECT asof.create_feature_view('ex6_delay', 'ex6_f', '{k}', 'te',
  '{"sum(v) over 10 days", "count(*) over 10 days"}', cadence => '1 day', anchor => '2000-01-01 00:00+00',
  delay => '2 hours');
SELECT * FROM pg_temp.ref('ex6', 'ex6_q', 't');
SELECT * FROM pg_temp.ref('ex6_delay', 'ex6_q', 't');

-- 7. Time zones: 09:00+02 is 07:00 UTC, before the 07:30 UTC event, under
-- every TimeZone.
CREATE TABLE ex7_f (k int, te timestamptz, v int);
INSERT INTO ex7_f VALUES (1, '2021-04-01 07:30+00', 1);
CREATE TABLE ex7_q (id int, k int, t timestamptz);
INSERT INTO ex7_q VALUES (1, 1, '2021-04-01 09:00+02'), (2, 1, '2021-04-01 09:30:00.000001+02');
SELECT asof.create_feature_view('ex7', 'ex7_f', '{k}', 'te', '{"last(v)"}');
SET TimeZone = 'Europe/Berlin';
SELECT * FROM pg_temp.ref('ex7', 'ex7_q', 't');
SET TimeZone = 'UTC';
SELECT * FROM pg_temp.ref('ex7', 'ex7_q', 't');
-- A daily cadence and windows across the 2021-03-28 daylight saving change
-- in Europe, with an available time that is a stable expression
-- (timestamptz + 1 day: 23 hours that day in Berlin, 24 in UTC).  The
-- expressions are evaluated with TimeZone = UTC, so:
--   k = 03-28 00:00 UTC: nothing visible;
--   k = 03-29 00:00 UTC: only the 03-27 23:30 event (available 03-28 23:30);
--   k = 03-30 00:00 UTC: all four; 36 hours back: 4 + 8 = 12.
CREATE TABLE ex7b_f (k int, te timestamptz, v int);
INSERT INTO ex7b_f VALUES (1, '2021-03-27 23:30+00', 1), (1, '2021-03-28 00:30+00', 2),
                          (1, '2021-03-28 22:30+00', 4), (1, '2021-03-28 23:30+00', 8);
CREATE TABLE ex7b_q (id int, k int, t timestamptz);
INSERT INTO ex7b_q VALUES (1, 1, '2021-03-28 23:59:59+00'), (2, 1, '2021-03-29 00:00+00'),
                          (3, 1, '2021-03-29 12:00+00'), (4, 1, '2021-03-30 00:00+00');
SELECT asof.create_feature_view('ex7b', 'ex7b_f', '{k}', 'te',
  '{"count(*) over 2 days", "sum(v) over 36 hours", "last(v)"}',
  available_time => 'te + interval ''1 day''', cadence => '1 day', anchor => '2021-01-01 00:00+00');
-- the query says it runs in UTC
SELECT split_part(asof.feature_view_sql('ex7b', 'ex7b_q', 't'), E'\n', 1);
CREATE FUNCTION pg_temp.ref_utc(v text, spine regclass, at text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format('SELECT format(''%%s %%s: %%s'', x.id, x.t AT TIME ZONE ''UTC'', row(x.*)) FROM (%s) AS x ORDER BY x.id',
                              asof.feature_view_sql(v, spine, at));
END $$;
SET TimeZone = 'UTC';
SELECT * FROM pg_temp.ref_utc('ex7b', 'ex7b_q', 't');
SET TimeZone = 'Europe/Berlin';
SELECT * FROM pg_temp.ref_utc('ex7b', 'ex7b_q', 't');
SET TimeZone = 'America/New_York';
SELECT * FROM pg_temp.ref_utc('ex7b', 'ex7b_q', 't');
SET TimeZone = 'UTC';

-- 8. Last row vs last non-null row.
CREATE TABLE ex8_f (k int, te timestamp, v int);
INSERT INTO ex8_f VALUES (1, '2024-01-01 00:00', 42), (1, '2024-01-01 01:00', NULL);
CREATE TABLE ex8_q (id int, k int, t timestamp);
INSERT INTO ex8_q VALUES (1, 1, '2024-01-01 02:00');
SELECT asof.create_feature_view('ex8', 'ex8_f', '{k}', 'te', '{"last(v)", "last_nonnull(v)", "count(v) over 1 day", "count(*) over 1 day"}');
SELECT * FROM pg_temp.ref('ex8', 'ex8_q', 't');

-- 9. Composite keys match on every key column; a spine with only one of
-- them is an error.
CREATE TABLE ex9_f (driver int, cust int, te timestamp, rate numeric);
INSERT INTO ex9_f VALUES (1001, 1, '2024-01-01 09:00', 0.1), (1001, 2, '2024-01-01 09:00', 0.9);
CREATE TABLE ex9_q (id int, driver int, cust int, t timestamp);
INSERT INTO ex9_q VALUES (1, 1001, 2, '2024-01-01 10:00'), (2, 1001, 1, '2024-01-01 10:00'),
                         (3, 1001, NULL, '2024-01-01 10:00');
CREATE TABLE ex9_q_driver_only (id int, driver int, t timestamp);
SELECT asof.create_feature_view('ex9', 'ex9_f', '{driver,cust}', 'te', '{"last(rate)"}');
SELECT * FROM pg_temp.ref('ex9', 'ex9_q', 't');
SELECT asof.feature_view_sql('ex9', 'ex9_q_driver_only', 't');

-- 10. Unmatched spine rows stay, with NULL features and count 0.
CREATE TABLE ex10_f (k int, te timestamp, v int);
INSERT INTO ex10_f VALUES (1, '2024-01-01 00:00', 5), (2, '2024-01-01 00:00', 6);
CREATE TABLE ex10_q (id int, k int, t timestamp);
INSERT INTO ex10_q VALUES (1, 1, '2024-01-02 00:00'), (2, 2, '2024-01-02 00:00'), (3, 3, '2024-01-02 00:00');
SELECT asof.create_feature_view('ex10', 'ex10_f', '{k}', 'te', '{"count(*) over 1 day", "sum(v) over 1 day", "last(v)"}');
SELECT * FROM pg_temp.ref('ex10', 'ex10_q', 't');

-- clean up: dropping the sources (CASCADE) removes their feature views
SET client_min_messages = warning;
DROP TABLE ex1_f, ex1_q, ex2_f, ex2_q, ex2b_f, ex2b_q, ex3_f, ex3_q, ex4_f, ex4_q, ex5_f, ex5_q, ex6_f, ex6_q, ex7_f, ex7_q, ex7b_f, ex7b_q, ex8_f, ex8_q, ex9_f, ex9_q, ex9_q_driver_only, ex10_f, ex10_q CASCADE;
RESET client_min_messages;
SELECT count(*) AS feature_views_left FROM asof.feature_views;
