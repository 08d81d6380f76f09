--
-- 32_guard_rows: G2.  After the split, held-out rows (time >= test_from or
-- NULL time) are invisible on every path, to every role, the owner and
-- superusers included; training rows keep their label and future columns.
--
\set SHOW_CONTEXT never
CREATE ROLE regress_asof_g_owner;
CREATE ROLE regress_asof_g_analyst;
CREATE ROLE regress_asof_g_viewer;
CREATE SCHEMA g32 AUTHORIZATION regress_asof_g_owner;
GRANT USAGE ON SCHEMA g32 TO regress_asof_g_analyst, regress_asof_g_viewer;
GRANT CREATE ON SCHEMA g32 TO regress_asof_g_viewer;
-- EXPLAIN ANALYZE, printed alike on every version (18 adds buffers and
-- shows actual rows with two decimals)
CREATE FUNCTION g32.explain_analyze(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) ' || q LOOP
    RETURN NEXT regexp_replace(l, 'rows=(\d+)\.00 ', 'rows=\1 ', 'g');
  END LOOP;
END $$;
SET ROLE regress_asof_g_owner;
CREATE TABLE g32.flights (
    id int PRIMARY KEY,
    dep_time timestamp,
    origin text NOT NULL,
    distance int NOT NULL,
    delay int,
    arr_time timestamp
);
-- Split 2001-03-01: training rows 1-3 (delays 5, 25, -3: sum 27, distances
-- 337, 337, 2586: sum 3260); held out 4 (exactly at the cutoff), 5, 6
-- (NULL time).
INSERT INTO g32.flights VALUES
    (1, '2001-01-10 06:00', 'SFO', 337, 5, '2001-01-10 07:30'),
    (2, '2001-01-20 06:00', 'LAX', 337, 25, '2001-01-20 07:30'),
    (3, '2001-02-28 23:59:59', 'SFO', 2586, -3, '2001-03-01 08:00'),
    (4, '2001-03-01 00:00', 'SFO', 2586, 40, '2001-03-01 08:00'),
    (5, '2001-03-15 06:00', 'JFK', 2586, 60, '2001-03-15 12:00'),
    (6, NULL, 'SFO', 337, 7, NULL);
GRANT SELECT, INSERT, UPDATE, DELETE ON g32.flights TO regress_asof_g_analyst, regress_asof_g_viewer;
SELECT asof.protect('g32.flights', 'dep_time', label_columns => '{delay}',
                    future_columns => '{arr_time}', entity_columns => '{origin}');
SELECT asof.split('g32.flights', '2001-03-01');
RESET ROLE;

-- Counts and aggregates see the training rows only, for every role.
SELECT count(*), sum(delay), sum(distance), max(dep_time), max(arr_time) FROM g32.flights;
SET ROLE regress_asof_g_owner;
SELECT count(*), sum(delay), sum(distance) FROM g32.flights;
RESET ROLE;
SET ROLE regress_asof_g_analyst;
SELECT count(*), sum(delay), sum(distance) FROM g32.flights;
RESET ROLE;
SELECT * FROM g32.flights ORDER BY id;
SELECT f FROM g32.flights f ORDER BY id;
-- Asking for held-out rows by their time, id or a NULL time finds nothing.
SELECT count(*) FROM g32.flights WHERE dep_time >= '2001-03-01' OR dep_time IS NULL;
SELECT count(*) FROM g32.flights WHERE id IN (4, 5, 6);
-- The row filter is a security qual, evaluated before a leaky function.
CREATE FUNCTION g32.leak(int, int) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN RAISE NOTICE 'leak saw id % delay %', $1, $2; RETURN true; END $$;
GRANT EXECUTE ON FUNCTION g32.leak(int, int) TO regress_asof_g_analyst;
SET ROLE regress_asof_g_analyst;
SELECT count(*) FROM g32.flights WHERE g32.leak(id, delay);
RESET ROLE;
EXPLAIN (COSTS OFF) SELECT count(*) FROM g32.flights WHERE g32.leak(id, delay);
-- Also when the planner flattens a UNION ALL of it (each member's filter
-- comes first).
SET ROLE regress_asof_g_analyst;
SELECT count(*) FROM (SELECT id, delay FROM g32.flights UNION ALL
                      SELECT id, delay FROM g32.flights) u WHERE g32.leak(id, delay);
RESET ROLE;
EXPLAIN (COSTS OFF) SELECT count(*) FROM (SELECT id, delay FROM g32.flights UNION ALL
                      SELECT id, delay FROM g32.flights) u WHERE g32.leak(id, delay);

-- Views owned by another role, security-invoker views, CTEs, subqueries.
SET ROLE regress_asof_g_viewer;
CREATE VIEW g32.v AS SELECT id, delay FROM g32.flights;
CREATE VIEW g32.v_invoker WITH (security_invoker) AS SELECT id, delay FROM g32.flights;
GRANT SELECT ON g32.v, g32.v_invoker TO regress_asof_g_analyst;
RESET ROLE;
SET ROLE regress_asof_g_analyst;
SELECT count(*), sum(delay) FROM g32.v;
SELECT count(*), sum(delay) FROM g32.v_invoker;
WITH c AS MATERIALIZED (SELECT * FROM g32.flights) SELECT count(*), sum(delay) FROM c;
SELECT count(*) FROM (SELECT * FROM g32.flights) s;
SELECT (SELECT count(*) FROM g32.flights), (SELECT max(id) FROM g32.flights);
SELECT count(*) FROM g32.flights a JOIN g32.flights b USING (origin);
RESET ROLE;

-- Functions: SQL inlined (set-returning) and not, PL/pgSQL static and
-- dynamic, security definer.
CREATE FUNCTION g32.srf() RETURNS SETOF g32.flights LANGUAGE sql STABLE
  AS 'SELECT * FROM g32.flights';
CREATE FUNCTION g32.scalar() RETURNS bigint LANGUAGE sql STABLE
  AS 'SELECT count(*) FROM g32.flights';
CREATE FUNCTION g32.dyn() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN EXECUTE 'SELECT count(*) FROM g32.flights' INTO n; RETURN n; END $$;
CREATE FUNCTION g32.stat() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN SELECT count(*) INTO n FROM g32.flights; RETURN n; END $$;
CREATE FUNCTION g32.definer() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE n bigint;
BEGIN SELECT count(*) INTO n FROM g32.flights; RETURN n; END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA g32 TO regress_asof_g_analyst;
SET ROLE regress_asof_g_analyst;
SELECT count(*), sum(delay) FROM g32.srf();
EXPLAIN (COSTS OFF) SELECT count(*) FROM g32.srf();
SELECT g32.scalar(), g32.dyn(), g32.stat(), g32.definer();
RESET ROLE;

-- Prepared statements and cursors.
PREPARE p AS SELECT count(*) FROM g32.flights WHERE dep_time >= $1;
EXECUTE p('2001-01-01');
EXECUTE p('2001-03-01');
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM g32.flights ORDER BY id;
FETCH ALL FROM c;
COMMIT;

-- COPY: the relation form is refused with a hint; the query form, CREATE
-- TABLE AS and EXPLAIN ANALYZE see the training rows.
COPY g32.flights TO stdout;
COPY g32.flights (id) TO stdout;
COPY (SELECT id, delay FROM g32.flights ORDER BY id) TO stdout;
CREATE TABLE g32.copy AS SELECT * FROM g32.flights;
SELECT count(*), sum(delay) FROM g32.copy;
SELECT * FROM g32.explain_analyze('SELECT * FROM g32.flights') AS "QUERY PLAN";
-- COPY FROM (loading new rows) is not a read.
COPY g32.copy FROM stdin;
7	2001-04-01 00:00:00	SFO	337	1	\N
\.

-- UPDATE and DELETE cannot reach held-out rows.
SET ROLE regress_asof_g_analyst;
UPDATE g32.flights SET distance = distance + 1;
DELETE FROM g32.flights WHERE id = 5;
UPDATE g32.flights SET distance = distance - 1 RETURNING id;
RESET ROLE;
SET asof.guard = off;
SELECT id, distance FROM g32.flights ORDER BY id;
RESET asof.guard;
-- INSERT ... ON CONFLICT DO UPDATE is refused (the conflict row is fetched
-- past the filter); DO NOTHING and plain INSERT work.
INSERT INTO g32.flights VALUES (5, '2001-01-01', 'SFO', 1, 1, NULL)
  ON CONFLICT (id) DO UPDATE SET distance = excluded.distance;
INSERT INTO g32.flights VALUES (1, '2001-01-01', 'SFO', 1, 1, NULL)
  ON CONFLICT (id) DO UPDATE SET distance = excluded.distance;
BEGIN;
INSERT INTO g32.flights VALUES (7, '2001-02-01', 'SFO', 1, 1, NULL)
  ON CONFLICT (id) DO NOTHING;
INSERT INTO g32.flights VALUES (8, '2001-04-01', 'SFO', 1, 1, NULL);
SELECT count(*) FROM g32.flights;
ROLLBACK;

-- Parallel workers evaluate the same filter.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
-- force_parallel_mode is named debug_parallel_query from PostgreSQL 16 on
SELECT CASE WHEN current_setting('server_version_num')::int >= 160000
            THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END AS force_parallel \gset
SET :force_parallel = on;
SELECT count(*), sum(delay) FROM g32.flights;
EXPLAIN (COSTS OFF) SELECT count(*) FROM g32.flights;
RESET :force_parallel;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;

-- Partitioned table (a partition with its columns in another order) and
-- inheritance: the parent, the partition or child queried directly.
SET ROLE regress_asof_g_owner;
CREATE TABLE g32.pflights (id int, dep_time timestamp, delay int) PARTITION BY RANGE (id);
CREATE TABLE g32.pflights_a PARTITION OF g32.pflights FOR VALUES FROM (0) TO (3);
CREATE TABLE g32.pflights_b (delay int, id int, dep_time timestamp);
ALTER TABLE g32.pflights ATTACH PARTITION g32.pflights_b FOR VALUES FROM (3) TO (100);
INSERT INTO g32.pflights VALUES (1, '2001-01-01', 1), (2, '2001-04-01', 2),
    (3, '2001-01-01', 10), (4, '2001-04-01', 20), (5, NULL, 40);
SELECT asof.protect('g32.pflights', 'dep_time', '{delay}');
SELECT asof.split('g32.pflights', '2001-03-01');
CREATE TABLE g32.iparent (id int, dep_time timestamp, delay int);
CREATE TABLE g32.ichild (extra text, dep2 timestamp) INHERITS (g32.iparent);
INSERT INTO g32.iparent VALUES (1, '2001-01-01', 1), (2, '2001-04-01', 2);
INSERT INTO g32.ichild VALUES (3, '2001-01-01', 10, 'x', '2001-01-01'), (4, '2001-04-01', 20, 'y', '2001-01-01');
SELECT asof.protect('g32.iparent', 'dep_time', '{delay}');
SELECT asof.split('g32.iparent', '2001-03-01');
RESET ROLE;
-- Rows 1 and 3 only: delays 1 + 10.
SELECT count(*), sum(delay) FROM g32.pflights;
SELECT count(*), sum(delay) FROM g32.pflights_a;
SELECT count(*), sum(delay) FROM g32.pflights_b;
EXPLAIN (COSTS OFF) SELECT * FROM g32.pflights_b;
SELECT count(*), sum(delay) FROM g32.iparent;
SELECT count(*), sum(delay) FROM ONLY g32.iparent;
SELECT count(*), sum(delay) FROM g32.ichild;
-- UNION ALL of a protected table.
SELECT count(*) FROM (SELECT id FROM g32.flights UNION ALL SELECT id FROM g32.pflights_b) u;

-- Moving the split applies at once (plans are invalidated).
SET plan_cache_mode = force_generic_plan;
PREPARE q AS SELECT count(*) FROM g32.flights;
EXECUTE q;
SET ROLE regress_asof_g_owner;
SELECT asof.split('g32.flights', '2001-03-15 06:00');
RESET ROLE;
EXECUTE q;
SET ROLE regress_asof_g_owner;
SELECT asof.split('g32.flights', '2001-01-15');
RESET ROLE;
EXECUTE q;
RESET plan_cache_mode;

-- unprotect: every row is back.
SET ROLE regress_asof_g_owner;
SELECT asof.unprotect('g32.flights');
RESET ROLE;
EXECUTE q;
SELECT count(*), sum(delay) FROM g32.v;

-- Clean up.
DROP FUNCTION g32.explain_analyze(text);
DROP SCHEMA g32 CASCADE;
DROP OWNED BY regress_asof_g_owner, regress_asof_g_analyst, regress_asof_g_viewer;
DROP ROLE regress_asof_g_owner;
DROP ROLE regress_asof_g_analyst;
DROP ROLE regress_asof_g_viewer;
DELETE FROM asof.holdout_log;
