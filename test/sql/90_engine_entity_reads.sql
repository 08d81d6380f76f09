--
-- 90_engine_entity_reads: reads by entity (source_read.h, docs/engine.md
-- "Reads by entity"): for a spine narrow in time the engine runs one query
-- per entity, ordered by event time through the (entity, event time) index,
-- with that entity's own bounds, and merges the rows as they arrive
-- instead of sorting the source.  On the 30,000-flight sample, for narrow
-- spines (one hour, one day, one week, the very start and the very end of
-- the data, flights whose last visible row is older than every window):
-- every feature equals asof.feature_view_sql (floats within 1e-9
-- relative), and the training set is byte for byte the one the sorted read
-- builds (asof.engine_read_by_entity = off).  Then that each entity's own
-- bounds apply, and which reads auto chooses.
--
SET TimeZone = 'UTC';
SET client_min_messages = warning;
SET asof.progress_interval = 0;
CREATE TABLE er (dep_time timestamp NOT NULL, origin text NOT NULL, destination text NOT NULL,
                 distance integer NOT NULL, delay integer);
\copy er FROM PROGRAM 'gzip -dc data/flights-sample.csv.gz' WITH (FORMAT csv, HEADER true)
CREATE INDEX ON er (origin, dep_time);
CREATE INDEX ON er (origin, destination, dep_time);
ANALYZE er;

-- windows of 1 hour to 7 days (integer, float and text inputs), last
-- values without TTL, by origin
SELECT asof.create_feature_view('er_win', 'er', '{origin}', 'dep_time', ARRAY[
    'count(*) over 7 days as n_7d',
    'avg(delay) over 1 day as avg_1d',
    'sum(delay::float8 / 3) over 6 hours as fsum_6h',
    'stddev(delay::float8) over 7 days as sd_7d',
    'max(delay) over 1 hour as max_1h',
    'min(destination) over 1 day as min_dest',
    'last(destination) as last_dest',
    'last_nonnull(NULLIF(delay, 0)) as last_nn'],
  available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
  delay => '5 minutes');
-- hourly, TTL 6 hours
SELECT asof.create_feature_view('er_ttl', 'er', '{origin}', 'dep_time', ARRAY[
    'count(*) over 1 hour as n_1h',
    'last(delay) as last_delay',
    'last_nonnull(NULLIF(delay, 0)) as last_nn'],
  available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
  cadence => '1 hour', delay => '10 minutes', ttl => '6 hours');
-- two entity columns, last values without TTL and a window
SELECT asof.create_feature_view('er_route', 'er', '{origin, destination}', 'dep_time', ARRAY[
    'last(delay) as last_delay',
    'last(dep_time) as last_dep',
    'count(*) over 1 day as n_1d'],
  available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''');

CREATE TABLE er_flights AS
  SELECT row_number() OVER (ORDER BY dep_time, origin, destination, distance, delay) AS id,
         origin, destination, dep_time AS t
    FROM er;
CREATE VIEW er_hour AS SELECT * FROM er_flights
  WHERE t >= '2001-03-01 09:00' AND t < '2001-03-01 10:00';
CREATE VIEW er_day AS SELECT * FROM er_flights
  WHERE t >= '2001-03-01' AND t < '2001-03-02';
CREATE VIEW er_week AS SELECT * FROM er_flights
  WHERE t >= '2001-03-05' AND t < '2001-03-12';
CREATE VIEW er_start AS SELECT * FROM er_flights
  WHERE t < '2001-01-02';
CREATE VIEW er_end AS SELECT * FROM er_flights
  WHERE t >= '2001-06-30';
-- flights whose previous flight from the same airport departed more than
-- 8 days earlier: their last visible row is older than every window
CREATE VIEW er_stale AS
  SELECT id, origin, destination, t
    FROM (SELECT *, lag(t) OVER (PARTITION BY origin ORDER BY t) AS prev FROM er_flights) f
   WHERE prev < t - interval '8 days';
SELECT count(*) AS stale_rows, count(DISTINCT origin) AS stale_origins FROM er_stale;

CREATE FUNCTION pg_temp.same(a anyelement, b anyelement) RETURNS boolean LANGUAGE sql IMMUTABLE AS
  $$ SELECT a IS NOT DISTINCT FROM b $$;
CREATE FUNCTION pg_temp.same(a float8, b float8) RETURNS boolean LANGUAGE sql IMMUTABLE AS
  $$ SELECT (a IS NULL AND b IS NULL) OR a = b
            OR abs(a - b) <= 1e-9 * greatest(1, abs(a), abs(b)) $$;
CREATE TEMP TABLE er_cmp (spine text, view text, feature text, compared bigint,
                          non_null bigint, mismatches bigint);
CREATE TEMP TABLE er_bytes (spine text, rows bigint, identical boolean);
-- builds er_on (reads by entity) and er_off (one sorted read), compares
-- er_on with the reference feature by feature and with er_off as text
CREATE FUNCTION pg_temp.check_spine(spine text, views text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v text;
  c record;
BEGIN
  DROP TABLE IF EXISTS er_on, er_off;
  SET LOCAL asof.engine_read_by_entity = on;
  PERFORM asof.build_training_set('er_on', spine::regclass, 't', views);
  SET LOCAL asof.engine_read_by_entity = off;
  PERFORM asof.build_training_set('er_off', spine::regclass, 't', views);
  INSERT INTO er_bytes
    SELECT spine, (SELECT count(*) FROM er_on),
           (SELECT md5(string_agg(x::text, E'\n' ORDER BY x.id)) FROM er_on x)
             = (SELECT md5(string_agg(x::text, E'\n' ORDER BY x.id)) FROM er_off x);
  FOREACH v IN ARRAY views LOOP
    DROP TABLE IF EXISTS er_ref;
    EXECUTE format('CREATE TABLE er_ref AS %s', asof.feature_view_sql(v, spine::regclass, 't'));
    FOR c IN SELECT attname FROM pg_attribute
              WHERE attrelid = 'er_on'::regclass AND attnum > 0 AND attname LIKE v || '\_\_%'
              ORDER BY attnum
    LOOP
      EXECUTE format('INSERT INTO er_cmp SELECT %L, %L, %L, count(*), count(t.%I), '
                     'count(*) FILTER (WHERE NOT pg_temp.same(t.%I, r.%I)) '
                     'FROM er_on t FULL JOIN er_ref r USING (id)',
                     spine, v, split_part(c.attname, '__', 2), c.attname, c.attname, c.attname);
    END LOOP;
  END LOOP;
END $$;
SELECT pg_temp.check_spine(s, '{er_win, er_ttl, er_route}')
  FROM unnest('{er_hour, er_day, er_week, er_start, er_end, er_stale}'::text[]) s;
SELECT spine, view, feature, compared, non_null, mismatches FROM er_cmp ORDER BY spine, view, feature;
SELECT count(*) AS features_compared, sum(compared) AS values_compared,
       sum(non_null) AS non_null_values, sum(mismatches) AS mismatches
  FROM er_cmp;
-- the same bytes from both reads, for every spine
SELECT spine, rows, identical FROM er_bytes ORDER BY spine;
-- the stale flights: their windows are empty, their last values are not
SELECT count(*) AS stale_rows,
       count(*) FILTER (WHERE er_win__n_7d = 0) AS empty_7d_window,
       count(er_win__last_dest) AS with_last_dest
  FROM er_on;

-- Each entity's own bounds.  A window input that divides by zero on rows
-- of ORD from 2001-03-05 on; the spine asks for ORD on 2001-03-01 and for
-- ATL on 2001-03-10.  One sorted read covers both entities' range, ORD's
-- rows of 2001-03-05 to 2001-03-10 included, and fails; reads by entity
-- read ORD only up to its own last effective time.
SELECT asof.create_feature_view('er_trap', 'er', '{origin}', 'dep_time', ARRAY[
    'sum(1 / (origin <> ''ORD'' OR dep_time < ''2001-03-05'')::int) over 1 day as s_1d']);
CREATE VIEW er_two AS
  SELECT * FROM er_flights WHERE origin = 'ORD' AND t >= '2001-03-01' AND t < '2001-03-02'
  UNION ALL
  SELECT * FROM er_flights WHERE origin = 'ATL' AND t >= '2001-03-10' AND t < '2001-03-11';
SELECT origin, count(*) FROM er_two GROUP BY origin ORDER BY origin;
SET asof.engine_read_by_entity = off;
SELECT asof.build_training_set('er_trap_off', 'er_two', 't', '{er_trap}') AS rows;
SET asof.engine_read_by_entity = on;
SELECT asof.build_training_set('er_trap_on', 'er_two', 't', '{er_trap}') AS rows;
-- and auto chooses reads by entity here (a small share of the table)
RESET asof.engine_read_by_entity;
SHOW asof.engine_read_by_entity;
SELECT asof.build_training_set('er_trap_auto', 'er_two', 't', '{er_trap}') AS rows;
-- the values: ORD's from its rows of the day before each flight
SELECT origin, count(*) AS rows, sum(er_trap__s_1d) AS sum_s_1d,
       (SELECT count(*) FROM er_two s JOIN er e USING (origin)
         WHERE e.dep_time < s.t AND e.dep_time >= s.t - interval '1 day' AND s.origin = x.origin) AS expected
  FROM er_trap_on x GROUP BY origin ORDER BY origin;
SELECT (SELECT md5(string_agg(x::text, E'\n' ORDER BY x.id)) FROM er_trap_on x)
     = (SELECT md5(string_agg(x::text, E'\n' ORDER BY x.id)) FROM er_trap_auto x) AS auto_same;
-- a spine over the whole half-year is no small share: auto reads it in
-- one sorted read, which meets ORD's rows after 2001-03-05
CREATE VIEW er_wide AS
  SELECT * FROM er_flights WHERE origin = 'ORD' AND t < '2001-01-03'
  UNION ALL
  SELECT * FROM er_flights WHERE origin = 'ATL' AND t >= '2001-06-29';
SELECT asof.build_training_set('er_trap_wide', 'er_wide', 't', '{er_trap}') AS rows;
SET asof.engine_read_by_entity = on;
SELECT asof.build_training_set('er_trap_wide', 'er_wide', 't', '{er_trap}') AS rows;
RESET asof.engine_read_by_entity;
-- many entities with few rows each in the range: a query per entity
-- would cost more than the sort it saves, so auto reads in one sorted
-- read (by destination: every flight of 2001-03-01, ORD among the
-- destinations, and one flight to ATL on 2001-03-10; the trap is on rows
-- to ORD from 2001-03-05 on)
CREATE INDEX ON er (destination, dep_time);
SELECT asof.create_feature_view('er_trap_dest', 'er', '{destination}', 'dep_time', ARRAY[
    'sum(1 / (destination <> ''ORD'' OR dep_time < ''2001-03-05'')::int) over 1 day as s_1d']);
CREATE VIEW er_dests AS
  SELECT * FROM er_flights WHERE t >= '2001-03-01' AND t < '2001-03-02'
  UNION ALL
  (SELECT * FROM er_flights WHERE destination = 'ATL' AND t >= '2001-03-10' ORDER BY t LIMIT 1);
SELECT count(DISTINCT destination) AS destinations, count(*) AS rows,
       count(*) FILTER (WHERE destination = 'ORD') AS to_ord FROM er_dests;
SELECT asof.build_training_set('er_trap_dests', 'er_dests', 't', '{er_trap_dest}') AS rows;
SET asof.engine_read_by_entity = on;
SELECT asof.build_training_set('er_trap_dests', 'er_dests', 't', '{er_trap_dest}') AS rows;
RESET asof.engine_read_by_entity;
-- features_at reads one entity the same way
SELECT asof.features_at('er_trap', '{ORD}', timestamp '2001-03-01 12:00');
SELECT asof.features_at('er_trap', '{ORD}', timestamp '2001-03-06 12:00');
-- bad values of the setting
SET asof.engine_read_by_entity = sometimes;

-- clean up
DROP TABLE er_on, er_off, er_ref, er_trap_on, er_trap_auto, er_trap_wide, er_trap_dests;
SELECT asof.drop_feature_view(v) FROM unnest('{er_win, er_ttl, er_route, er_trap, er_trap_dest}'::text[]) v;
DROP VIEW er_hour, er_day, er_week, er_start, er_end, er_stale, er_two, er_wide, er_dests;
DROP TABLE er_flights, er;
