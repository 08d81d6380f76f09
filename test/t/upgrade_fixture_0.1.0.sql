-- test/t/upgrade_fixture_0.1.0.sql: fills every registry of pg_asof 0.1.0
-- through 0.1.0's own functions, for test/t/upgrade.sh: a protected table
-- with a split, one without, a holdout log with an opening, feature views,
-- a training set.  Only functions of 0.1.0 may be used here.
CREATE TABLE public.upg_flights (
    dep_time timestamp NOT NULL,
    origin text NOT NULL,
    distance integer NOT NULL,
    delay integer
);
INSERT INTO public.upg_flights VALUES
    ('2001-01-01 06:00', 'SFO', 337, 5),
    ('2001-01-01 07:00', 'SFO', 337, 25),
    ('2001-01-02 07:00', 'LAX', 337, 10),
    ('2001-05-01 07:00', 'LAX', 337, -3);
CREATE TABLE public.upg_open (dep_time timestamp, origin text, delay integer);
INSERT INTO public.upg_open VALUES ('2001-01-01 06:00', 'SFO', 1);
SELECT asof.protect('public.upg_flights', 'dep_time', label_columns => '{delay}',
                    entity_columns => '{origin}');
SELECT asof.split('public.upg_flights', test_from => '2001-03-01');
SELECT asof.protect('public.upg_open', 'dep_time', label_columns => '{delay}');
BEGIN;
SELECT asof.unseal('public.upg_flights', 'upgrade test: one opening');
COMMIT;
SELECT asof.create_feature_view('upg_origin', 'public.upg_flights', '{origin}',
    event_time => 'dep_time',
    available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
    features => ARRAY['avg(delay) over 1 day', 'count(*) over 1 day', 'last(delay)'],
    cadence => '1 hour', delay => '10 minutes');
SELECT asof.create_feature_view('upg_plain', 'public.upg_open', '{origin}', 'dep_time',
    '{count(*) over 7 days}');
SELECT asof.build_training_set('public.upg_ts', 'public.upg_flights', 'dep_time', '{upg_origin}');
