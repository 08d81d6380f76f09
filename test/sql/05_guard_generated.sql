--
-- 05_guard_generated: generated columns and the guard (every version).
-- A generated column computed from a label hands the label to every
-- reader: asof.protect refuses such a table unless the generated column is
-- registered too, and a protected table takes no new generated column.
-- (17's SET EXPRESSION and 18's virtual columns: test/t/guard_version.sh.)
--
\set SHOW_CONTEXT never
CREATE SCHEMA g05;
CREATE TABLE g05.leaky (id int, ts timestamp, delay int,
                        late boolean GENERATED ALWAYS AS (delay > 15) STORED);
CREATE TABLE g05.fine (id int, ts timestamp, delay int,
                       id2 int GENERATED ALWAYS AS (id * 2) STORED);
INSERT INTO g05.leaky (id, ts, delay) VALUES (1, '2001-01-01', 5), (2, '2001-06-01', 30);
INSERT INTO g05.fine (id, ts, delay) VALUES (1, '2001-01-01', 5), (2, '2001-06-01', 30);

-- refused: "late" reads the label; nothing is registered
SELECT asof.protect('g05.leaky', 'ts', '{delay}');
SELECT count(*) AS registered FROM asof.protected_tables WHERE table_name::text LIKE 'g05.%';
-- reads through "late" are what the refusal prevents
SELECT id, late FROM g05.leaky ORDER BY id;
-- accepted when the generated column is registered as a label too; then
-- it is refused like the label itself
SELECT asof.protect('g05.leaky', 'ts', '{delay,late}');
SELECT late FROM g05.leaky;
SELECT count(*) FROM g05.leaky;
-- accepted: "id2" reads no label and stays readable
SELECT asof.protect('g05.fine', 'ts', '{delay}');
SELECT id, id2 FROM g05.fine ORDER BY id;
SELECT delay FROM g05.fine;
-- a protected table takes no new generated column, whatever it reads
ALTER TABLE g05.fine ADD COLUMN d2 int GENERATED ALWAYS AS (delay * 2) STORED;
ALTER TABLE g05.fine ADD COLUMN i3 int GENERATED ALWAYS AS (id * 3) STORED;
SELECT count(*) AS columns FROM pg_attribute WHERE attrelid = 'g05.fine'::regclass AND attnum > 0;
-- an unprotected table does
CREATE TABLE g05.plain (id int, delay int);
ALTER TABLE g05.plain ADD COLUMN d2 int GENERATED ALWAYS AS (delay * 2) STORED;

SET client_min_messages = warning;
DROP SCHEMA g05 CASCADE;
RESET client_min_messages;
SELECT count(*) AS registered_left FROM asof.protected_tables WHERE table_name::text LIKE 'g05.%';
