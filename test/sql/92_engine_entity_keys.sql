--
-- 92_engine_entity_keys: the engine's map from entity keys to ids
-- (entity_keys.h) compares one-column integer keys by value and text keys
-- by their bytes, and leaves every other key (several columns, other
-- types, a nondeterministic collation) to the type's own equality.  For
-- each key type, a source whose keys are equal, unequal and NULL in every
-- way that matters, built on a spine and compared with
-- asof.feature_view_sql, with reads by entity and in one sorted read.
--
SET TimeZone = 'UTC';
SET client_min_messages = warning;
SET asof.progress_interval = 0;
CREATE COLLATION ek_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
-- keys -1, 0, 1 (int2, int4, int8 beyond 32 bits); text keys '', 'a',
-- 'ab' and one of 3,000 bytes, stored compressed; case-insensitive keys
CREATE TABLE ek_src (k2 int2, k4 int4, k8 int8, kt text, kv varchar(4000), kc text COLLATE ek_ci,
                     te timestamp, v int);
INSERT INTO ek_src
  SELECT (i % 3)::int2 - 1, (i % 3) - 1, ((i % 3) - 1) * 4294967296, k, k, upper(k),
         timestamp '2024-01-01' + i * interval '1 hour', i
    FROM generate_series(0, 47) i,
         LATERAL (SELECT CASE i % 4 WHEN 0 THEN 'a' WHEN 1 THEN 'ab' WHEN 2 THEN '' ELSE repeat('x', 3000) END AS k) kk;
INSERT INTO ek_src VALUES (NULL, NULL, NULL, NULL, NULL, NULL, '2024-01-01 05:30', 1000);
SELECT pg_column_compression(kt) IS NOT NULL AS long_key_compressed FROM ek_src WHERE length(kt) = 3000 LIMIT 1;
CREATE TABLE ek_spine AS
  SELECT k2, k4, k8, kt, kv, lower(kc) AS kc, t
    FROM (SELECT DISTINCT k2, k4, k8, kt, kv, kc FROM ek_src) k,
         (VALUES (timestamp '2024-01-01 12:00'), ('2024-01-02 12:00'), ('2024-01-03 00:00')) t(t);
INSERT INTO ek_spine VALUES (7, 7, 7, 'zz', 'zz', 'zz', '2024-01-02 00:00');
SELECT count(*) AS spine_rows FROM ek_spine;

CREATE FUNCTION pg_temp.check_key(col text) RETURNS TABLE (key text, mode text, rows bigint, with_rows bigint, mismatches bigint)
LANGUAGE plpgsql AS $$
DECLARE
  m text;
BEGIN
  PERFORM asof.create_feature_view('ek_' || col, 'ek_src', ARRAY[col]::name[], 'te',
                                   '{count(*) over 1 day as n_1d, sum(v) over 2 days as s_2d, last(v) as last_v}');
  EXECUTE format('CREATE TEMP TABLE ek_ref AS %s', asof.feature_view_sql('ek_' || col, 'ek_spine', 't'));
  FOREACH m IN ARRAY '{on, off}'::text[] LOOP
    PERFORM set_config('asof.engine_read_by_entity', m, true);
    EXECUTE 'DROP TABLE IF EXISTS ek_ts';
    PERFORM asof.build_training_set('ek_ts', 'ek_spine', 't', ARRAY['ek_' || col]);
    RETURN QUERY EXECUTE format(
      'SELECT %L, %L, count(*), count(*) FILTER (WHERE x.%I > 0), count(*) FILTER (WHERE
          x.%I IS DISTINCT FROM r.%I OR x.%I IS DISTINCT FROM r.%I OR x.%I IS DISTINCT FROM r.%I)
         FROM (SELECT *, row_number() OVER (ORDER BY t, k2, k4, k8, kt, kv, kc) AS id FROM ek_ts) x
         JOIN (SELECT *, row_number() OVER (ORDER BY t, k2, k4, k8, kt, kv, kc) AS id FROM ek_ref) r USING (id)',
      col, m, 'ek_' || col || '__n_1d',
      'ek_' || col || '__n_1d', 'ek_' || col || '__n_1d', 'ek_' || col || '__s_2d', 'ek_' || col || '__s_2d',
      'ek_' || col || '__last_v', 'ek_' || col || '__last_v');
  END LOOP;
  DROP TABLE ek_ref;
  DROP TABLE ek_ts;
  PERFORM asof.drop_feature_view('ek_' || col);
END $$;
-- every key: 40 spine rows (12 keys and NULL at 3 times, and one key no
-- source row has); the 36 rows of the 12 keys see their own rows, the
-- others nothing; the reference and both reads agree
SELECT (pg_temp.check_key(c)).* FROM unnest('{k2, k4, k8, kt, kv, kc}'::text[]) c;
-- the case-insensitive key: the spine's lower-case keys see the source's
-- upper-case rows ('a' and 'A' are one entity under ek_ci)
SELECT count(*) AS a_rows FROM ek_src WHERE kc = 'a';

DROP TABLE ek_src, ek_spine;
DROP COLLATION ek_ci;
