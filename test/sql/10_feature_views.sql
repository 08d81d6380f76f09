--
-- 10_feature_views: feature view definitions: creation, default names,
-- the listing, drop and ownership (docs/point-in-time.md, "Feature names").
--
CREATE TABLE fv_src (
    airport text,
    route_to text,
    te timestamp,
    ta timestamp,
    tz timestamptz,
    delay integer,
    distance integer,
    amount numeric,
    ratio real,
    flag boolean,
    tag text,
    pos point,
    "Mixed Case" integer
);

-- What the registry holds: feature views, features, helper views.
CREATE FUNCTION pg_temp.registry() RETURNS text LANGUAGE sql AS $$
  SELECT format('%s views, %s features, %s helper views',
                (SELECT count(*) FROM asof.feature_view_registry),
                (SELECT count(*) FROM asof.feature_view_feature_registry),
                (SELECT count(*) FROM pg_class
                  WHERE relnamespace = 'asof_feature_views'::regnamespace))
$$;
SELECT pg_temp.registry();

-- Default names: <agg>_<expr>_<window>, count(*): count_<window>, last
-- values: last_<expr>; the window in the largest unit dividing it exactly.
SELECT asof.create_feature_view(
  name => 'names',
  source => 'fv_src',
  entity => '{airport}',
  event_time => 'te',
  available_time => 'ta',
  features => ARRAY[
    'avg(delay) over 1 hour',
    'avg((delay > 15)::int) over 60 minutes',
    'count(*) over 1 day 12 hours',
    'max(delay) over 90 minutes',
    'sum(delay / distance) over 1 week',
    'min(-delay) over 30 seconds',
    'count(delay) over 24 hours',
    'stddev(ratio) over 1500 milliseconds',
    'var(amount) over 7 microseconds',
    'sum(amount) over ''2 hours''',
    'last(tag)',
    'last_nonnull(tag) as tag_seen',
    'LAST_NONNULL( "Mixed Case" ) AS "Seen It"',
    'count(*) over 1 day as last',
    'max(flag::int) over 1 day'
  ]);
SELECT position, name, definition, aggregate, argument, argument_sql, window_size
  FROM asof.feature_view_feature_registry WHERE feature_view = 'names'
 ORDER BY position;

-- The listing.
SELECT name, source, entity, event_time, available_time, time_type, cadence,
       anchor, delay, ttl, owner, created <= now() AS created_ok
  FROM asof.feature_views;
SELECT unnest(features) FROM asof.feature_views WHERE name = 'names';
SELECT pg_temp.registry();

-- Composite keys, expressions for both times, a schedule and a TTL; the
-- anchor is converted once, when given, and stored as an instant.
SET TimeZone = 'America/New_York';
SELECT asof.create_feature_view('routes', 'fv_src', '{airport,route_to}',
  event_time => 'te',
  available_time => 'te + (30 + distance / 8) * interval ''1 minute''',
  features => '{"avg(delay) over 6 hours", "last(delay)"}',
  cadence => '1 hour', anchor => '2001-01-01 00:05', delay => '10 minutes',
  ttl => '2 days');
SELECT name, entity, available_time, cadence, anchor, delay, ttl
  FROM asof.feature_views WHERE name = 'routes';
SELECT event_time_sql, available_time_sql
  FROM asof.feature_view_registry WHERE name = 'routes';
RESET TimeZone;
SELECT anchor FROM asof.feature_views WHERE name = 'routes';
SELECT pg_temp.registry();

-- A timestamptz view with a stable expression (timestamptz + interval).
SELECT asof.create_feature_view('tzview', 'fv_src', '{airport}', 'tz',
  '{"count(*) over 1 day"}', available_time => 'tz + interval ''1 day''');
SELECT name, time_type, available_time FROM asof.feature_views WHERE name = 'tzview';

-- The loader accepts every stored definition.
SELECT name, asof._feature_view_check(name) FROM asof.feature_views ORDER BY name;

-- Drop.
SELECT asof.drop_feature_view('tzview');
SELECT pg_temp.registry();
SELECT asof.drop_feature_view('tzview');

-- Ownership: the creator owns a feature view; only the owner (or a
-- superuser) may drop it.
CREATE ROLE regress_asof_fv_alice;
CREATE ROLE regress_asof_fv_bob;
GRANT SELECT ON fv_src TO regress_asof_fv_alice, regress_asof_fv_bob;
SET ROLE regress_asof_fv_alice;
SELECT asof.create_feature_view('alices', 'fv_src', '{airport}', 'te', '{"last(tag)"}');
SELECT name, owner FROM asof.feature_views ORDER BY name;
SET ROLE regress_asof_fv_bob;
SELECT asof.drop_feature_view('alices');
SELECT asof.drop_feature_view('names');
-- the registry is not writable directly
DELETE FROM asof.feature_view_registry;
RESET ROLE;
SELECT pg_temp.registry();
SET ROLE regress_asof_fv_alice;
SELECT asof.drop_feature_view('alices');
RESET ROLE;
SELECT pg_temp.registry();

-- Column privileges: a role that may read only some columns can define a
-- view over those, not over others.
REVOKE SELECT ON fv_src FROM regress_asof_fv_bob;
GRANT SELECT (airport, te, tag) ON fv_src TO regress_asof_fv_bob;
SET ROLE regress_asof_fv_bob;
SELECT asof.create_feature_view('bobs', 'fv_src', '{airport}', 'te', '{"last(delay)"}');
SELECT asof.create_feature_view('bobs', 'fv_src', '{airport}', 'te', '{"last(tag)"}');
RESET ROLE;
REVOKE SELECT ON fv_src FROM regress_asof_fv_alice;
SET ROLE regress_asof_fv_alice;
SELECT asof.create_feature_view('alices', 'fv_src', '{airport}', 'te', '{"last(tag)"}');
RESET ROLE;
SELECT pg_temp.registry();
-- superuser drops bob's view
SELECT asof.drop_feature_view('bobs');
REVOKE ALL ON fv_src FROM regress_asof_fv_bob;
DROP ROLE regress_asof_fv_alice;
DROP ROLE regress_asof_fv_bob;
SELECT pg_temp.registry();

-- clean up: dropping the sources (CASCADE) removes their feature views
SET client_min_messages = warning;
DROP TABLE fv_src CASCADE;
RESET client_min_messages;
SELECT count(*) AS feature_views_left FROM asof.feature_views;
