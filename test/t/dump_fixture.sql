-- test/t/dump_fixture.sql: tables that the other fixtures register.  Each
-- part of pg_asof that adds a registry table adds a file
-- test/t/dump_fixture_<part>.sql that fills it through the extension's own
-- functions; test/t/dump_restore.sh runs them all in name order.
CREATE TABLE public.fixture_flights (
    dep_time timestamp NOT NULL,
    origin text NOT NULL,
    destination text NOT NULL,
    distance integer NOT NULL,
    delay integer
);
INSERT INTO public.fixture_flights VALUES
    ('2001-01-01 06:00', 'SFO', 'LAX', 337, 5),
    ('2001-01-01 07:00', 'SFO', 'LAX', 337, 25),
    ('2001-05-01 07:00', 'LAX', 'SFO', 337, -3);
