-- test/t/dump_fixture_validation.sql: fills asof.profile_history (one
-- asof.profile run) and asof.validation_alerts (a snapshot refused by
-- asof._validate_snapshot) on a table of its own.
CREATE TABLE public.fixture_readings (sensor text, ts timestamp, v int);
INSERT INTO public.fixture_readings
SELECT s, timestamp '2001-01-01' + h * interval '1 hour', 10 + h % 7
  FROM unnest('{a,b,c}'::text[]) s, generate_series(0, 10 * 24 - 1) h;
SELECT count(*) FROM asof.profile('public.fixture_readings', 'ts');
SELECT asof.create_feature_view('fixture_sensor', 'public.fixture_readings', '{sensor}', 'ts',
    '{avg(v) over 1 day}', cadence => '1 day', delay => '30 minutes');
CREATE TABLE public.fixture_snapshot AS
  SELECT s AS sensor, 1000.0 AS avg_v_1d FROM unnest('{a,b,c}'::text[]) s;
SET client_min_messages = warning;
SELECT asof._validate_snapshot('fixture_sensor', '2001-01-09 00:00+00', 'public.fixture_snapshot', 7);
RESET client_min_messages;
