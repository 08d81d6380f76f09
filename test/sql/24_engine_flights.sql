--
-- 24_engine_flights: differential test of the engine against the plain-SQL
-- reference asof.feature_view_sql on the first 100,000 real flights of
-- ../shared/data/flights-3m.csv.gz: continuous and scheduled views, an
-- available time (landing) different from the event time, composite keys,
-- every aggregate over integer, numeric, floating-point, text and
-- timestamp inputs, NULL inputs, TTL.  Every feature column is compared:
-- floating-point results within the contract's accuracy, everything else
-- exactly.  Then the same builds with parallel query forced, with a
-- maintenance_work_mem (the engine's sort memory) at its minimum so the
-- sorts spill to disk, and under another
-- TimeZone must give identical rows.
--
SET TimeZone = 'UTC';
SET client_min_messages = warning;
SET asof.progress_interval = 0;
CREATE TABLE fl (dep_time timestamp NOT NULL, origin text NOT NULL, destination text NOT NULL,
                 distance integer NOT NULL, delay integer);
-- the data is at ../shared/data beside the checkout (or beside its parent)
\copy fl FROM PROGRAM 'for d in ../shared/data ../../shared/data; do [ -f $d/flights-3m.csv.gz ] && exec sh -c "gzip -dc $d/flights-3m.csv.gz | head -n 100001"; done; exit 1' WITH (FORMAT csv, HEADER true)
SELECT count(*) AS flights, count(DISTINCT origin) AS origins, min(dep_time), max(dep_time) FROM fl;
CREATE INDEX ON fl (origin, dep_time);
CREATE INDEX ON fl (origin, destination, dep_time);
CREATE INDEX ON fl (destination, dep_time);
ANALYZE fl;

-- continuous, keyed by origin, landing time as available time, delay 5 min,
-- TTL 2 hours on the last values; NULLIF(delay, 0) gives NULL inputs.
SELECT asof.create_feature_view('fl_cont', 'fl', '{origin}', 'dep_time', ARRAY[
    'count(NULLIF(delay, 0)) over 1 hour as n_1h',
    'count(*) over 6 hours as n_6h',
    'sum(delay) over 1 day as sum_1d',
    'avg(delay) over 6 hours as avg_6h',
    'min(delay) over 1 day as min_1d',
    'max(NULLIF(delay, 0)) over 1 day as max_1d',
    'stddev(delay) over 1 day as sd_1d',
    'var(distance) over 6 hours as var_dist_6h',
    'sum(delay::float8 / distance) over 1 day as sum_f_1d',
    'avg(delay::float8 * 0.1) over 90 minutes as avg_f_90min',
    'stddev(delay::real) over 1 day as sd_f_1d',
    'sum(delay::numeric / 7) over 6 hours as sum_n_6h',
    'avg(delay::numeric / 7) over 1 day as avg_n_1d',
    'var(delay::bigint * 1000000000) over 6 hours as var_big_6h',
    'sum(distance::bigint) over 1 hour as sum_big_1h',
    'max(destination) over 1 hour as max_dest_1h',
    'min(dep_time) over 1 hour as first_dep_1h',
    'last(destination) as last_dest',
    'last(NULLIF(delay, 0)) as last_delay',
    'last_nonnull(NULLIF(delay, 0)) as last_nn_delay'],
  available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
  delay => '5 minutes', ttl => '2 hours');
-- scheduled hourly with a 10-minute delay, keyed by route (composite)
SELECT asof.create_feature_view('fl_route', 'fl', '{origin, destination}', 'dep_time', ARRAY[
    'avg(delay) over 1 day as avg_1d',
    'count(*) over 7 days as n_7d',
    'max(delay) over 7 days as max_7d',
    'min(delay) over 6 hours as min_6h',
    'stddev(delay) over 7 days as sd_7d',
    'sum(delay) over 12 hours as sum_12h',
    'last(delay) as last_delay',
    'last_nonnull(NULLIF(delay, 0)) as last_nn_delay'],
  available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
  cadence => '1 hour', delay => '10 minutes', ttl => '6 hours');
-- scheduled every 6 hours from an anchor at 02:30 UTC, available time =
-- event time, keyed by destination, no TTL
SELECT asof.create_feature_view('fl_dest', 'fl', '{destination}', 'dep_time', ARRAY[
    'count(*) over 1 day as n_1d',
    'avg(delay) over 2 days as avg_2d',
    'var(delay) over 1 day as var_1d',
    'last(origin) as last_origin'],
  cadence => '6 hours', anchor => '2000-01-01 02:30+00');

-- The spine: every 40th flight (t = its own departure: it never sees
-- itself), plus the same rows 17 minutes later, with an id to join on.
CREATE TABLE fl_spine AS
  SELECT row_number() OVER (ORDER BY dep_time, origin, destination, distance, delay) AS id,
         origin, destination, t
    FROM (SELECT origin, destination, dep_time AS t, distance, delay, dep_time
            FROM (SELECT *, row_number() OVER (ORDER BY dep_time, origin, destination, distance, delay) AS rn
                    FROM fl) x
           WHERE rn % 40 = 0
          UNION ALL
          SELECT origin, destination, dep_time + interval '17 minutes', distance, delay, dep_time
            FROM (SELECT *, row_number() OVER (ORDER BY dep_time, origin, destination, distance, delay) AS rn
                    FROM fl) x
           WHERE rn % 40 = 20) s;
SELECT count(*) AS spine_rows FROM fl_spine;

SELECT asof.build_training_set('fl_ts', 'fl_spine', 't', '{fl_cont, fl_route, fl_dest}') AS rows;

-- the reference, one view at a time
DO $$
BEGIN
  EXECUTE format('CREATE TABLE fl_ref_cont AS %s', asof.feature_view_sql('fl_cont', 'fl_spine', 't'));
  EXECUTE format('CREATE TABLE fl_ref_route AS %s', asof.feature_view_sql('fl_route', 'fl_spine', 't'));
  EXECUTE format('CREATE TABLE fl_ref_dest AS %s', asof.feature_view_sql('fl_dest', 'fl_spine', 't'));
END $$;

-- compare every feature column: float8 within 1e-9 of the magnitude of the
-- values (relative, at least 1e-9 absolute), everything else exactly
CREATE FUNCTION pg_temp.same(a anyelement, b anyelement) RETURNS boolean LANGUAGE sql IMMUTABLE AS
  $$ SELECT a IS NOT DISTINCT FROM b $$;
CREATE FUNCTION pg_temp.same(a float8, b float8) RETURNS boolean LANGUAGE sql IMMUTABLE AS
  $$ SELECT (a IS NULL AND b IS NULL) OR a = b
            OR abs(a - b) <= 1e-9 * greatest(1, abs(a), abs(b)) $$;
CREATE TEMP TABLE fl_cmp (view text, feature text, compared bigint, non_null bigint, mismatches bigint);
DO $$
DECLARE
  c record;
BEGIN
  FOR c IN SELECT attname FROM pg_attribute
            WHERE attrelid = 'fl_ts'::regclass AND attnum > 0 AND attname LIKE 'fl\_%\_\_%'
            ORDER BY attnum
  LOOP
    EXECUTE format('INSERT INTO fl_cmp SELECT %L, %L, count(*), count(t.%I), '
                   'count(*) FILTER (WHERE NOT pg_temp.same(t.%I, r.%I)) '
                   'FROM fl_ts t JOIN fl_ref_%s r USING (id)',
                   split_part(c.attname, '__', 1), split_part(c.attname, '__', 2),
                   c.attname, c.attname, c.attname, substr(split_part(c.attname, '__', 1), 4));
  END LOOP;
END $$;
SELECT view, feature, compared, non_null, mismatches FROM fl_cmp ORDER BY view, feature;
SELECT count(*) AS features, sum(compared) AS values_compared, sum(non_null) AS non_null_values,
       sum(mismatches) AS mismatches
  FROM fl_cmp;
-- the reference and the training set have the same rows (ids) and types
SELECT (SELECT count(*) FROM fl_ref_cont) AS ref_rows, (SELECT count(*) FROM fl_ts) AS ts_rows;
SELECT count(*) AS type_differences
  FROM pg_attribute a JOIN pg_attribute b ON a.attname = b.attname
 WHERE a.attrelid = 'fl_ts'::regclass AND b.attrelid IN ('fl_ref_cont'::regclass, 'fl_ref_route'::regclass, 'fl_ref_dest'::regclass)
   AND a.attnum > 0 AND b.attnum > 0 AND a.atttypid <> b.atttypid;

-- identical rows with parallel query forced, sorts spilled (1MB for
-- 100,000 source rows), TimeZone
-- Europe/Berlin
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET maintenance_work_mem = '1MB';
SET TimeZone = 'Europe/Berlin';
SELECT asof.build_training_set('fl_ts_other', 'fl_spine', 't', '{fl_cont, fl_route, fl_dest}') AS rows;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET maintenance_work_mem;
SET TimeZone = 'UTC';
SELECT (SELECT count(*) FROM (TABLE fl_ts EXCEPT ALL TABLE fl_ts_other) x) AS only_in_first,
       (SELECT count(*) FROM (TABLE fl_ts_other EXCEPT ALL TABLE fl_ts) x) AS only_in_second;
