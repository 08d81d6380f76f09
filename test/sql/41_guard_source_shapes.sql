--
-- 41_guard_source_shapes: G5, issue 14.  Near a split the engine gives the
-- exact value, NULL with a count, or refuses with a hint: never a value
-- computed over a partial set of rows.  Each refused shape stands next to
-- its legitimate twin; the truth is computed by brute force with the guard
-- off, and every build is compared with it: "partial" counts values that
-- are neither the truth nor NULL, and must be 0.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
CREATE SCHEMA g41;
-- The issue's table: one entity, hourly rows g = 0..71 from 2024-01-01,
-- held out from 2024-01-02 12:00 (g >= 36).
CREATE TABLE g41.ev (e int, ts timestamp, v int, lbl int);
INSERT INTO g41.ev SELECT 1, '2024-01-01'::timestamp + g * interval '1 hour', g, g % 2
  FROM generate_series(0, 71) g;
CREATE TABLE g41.dim (e int PRIMARY KEY, name text);
INSERT INTO g41.dim VALUES (1, 'one');
SELECT asof.protect('g41.ev', time_column => 'ts', label_columns => '{lbl}');
-- Spine: before the split, exactly at it (k(t) = test_from: exact), after it.
CREATE TABLE g41.sp (e int, t timestamp);
INSERT INTO g41.sp VALUES (1, '2024-01-02 06:00'), (1, '2024-01-02 12:00'), (1, '2024-01-02 18:00');

-- The truth over the full table (guard off, superuser only): count, sum and
-- last of v over the day before t.  By hand: 06:00 -> g 6..29: 24 / 420 /
-- 29; 12:00 -> g 12..35: 24 / 564 / 35; 18:00 -> g 18..41: 24 / 708 / 41.
SET asof.guard = off;
CREATE TABLE g41.truth AS
  SELECT sp.t, count(ev.v) AS c, sum(ev.v) AS s,
         (SELECT v FROM g41.ev x WHERE x.ts < sp.t ORDER BY x.ts DESC LIMIT 1) AS l
  FROM g41.sp LEFT JOIN g41.ev ON ev.e = sp.e AND ev.ts >= sp.t - interval '1 day' AND ev.ts < sp.t
  GROUP BY sp.t;
RESET asof.guard;
SELECT * FROM g41.truth ORDER BY t;

-- check(ts): per training set, the rows NULLed and the partial values.
CREATE FUNCTION g41.check(ts regclass, OUT nulled bigint, OUT exact bigint, OUT partial bigint)
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format($q$
    SELECT count(*) FILTER (WHERE b.c IS NULL AND b.s IS NULL AND b.l IS NULL),
           count(*) FILTER (WHERE (b.c, b.s, b.l) IS NOT DISTINCT FROM (x.c, x.s, x.l)),
           count(*) FILTER (WHERE NOT (b.c IS NULL AND b.s IS NULL AND b.l IS NULL)
                              AND (b.c, b.s, b.l) IS DISTINCT FROM (x.c, x.s, x.l))
    FROM (SELECT t, %1$s AS c, %2$s AS s, %3$s AS l FROM %4$s) b JOIN g41.truth x USING (t)$q$,
    (SELECT attname FROM pg_attribute WHERE attrelid = ts AND attname LIKE '%count_1d'),
    (SELECT attname FROM pg_attribute WHERE attrelid = ts AND attname LIKE '%sum_v_1d'),
    (SELECT attname FROM pg_attribute WHERE attrelid = ts AND attname LIKE '%last_v'), ts)
  INTO nulled, exact, partial;
END $$;

-- fv(name, source, event_time): the issue's features over a source.
CREATE FUNCTION g41.fv(name text, src text, et text DEFAULT 'ts', at text DEFAULT NULL) RETURNS void
LANGUAGE sql AS $$
  SELECT asof.create_feature_view(name, src, '{e}', event_time => et, available_time => at,
           features => '{count(*) over 1 day, sum(v) over 1 day, last(v)}')
$$;

-- Every source, defined before the split (nothing is hidden yet, so
-- every shape is accepted); the builds below run after it.
CREATE VIEW g41.v_proj AS SELECT e, ts, v FROM g41.ev WHERE v IS NOT NULL;
CREATE VIEW g41.v_join AS SELECT ev.e, ev.ts, ev.v, dim.name FROM g41.ev JOIN g41.dim ON dim.e = ev.e;
CREATE VIEW g41.v_left AS SELECT ev.e, ev.ts, ev.v, dim.name FROM g41.ev LEFT JOIN g41.dim ON dim.e = ev.e;
SELECT g41.fv('g41_table', 'g41.ev');
SELECT g41.fv('g41_proj', 'g41.v_proj');
SELECT g41.fv('g41_join', 'g41.v_join');
SELECT g41.fv('g41_left', 'g41.v_left');
SELECT g41.fv('g41_avail', 'g41.ev', 'ts', 'ts + interval ''90 minutes''');
SELECT g41.fv('g41_shift', 'g41.ev', 'ts - interval ''16 hours''');
CREATE VIEW g41.v_tokyo AS SELECT e, (ts AT TIME ZONE 'UTC') AT TIME ZONE 'Asia/Tokyo' AS ts, v FROM g41.ev;
SELECT g41.fv('g41_tokyo', 'g41.v_tokyo');
CREATE TABLE g41.pub (e int, ts timestamp, pub_ts timestamp);
INSERT INTO g41.pub SELECT e, ts, ts - interval '16 hours' FROM g41.ev;
CREATE VIEW g41.v_other_time AS SELECT ev.e, pub.pub_ts AS ts, ev.v FROM g41.ev JOIN g41.pub USING (e, ts);
SELECT g41.fv('g41_other_time', 'g41.v_other_time');
CREATE VIEW g41.v_self AS SELECT a.e, a.ts, b.v FROM g41.ev a JOIN g41.ev b ON b.e = a.e AND b.ts = a.ts + interval '1 hour';
SELECT g41.fv('g41_self', 'g41.v_self');
SELECT g41.fv('g41_lag', 'g41.ev', 'ts', 'ts + interval ''16 hours''');
CREATE FUNCTION g41.ev_rows() RETURNS TABLE (e int, ts timestamp, v int)
  LANGUAGE sql STABLE AS 'SELECT e, ts, v FROM g41.ev';
CREATE FUNCTION g41.ev_rows_plpgsql() RETURNS TABLE (e int, ts timestamp, v int)
  LANGUAGE plpgsql STABLE AS 'BEGIN RETURN QUERY SELECT x.e, x.ts, x.v FROM g41.ev x; END';
CREATE VIEW g41.v_func AS SELECT * FROM g41.ev_rows();
CREATE VIEW g41.v_plpgsql AS SELECT * FROM g41.ev_rows_plpgsql();
SELECT g41.fv('g41_func', 'g41.v_func');
SELECT g41.fv('g41_plpgsql', 'g41.v_plpgsql');
CREATE FUNCTION g41.v_at(t timestamp) RETURNS int LANGUAGE sql STABLE
  AS 'SELECT v FROM g41.ev WHERE ts = t';
CREATE VIEW g41.v_call AS SELECT e, ts, g41.v_at(ts) AS v FROM g41.dim CROSS JOIN
  (SELECT '2024-01-01'::timestamp + g * interval '1 hour' AS ts FROM generate_series(0, 71) g) s;
SELECT g41.fv('g41_call', 'g41.v_call');
CREATE FUNCTION g41.twice(x int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 2 * x';
CREATE VIEW g41.v_twice AS SELECT e, ts, g41.twice(v) / 2 AS v FROM g41.ev;
SELECT g41.fv('g41_twice', 'g41.v_twice');
CREATE FUNCTION g41.dim_rows() RETURNS TABLE (e int, ts timestamp, v int)
  LANGUAGE sql STABLE AS $$SELECT e, '2024-01-02'::timestamp, 7 FROM g41.dim$$;
CREATE VIEW g41.v_dimfunc AS SELECT * FROM g41.dim_rows();
SELECT g41.fv('g41_dimfunc', 'g41.v_dimfunc');
CREATE FOREIGN DATA WRAPPER regress_g41_fdw;
CREATE SERVER regress_g41_srv FOREIGN DATA WRAPPER regress_g41_fdw;
CREATE FOREIGN TABLE g41.remote (e int, ts timestamp, v int) SERVER regress_g41_srv;
SELECT g41.fv('g41_remote', 'g41.remote');
CREATE VIEW g41.v_day AS SELECT e, max(ts) AS ts, sum(v)::int AS v FROM g41.ev GROUP BY e, date_trunc('day', ts);
CREATE VIEW g41.v_limit AS SELECT e, ts, v FROM g41.ev ORDER BY ts DESC LIMIT 30;
CREATE VIEW g41.v_window AS SELECT e, ts, (sum(v) OVER (ORDER BY ts))::int AS v FROM g41.ev;
CREATE VIEW g41.v_distinct AS SELECT DISTINCT ON (e, date_trunc('hour', ts)) e, ts, v FROM g41.ev;
CREATE VIEW g41.v_anti AS SELECT p.e, p.ts, 1 AS v FROM g41.pub p
  WHERE NOT EXISTS (SELECT FROM g41.ev WHERE ev.e = p.e AND ev.ts = p.ts);
CREATE VIEW g41.v_outer AS SELECT dim.e, ev.ts, ev.v FROM g41.dim LEFT JOIN g41.ev ON ev.e = dim.e;
CREATE VIEW g41.v_union AS SELECT e, ts, v FROM g41.ev UNION SELECT e, ts, 0 FROM g41.pub;
SELECT g41.fv('g41_day', 'g41.v_day');
SELECT g41.fv('g41_limit', 'g41.v_limit');
SELECT g41.fv('g41_window', 'g41.v_window');
SELECT g41.fv('g41_distinct', 'g41.v_distinct');
SELECT g41.fv('g41_anti', 'g41.v_anti');
SELECT g41.fv('g41_outer', 'g41.v_outer');
SELECT g41.fv('g41_union', 'g41.v_union');
SELECT asof.split('g41.ev', test_from => '2024-01-02 12:00');

-- == Legitimate shapes: exact before the split, NULL and counted after ==
-- The table itself; a view that projects and filters; an inner join that
-- keeps one row per row of ev; a left join with ev on the kept side; an
-- available time later than the event time.
SELECT asof.build_training_set('g41.t_table', 'g41.sp', 't', '{g41_table}');
SELECT asof.build_training_set('g41.t_proj', 'g41.sp', 't', '{g41_proj}');
SELECT asof.build_training_set('g41.t_join', 'g41.sp', 't', '{g41_join}');
SELECT asof.build_training_set('g41.t_left', 'g41.sp', 't', '{g41_left}');
SELECT * FROM g41.t_proj ORDER BY t;
SELECT 'table' AS shape, * FROM g41.check('g41.t_table')
UNION ALL SELECT 'projection', * FROM g41.check('g41.t_proj')
UNION ALL SELECT 'inner join', * FROM g41.check('g41.t_join')
UNION ALL SELECT 'left join, ev kept', * FROM g41.check('g41.t_left');
-- An available time 90 minutes late: the row of the hour before t is not
-- yet available.  By hand: 06:00 -> g 6..28: 23 / 391 / 28; 12:00 -> g
-- 12..34: 23 / 529 / 34; 18:00 NULL (after the split).
SELECT asof.build_training_set('g41.t_avail', 'g41.sp', 't', '{g41_avail}');
SELECT * FROM g41.t_avail ORDER BY t;
SELECT asof.features_at('g41_proj', '{1}', '2024-01-02 12:00'::timestamp);
SELECT asof.features_at('g41_proj', '{1}', '2024-01-02 12:00:00.000001'::timestamp);

-- == Item 1: time that is not the protected table's clock: refused ==
-- An event time shifted 16 hours: the 18:00 row would see rows up to
-- 02:00 the next day, held out (the issue measured 12 instead of 24).
SELECT asof.build_training_set('g41.t_shift', 'g41.sp', 't', '{g41_shift}');
SELECT asof.features_at('g41_shift', '{1}', '2024-01-02 06:00'::timestamp);
-- A view that maps the clock to another zone.
SELECT asof.build_training_set('g41.t_tokyo', 'g41.sp', 't', '{g41_tokyo}');
-- Another relation's time.
SELECT asof.build_training_set('g41.t_other_time', 'g41.sp', 't', '{g41_other_time}');
-- Two rows of ev in one output row (a self-join): the second row's time
-- is not the event time.
SELECT asof.build_training_set('g41.t_self', 'g41.sp', 't', '{g41_self}');
-- The twin: a 16-hour lag as an available time (rows become visible later,
-- never before their own time) is exact.  By hand: 06:00 -> available
-- before 06:00 means ts < 01-01 14:00, window from 01-01 06:00: g 6..13:
-- 8 / 76 / 13; 12:00 -> g 12..19: 8 / 124 / 19; 18:00 NULL.
SELECT asof.build_training_set('g41.t_lag', 'g41.sp', 't', '{g41_lag}');
SELECT * FROM g41.t_lag ORDER BY t;

-- == Item 2: a function or a foreign table: refused ==
SELECT asof.build_training_set('g41.t_func', 'g41.sp', 't', '{g41_func}');
SELECT asof.build_training_set('g41.t_plpgsql', 'g41.sp', 't', '{g41_plpgsql}');
SELECT asof.features_at('g41_func', '{1}', '2024-01-02 06:00'::timestamp);
-- A function in the select list reading ev per row.
SELECT asof.build_training_set('g41.t_call', 'g41.sp', 't', '{g41_call}');
-- Nothing was written.
SELECT count(*) FROM asof.training_sets WHERE name::text LIKE 'g41.t_%' AND name::text NOT IN
  ('g41.t_table', 'g41.t_proj', 'g41.t_join', 'g41.t_left', 'g41.t_avail', 'g41.t_lag', 'g41.t_twice');
SELECT to_regclass('g41.t_func') IS NULL AS no_table;
-- The twins: a user function that reads no protected table is fine, over
-- ev itself and as a source of its own.
SELECT asof.build_training_set('g41.t_twice', 'g41.sp', 't', '{g41_twice}');
SELECT * FROM g41.check('g41.t_twice');
SELECT asof.build_training_set('g41.t_dimfunc', 'g41.sp', 't', '{g41_dimfunc}');
SELECT * FROM g41.t_dimfunc ORDER BY t;
-- A foreign table (a wrapper without handler: it is never read).
SELECT asof.build_training_set('g41.t_remote', 'g41.sp', 't', '{g41_remote}');

-- == Item 4: shapes whose rows change when rows are hidden: refused ==
SELECT asof.build_training_set('g41.t_day', 'g41.sp', 't', '{g41_day}');
SELECT asof.build_training_set('g41.t_limit', 'g41.sp', 't', '{g41_limit}');
SELECT asof.build_training_set('g41.t_window', 'g41.sp', 't', '{g41_window}');
SELECT asof.build_training_set('g41.t_distinct', 'g41.sp', 't', '{g41_distinct}');
SELECT asof.build_training_set('g41.t_anti', 'g41.sp', 't', '{g41_anti}');
SELECT asof.build_training_set('g41.t_outer', 'g41.sp', 't', '{g41_outer}');
SELECT asof.build_training_set('g41.t_union', 'g41.sp', 't', '{g41_union}');
SELECT asof.features_at('g41_day', '{1}', '2024-01-01 06:00'::timestamp);
-- Defined after the split, such a source is refused at creation.
SELECT g41.fv('g41_day_after', 'g41.v_day');
SELECT g41.fv('g41_shift_after', 'g41.ev', 'ts - interval ''16 hours''');
SELECT count(*) FROM asof.feature_views WHERE name LIKE 'g41\_%after';
-- Several views in one build: the first refusal stops it, nothing written.
SELECT asof.build_training_set('g41.t_mixed', 'g41.sp', 't', '{g41_proj, g41_limit}');
SELECT to_regclass('g41.t_mixed') IS NULL AS no_table;

-- The hint's way: the aggregate materialized as a table with its own time
-- column (computed by the owner after unsealing), protected and split.
BEGIN;
SELECT asof.unseal('g41.ev', reason => 'materialize daily sums');
-- Unsealed in this transaction, nothing is hidden: the aggregate view is
-- exact over the whole table (day 1 ends 23:00: 1 row, 276).
SELECT asof.build_training_set('g41.t_day_unsealed', 'g41.sp', 't', '{g41_day}');
SELECT * FROM g41.t_day_unsealed ORDER BY t;
CREATE TABLE g41.ev_daily AS SELECT * FROM g41.v_day;
COMMIT;
SELECT asof.protect('g41.ev_daily', time_column => 'ts', label_columns => '{v}');
SET client_min_messages = warning;
SELECT asof.split('g41.ev_daily', test_from => '2024-01-02 12:00');
RESET client_min_messages;
SELECT g41.fv('g41_daily', 'g41.ev_daily');
SELECT asof.build_training_set('g41.t_daily', 'g41.sp', 't', '{g41_daily}');
SELECT * FROM g41.t_daily ORDER BY t;

-- Without a split nothing is hidden: the aggregate view works.
SELECT asof.unprotect('g41.ev');
SELECT asof.build_training_set('g41.t_day_nosplit', 'g41.sp', 't', '{g41_day}');
SELECT * FROM g41.t_day_nosplit ORDER BY t;

-- Clean up.
SELECT asof.drop_feature_view(name) FROM asof.feature_views WHERE name LIKE 'g41\_%';
SELECT asof.unprotect('g41.ev_daily');
DELETE FROM asof.training_sets WHERE name::text LIKE 'g41.%';
DELETE FROM asof.holdout_log;
SET client_min_messages = warning;
DROP SCHEMA g41 CASCADE;
RESET client_min_messages;
DROP SERVER regress_g41_srv;
DROP FOREIGN DATA WRAPPER regress_g41_fdw;
