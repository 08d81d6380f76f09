-- test/demo/30_feature_views.sql: step 3 of the flights demo.  Two feature
-- views as production computes them (available time = landing time, an
-- hourly job whose results are served 10 minutes after each tick), keyed
-- by origin and by route (origin, destination: times in the file are local
-- to the origin airport, so both keys stay within one time zone), and
-- their naive counterparts as a notebook computes them: event time only,
-- no available time, no schedule, no delay.
\set ON_ERROR_STOP 1
\i test/demo/common.sql
\if :have_views
\set ECHO queries
-- What production serves.
SELECT asof.create_feature_view('origin_lagged',
         source         => 'asof_demo.flights',
         entity         => '{origin}',
         event_time     => 'dep_time',
         available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
         features       => '{"avg(delay) over 1 hour", "avg(delay) over 6 hours",
                             "avg(delay) over 1 day", "avg(delay) over 7 days",
                             "count(*) over 1 day", "max(delay) over 1 day",
                             "avg((delay > 15)::int) over 1 day as late_share_1d"}',
         cadence        => '1 hour',
         delay          => '10 minutes') \gset
SELECT asof.create_feature_view('route_lagged',
         source         => 'asof_demo.flights',
         entity         => '{origin,destination}',
         event_time     => 'dep_time',
         available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
         features       => '{"avg(delay) over 1 day", "avg(delay) over 7 days",
                             "count(*) over 7 days", "last(delay)"}',
         cadence        => '1 hour',
         delay          => '10 minutes',
         ttl            => '1 day') \gset
-- What a notebook computes: the same features by event time only.
SELECT asof.create_feature_view('origin_naive',
         source     => 'asof_demo.flights',
         entity     => '{origin}',
         event_time => 'dep_time',
         features   => '{"avg(delay) over 1 hour", "avg(delay) over 6 hours",
                         "avg(delay) over 1 day", "avg(delay) over 7 days",
                         "count(*) over 1 day", "max(delay) over 1 day",
                         "avg((delay > 15)::int) over 1 day as late_share_1d"}') \gset
SELECT asof.create_feature_view('route_naive',
         source     => 'asof_demo.flights',
         entity     => '{origin,destination}',
         event_time => 'dep_time',
         features   => '{"avg(delay) over 1 day", "avg(delay) over 7 days",
                         "count(*) over 7 days", "last(delay)"}',
         ttl        => '1 day') \gset
\set ECHO none

\echo
\echo 'Which timestamps drive the join: asof.describe_feature_view(''origin_lagged''), up to its features:'
SELECT split_part(asof.describe_feature_view('origin_lagged'), E'\nfeatures', 1) AS describe \gset
\echo :describe
\echo
\echo 'and the naive one''s effective time and visibility:'
SELECT string_agg(line, E'\n') AS describe
  FROM regexp_split_to_table(asof.describe_feature_view('origin_naive'), E'\n') AS line
 WHERE line ~ '^  (k\(t\)|r\.origin)' \gset
\echo :describe
\else
\echo 'SKIPPED: this build has no feature views (asof.create_feature_view).'
\endif
