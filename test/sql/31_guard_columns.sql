--
-- 31_guard_columns: G1.  Before its split, no statement reads a label or
-- future column of a protected table, on any path, for any role; the other
-- columns stay readable.  Each refused case sits beside its legitimate one.
-- Ends with the split: statements prepared before it run after it.
--
\set SHOW_CONTEXT never
CREATE ROLE regress_asof_g_owner;
CREATE ROLE regress_asof_g_analyst;
CREATE ROLE regress_asof_g_viewer;
CREATE SCHEMA g31 AUTHORIZATION regress_asof_g_owner;
GRANT USAGE ON SCHEMA g31 TO regress_asof_g_analyst, regress_asof_g_viewer;
GRANT CREATE ON SCHEMA g31 TO regress_asof_g_viewer;
-- EXPLAIN ANALYZE, printed alike on every version (18 adds buffers and
-- shows actual rows with two decimals)
CREATE FUNCTION g31.explain_analyze(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) ' || q LOOP
    RETURN NEXT regexp_replace(l, 'rows=(\d+)\.00 ', 'rows=\1 ', 'g');
  END LOOP;
END $$;
SET ROLE regress_asof_g_owner;
CREATE TABLE g31.flights (
    id int PRIMARY KEY,
    dep_time timestamp,
    origin text NOT NULL,
    distance int NOT NULL,
    delay int,
    arr_time timestamp
);
-- Training rows (split 2001-03-01 at the end): ids 1-3; held out: 4-6.
INSERT INTO g31.flights VALUES
    (1, '2001-01-10 06:00', 'SFO', 337, 5, '2001-01-10 07:30'),
    (2, '2001-01-20 06:00', 'LAX', 337, 25, '2001-01-20 07:30'),
    (3, '2001-02-28 23:59:59', 'SFO', 2586, -3, '2001-03-01 08:00'),
    (4, '2001-03-01 00:00', 'SFO', 2586, 40, '2001-03-01 08:00'),
    (5, '2001-03-15 06:00', 'JFK', 2586, 60, '2001-03-15 12:00'),
    (6, NULL, 'SFO', 337, 7, NULL);
GRANT SELECT, INSERT, UPDATE, DELETE ON g31.flights TO regress_asof_g_analyst, regress_asof_g_viewer;
SELECT asof.protect('g31.flights', 'dep_time', label_columns => '{delay}',
                    future_columns => '{arr_time}', entity_columns => '{origin}');
RESET ROLE;

-- The message names the table and the column, never a value.
SELECT avg(delay) FROM g31.flights;
-- Other columns: fine (statistics over all rows, the future period too).
SELECT count(*), sum(distance), min(dep_time), max(dep_time) FROM g31.flights;
-- Future columns are refused like labels.
SELECT max(arr_time) FROM g31.flights;
SELECT count(*) FROM g31.flights WHERE origin = 'SFO';

-- Every clause: select list, WHERE, JOIN, GROUP BY, ORDER BY, window,
-- HAVING, DISTINCT ON, RETURNING, UPDATE ... WHERE, DELETE ... WHERE,
-- MERGE conditions, SELECT *, whole-row references.
SELECT id FROM g31.flights WHERE delay > 10;
SELECT id FROM g31.flights WHERE distance > 1000 ORDER BY id;
SELECT count(*) FROM g31.flights a JOIN g31.flights b ON a.delay = b.delay;
SELECT count(*) FROM g31.flights a JOIN g31.flights b ON a.origin = b.origin;
SELECT count(*) FROM g31.flights GROUP BY delay > 0;
SELECT origin, count(*) FROM g31.flights GROUP BY origin ORDER BY origin;
SELECT id FROM g31.flights ORDER BY delay LIMIT 1;
SELECT id FROM g31.flights ORDER BY dep_time LIMIT 1;
SELECT id, rank() OVER (ORDER BY delay) FROM g31.flights;
SELECT id, rank() OVER (PARTITION BY delay > 0 ORDER BY id) FROM g31.flights;
SELECT id, rank() OVER (PARTITION BY origin ORDER BY id) FROM g31.flights ORDER BY id;
SELECT origin FROM g31.flights GROUP BY origin HAVING max(delay) > 0;
SELECT DISTINCT ON (delay) id FROM g31.flights;
SELECT * FROM g31.flights;
SELECT id, dep_time, origin, distance FROM g31.flights ORDER BY id;
SELECT f FROM g31.flights f;
SELECT row_to_json(f) FROM g31.flights f;
SELECT f.* FROM g31.flights f;
SELECT count(f.*) FROM g31.flights f;
SELECT count(delay) FROM g31.flights;
SELECT count(*) FROM g31.flights WHERE delay IS NULL;
BEGIN;
UPDATE g31.flights SET distance = distance WHERE delay > 10;
ROLLBACK;
BEGIN;
UPDATE g31.flights SET distance = distance RETURNING delay;
ROLLBACK;
BEGIN;
-- Writing a label is not reading it.
UPDATE g31.flights SET delay = 0 WHERE id = 6;
UPDATE g31.flights SET delay = delay + 1 WHERE id = 6;
ROLLBACK;
BEGIN;
DELETE FROM g31.flights WHERE arr_time IS NULL;
ROLLBACK;
BEGIN;
DELETE FROM g31.flights WHERE id = 6 RETURNING id, origin;
ROLLBACK;
BEGIN;
INSERT INTO g31.flights VALUES (7, '2001-04-01', 'SFO', 337, 1, NULL) RETURNING delay;
ROLLBACK;
BEGIN;
INSERT INTO g31.flights VALUES (7, '2001-04-01', 'SFO', 337, 1, NULL) RETURNING id;
ROLLBACK;
BEGIN;
MERGE INTO g31.flights f USING (VALUES (1)) v(id) ON f.id = v.id
  WHEN MATCHED AND f.delay > 0 THEN UPDATE SET distance = 1;
ROLLBACK;
BEGIN;
MERGE INTO g31.flights f USING (VALUES (1)) v(id) ON f.id = v.id
  WHEN MATCHED AND f.distance > 0 THEN UPDATE SET distance = 1;
ROLLBACK;

-- Subqueries and CTEs: a reference that is executed counts, even when the
-- outer query does not use it; one the planner removes reads nothing.
SELECT count(*) FROM (SELECT id, delay FROM g31.flights) s;
SELECT count(*) FROM g31.flights WHERE id IN (SELECT id FROM g31.flights WHERE delay > 0);
SELECT count(*) FROM g31.flights WHERE id IN (SELECT id FROM g31.flights WHERE distance > 1000);
SELECT (SELECT max(delay) FROM g31.flights) IS NULL;
WITH c AS (SELECT delay FROM g31.flights) SELECT count(*) FROM c;
WITH c AS MATERIALIZED (SELECT delay FROM g31.flights) SELECT count(*) FROM c;
-- Not referenced: planned away.
WITH c AS (SELECT delay FROM g31.flights) SELECT count(*) FROM g31.flights;
-- Folded away by a constant false.
SELECT count(*) FROM (SELECT id, delay FROM g31.flights WHERE false) s;
SELECT delay FROM g31.flights WHERE 1 = 0;

-- Views: owned by another role, with the owner's privileges or the
-- invoker's.  A view whose definition reads the label refuses even when
-- the outer query does not select it.
SET ROLE regress_asof_g_viewer;
CREATE VIEW g31.v_label AS SELECT id, origin, delay FROM g31.flights;
CREATE VIEW g31.v_clean AS SELECT id, origin, distance FROM g31.flights;
CREATE VIEW g31.v_invoker WITH (security_invoker) AS SELECT id, delay FROM g31.flights;
GRANT SELECT ON g31.v_label, g31.v_clean, g31.v_invoker TO regress_asof_g_analyst;
RESET ROLE;
SET ROLE regress_asof_g_analyst;
SELECT count(*) FROM g31.v_label;
SELECT id FROM g31.v_label WHERE id = 1;
SELECT count(*), sum(distance) FROM g31.v_clean;
SELECT count(*) FROM g31.v_invoker;
RESET ROLE;

-- Functions: SQL (inlined and not), PL/pgSQL (static and dynamic SQL),
-- security definer.
CREATE FUNCTION g31.srf() RETURNS SETOF g31.flights LANGUAGE sql STABLE
  AS 'SELECT * FROM g31.flights';
CREATE FUNCTION g31.srf_clean() RETURNS TABLE (id int, distance int) LANGUAGE sql STABLE
  AS 'SELECT id, distance FROM g31.flights';
CREATE FUNCTION g31.avg_delay() RETURNS numeric LANGUAGE sql STABLE
  AS 'SELECT avg(delay) FROM g31.flights';
CREATE FUNCTION g31.avg_distance() RETURNS numeric LANGUAGE sql STABLE
  AS 'SELECT avg(distance) FROM g31.flights';
CREATE FUNCTION g31.plpgsql_static(col text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE r numeric;
BEGIN
  IF col = 'delay' THEN SELECT avg(delay) INTO r FROM g31.flights;
  ELSE SELECT avg(distance) INTO r FROM g31.flights; END IF;
  RETURN r;
END $$;
CREATE FUNCTION g31.plpgsql_dynamic(col text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE r numeric;
BEGIN
  EXECUTE format('SELECT count(%I) FROM g31.flights', col) INTO r;
  RETURN r;
END $$;
CREATE FUNCTION g31.definer(col text) RETURNS numeric LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE r numeric;
BEGIN
  EXECUTE format('SELECT avg(%I) FROM g31.flights', col) INTO r;
  RETURN r;
END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA g31 TO regress_asof_g_analyst;
SELECT count(*) FROM g31.srf();
SELECT count(*) FROM g31.srf_clean();
SELECT g31.avg_delay();
SELECT round(g31.avg_distance(), 2);
SELECT g31.plpgsql_static('delay');
SELECT round(g31.plpgsql_static('distance'), 2);
SELECT g31.plpgsql_dynamic('arr_time');
SELECT g31.plpgsql_dynamic('distance');
SET ROLE regress_asof_g_analyst;
SELECT g31.definer('delay');
SELECT round(g31.definer('distance'), 2);
RESET ROLE;

-- Cursors (refused at DECLARE), COPY t TO, COPY (query) TO, CREATE TABLE
-- AS, EXPLAIN ANALYZE (and plain EXPLAIN, which starts the executor too).
BEGIN;
DECLARE c CURSOR FOR SELECT id, delay FROM g31.flights;
ROLLBACK;
BEGIN;
DECLARE c CURSOR FOR SELECT id, distance FROM g31.flights ORDER BY id;
FETCH 2 FROM c;
ROLLBACK;
COPY g31.flights TO stdout;
COPY g31.flights (id, origin) TO stdout;
COPY (SELECT id, delay FROM g31.flights) TO stdout;
COPY (SELECT id, origin FROM g31.flights WHERE id < 3 ORDER BY id) TO stdout;
CREATE TABLE g31.copy AS SELECT id, delay FROM g31.flights;
CREATE TABLE g31.copy AS SELECT id, origin FROM g31.flights;
SELECT count(*) FROM g31.copy;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT avg(delay) FROM g31.flights;
EXPLAIN (COSTS OFF) SELECT avg(delay) FROM g31.flights;
SELECT * FROM g31.explain_analyze('SELECT count(*) FROM g31.flights') AS "QUERY PLAN";

-- Partitions (queried directly, columns in another order) and inheritance
-- children: mapped to the registered table by column name.
SET ROLE regress_asof_g_owner;
CREATE TABLE g31.pflights (id int, dep_time timestamp, delay int, origin text)
  PARTITION BY RANGE (dep_time);
CREATE TABLE g31.pflights_a PARTITION OF g31.pflights FOR VALUES FROM ('2001-01-01') TO ('2001-03-01');
CREATE TABLE g31.pflights_b (origin text, delay int, dep_time timestamp, id int);
ALTER TABLE g31.pflights ATTACH PARTITION g31.pflights_b FOR VALUES FROM ('2001-03-01') TO (MAXVALUE);
INSERT INTO g31.pflights VALUES (1, '2001-01-10 06:00', 5, 'SFO'), (2, '2001-01-20 06:00', 25, 'LAX'),
    (4, '2001-03-01 00:00', 40, 'SFO'), (5, '2001-03-15 06:00', 60, 'JFK');
SELECT asof.protect('g31.pflights', 'dep_time', '{delay}');
CREATE TABLE g31.iparent (id int, dep_time timestamp, delay int);
CREATE TABLE g31.ichild (extra text, delay2 int) INHERITS (g31.iparent);
INSERT INTO g31.ichild VALUES (1, '2001-01-01', 5, 'x', 1);
SELECT asof.protect('g31.iparent', 'dep_time', '{delay}');
RESET ROLE;
SELECT sum(delay) FROM g31.pflights;
SELECT sum(delay) FROM g31.pflights_b;
SELECT * FROM g31.pflights_a;
SELECT count(*), sum(id) FROM g31.pflights_b;
SELECT sum(delay) FROM g31.iparent;
SELECT delay FROM g31.ichild;
SELECT delay FROM ONLY g31.ichild;
SELECT extra, delay2 FROM g31.ichild;

-- Parallel workers: the leader refuses before any worker starts.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
-- force_parallel_mode is named debug_parallel_query from PostgreSQL 16 on
SELECT CASE WHEN current_setting('server_version_num')::int >= 160000
            THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END AS force_parallel \gset
SET :force_parallel = on;
SELECT avg(delay) FROM g31.flights;
SELECT count(*) FROM g31.flights;
RESET :force_parallel;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;

-- Every role: the owner, a plain role and (above) the superuser.
SET ROLE regress_asof_g_owner;
SELECT avg(delay) FROM g31.flights;
RESET ROLE;
SET ROLE regress_asof_g_analyst;
SELECT avg(delay) FROM g31.flights;
SELECT count(*) FROM g31.flights;
RESET ROLE;

-- asof.require_split: every read of a protected table waits for its split.
SET asof.require_split = on;
SELECT count(*) FROM g31.flights;
SELECT count(*) FROM g31.copy;
BEGIN;
INSERT INTO g31.flights VALUES (7, '2001-04-01', 'SFO', 337, 1, NULL);
ROLLBACK;
RESET asof.require_split;

-- A superuser can switch the guard off for the session.
SET asof.guard = off;
SELECT avg(delay) FROM g31.flights;
RESET asof.guard;
SELECT avg(delay) FROM g31.flights;

-- Prepared before the split, executed after it: re-planned.
SET plan_cache_mode = force_generic_plan;
PREPARE p_count AS SELECT count(*), sum(distance) FROM g31.flights;
PREPARE p_label AS SELECT count(*), sum(delay) FROM g31.flights;
EXECUTE p_count;
EXECUTE p_label;
SET ROLE regress_asof_g_owner;
SELECT asof.split('g31.flights', '2001-03-01');
RESET ROLE;
-- Training rows only: 3 rows, distances 337 + 337 + 2586, delays 5 + 25 - 3.
EXECUTE p_count;
EXECUTE p_label;
SELECT avg(delay)::numeric(10,2), max(arr_time) FROM g31.flights;
RESET plan_cache_mode;

-- Clean up.
DROP FUNCTION g31.explain_analyze(text);
DROP SCHEMA g31 CASCADE;
DROP OWNED BY regress_asof_g_owner, regress_asof_g_analyst, regress_asof_g_viewer;
DROP ROLE regress_asof_g_owner;
DROP ROLE regress_asof_g_analyst;
DROP ROLE regress_asof_g_viewer;
DELETE FROM asof.holdout_log;
