--
-- 60_online_parity: what asof.online_features and asof.online_features_batch
-- serve equals what asof.build_training_set gives the same (entity, time),
-- and what the plain-SQL reference asof.feature_view_sql gives, on the
-- committed sample of real flights (data/flights-sample.csv.gz).
--
-- Every tick of 2001-03-15 is materialized for the benchmark's two views
-- (by origin and by destination: avg over 1h, 6h, 1d, 7d, count over 1d,
-- max over 1d, stddev over 7d; available time = landing; hourly, 10-minute
-- delay) and a view with last / last_nonnull, a TTL and a float feature.
-- The spine: every flight of the day, every (origin, destination) of the
-- day exactly at the publication time tick + 10 min of every other tick and
-- one microsecond before it, TTL edges of an entity with a single flight, an entity absent
-- from the source, and NULL keys.  Integer inputs are accumulated exactly,
-- so every feature must be identical except the float one (avg of
-- delay::float8 / distance), which must agree within 1e-9 of its magnitude
-- (docs/engine.md).  Then rows are added after the materialization and
-- exactly the expected values must differ, so the comparison can fail.
--
SET TimeZone = 'UTC';
SET client_min_messages = warning;
SET asof.progress_interval = 0;
CREATE TABLE op_fl (dep_time timestamp NOT NULL, origin text NOT NULL, destination text NOT NULL,
                    distance integer NOT NULL, delay integer);
\copy op_fl FROM PROGRAM 'gzip -dc data/flights-sample.csv.gz' WITH (FORMAT csv, HEADER true)
-- an entity with a single flight: departs 05:00, lands 05:00 + (30 + 800/8) min = 07:10
INSERT INTO op_fl VALUES ('2001-03-15 05:00', 'TTL', 'TTX', 800, 42);
CREATE INDEX ON op_fl (origin, dep_time);
CREATE INDEX ON op_fl (destination, dep_time);
ANALYZE op_fl;
SELECT count(*) AS flights, count(*) FILTER (WHERE dep_time >= '2001-03-15' AND dep_time < '2001-03-16') AS on_the_day
  FROM op_fl;

SELECT asof.create_feature_view('op_origin', 'op_fl', '{origin}', 'dep_time', ARRAY[
    'avg(delay) over 1 hour', 'avg(delay) over 6 hours', 'avg(delay) over 1 day',
    'avg(delay) over 7 days', 'count(*) over 1 day', 'max(delay) over 1 day',
    'stddev(delay) over 7 days'],
  available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
  cadence => '1 hour', delay => '10 minutes');
SELECT asof.create_feature_view('op_dest', 'op_fl', '{destination}', 'dep_time', ARRAY[
    'avg(delay) over 1 hour', 'avg(delay) over 6 hours', 'avg(delay) over 1 day',
    'avg(delay) over 7 days', 'count(*) over 1 day', 'max(delay) over 1 day',
    'stddev(delay) over 7 days'],
  available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
  cadence => '1 hour', delay => '10 minutes');
SELECT asof.create_feature_view('op_last', 'op_fl', '{origin}', 'dep_time', ARRAY[
    'last(delay) as last_delay', 'last_nonnull(NULLIF(delay, 0)) as last_nn_delay',
    'last(destination) as last_dest', 'count(delay) over 2 hours as n_2h',
    'avg(delay::float8 / distance) over 6 hours as avg_f_6h'],
  available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
  cadence => '1 hour', delay => '10 minutes', ttl => '4 hours');

-- every tick of the day, in order, as of the end of the day
SET asof.clock = '2001-03-16 00:00+00';
SELECT v, count(*) AS ticks, sum(asof.materialize(v, tick)) AS entity_rows
  FROM unnest('{op_origin,op_dest,op_last}'::text[]) v,
       generate_series('2001-03-15 00:00'::timestamp, '2001-03-15 23:00', '1 hour') tick
 GROUP BY v ORDER BY v;
-- what one snapshot holds, counted independently: origins with a row that
-- is visible at the tick (departed and landed before it) and departed in
-- the last 7 days (the longest window)
SELECT (SELECT entities FROM asof.materializations WHERE feature_view = 'op_origin' AND tick = '2001-03-15 12:00') AS snapshot,
       (SELECT count(DISTINCT origin) FROM op_fl
         WHERE dep_time < '2001-03-15 12:00' AND dep_time + (30 + distance / 8) * interval '1 minute' < '2001-03-15 12:00'
           AND dep_time >= '2001-03-08 12:00') AS expected;
-- op_last has last values with a 4-hour TTL: origins whose last visible row
-- can still be served at 12:10 (event time >= 08:10) or is in the 6-hour window
SELECT (SELECT entities FROM asof.materializations WHERE feature_view = 'op_last' AND tick = '2001-03-15 12:00') AS snapshot,
       (SELECT count(DISTINCT origin) FROM op_fl
         WHERE dep_time < '2001-03-15 12:00' AND dep_time + (30 + distance / 8) * interval '1 minute' < '2001-03-15 12:00'
           AND dep_time >= '2001-03-15 06:00') AS expected;

-- The spine.
CREATE TABLE op_spine (id serial, origin text, destination text, t timestamp, kind text);
INSERT INTO op_spine (origin, destination, t, kind)
SELECT origin, destination, dep_time, 'flight' FROM op_fl
 WHERE dep_time >= '2001-03-15 00:10' AND dep_time < '2001-03-16' AND origin <> 'TTL';
INSERT INTO op_spine (origin, destination, t, kind)
SELECT r.origin, r.destination, tick + interval '10 minutes' - e, CASE WHEN e = '0' THEN 'at publication' ELSE '1us before' END
  FROM (SELECT DISTINCT origin, destination FROM op_fl
         WHERE dep_time >= '2001-03-15' AND dep_time < '2001-03-16') r,
       generate_series('2001-03-15 01:00'::timestamp, '2001-03-15 23:00', '2 hours') tick,
       unnest('{0, 1 microsecond}'::interval[]) e;
INSERT INTO op_spine (origin, destination, t, kind) VALUES
  ('TTL', 'TTX', '2001-03-15 08:09:59.999999', 'ttl edge'),  -- landed 07:10, not yet published
  ('TTL', 'TTX', '2001-03-15 08:10', 'ttl edge'),            -- published in the 08:00 tick
  ('TTL', 'TTX', '2001-03-15 09:00', 'ttl edge'),            -- exactly 4 hours old: served
  ('TTL', 'TTX', '2001-03-15 09:00:00.000001', 'ttl edge'),  -- expired
  ('ZZZ', 'YYY', '2001-03-15 12:34', 'absent'),
  (NULL, 'LAX', '2001-03-15 12:34', 'null key'),
  ('ORD', NULL, '2001-03-15 12:34', 'null key');
SELECT kind, count(*) FROM op_spine GROUP BY kind ORDER BY kind;

SELECT asof.build_training_set('op_ts', 'op_spine', 't', '{op_origin,op_dest,op_last}');

-- Compare two feature objects: the number of features that differ (0 at
-- once when the objects are equal); the features named in float_keys
-- within 1e-9 of their magnitude, all others exactly.
CREATE FUNCTION op_ndiff(a jsonb, b jsonb, float_keys text[]) RETURNS int
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN a = b THEN 0 ELSE (SELECT count(*)::int
    FROM jsonb_each(a) x FULL JOIN jsonb_each(b) y ON x.key = y.key
   WHERE CASE WHEN x.key = ANY (float_keys) AND jsonb_typeof(x.value) = 'number' AND jsonb_typeof(y.value) = 'number'
              THEN abs(x.value::text::float8 - y.value::text::float8) > 1e-9 * greatest(1, abs(x.value::text::float8))
              ELSE x.value IS DISTINCT FROM y.value END) END
$$;
-- the training-set row's features of one view, as the served object
CREATE FUNCTION op_ts_features(r jsonb, v text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_object_agg(substr(key, length(v) + 3), value)
    FROM jsonb_each(r) WHERE starts_with(key, v || '__')
$$;

-- the reference formulation's features of one view, per spine id
CREATE FUNCTION op_reference(v text) RETURNS TABLE (id int, f jsonb)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format(
    'SELECT r.id, (SELECT jsonb_object_agg(substr(key, %s), value) FROM jsonb_each(to_jsonb(r)) WHERE starts_with(key, %L))
       FROM (%s) r', length(v) + 3, v || '__', asof.feature_view_sql(v, 'op_spine', 't'));
END $$;

-- online_features against the training set, every spine row, every view
CREATE TABLE op_served AS
SELECT s.id, v,
       asof.online_features(v, CASE v WHEN 'op_dest' THEN ARRAY[s.destination] ELSE ARRAY[s.origin] END, s.t) AS served,
       op_ts_features(to_jsonb(ts), v) AS trained
  FROM op_spine s JOIN op_ts ts USING (id), unnest('{op_origin,op_dest,op_last}'::text[]) v;
SELECT v, count(*) AS pairs,
       sum(op_ndiff(served, trained, '{avg_f_6h}')) AS differing_values,
       count(*) FILTER (WHERE served <> trained) AS not_bitwise_equal,
       count(*) FILTER (WHERE (served->>'count_1d')::int > 0 OR (served->>'n_2h')::int > 0) AS with_rows
  FROM op_served GROUP BY v ORDER BY v;

-- the edges, value by value
SELECT s.kind, s.origin, s.destination, s.t, o.served
  FROM op_spine s JOIN op_served o ON o.id = s.id AND o.v = 'op_last'
 WHERE s.kind IN ('ttl edge', 'absent', 'null key') ORDER BY s.id;
SELECT s.kind, s.t, o.served->'count_1d' AS origin_count_1d
  FROM op_spine s JOIN op_served o ON o.id = s.id AND o.v = 'op_origin'
 WHERE s.origin = 'ORD' AND s.destination = (SELECT min(destination) FROM op_spine WHERE origin = 'ORD' AND kind = 'at publication')
   AND s.t BETWEEN '2001-03-15 11:09:59.999999' AND '2001-03-15 13:10' AND s.kind <> 'flight'
 ORDER BY s.t;

-- the batch form: one call per (view, time), entities in spine order
CREATE FUNCTION op_batch(v text, ents text[], t timestamp) RETURNS SETOF jsonb
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format('SELECT to_jsonb(b) FROM asof.online_features_batch($1, $2, $3, NULL::asof_online.%I) b',
                              v || '__served') USING v, ents, t;
END $$;
CREATE TABLE op_batch AS
SELECT g.v, g.ids[b.n] AS id, b.row
  FROM (SELECT v, t, array_agg(id ORDER BY id) AS ids,
               array_agg(CASE v WHEN 'op_dest' THEN destination ELSE origin END ORDER BY id) AS ents
          FROM op_spine, unnest('{op_origin,op_dest,op_last}'::text[]) v GROUP BY v, t) g,
       LATERAL op_batch(g.v, g.ents, g.t) WITH ORDINALITY AS b(row, n);
-- entity columns echo the input, the tick is k(t) (every tick is
-- retained), the features equal the training set's
SELECT b.v, count(*) AS batch_rows,
       count(*) FILTER (WHERE b.row->>(CASE b.v WHEN 'op_dest' THEN 'destination' ELSE 'origin' END)
                              IS DISTINCT FROM CASE b.v WHEN 'op_dest' THEN s.destination ELSE s.origin END) AS wrong_entity,
       count(*) FILTER (WHERE (b.row->>'tick')::timestamp <>
                              date_trunc('hour', s.t - interval '10 minutes')) AS wrong_tick,
       sum(op_ndiff((SELECT jsonb_object_agg(substr(key, length(b.v) + 3), value)
                       FROM jsonb_each(b.row) WHERE starts_with(key, b.v || '__')),
                    op_ts_features(to_jsonb(ts), b.v), '{avg_f_6h}')) AS differing_values
  FROM op_batch b JOIN op_spine s USING (id) JOIN op_ts ts USING (id)
 GROUP BY b.v ORDER BY b.v;
-- the batch columns are named and typed exactly like the training set's
SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS served_type,
       (SELECT format_type(t.atttypid, t.atttypmod) FROM pg_attribute t
         WHERE t.attrelid = 'op_ts'::regclass AND t.attname = a.attname) AS training_set_type
  FROM pg_attribute a
 WHERE a.attrelid = (SELECT typrelid FROM pg_type WHERE oid = 'asof_online.op_last__served'::regtype)
   AND a.attnum > 0 ORDER BY a.attnum;

-- The reference: asof.feature_view_sql over the same spine gives the same
-- values as the training set (so the online values equal it too).
SELECT v, sum(op_ndiff(op_ts_features(to_jsonb(ts), v), ref.f, '{avg_f_6h}')) AS differing_values
  FROM unnest('{op_origin,op_dest,op_last}'::text[]) v,
       LATERAL (SELECT id, f FROM op_reference(v)) ref JOIN op_ts ts USING (id)
 GROUP BY v ORDER BY v;

-- Rows added after the materialization: the snapshots keep the values of
-- when they ran, a new training set sees the rows.  A flight ORD -> SFO at
-- 11:00 lands at 11:00 + (30 + 733/8) min = 13:01, so it is visible from
-- the 14:00 tick on, served from 14:10.
INSERT INTO op_fl VALUES ('2001-03-15 11:00', 'ORD', 'SFO', 733, 999);
SELECT asof.build_training_set('op_ts2', 'op_spine', 't', '{op_origin,op_dest,op_last}');
-- the rows whose features must now differ, counted from the spine alone:
-- op_origin: origin ORD from 14:10 on (its 7-day windows and count_1d);
-- op_dest: destination SFO from 14:10 on (same); op_last: origin ORD while
-- the row is in the 6-hour window, ticks 14:00 to 17:00, so t in [14:10,
-- 18:10) (its 2-hour window never holds it: 11:00 < 14:00 - 2h)
CREATE TABLE op_after AS
SELECT o.v, s.id,
       op_ndiff(o.served, op_ts_features(to_jsonb(ts2), o.v), '{avg_f_6h}') > 0 AS differs,
       CASE o.v WHEN 'op_dest' THEN s.destination = 'SFO' AND s.t >= '2001-03-15 14:10'
                WHEN 'op_origin' THEN s.origin = 'ORD' AND s.t >= '2001-03-15 14:10'
                ELSE s.origin = 'ORD' AND s.t >= '2001-03-15 14:10' AND s.t < '2001-03-15 18:10' END AS expected
  FROM op_served o JOIN op_spine s USING (id) JOIN op_ts2 ts2 USING (id);
SELECT v, count(*) FILTER (WHERE differs) AS differing_rows,
       count(*) FILTER (WHERE expected) AS expected_rows,
       count(*) FILTER (WHERE differs <> expected) AS unexpected_rows
  FROM op_after GROUP BY v ORDER BY v;
-- replaying the ticks with replace => true brings the online values back in line
SELECT sum(asof.materialize(v, tick, replace => true)) > 0 AS replaced
  FROM unnest('{op_origin,op_dest,op_last}'::text[]) v,
       generate_series('2001-03-15 00:00'::timestamp, '2001-03-15 23:00', '1 hour') tick;
SELECT v, sum(op_ndiff(asof.online_features(v, CASE v WHEN 'op_dest' THEN ARRAY[s.destination] ELSE ARRAY[s.origin] END, s.t),
                       op_ts_features(to_jsonb(ts2), v), '{avg_f_6h}')) AS differing_values
  FROM op_spine s JOIN op_ts2 ts2 USING (id), unnest('{op_origin,op_dest,op_last}'::text[]) v
 GROUP BY v ORDER BY v;

-- clean up
RESET asof.clock;
SELECT asof.drop_feature_view(v) FROM unnest('{op_origin,op_dest,op_last}'::text[]) v;
SELECT count(*) AS online_tables_left FROM pg_class WHERE relnamespace = 'asof_online'::regnamespace;
SELECT count(*) AS records_left FROM asof.materializations;
DROP TABLE op_after, op_served, op_batch, op_ts, op_ts2, op_spine, op_fl;
DROP FUNCTION op_ndiff, op_ts_features, op_batch, op_reference;
