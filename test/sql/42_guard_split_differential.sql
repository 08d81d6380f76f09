--
-- 42_guard_split_differential: G5, issue 14.  Differential test at the
-- split on the committed sample of real flights (data/flights-sample.csv.gz,
-- 30,000 flights, January to June 2001): for every spine row near the split,
-- under three time zones, each feature is the truth (the plain-SQL
-- reference over the whole table, guard off) or NULL and counted; shapes
-- that cannot be evaluated exactly (a view that maps the clock, an
-- aggregating view, a function) are refused.  "partial" counts values that
-- are neither, and must be 0.  Then the reference itself: refused under a
-- split, and independent of TimeZone when a source view depends on it.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET asof.progress_interval = 0;
CREATE SCHEMA g42;
CREATE TABLE g42.fl (dep_time timestamp NOT NULL, origin text NOT NULL, destination text NOT NULL,
                     distance integer NOT NULL, delay integer);
\copy g42.fl FROM PROGRAM 'gzip -dc data/flights-sample.csv.gz' WITH (FORMAT csv, HEADER true)
CREATE INDEX ON g42.fl (origin, dep_time);
ANALYZE g42.fl;
-- The spine: flights of the 5 busiest origins from 2001-04-29 to 2001-05-03.
CREATE TABLE g42.sp AS
  SELECT origin, dep_time AS t FROM g42.fl
  WHERE origin IN (SELECT origin FROM g42.fl GROUP BY origin ORDER BY count(*) DESC, origin LIMIT 5)
    AND dep_time >= '2001-04-29' AND dep_time < '2001-05-03';
SELECT count(*) AS spine_rows, min(t), max(t) FROM g42.sp;

-- The views.  Legitimate: the table itself (landing time as available
-- time, hourly cadence published 10 minutes late) and a view that projects
-- and filters it.  Not exact under a split: a view that maps the clock to
-- Tokyo, a daily aggregate, a function.
CREATE VIEW g42.v_proj AS SELECT dep_time, origin, distance, delay FROM g42.fl WHERE distance > 0;
CREATE VIEW g42.v_tokyo AS
  SELECT (dep_time AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Tokyo') AS dep_time, origin, distance, delay FROM g42.fl;
CREATE VIEW g42.v_daily AS
  SELECT max(dep_time) AS dep_time, origin, max(distance) AS distance, sum(delay)::int AS delay
  FROM g42.fl GROUP BY origin, dep_time::date;
CREATE FUNCTION g42.fl_rows() RETURNS SETOF g42.fl LANGUAGE sql STABLE AS 'SELECT * FROM g42.fl';
CREATE VIEW g42.v_func AS SELECT * FROM g42.fl_rows();
CREATE FUNCTION g42.fv(name text, src text, cadence interval DEFAULT NULL) RETURNS void LANGUAGE sql AS $$
  SELECT asof.create_feature_view(name, src, '{origin}', 'dep_time',
    '{count(*) over 1 day, sum(delay) over 1 day, max(delay) over 6 hours, last(delay)}',
    available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
    cadence => cadence, delay => CASE WHEN cadence IS NULL THEN interval '0' ELSE interval '10 minutes' END)
$$;
SELECT g42.fv('g42_table', 'g42.fl', '1 hour');
SELECT g42.fv('g42_proj', 'g42.v_proj');
SELECT g42.fv('g42_tokyo', 'g42.v_tokyo');
SELECT g42.fv('g42_daily', 'g42.v_daily');
SELECT g42.fv('g42_func', 'g42.v_func');

-- The truth: the plain-SQL reference over the whole table, before any
-- protection.
CREATE FUNCTION g42.reference(fv text, target text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE TABLE %s AS %s', target, asof.feature_view_sql(fv, 'g42.sp', 't'));
END $$;
SELECT g42.reference('g42_table', 'g42.truth_table');
SELECT g42.reference('g42_proj', 'g42.truth_proj');

SET client_min_messages = warning;
SELECT asof.protect('g42.fl', 'dep_time', '{delay}');
-- A reference query made after protect, before the split (run below).
SELECT asof.feature_view_sql('g42_table', 'g42.sp', 't') AS q \gset
SELECT asof.split('g42.fl', '2001-05-01');
RESET client_min_messages;

-- compare(built, truth, fv): per spine row, NULLed (every feature), exact
-- (every feature equal to the truth), partial (anything else); and the
-- NULLed rows whose effective time is not after the split (must be 0).
CREATE FUNCTION g42.compare(built text, truth text, fv text, cadence interval,
                            OUT nulled bigint, OUT exact bigint, OUT partial bigint, OUT nulled_before_split bigint)
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format($q$
    WITH j AS (SELECT b.origin, b.t,
                      (b.%1$I, b.%2$I, b.%3$I, b.%4$I) IS NULL AS is_null,
                      EXISTS (SELECT FROM %6$s y WHERE y.origin = b.origin AND y.t = b.t
                                AND (y.%1$I, y.%2$I, y.%3$I, y.%4$I) IS NOT DISTINCT FROM (b.%1$I, b.%2$I, b.%3$I, b.%4$I)) AS is_exact
               FROM %5$s b)
    SELECT count(*) FILTER (WHERE is_null),
           count(*) FILTER (WHERE is_exact AND NOT is_null),
           count(*) FILTER (WHERE NOT is_exact AND NOT is_null),
           count(*) FILTER (WHERE is_null AND
             (CASE WHEN %7$L::interval IS NULL THEN t
                   ELSE date_trunc('hour', t - interval '10 minutes') END) <= '2001-05-01')
    FROM j$q$,
    fv || '__count_1d', fv || '__sum_delay_1d', fv || '__max_delay_6h', fv || '__last_delay',
    built, truth, cadence)
  INTO nulled, exact, partial, nulled_before_split;
END $$;

-- Under three time zones: the same rows, exact or NULL and counted.
SELECT asof.build_training_set('g42.t_table', 'g42.sp', 't', '{g42_table}');
SELECT asof.build_training_set('g42.t_proj', 'g42.sp', 't', '{g42_proj}');
SET TimeZone = 'America/New_York';
SELECT asof.build_training_set('g42.t_table_ny', 'g42.sp', 't', '{g42_table}');
SELECT asof.build_training_set('g42.t_proj_ny', 'g42.sp', 't', '{g42_proj}');
SET TimeZone = 'Asia/Tokyo';
SELECT asof.build_training_set('g42.t_table_tokyo', 'g42.sp', 't', '{g42_table}');
SELECT asof.build_training_set('g42.t_proj_tokyo', 'g42.sp', 't', '{g42_proj}');
SET TimeZone = 'UTC';
SELECT 'table, UTC' AS run, * FROM g42.compare('g42.t_table', 'g42.truth_table', 'g42_table', '1 hour')
UNION ALL SELECT 'table, New York', * FROM g42.compare('g42.t_table_ny', 'g42.truth_table', 'g42_table', '1 hour')
UNION ALL SELECT 'table, Tokyo', * FROM g42.compare('g42.t_table_tokyo', 'g42.truth_table', 'g42_table', '1 hour')
UNION ALL SELECT 'view, UTC', * FROM g42.compare('g42.t_proj', 'g42.truth_proj', 'g42_proj', NULL)
UNION ALL SELECT 'view, New York', * FROM g42.compare('g42.t_proj_ny', 'g42.truth_proj', 'g42_proj', NULL)
UNION ALL SELECT 'view, Tokyo', * FROM g42.compare('g42.t_proj_tokyo', 'g42.truth_proj', 'g42_proj', NULL);
-- By hand: NULLed = the spine rows whose k(t) is after 2001-05-01 00:00.
SELECT count(*) FILTER (WHERE t > '2001-05-01') AS after_split_continuous,
       count(*) FILTER (WHERE date_trunc('hour', t - interval '10 minutes') > '2001-05-01') AS after_split_hourly
FROM g42.sp;

-- Shapes that are not exact under the split: refused in every zone.
SELECT asof.build_training_set('g42.t_tokyo', 'g42.sp', 't', '{g42_tokyo}');
SELECT asof.build_training_set('g42.t_daily', 'g42.sp', 't', '{g42_daily}');
SELECT asof.build_training_set('g42.t_func', 'g42.sp', 't', '{g42_func}');
SET TimeZone = 'America/New_York';
SELECT asof.build_training_set('g42.t_tokyo', 'g42.sp', 't', '{g42_tokyo}');
SET TimeZone = 'UTC';

-- The reference under the split: refused, whether its query was made
-- before the split (it checks again when it runs) or after.
SELECT g42.reference('g42_table', 'g42.ref_after');
SELECT count(*) FROM (:q) x;
-- With the test set unsealed in the transaction it runs, and is the truth.
BEGIN;
SET client_min_messages = warning;
SELECT asof.unseal('g42.fl', reason => 'reference at the split');
RESET client_min_messages;
SELECT count(*) AS rows, count(*) FILTER (WHERE r IS NOT DISTINCT FROM x) AS equal_to_truth
FROM (:q) r JOIN g42.truth_table x USING (origin, t);
ROLLBACK;

-- The reference is independent of TimeZone when a source view depends on
-- it (v_tokyo_open: the wall clock read in the session's zone, mapped to
-- Tokyo: 9 hours later under UTC, 13 under New York): wrapped in
-- asof.run_in_utc, it gives the engine's rows in every zone.  Inline under
-- New York it would give other values: the check below can fail.
CREATE TABLE g42.fl_open AS SELECT * FROM g42.fl WHERE dep_time < '2001-05-01';
CREATE VIEW g42.v_tokyo_open AS
  SELECT dep_time::timestamptz AT TIME ZONE 'Asia/Tokyo' AS dep_time,
         origin, distance, delay FROM g42.fl_open;
SELECT g42.fv('g42_tokyo_open', 'g42.v_tokyo_open');
SELECT left(asof.feature_view_sql('g42_tokyo_open', 'g42.sp', 't'), 60) AS reference_starts;
SELECT asof.build_training_set('g42.t_tokyo_open', 'g42.sp', 't', '{g42_tokyo_open}');
SELECT DISTINCT (dep_time::timestamptz AT TIME ZONE 'Asia/Tokyo') - dep_time AS shift_utc FROM g42.fl_open;
SET TimeZone = 'America/New_York';
SELECT DISTINCT (dep_time::timestamptz AT TIME ZONE 'Asia/Tokyo') - dep_time AS shift_new_york FROM g42.fl_open ORDER BY 1;
SELECT g42.reference('g42_tokyo_open', 'g42.ref_tokyo_ny');
SET TimeZone = 'UTC';
SELECT count(*) AS rows,
       count(*) FILTER (WHERE (r.g42_tokyo_open__count_1d, r.g42_tokyo_open__sum_delay_1d, r.g42_tokyo_open__last_delay)
                              IS NOT DISTINCT FROM
                              (b.g42_tokyo_open__count_1d, b.g42_tokyo_open__sum_delay_1d, b.g42_tokyo_open__last_delay)) AS equal,
       sum(b.g42_tokyo_open__count_1d) AS total_count
FROM (SELECT row_number() OVER (ORDER BY origin, t) n, * FROM g42.ref_tokyo_ny) r
JOIN (SELECT row_number() OVER (ORDER BY origin, t) n, * FROM g42.t_tokyo_open) b USING (n);

-- Clean up.
SET client_min_messages = warning;
SELECT asof.drop_feature_view(name) FROM asof.feature_views WHERE name LIKE 'g42\_%';
SELECT asof.unprotect('g42.fl');
DELETE FROM asof.training_sets WHERE name::text LIKE 'g42.%';
DELETE FROM asof.holdout_log;
DROP SCHEMA g42 CASCADE;
