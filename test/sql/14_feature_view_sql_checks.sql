--
-- 14_feature_view_sql_checks: asof.feature_view_sql beyond the worked
-- examples: spine checks, result types and exactness, NULL, infinite and
-- out-of-range prediction times, schedules before the anchor, the query
-- text itself, and asof.describe_feature_view.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
CREATE SCHEMA chk14;
CREATE FUNCTION chk14.ref(v text, spine regclass, at text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format('SELECT CAST(x AS text) FROM (%s) AS x ORDER BY x.id',
                              asof.feature_view_sql(v, spine, at));
END $$;

CREATE TYPE pg_temp.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN pg_temp.score AS integer;
CREATE TABLE chk_f (
    k text,
    te timestamp,
    i2 smallint,
    i4 integer,
    i8 bigint,
    n numeric,
    f4 real,
    f8 double precision,
    vc varchar(10),
    m pg_temp.mood,
    sc pg_temp.score,
    b bytea
);
INSERT INTO chk_f VALUES
  ('a', '2024-01-01 00:00', 1, 1, 9223372036854775807, 1.5, 0.5, 0.25, 'x', 'ok', 1, '\x01'),
  ('a', '2024-01-01 01:00', 2, 2, 9223372036854775807, 2.5, 1.5, 0.5, 'y', 'happy', 2, '\x02'),
  ('a', '2024-01-01 02:00', 2, 2, 2, NULL, NULL, NULL, NULL, 'sad', NULL, NULL),
  ('a', '4714-11-24 00:10:00 BC', NULL, 7, NULL, NULL, NULL, NULL, 'early', 'ok', 7, NULL);
SELECT asof.create_feature_view('chk', 'chk_f', '{k}', 'te', ARRAY[
  'count(*) over 1 day', 'count(n) over 1 day',
  'sum(i2) over 1 day', 'sum(i4) over 1 day', 'sum(i8) over 1 day', 'sum(n) over 1 day',
  'sum(f4) over 1 day', 'sum(f8) over 1 day',
  'avg(i4) over 1 day', 'avg(n) over 1 day', 'avg(f4) over 1 day',
  'stddev(i4) over 1 day', 'var(i4) over 1 day', 'var(i8) over 1 day', 'stddev(n) over 1 day',
  'var(f8) over 1 day',
  'min(vc) over 1 day', 'max(m) over 1 day', 'min(m) over 1 day', 'max(sc) over 1 day', 'max(b) over 1 day',
  'last(vc)', 'last(m)', 'last_nonnull(sc)']);
CREATE TABLE chk_q (id int, k text, t timestamp, d date);
INSERT INTO chk_q VALUES (1, 'a', '2024-01-01 03:00', '2024-01-02'),
                         (2, 'a', NULL, NULL),
                         (3, 'a', 'infinity', 'infinity'),
                         (4, 'a', '-infinity', '-infinity'),
                         (5, 'a', '4714-11-24 00:30:00 BC', '4714-11-24 BC'),
                         (6, 'b', '2024-01-01 03:00', '2024-01-02');
-- result types per the contract
CREATE TEMP TABLE chk_r AS SELECT * FROM chk14.ref('chk', 'chk_q', 't') LIMIT 0;
DO $$ BEGIN EXECUTE 'CREATE TEMP TABLE chk_out AS ' || asof.feature_view_sql('chk', 'chk_q', 't'); END $$;
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'chk_out'::regclass AND attnum > 0 ORDER BY attnum;
-- values: exact integer sums (past the bigint range), avg/var/stddev of
-- integers exact then rounded once (var(1,2,2) = 1/3, var(M,M,2) =
-- (M-2)^2/3); NULL and infinite t give NULL features and count 0; at
-- t = 4714-11-24 00:30 BC, k(t) is valid but k(t) - 1 day is before the
-- earliest timestamp: window features NULL (count 0), last values computed
SELECT * FROM chk_out ORDER BY id \gx

-- a date spine with a timestamp view: midnight
SELECT asof.create_feature_view('chk_small', 'chk_f', '{k}', 'te', '{"count(*) over 1 day", "last(i4)"}');
SELECT * FROM chk14.ref('chk_small', 'chk_q', 'd');
-- the prediction time may be an expression over the spine
SELECT * FROM chk14.ref('chk_small', 'chk_q', 't - interval ''90 minutes''');
-- the earliest valid k(t): t = 4714-11-24 00:30 BC, no delay: k is valid,
-- but k - 1 day is not, so the window feature is NULL (count 0) while the
-- last value (no lower bound) is computed
SELECT * FROM chk14.ref('chk_small', 'chk_q', 't') WHERE ref LIKE '(5,%';

-- schedules: anchor at 00:05, cadence 1 hour, delay 10 minutes; spine
-- times before the anchor use earlier ticks (floor, not truncation)
CREATE TABLE sched_f (k int, te timestamptz, v int);
INSERT INTO sched_f VALUES (1, '1999-12-31 22:00+00', 1), (1, '1999-12-31 23:04+00', 2),
                           (1, '2000-01-01 00:04+00', 4), (1, '2000-01-01 00:06+00', 8);
CREATE TABLE sched_q (id int, k int, t timestamptz);
INSERT INTO sched_q VALUES
  (1, 1, '1999-12-31 23:14:59.999999+00'),  -- k = 22:05 (23:05 + 10min > t)
  (2, 1, '1999-12-31 23:15+00'),            -- k = 23:05
  (3, 1, '2000-01-01 00:15+00'),            -- k = 00:05
  (4, 1, '2000-01-01 01:14:59+00'),         -- k = 00:05
  (5, 1, '2000-01-01 01:15+00');            -- k = 01:05
SELECT asof.create_feature_view('sched', 'sched_f', '{k}', 'te',
  '{"sum(v) over 1 hour", "count(*) over 3 hours", "last(v)"}',
  cadence => '1 hour', anchor => '2000-01-01 00:05+00', delay => '10 minutes');
SELECT * FROM chk14.ref('sched', 'sched_q', 't');
SET TimeZone = 'Asia/Kolkata';
SELECT * FROM chk14.ref('sched', 'sched_q', 't');
SET TimeZone = 'UTC';
-- a timestamp view: the anchor's UTC wall clock (given here in +05:30)
CREATE TABLE sched2_f (k int, te timestamp, v int);
INSERT INTO sched2_f SELECT k, te AT TIME ZONE 'UTC', v FROM sched_f;
CREATE TABLE sched2_q (id int, k int, t timestamp);
INSERT INTO sched2_q SELECT id, k, t AT TIME ZONE 'UTC' FROM sched_q;
SELECT asof.create_feature_view('sched2', 'sched2_f', '{k}', 'te',
  '{"sum(v) over 1 hour", "count(*) over 3 hours", "last(v)"}',
  cadence => '1 hour', anchor => '2000-01-01 05:35+05:30', delay => '10 minutes');
SELECT * FROM chk14.ref('sched2', 'sched2_q', 't');

-- a prediction time that depends on TimeZone (timestamp cast to
-- timestamptz) is evaluated with TimeZone = UTC like every expression: the
-- same rows under every session TimeZone, t taken as UTC
CREATE VIEW sched_q_local AS SELECT id, k, t AT TIME ZONE 'UTC' AS t_local FROM sched_q;
SELECT split_part(asof.feature_view_sql('sched', 'sched_q_local', 't_local::timestamptz'), E'\n', 1);
SET TimeZone = 'America/Los_Angeles';
SELECT * FROM chk14.ref('sched', 'sched_q_local', 't_local::timestamptz');
SET TimeZone = 'UTC';
SELECT * FROM chk14.ref('sched', 'sched_q_local', 't_local::timestamptz');

-- spine checks: a missing entity column, another type, a time type mix,
-- a date with a timestamptz view, a feature column the spine already has,
-- a bad prediction time
CREATE TABLE bad_q1 (id int, key text, t timestamp);
CREATE TABLE bad_q2 (id int, k varchar, t timestamp);
CREATE TABLE bad_q3 (id int, k text, t timestamptz, d date, chk_small__count_1d int);
CREATE TABLE bad_q4 (id int, k int, t timestamp, d date);
SELECT asof.feature_view_sql('chk_small', 'bad_q1', 't');
SELECT asof.feature_view_sql('chk_small', 'bad_q2', 't');
SELECT asof.feature_view_sql('chk_small', 'bad_q3', 't');
SELECT asof.feature_view_sql('sched', 'bad_q4', 't');
SELECT asof.feature_view_sql('sched', 'bad_q4', 'd');
SELECT asof.feature_view_sql('chk_small', 'bad_q3', 'd');
SELECT asof.feature_view_sql('chk_small', 'chk_q', 'nope');
SELECT asof.feature_view_sql('chk_small', 'chk_q', 'k');
SELECT asof.feature_view_sql('chk_small', 'chk_q', 't + random() * interval ''1 s''');
SELECT asof.feature_view_sql('no_such_view', 'chk_q', 't');
SELECT asof.feature_view_sql('chk_small', 'chk_q', NULL);

-- the query text for a small view
SELECT asof.create_feature_view('txt', 'chk_f', '{k}', 'te',
  '{"avg(i4) over 1 hour", "count(*) over 1 day", "last(vc)"}',
  available_time => 'te + interval ''5 minutes''', cadence => '1 hour', delay => '10 minutes', ttl => '2 days');
SELECT asof.feature_view_sql('txt', 'chk_q', 't');

-- describe: the exact rule, with the actual values
SELECT asof.describe_feature_view('txt');
SELECT asof.describe_feature_view('chk_small');
SELECT asof.describe_feature_view('sched');
SELECT asof.describe_feature_view('no_such_view');

-- clean up: dropping the sources (CASCADE) removes their feature views
SET client_min_messages = warning;
DROP VIEW sched_q_local;
DROP TABLE chk_f, chk_q, sched_f, sched_q, sched2_f, sched2_q, bad_q1, bad_q2, bad_q3, bad_q4 CASCADE;
DROP SCHEMA chk14 CASCADE;
RESET client_min_messages;
SELECT count(*) AS feature_views_left FROM asof.feature_views;
