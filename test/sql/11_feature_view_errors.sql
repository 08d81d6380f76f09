--
-- 11_feature_view_errors: every bad definition is refused with a clear
-- error naming what is wrong (and which feature), and nothing is stored.
--
CREATE TABLE fv_bad (
    airport text,
    te timestamp,
    ta timestamp,
    tz timestamptz,
    day date,
    delay integer,
    amount numeric,
    flag boolean,
    tag text,
    pos point
);
CREATE FUNCTION pg_temp.registry() RETURNS text LANGUAGE sql AS $$
  SELECT format('%s views, %s features, %s helper views',
                (SELECT count(*) FROM asof.feature_view_registry),
                (SELECT count(*) FROM asof.feature_view_feature_registry),
                (SELECT count(*) FROM pg_class
                  WHERE relnamespace = 'asof_feature_views'::regnamespace))
$$;
-- One good view, to collide with.
SELECT asof.create_feature_view('good', 'fv_bad', '{airport}', 'te', '{"last(tag)"}');
SELECT pg_temp.registry();

\set VERBOSITY default
-- unknown source, entity column, columns in expressions
SELECT asof.create_feature_view('bad', 'no_such_table', '{airport}', 'te', '{"last(tag)"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{nope}', 'te', '{"last(tag)"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport,airport}', 'te', '{"last(tag)"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{}', 'te', '{"last(tag)"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{pos}', 'te', '{"last(tag)"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'nope', '{"last(tag)"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last(tag)"}', available_time => 'te + nope');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last(tag)", "avg(nope) over 1 hour"}');

-- bad or disallowed expressions
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"avg(delay +) over 1 hour"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"max((SELECT 1)) over 1 hour"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"max(sum(delay)) over 1 hour"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last(row_number() over ())"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last(generate_series(1, delay))"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"avg(random()) over 1 hour"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'clock_timestamp()', '{"last(tag)"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te FROM fv_bad', '{"last(tag)"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te, ta', '{"last(tag)"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te; DROP TABLE fv_bad', '{"last(tag)"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last(tag"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last(tag) as"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last(tag) trailing"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last()"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"(delay)"}');

-- times must be timestamp or timestamptz, both the same
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'delay', '{"last(tag)"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'day', '{"last(tag)"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last(tag)"}', available_time => 'tz');

-- aggregates that do not fit the type, unknown aggregates
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"sum(tag) over 1 hour"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"avg(flag) over 1 hour"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"stddev(te) over 1 hour"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"max(pos) over 1 hour"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last(pos)"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"median(delay) over 1 hour"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"sum(*) over 1 hour"}');

-- windows: missing, on a last value, zero, negative, months
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"avg(delay)"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last(tag) over 1 hour"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"count(*) over 0 seconds"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"count(*) over -1 hour"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"count(*) over 1 day -25 hours"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"count(*) over 1 month"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"count(*) over 1 year"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"count(*) over"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"count(*) over soon"}');

-- cadence, delay, ttl, anchor
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last(tag)"}', cadence => '0');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last(tag)"}', cadence => '-1 hour');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last(tag)"}', cadence => '1 mon');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last(tag)"}', delay => '-1 minute');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last(tag)"}', delay => '1 year');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last(tag)"}', delay => NULL);
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last(tag)"}', ttl => '0');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last(tag)"}', ttl => '-1 day');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last(tag)"}', ttl => '2 mons');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{"last(tag)"}', anchor => 'infinity');

-- names: "__", too long, colliding (explicitly or by default), duplicates
SELECT asof.create_feature_view('bad__view', 'fv_bad', '{airport}', 'te', '{"last(tag)"}');
SELECT asof.create_feature_view('', 'fv_bad', '{airport}', 'te', '{"last(tag)"}');
SELECT asof.create_feature_view(repeat('v', 61), 'fv_bad', '{airport}', 'te', '{"last(tag)"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te',
  '{"count(*) over 1 day", "sum(delay * 1000000 + amount * 1000000 - delay * 2000000 + amount * 3000000) over 1 hour"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te',
  '{"count(*) over 1 day as a_name_that_is_long_but_fits_in_sixty_three_bytes_xxxxxxxxx"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te',
  '{"avg(delay) over 1 hour", "avg(delay) over 60 minutes"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te',
  '{"last(tag) as x", "count(*) over 1 hour as x"}');
SELECT asof.create_feature_view('good', 'fv_bad', '{airport}', 'te', '{"last(tag)"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', '{}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te', ARRAY['last(tag)', NULL]);
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', NULL, '{"last(tag)"}');
SELECT asof.create_feature_view(NULL, 'fv_bad', '{airport}', 'te', '{"last(tag)"}');

-- none of the above stored anything
SELECT pg_temp.registry();
SELECT name FROM asof.feature_views;

-- the longest names that fit are accepted: 60 + 2 + 1 = 63 bytes
SELECT asof.create_feature_view(repeat('v', 60), 'fv_bad', '{airport}', 'te', '{"last(tag) as x"}');
SELECT asof.create_feature_view('bad', 'fv_bad', '{airport}', 'te',
  '{"count(*) over 1 day as a_name_that_is_long_but_fits_in_sixty_three_bytes_xxxxxxxx"}');
SELECT r.name || '__' || f.name AS column_name, octet_length(r.name || '__' || f.name) AS bytes
  FROM asof.feature_view_feature_registry f JOIN asof.feature_view_registry r ON r.name = f.feature_view
 ORDER BY 1;
SELECT asof.drop_feature_view(repeat('v', 60));
SELECT asof.drop_feature_view('bad');
SELECT asof.drop_feature_view('good');
SELECT asof.drop_feature_view('good');
SELECT asof.drop_feature_view(NULL);
SELECT pg_temp.registry();

-- clean up: dropping the sources (CASCADE) removes their feature views
SET client_min_messages = warning;
DROP TABLE fv_bad CASCADE;
RESET client_min_messages;
SELECT count(*) AS feature_views_left FROM asof.feature_views;
