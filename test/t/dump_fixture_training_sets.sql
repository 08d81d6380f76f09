-- test/t/dump_fixture_training_sets.sql: fills asof.training_sets through
-- asof.build_training_set (two builds: two versions of one name).
SELECT asof.create_feature_view('fixture_ts_origin', 'public.fixture_flights', '{origin}',
    'dep_time', '{avg(delay) over 1 day, count(*) over 1 day, last(delay)}',
    available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
    cadence => '1 hour', delay => '10 minutes');
SELECT asof.build_training_set('public.fixture_training_set', 'public.fixture_flights',
    'dep_time', '{fixture_ts_origin}');
DROP TABLE public.fixture_training_set;
SELECT asof.build_training_set('public.fixture_training_set', 'public.fixture_flights',
    'dep_time', '{fixture_ts_origin}');
