--
-- 34_guard_side: G3 (statistics, triggers, error details), G7 (DROP
-- EXTENSION while tables are protected).
--
\set SHOW_CONTEXT never
CREATE ROLE regress_asof_g_owner;
CREATE ROLE regress_asof_g_analyst;
CREATE SCHEMA g34 AUTHORIZATION regress_asof_g_owner;
GRANT USAGE ON SCHEMA g34 TO regress_asof_g_analyst;
SET ROLE regress_asof_g_owner;
CREATE TABLE g34.flights (
    id int PRIMARY KEY,
    dep_time timestamp,
    origin text NOT NULL,
    distance int NOT NULL CHECK (distance > 0),
    delay int,
    arr_time timestamp
);
INSERT INTO g34.flights
SELECT i, timestamp '2001-01-01' + i * interval '1 hour', (ARRAY['SFO', 'LAX', 'JFK'])[i % 3 + 1],
       100 + i % 7, i % 11 - 3, timestamp '2001-01-01' + i * interval '1 hour' + interval '90 minutes'
  FROM generate_series(1, 200) i;
CREATE TABLE g34.plain (LIKE g34.flights INCLUDING ALL);
INSERT INTO g34.plain SELECT * FROM g34.flights WHERE id <= 3;
CREATE STATISTICS g34.s_label (ndistinct) ON origin, delay FROM g34.flights;
CREATE STATISTICS g34.s_clean (ndistinct) ON origin, distance FROM g34.flights;
CREATE INDEX flights_expr ON g34.flights ((delay * 2));
GRANT SELECT, INSERT, UPDATE ON g34.flights, g34.plain TO regress_asof_g_analyst;
ANALYZE g34.flights;
RESET ROLE;

-- Before protect, ANALYZE collected statistics of every column, of the
-- expression index and of both extended statistics.
SELECT attname FROM pg_stats WHERE schemaname = 'g34' AND tablename = 'flights' ORDER BY attname;
SELECT count(*) AS expression_index_stats FROM pg_statistic WHERE starelid = 'g34.flights_expr'::regclass;
SELECT statistics_name, n_distinct IS NOT NULL AS has_data FROM pg_stats_ext
 WHERE schemaname = 'g34' ORDER BY 1;

-- protect deletes those of label and future columns and keeps them from
-- being collected again.
SET ROLE regress_asof_g_owner;
SELECT asof.protect('g34.flights', 'dep_time', '{delay}', future_columns => '{arr_time}');
RESET ROLE;
SELECT attname FROM pg_stats WHERE schemaname = 'g34' AND tablename = 'flights' ORDER BY attname;
SELECT count(*) AS expression_index_stats FROM pg_statistic WHERE starelid = 'g34.flights_expr'::regclass;
SELECT statistics_name, n_distinct IS NOT NULL AS has_data FROM pg_stats_ext
 WHERE schemaname = 'g34' ORDER BY 1;
ANALYZE g34.flights;
SELECT attname FROM pg_stats WHERE schemaname = 'g34' AND tablename = 'flights' ORDER BY attname;
SELECT count(*) AS expression_index_stats FROM pg_statistic WHERE starelid = 'g34.flights_expr'::regclass;
SELECT statistics_name, n_distinct IS NOT NULL AS has_data FROM pg_stats_ext
 WHERE schemaname = 'g34' ORDER BY 1;

-- Triggers receive whole rows: creating one on a protected table is
-- refused; on another table it works.
CREATE FUNCTION g34.trg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
SET ROLE regress_asof_g_owner;
CREATE TRIGGER t BEFORE INSERT ON g34.flights FOR EACH ROW EXECUTE FUNCTION g34.trg();
CREATE TRIGGER t BEFORE INSERT ON g34.plain FOR EACH ROW EXECUTE FUNCTION g34.trg();
RESET ROLE;
CREATE TRIGGER t BEFORE INSERT ON g34.flights FOR EACH ROW EXECUTE FUNCTION g34.trg();
DROP TRIGGER t ON g34.plain;

-- DDL that would reopen a side channel or detach the registration is
-- refused on a protected table, for the owner and superusers; the same
-- statements work on another table or on other columns.
SET ROLE regress_asof_g_owner;
CREATE STATISTICS g34.s_new (ndistinct) ON origin, delay FROM g34.flights;
CREATE STATISTICS g34.s_new (ndistinct) ON origin, distance FROM g34.plain;
CREATE INDEX ON g34.flights ((delay + 1));
CREATE INDEX ON g34.flights (origin);
CREATE INDEX ON g34.plain ((delay + 1));
ALTER TABLE g34.flights ALTER COLUMN delay SET STATISTICS 100;
ALTER TABLE g34.flights ALTER COLUMN distance SET STATISTICS 100;
ALTER TABLE g34.flights RENAME COLUMN delay TO delay_minutes;
ALTER TABLE g34.flights RENAME COLUMN dep_time TO departure;
ALTER TABLE g34.flights RENAME COLUMN distance TO distance_miles;
ALTER TABLE g34.flights RENAME COLUMN distance_miles TO distance;
ALTER TABLE g34.flights ALTER COLUMN distance SET STATISTICS -1;
ALTER TABLE g34.flights DROP COLUMN arr_time;
ALTER TABLE g34.flights ALTER COLUMN dep_time TYPE date;
ALTER TABLE g34.flights DISABLE ROW LEVEL SECURITY;
DROP POLICY asof_guard_deny ON g34.flights;
-- Statements that evaluate an expression on every row, held-out rows and
-- labels included: refused (CHECK constraints NOT VALID too: UPDATE
-- evaluates them, see 37_guard_ddl); the plain column is fine.
CREATE INDEX ON g34.flights (origin) WHERE delay > 0;
ALTER TABLE g34.flights ADD CONSTRAINT c CHECK (delay < 1000);
ALTER TABLE g34.flights ADD CONSTRAINT c CHECK (delay < 1000) NOT VALID;
ALTER TABLE g34.flights VALIDATE CONSTRAINT c;
ALTER TABLE g34.flights ADD COLUMN late boolean GENERATED ALWAYS AS (delay > 15) STORED;
ALTER TABLE g34.flights ADD COLUMN note text;
ALTER TABLE g34.flights ALTER COLUMN distance TYPE bigint USING distance + delay * 0;
ALTER TABLE g34.flights ALTER COLUMN note TYPE varchar;
ALTER TABLE g34.flights DROP COLUMN note;
RESET ROLE;
DROP POLICY asof_guard_permit ON g34.flights;
LOAD 'auto_explain';
-- A superuser with the guard off may.
SET asof.guard = off;
ALTER TABLE g34.flights ALTER COLUMN delay SET STATISTICS 0;
RESET asof.guard;

-- Constraint violations: the DETAIL (row values) is removed for errors
-- about a protected table, for superusers and plain roles alike; another
-- table keeps it.
INSERT INTO g34.flights VALUES (1, '2001-01-01', 'SFO', 1, 1, NULL);
INSERT INTO g34.plain VALUES (1, '2001-01-01', 'SFO', 1, 1, NULL);
UPDATE g34.flights SET distance = -1 WHERE id = 2;
UPDATE g34.plain SET distance = -1 WHERE id = 2;
INSERT INTO g34.flights VALUES (999, '2001-01-01', NULL, 1, 1, NULL);
SET ROLE regress_asof_g_analyst;
INSERT INTO g34.flights VALUES (1, '2001-01-01', 'SFO', 1, 1, NULL);
UPDATE g34.flights SET distance = -1 WHERE id = 2;
INSERT INTO g34.plain VALUES (1, '2001-01-01', 'SFO', 1, 1, NULL);
RESET ROLE;

-- G7: DROP EXTENSION is refused while tables are protected; CASCADE
-- unprotects them (policies dropped, row-level security restored) and says
-- so.
DROP EXTENSION pg_asof;
SELECT count(*) AS still_protected FROM asof.protected_tables;
SET client_min_messages = warning;
DROP EXTENSION pg_asof CASCADE;
RESET client_min_messages;
SELECT count(*) AS policies FROM pg_policy WHERE polrelid = 'g34.flights'::regclass;
SELECT relrowsecurity FROM pg_class WHERE oid = 'g34.flights'::regclass;
SELECT attname, attstattarget FROM pg_attribute
 WHERE attrelid = 'g34.flights'::regclass AND attnum > 0 AND NOT attisdropped AND attstattarget <> -1 ORDER BY attnum;
SELECT count(*), sum(delay) FROM g34.flights;
CREATE EXTENSION pg_asof;

-- Clean up.
DROP SCHEMA g34 CASCADE;
DROP OWNED BY regress_asof_g_owner, regress_asof_g_analyst;
DROP ROLE regress_asof_g_owner;
DROP ROLE regress_asof_g_analyst;
