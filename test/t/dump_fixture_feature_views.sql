-- test/t/dump_fixture_feature_views.sql: feature views on
-- public.fixture_flights (created by dump_fixture.sql), through the
-- extension's own function, so the dump/restore test covers the feature
-- view registry tables and the helper views they depend on.
SELECT asof.create_feature_view('fixture_origin', 'public.fixture_flights', '{origin}',
    event_time => 'dep_time',
    available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
    features => ARRAY['avg(delay) over 1 hour', 'count(*) over 1 day',
                      'max(delay) over 1 day', 'last(delay) as last_delay'],
    cadence => '1 hour', delay => '10 minutes', ttl => '2 days');
SELECT asof.create_feature_view('fixture_route', 'public.fixture_flights', '{origin,destination}',
    event_time => 'dep_time',
    features => ARRAY['stddev(delay) over 7 days', 'last_nonnull(delay)']);
