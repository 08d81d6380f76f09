--
-- 27_engine_bounded_reads: the engine reads only the source rows a spine's
-- answers need (source_read.h, docs/engine.md "Bounded reads").  Narrow
-- spines (one hour, one day, one week, the very start and end of the
-- data, flights whose previous flight from the same airport is older than
-- every window) over the 30,000-flight sample, compared with
-- asof.feature_view_sql feature by feature: windows, last and
-- last_nonnull with and without a TTL, one and two entity columns, with
-- and without an index on (entity, event time).  Then that the bounds
-- really apply: an input that divides by zero on rows no answer needs
-- must never be evaluated, and the rows read are counted.
--
SET TimeZone = 'UTC';
SET client_min_messages = warning;
SET asof.progress_interval = 0;
CREATE TABLE br (dep_time timestamp NOT NULL, origin text NOT NULL, destination text NOT NULL,
                 distance integer NOT NULL, delay integer);
\copy br FROM PROGRAM 'gzip -dc data/flights-sample.csv.gz' WITH (FORMAT csv, HEADER true)
SELECT count(*) AS flights, count(DISTINCT origin) AS origins, min(dep_time), max(dep_time) FROM br;
CREATE INDEX ON br (origin, dep_time);
CREATE INDEX ON br (origin, destination, dep_time);
ANALYZE br;
-- the same rows without any index
CREATE TABLE br_noidx AS TABLE br;

-- continuous by origin: windows of 1 hour to 7 days, last values without TTL
SELECT asof.create_feature_view('br_win', 'br', '{origin}', 'dep_time', ARRAY[
    'count(*) over 7 days as n_7d',
    'avg(delay) over 1 day as avg_1d',
    'max(delay) over 1 hour as max_1h',
    'sum(distance) over 6 hours as dist_6h',
    'last(delay) as last_delay',
    'last_nonnull(NULLIF(delay, 0)) as last_nn'],
  available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
  delay => '5 minutes');
-- hourly by origin, TTL 6 hours
SELECT asof.create_feature_view('br_ttl', 'br', '{origin}', 'dep_time', ARRAY[
    'count(*) over 1 hour as n_1h',
    'last(delay) as last_delay',
    'last_nonnull(NULLIF(delay, 0)) as last_nn'],
  available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
  cadence => '1 hour', delay => '10 minutes', ttl => '6 hours');
-- last values only, no TTL, by route (two entity columns)
SELECT asof.create_feature_view('br_route', 'br', '{origin, destination}', 'dep_time', ARRAY[
    'last(delay) as last_delay',
    'last_nonnull(NULLIF(delay, 0)) as last_nn',
    'last(dep_time) as last_dep'],
  available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''');
-- the same as br_win on the table without index (the lookup of the last
-- rows is skipped there: last values read the whole history below)
SELECT asof.create_feature_view('br_win_noidx', 'br_noidx', '{origin}', 'dep_time', ARRAY[
    'count(*) over 7 days as n_7d',
    'avg(delay) over 1 day as avg_1d',
    'last(delay) as last_delay',
    'last_nonnull(NULLIF(delay, 0)) as last_nn'],
  available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
  delay => '5 minutes');

-- The spines (t = the flight's own departure, id to join on).
CREATE TABLE br_flights AS
  SELECT row_number() OVER (ORDER BY dep_time, origin, destination, distance, delay) AS id,
         origin, destination, dep_time AS t
    FROM br;
CREATE VIEW br_hour AS SELECT * FROM br_flights
  WHERE t >= '2001-03-01 09:00' AND t < '2001-03-01 10:00';
CREATE VIEW br_day AS SELECT * FROM br_flights
  WHERE t >= '2001-03-01' AND t < '2001-03-02';
CREATE VIEW br_week AS SELECT * FROM br_flights
  WHERE t >= '2001-03-05' AND t < '2001-03-12';
CREATE VIEW br_start AS SELECT * FROM br_flights
  WHERE t < '2001-01-02';
CREATE VIEW br_end AS SELECT * FROM br_flights
  WHERE t >= '2001-06-30';
-- flights whose previous flight from the same airport departed more than
-- 8 days earlier (their last visible row is older than every window), and
-- a few flights of one day to mix with them
CREATE TABLE br_stale AS
  SELECT id, origin, destination, t
    FROM (SELECT *, lag(t) OVER (PARTITION BY origin ORDER BY t) AS prev FROM br_flights) f
   WHERE prev < t - interval '8 days'
  UNION ALL
  SELECT * FROM br_flights WHERE t >= '2001-04-10 12:00' AND t < '2001-04-10 13:00';
SELECT s.spine, (SELECT count(*) FROM br_flights f
                  WHERE s.spine <> 'br_stale' AND f.t >= s.lo AND f.t < s.hi) AS rows_by_time
  FROM (VALUES ('br_hour', timestamp '2001-03-01 09:00', timestamp '2001-03-01 10:00'),
               ('br_day', '2001-03-01', '2001-03-02'),
               ('br_week', '2001-03-05', '2001-03-12'),
               ('br_start', '-infinity', '2001-01-02'),
               ('br_end', '2001-06-30', 'infinity'),
               ('br_stale', NULL, NULL)) s(spine, lo, hi);
SELECT count(*) AS stale_rows, count(DISTINCT origin) AS stale_origins,
       min(t) AS first_stale FROM br_stale WHERE t < '2001-04-10 12:00' OR t >= '2001-04-10 13:00';

-- compare every feature column of a training set with the reference of
-- each view: float8 within 1e-9 relative, everything else exactly
CREATE FUNCTION pg_temp.same(a anyelement, b anyelement) RETURNS boolean LANGUAGE sql IMMUTABLE AS
  $$ SELECT a IS NOT DISTINCT FROM b $$;
CREATE FUNCTION pg_temp.same(a float8, b float8) RETURNS boolean LANGUAGE sql IMMUTABLE AS
  $$ SELECT (a IS NULL AND b IS NULL) OR a = b
            OR abs(a - b) <= 1e-9 * greatest(1, abs(a), abs(b)) $$;
CREATE TEMP TABLE br_cmp (spine text, view text, feature text, compared bigint,
                          non_null bigint, mismatches bigint);
CREATE FUNCTION pg_temp.check_spine(spine text, views text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v text;
  c record;
BEGIN
  EXECUTE format('DROP TABLE IF EXISTS br_ts');
  PERFORM asof.build_training_set('br_ts', spine::regclass, 't', views);
  FOREACH v IN ARRAY views LOOP
    EXECUTE format('DROP TABLE IF EXISTS br_ref');
    EXECUTE format('CREATE TABLE br_ref AS %s', asof.feature_view_sql(v, spine::regclass, 't'));
    FOR c IN SELECT attname FROM pg_attribute
              WHERE attrelid = 'br_ts'::regclass AND attnum > 0 AND attname LIKE v || '\_\_%'
              ORDER BY attnum
    LOOP
      EXECUTE format('INSERT INTO br_cmp SELECT %L, %L, %L, count(*), count(t.%I), '
                     'count(*) FILTER (WHERE NOT pg_temp.same(t.%I, r.%I)) '
                     'FROM br_ts t FULL JOIN br_ref r USING (id)',
                     spine, v, split_part(c.attname, '__', 2), c.attname, c.attname, c.attname);
    END LOOP;
  END LOOP;
END $$;
SELECT pg_temp.check_spine(s, '{br_win, br_ttl, br_route, br_win_noidx}')
  FROM unnest('{br_hour, br_day, br_week, br_start, br_end, br_stale}'::text[]) s;
SELECT spine, view, feature, compared, non_null, mismatches FROM br_cmp ORDER BY spine, view, feature;
SELECT count(*) AS features_compared, sum(compared) AS values_compared,
       sum(non_null) AS non_null_values, sum(mismatches) AS mismatches
  FROM br_cmp;
-- the stale flights: their windows are empty, their last values are not
SELECT count(*) AS stale_rows,
       count(*) FILTER (WHERE br_win__n_7d = 0) AS empty_7d_window,
       count(br_win__last_delay) AS with_last_delay
  FROM br_ts WHERE t < '2001-04-10 12:00' OR t >= '2001-04-10 13:00';

-- features_at (a spine of one row, the bounded read of one entity) gives
-- the training set's values on the stale flights
SELECT count(*) AS lookups,
       count(*) FILTER (WHERE asof.features_at('br_win', ARRAY[origin], t)
                              = jsonb_build_object('n_7d', br_win__n_7d, 'avg_1d', br_win__avg_1d,
                                                   'max_1h', br_win__max_1h, 'dist_6h', br_win__dist_6h,
                                                   'last_delay', br_win__last_delay,
                                                   'last_nn', br_win__last_nn)) AS equal
  FROM br_ts;

-- The bounds apply.  A window input that divides by zero on every row
-- departing before 2001-02-20: a spine whose k(t) is at or after
-- 2001-02-27 00:00 and a 7-day window never needs them, so the build
-- succeeds; a spine one day earlier needs them and fails.
SELECT asof.create_feature_view('br_trap', 'br', '{origin}', 'dep_time', ARRAY[
    'sum(1 / (dep_time >= ''2001-02-20'')::int) over 7 days as n_7d',
    'last(1 / (dep_time >= ''2001-02-20'')::int) as last_one'],
  ttl => '7 days');
CREATE VIEW br_after AS SELECT * FROM br_flights WHERE t >= '2001-02-27' AND t < '2001-02-28';
CREATE VIEW br_before AS SELECT * FROM br_flights WHERE t >= '2001-02-26' AND t < '2001-02-28';
SELECT asof.build_training_set('br_trap_ok', 'br_after', 't', '{br_trap}') AS rows;
SELECT count(*) AS rows, count(*) FILTER (WHERE br_trap__n_7d > 0) AS with_window_rows,
       count(*) FILTER (WHERE br_trap__last_one = 1) AS with_last
  FROM br_trap_ok;
SELECT asof.build_training_set('br_trap_bad', 'br_before', 't', '{br_trap}') AS rows;
SELECT asof.features_at('br_trap', '{ORD}', timestamp '2001-02-27 00:00');
SELECT asof.features_at('br_trap', '{ORD}', timestamp '2001-02-26 12:00');
-- last without TTL through the index: the lookup finds the last visible
-- row before each entity's first k, nothing older is read (rows of ORD
-- before its last departure before 2001-03-01, at 2001-02-28 21:51,
-- divide by zero)
SELECT max(dep_time) AS ord_last_before_march FROM br WHERE origin = 'ORD' AND dep_time < '2001-03-01';
SELECT asof.create_feature_view('br_trap_last', 'br', '{origin}', 'dep_time', ARRAY[
    'last(1 / (origin <> ''ORD'' OR dep_time >= ''2001-02-28 21:51'')::int) as one'],
  available_time => 'dep_time');
SELECT asof.features_at('br_trap_last', '{ORD}', timestamp '2001-03-01 00:00');
SELECT asof.features_at('br_trap_last', '{ORD}', timestamp '2001-03-02 00:00');
-- one entity: rows of other entities are not read either
SELECT asof.create_feature_view('br_trap_entity', 'br', '{origin}', 'dep_time', ARRAY[
    'count(1 / (origin = ''ORD'')::int) over 1 day as n_1d',
    'last(1 / (origin = ''ORD'')::int) as one'], ttl => '1 day');
SELECT asof.features_at('br_trap_entity', '{ORD}', timestamp '2001-03-01 00:00');

-- clean up
DROP TABLE br_trap_ok, br_ts, br_ref;
SELECT asof.drop_feature_view(v)
  FROM unnest('{br_win, br_ttl, br_route, br_win_noidx, br_trap, br_trap_last, br_trap_entity}'::text[]) v;
DROP VIEW br_hour, br_day, br_week, br_start, br_end, br_after, br_before;
DROP TABLE br_stale, br_flights, br, br_noidx;
