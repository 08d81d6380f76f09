--
-- 91_engine_entity_reads_guard: reads by entity (one query per entity,
-- 90_engine_entity_reads) under the leakage guard.  Each entity's query is
-- planned and checked like the one sorted read: the split's row filter
-- applies to it (held-out rows are never read, spine rows after the split
-- get NULL features, counted), a source that reaches the protected table
-- through a function is refused, and the build that seals held-out spine
-- rows (the owner's build on the owner's protected spine, whose one-shot
-- exemption covers one query) reads in one sorted read.  Every build here
-- is compared byte for byte with asof.engine_read_by_entity = off.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET client_min_messages = warning;
SET asof.progress_interval = 0;
CREATE ROLE regress_asof_er_analyst;
CREATE SCHEMA g91;
GRANT USAGE, CREATE ON SCHEMA g91 TO regress_asof_er_analyst;
CREATE TABLE g91.fl (dep_time timestamp NOT NULL, origin text NOT NULL, destination text NOT NULL,
                     distance integer NOT NULL, delay integer);
\copy g91.fl FROM PROGRAM 'gzip -dc data/flights-sample.csv.gz' WITH (FORMAT csv, HEADER true)
CREATE INDEX ON g91.fl (origin, dep_time);
ANALYZE g91.fl;
GRANT SELECT ON g91.fl TO PUBLIC;
-- the spine: flights of the 5 busiest origins from 2001-04-29 to 2001-05-03
CREATE TABLE g91.sp AS
  SELECT origin, dep_time AS t FROM g91.fl
  WHERE origin IN (SELECT origin FROM g91.fl GROUP BY origin ORDER BY count(*) DESC, origin LIMIT 5)
    AND dep_time >= '2001-04-29' AND dep_time < '2001-05-03';
GRANT SELECT ON g91.sp TO PUBLIC;
SELECT count(*) AS spine_rows, count(*) FILTER (WHERE t > '2001-05-01') AS after_split FROM g91.sp;
SELECT asof.protect('g91.fl', 'dep_time', '{delay}');
SELECT asof.create_feature_view('g91_v', 'g91.fl', '{origin}', 'dep_time', ARRAY[
    'count(*) over 2 days as n_2d',
    'avg(delay) over 1 day as avg_1d',
    'last(delay) as last_delay']);
SELECT asof.split('g91.fl', '2001-05-01');

-- builds as the analyst, by entity and in one sorted read
CREATE FUNCTION g91.build(name text, mode text) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('asof.engine_read_by_entity', mode, true);
  RETURN asof.build_training_set(name, 'g91.sp', 't', '{g91_v}');
END $$;
GRANT EXECUTE ON FUNCTION g91.build(text, text) TO PUBLIC;
SET ROLE regress_asof_er_analyst;
SELECT g91.build('g91.ts_on', 'on') AS rows_on, g91.build('g91.ts_off', 'off') AS rows_off;
-- spine rows after the split (k(t) = t after 2001-05-01) have NULL
-- features and a count of NULL, the others are computed from training rows
SELECT t > '2001-05-01' AS after_split, count(*) AS rows, count(g91_v__n_2d) AS with_count,
       count(g91_v__last_delay) AS with_last
  FROM g91.ts_on GROUP BY 1 ORDER BY 1;
SELECT (SELECT md5(string_agg(x::text, E'\n' ORDER BY x.origin, x.t, x.g91_v__n_2d)) FROM g91.ts_on x)
     = (SELECT md5(string_agg(x::text, E'\n' ORDER BY x.origin, x.t, x.g91_v__n_2d)) FROM g91.ts_off x) AS identical;
-- the values before the split are the truth: the held-out rows (from
-- 2001-05-01 on) are never in a window that ends at the split
SELECT count(*) AS checked,
       count(*) FILTER (WHERE s.g91_v__n_2d IS DISTINCT FROM
         (SELECT count(*) FROM g91.fl f WHERE f.origin = s.origin
            AND f.dep_time < s.t AND f.dep_time >= s.t - interval '2 days')) AS wrong_counts
  FROM g91.ts_on s WHERE t <= '2001-05-01';
RESET ROLE;

-- a source that reaches the protected table through a function is
-- refused by entity as in one read
CREATE FUNCTION g91.fl_rows() RETURNS SETOF g91.fl LANGUAGE sql STABLE AS 'SELECT * FROM g91.fl';
CREATE VIEW g91.v_func AS SELECT * FROM g91.fl_rows();
SELECT asof.create_feature_view('g91_func', 'g91.v_func', '{origin}', 'dep_time',
    '{count(*) over 1 day}');
SET asof.engine_read_by_entity = on;
SELECT asof.build_training_set('g91.ts_func', 'g91.sp', 't', '{g91_func}');
SET asof.engine_read_by_entity = off;
SELECT asof.build_training_set('g91.ts_func', 'g91.sp', 't', '{g91_func}');
RESET asof.engine_read_by_entity;

-- the owner's build on the owner's protected spine seals the held-out
-- spine rows: those rows read the source whole, in one read, whatever the
-- setting; the same bytes either way
CREATE TABLE g91.psp AS
  SELECT origin, t, (extract(minute FROM t)::int % 2) AS outcome FROM g91.sp;
SELECT asof.protect('g91.psp', 't', '{outcome}');
SELECT asof.split('g91.psp', '2001-05-01');
SET asof.engine_read_by_entity = on;
SELECT asof.build_training_set('g91.pts_on', 'g91.psp', 't', '{g91_v}');
SET asof.engine_read_by_entity = off;
SELECT asof.build_training_set('g91.pts_off', 'g91.psp', 't', '{g91_v}');
RESET asof.engine_read_by_entity;
BEGIN;
SELECT asof.unseal('g91.psp', 'compare the sealed rows') IS NOT NULL AS unsealed;
-- every row has its features, the sealed ones (after the split) included
SELECT count(*) AS rows, count(g91_v__n_2d) AS with_count,
       count(*) FILTER (WHERE t > '2001-05-01') AS sealed,
       (SELECT md5(string_agg(x::text, E'\n' ORDER BY x.origin, x.t, x.g91_v__n_2d)) FROM g91.pts_on x)
     = (SELECT md5(string_agg(x::text, E'\n' ORDER BY x.origin, x.t, x.g91_v__n_2d)) FROM g91.pts_off x) AS identical
  FROM g91.pts_on;
COMMIT;

-- clean up
SELECT asof.drop_feature_view(v) FROM unnest('{g91_v, g91_func}'::text[]) v;
SELECT asof.unprotect(t) FROM unnest('{g91.psp, g91.fl}'::text[]) t;
DROP SCHEMA g91 CASCADE;
DROP ROLE regress_asof_er_analyst;
