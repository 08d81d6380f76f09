--
-- 15_feature_view_sql_crosscheck: asof.feature_view_sql against a second,
-- naive formulation written here by hand (correlated subqueries per
-- feature, k(t) through date_bin), on random data with ties, NULL keys,
-- NULL times and NULL values.  Both must agree on every spine row.
--
SET TimeZone = 'UTC';
SELECT setseed(0.42);
CREATE TABLE crs_f (k int, te timestamp, ta timestamp, v int, x float8, s text);
INSERT INTO crs_f
SELECT CASE WHEN random() < 0.02 THEN NULL ELSE 1 + (random() * 4)::int END,
       te, CASE WHEN random() < 0.02 THEN NULL ELSE te + (random() * 180)::int * interval '1 minute' END,
       CASE WHEN random() < 0.1 THEN NULL ELSE (random() * 200)::int - 100 END,
       CASE WHEN random() < 0.1 THEN NULL ELSE random() * 1000 END,
       CASE WHEN random() < 0.3 THEN NULL ELSE chr(97 + (random() * 5)::int) END
  FROM (SELECT timestamp '2024-03-01' + (random() * 14400)::int * interval '1 minute' AS te
          FROM generate_series(1, 3000)) g;
UPDATE crs_f SET te = NULL WHERE v = 7;
CREATE TABLE crs_q (id int, k int, t timestamp);
INSERT INTO crs_q
SELECT i, CASE WHEN i % 50 = 0 THEN NULL ELSE 1 + (random() * 5)::int END,
       timestamp '2024-03-01' + (random() * 15000)::int * interval '1 minute'
                              + (random() * 3)::int * interval '1 microsecond'
  FROM generate_series(1, 400) i;
-- some spine times exactly on ticks + delay, on available times, on t - W
INSERT INTO crs_q SELECT 1000 + row_number() OVER (), k, ta FROM (SELECT * FROM crs_f WHERE ta IS NOT NULL ORDER BY ta, te, k, v LIMIT 60) f;
INSERT INTO crs_q SELECT 2000 + i, 1 + i % 5, timestamp '2024-03-03 00:17' + i * interval '1 hour' FROM generate_series(0, 40) i;
SELECT count(*) AS spine_rows FROM crs_q;

SELECT asof.create_feature_view('crs', 'crs_f', '{k}', 'te', ARRAY[
    'count(*) over 2 hours', 'count(v) over 90 minutes', 'sum(v) over 1 day',
    'avg(v) over 6 hours', 'min(v) over 1 day', 'max(x) over 3 hours',
    'stddev(v) over 1 day', 'var(x) over 1 day', 'min(s) over 12 hours',
    'last(v)', 'last_nonnull(s)'],
  available_time => 'ta', cadence => '1 hour', anchor => '2000-01-01 00:07+00',
  delay => '10 minutes', ttl => '1 day');
DO $$ BEGIN EXECUTE 'CREATE TEMP TABLE crs_ref AS ' || asof.feature_view_sql('crs', 'crs_q', 't'); END $$;

CREATE TEMP TABLE crs_naive AS
SELECT q.id, q.k, q.t,
  (SELECT count(*) FROM crs_f r WHERE r.k = q.k AND r.ta < kk AND r.te < kk AND r.te >= kk - interval '2 hours') AS c2h,
  (SELECT count(r.v) FROM crs_f r WHERE r.k = q.k AND r.ta < kk AND r.te < kk AND r.te >= kk - interval '90 minutes') AS cv90,
  (SELECT sum(r.v) FROM crs_f r WHERE r.k = q.k AND r.ta < kk AND r.te < kk AND r.te >= kk - interval '1 day') AS s1d,
  (SELECT avg(r.v) FROM crs_f r WHERE r.k = q.k AND r.ta < kk AND r.te < kk AND r.te >= kk - interval '6 hours') AS a6h,
  (SELECT min(r.v) FROM crs_f r WHERE r.k = q.k AND r.ta < kk AND r.te < kk AND r.te >= kk - interval '1 day') AS mn1d,
  (SELECT max(r.x) FROM crs_f r WHERE r.k = q.k AND r.ta < kk AND r.te < kk AND r.te >= kk - interval '3 hours') AS mx3h,
  (SELECT stddev_samp(r.v) FROM crs_f r WHERE r.k = q.k AND r.ta < kk AND r.te < kk AND r.te >= kk - interval '1 day') AS sd1d,
  (SELECT var_samp(r.x) FROM crs_f r WHERE r.k = q.k AND r.ta < kk AND r.te < kk AND r.te >= kk - interval '1 day') AS vx1d,
  (SELECT min(r.s) FROM crs_f r WHERE r.k = q.k AND r.ta < kk AND r.te < kk AND r.te >= kk - interval '12 hours') AS ms12h,
  (SELECT CASE WHEN l.te >= q.t - interval '1 day' THEN l.v END
     FROM (SELECT DISTINCT ON (r.k) r.v, r.te FROM crs_f r
            WHERE r.k = q.k AND r.ta < kk AND r.te < kk
            ORDER BY r.k, r.te DESC, r.ta DESC, r.v DESC NULLS LAST) l) AS lv,
  (SELECT CASE WHEN l.te >= q.t - interval '1 day' THEN l.s END
     FROM (SELECT DISTINCT ON (r.k) r.s, r.te FROM crs_f r
            WHERE r.k = q.k AND r.ta < kk AND r.te < kk AND r.s IS NOT NULL
            ORDER BY r.k, r.te DESC, r.ta DESC, r.s DESC) l) AS ls
FROM crs_q q,
     LATERAL (SELECT date_bin('1 hour', q.t - interval '10 minutes', timestamp '2000-01-01 00:07') AS kk) b;

-- the naive query is not trivially empty: how much it found
SELECT sum(c2h) AS c2h, sum(cv90) AS cv90, sum(s1d) AS s1d, count(a6h) AS a6h,
       count(mx3h) AS mx3h, count(sd1d) AS sd1d, count(ms12h) AS ms12h,
       count(lv) AS lv, count(ls) AS ls
  FROM crs_naive;

-- rows where the two formulations disagree (floating results within 1e-9
-- relative: PostgreSQL's own float8 aggregates vs the contract's exact
-- integer arithmetic)
SELECT n.id, n.*, r.*
  FROM crs_naive n FULL JOIN crs_ref r ON r.id = n.id
 WHERE r.id IS NULL OR n.id IS NULL
    OR n.c2h IS DISTINCT FROM r.crs__count_2h
    OR n.cv90 IS DISTINCT FROM r.crs__count_v_90min
    OR n.s1d IS DISTINCT FROM r.crs__sum_v_1d
    OR (n.a6h IS NULL) <> (r.crs__avg_v_6h IS NULL)
    OR abs(n.a6h - r.crs__avg_v_6h::numeric) > 1e-9
    OR n.mn1d IS DISTINCT FROM r.crs__min_v_1d
    OR n.mx3h IS DISTINCT FROM r.crs__max_x_3h
    OR (n.sd1d IS NULL) <> (r.crs__stddev_v_1d IS NULL)
    OR abs(n.sd1d - r.crs__stddev_v_1d::numeric) > 1e-9
    OR (n.vx1d IS NULL) <> (r.crs__var_x_1d IS NULL)
    OR abs(n.vx1d - r.crs__var_x_1d) > 1e-9 * greatest(abs(n.vx1d), 1)
    OR n.ms12h IS DISTINCT FROM r.crs__min_s_12h
    OR n.lv IS DISTINCT FROM r.crs__last_v
    OR n.ls IS DISTINCT FROM r.crs__last_nonnull_s;
SELECT count(*) AS reference_rows FROM crs_ref;

-- clean up: dropping the sources (CASCADE) removes their feature views
SET client_min_messages = warning;
DROP TABLE crs_f, crs_q CASCADE;
RESET client_min_messages;
SELECT count(*) AS feature_views_left FROM asof.feature_views;
