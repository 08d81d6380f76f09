--
-- 23_engine_parallel: results do not depend on the plan.  Worked example 2
-- (two rows tied on te and ta: 'B' must win) through a source big enough
-- for parallel workers, 100 builds each with parallel query forced on and
-- off, and with the rows stored in either order.
--
SET TimeZone = 'UTC';
SET client_min_messages = warning;
CREATE TABLE p_f (k int, te timestamp, ta timestamp, v text);
INSERT INTO p_f VALUES (1, '2024-01-01 10:00', '2024-01-01 10:00', 'A');
INSERT INTO p_f SELECT 2 + i % 50, '2024-01-01 09:00', '2024-01-01 09:00', 'filler'
  FROM generate_series(1, 2000) i;
INSERT INTO p_f VALUES (1, '2024-01-01 10:00', '2024-01-01 10:00', 'B');
INSERT INTO p_f SELECT 2 + i % 50, '2024-01-01 09:00', '2024-01-01 09:00', 'filler'
  FROM generate_series(1, 2000) i;
ANALYZE p_f;
SELECT asof.create_feature_view('p_v', 'p_f', '{k}', 'te', '{last(v), count(*) over 2 hours}',
  available_time => 'ta');
CREATE TABLE p_q (k int, t timestamp);
INSERT INTO p_q VALUES (1, '2024-01-01 11:00');

CREATE FUNCTION pg_temp.repeat(n_lookups int, n_builds int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  seen text[] := '{}';
  v text;
BEGIN
  FOR i IN 1..n_lookups LOOP
    SELECT f ->> 'last_v' || '/' || (f ->> 'count_2h') INTO v
      FROM asof.features_at('p_v', '{1}', '2024-01-01 11:00'::timestamp) f;
    IF NOT v = ANY (seen) THEN seen := seen || v; END IF;
  END LOOP;
  FOR i IN 1..n_builds LOOP
    PERFORM asof.build_training_set('p_ts', 'p_q', 't', '{p_v}');
    SELECT p_v__last_v || '/' || p_v__count_2h INTO v FROM p_ts;
    IF NOT v = ANY (seen) THEN seen := seen || v; END IF;
    DROP TABLE p_ts;
  END LOOP;
  RETURN array_to_string(seen, ', ');
END $$;

-- parallel query off
SET max_parallel_workers_per_gather = 0;
SELECT pg_temp.repeat(100, 10) AS serial_results;
-- parallel query forced on (the source scan runs in workers)
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT k, te, ta, v FROM p_f WHERE k = 1;
SELECT pg_temp.repeat(100, 3) AS parallel_results;
-- the tied rows stored the other way round
UPDATE p_f SET v = CASE v WHEN 'A' THEN 'B' ELSE 'A' END WHERE k = 1;
SELECT pg_temp.repeat(10, 2) AS swapped_results;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
