--
-- 37_guard_ddl: DDL that would open a door around the guard (issue 10,
-- classes 6, 7 and 9), each refused on a protected table next to the same
-- statement that works on an unprotected one (or on a column where it is
-- safe).  Fixture: g37.t(id, ts, x, label, fut) protected with label
-- "label" and future column "fut"; g37.plain, the same shape, unprotected.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
CREATE ROLE regress_g37_owner;
CREATE ROLE regress_g37_analyst;
CREATE SCHEMA g37 AUTHORIZATION regress_g37_owner;
GRANT USAGE, CREATE ON SCHEMA g37 TO regress_g37_analyst;
SET ROLE regress_g37_owner;
CREATE TABLE g37.t (id int NOT NULL, ts timestamp, x int, label int, fut int);
INSERT INTO g37.t SELECT i, timestamp '2020-01-01' + i * interval '10 days', i % 3, i % 4, i
  FROM generate_series(1, 12) i;
CREATE TABLE g37.plain (LIKE g37.t);
INSERT INTO g37.plain SELECT * FROM g37.t;
CREATE INDEX t_ts ON g37.t (ts);
CREATE INDEX t_x ON g37.t (x);
CREATE INDEX t_label ON g37.t (label);
CREATE INDEX t_expr ON g37.t ((x + label));
CREATE INDEX plain_label ON g37.plain (label);
CREATE INDEX plain_expr ON g37.plain ((x + label));
CREATE STATISTICS g37.s_label ON x, label FROM g37.t;
CREATE STATISTICS g37.s_clean ON id, x FROM g37.t;
SELECT asof.protect('g37.t', 'ts', '{label}', future_columns => '{fut}');

-- 1. CHECK constraints: refused on a protected table in every form,
-- validated or NOT VALID (every UPDATE evaluates them, label columns
-- included: a CHECK (label < 2) NOT VALID followed by UPDATE ... SET x = x
-- would fail exactly on the rows whose label is 2 or more), whatever
-- column they read, alone, with ONLY, or among other subcommands (nothing
-- of the statement is done); on the unprotected table they work.
ALTER TABLE g37.t ADD CONSTRAINT c CHECK (label < 2) NOT VALID;
ALTER TABLE g37.t ADD CONSTRAINT c CHECK (x < 2) NOT VALID;
ALTER TABLE ONLY g37.t ADD CONSTRAINT c CHECK (x < 2);
ALTER TABLE g37.t ADD COLUMN c int CHECK (c > 0);
ALTER TABLE g37.t ADD COLUMN d int, ADD CONSTRAINT c CHECK (x < 2) NOT VALID;
SELECT conname FROM pg_constraint WHERE conrelid = 'g37.t'::regclass AND contype = 'c';
SELECT count(*) AS column_d FROM pg_attribute WHERE attrelid = 'g37.t'::regclass AND attname = 'd';
ALTER TABLE g37.plain ADD CONSTRAINT c CHECK (label < 2) NOT VALID;
-- (what the refusal prevents, shown on the unprotected table: the UPDATE
-- of a non-label column fails on a row whose label is 2 or more)
UPDATE g37.plain SET x = x WHERE id = 2;
UPDATE g37.plain SET x = x WHERE id = 4;
ALTER TABLE g37.plain DROP CONSTRAINT c;

-- 2. Unique keys over a label or future column are an oracle for its
-- values (INSERT ... ON CONFLICT DO NOTHING inserts or not): refused as
-- unique indexes, primary keys, UNIQUE and EXCLUDE constraints; a key of
-- other columns (label only INCLUDEd, which takes no part in uniqueness)
-- works, and so does a unique label on the unprotected table.
CREATE UNIQUE INDEX ON g37.t (label, id);
ALTER TABLE g37.t ADD PRIMARY KEY (fut);
ALTER TABLE g37.t ADD UNIQUE (x, label);
ALTER TABLE g37.t ADD CONSTRAINT ex EXCLUDE USING btree (label WITH =);
ALTER TABLE g37.t ADD COLUMN e int UNIQUE, ADD UNIQUE (id, fut);
-- (SET NOT NULL checks every row too: refused on a label or future
-- column, fine on another column)
ALTER TABLE g37.t ALTER COLUMN label SET NOT NULL;
ALTER TABLE g37.t ALTER COLUMN x SET NOT NULL;
ALTER TABLE g37.t ALTER COLUMN x DROP NOT NULL;
CREATE UNIQUE INDEX t_id_inc ON g37.t (id) INCLUDE (label);
ALTER TABLE g37.t ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX ON g37.plain (id, label);
SELECT indexrelid::regclass AS unique_index FROM pg_index
 WHERE indrelid = 'g37.t'::regclass AND indisunique ORDER BY indexrelid::regclass::text;

-- 3. Statistics targets.  asof.protect set the label and future columns,
-- the index expression column and the statistics object over a label to
-- 0.  Raising one again, by name, by column number, through ALTER INDEX,
-- through ALTER TABLE naming the index, or through ALTER STATISTICS, is
-- refused; setting 0 is allowed, and so are other columns, the other
-- statistics object, and the unprotected table's index.
ALTER TABLE g37.t ALTER COLUMN label SET STATISTICS 100;
ALTER TABLE g37.t ALTER COLUMN 4 SET STATISTICS 100;
ALTER TABLE g37.t ALTER COLUMN fut SET STATISTICS -1;
ALTER INDEX g37.t_expr ALTER COLUMN 1 SET STATISTICS 100;
ALTER TABLE g37.t_expr ALTER COLUMN 1 SET STATISTICS 100;
ALTER STATISTICS g37.s_label SET STATISTICS 100;
ALTER TABLE g37.t ALTER COLUMN label SET STATISTICS 0;
ALTER INDEX g37.t_expr ALTER COLUMN 1 SET STATISTICS 0;
ALTER TABLE g37.t ALTER COLUMN x SET STATISTICS 200;
ALTER STATISTICS g37.s_clean SET STATISTICS 200;
ALTER INDEX g37.plain_expr ALTER COLUMN 1 SET STATISTICS 100;
SELECT attrelid::regclass, attname, coalesce(attstattarget, -1) AS attstattarget FROM pg_attribute
 WHERE attrelid IN ('g37.t'::regclass, 'g37.t_expr'::regclass) AND attnum > 0 ORDER BY attrelid::regclass::text, attnum;
SELECT stxname, stxstattarget FROM pg_statistic_ext WHERE stxrelid = 'g37.t'::regclass ORDER BY 1;

-- 4. CLUSTER orders the rows physically; ctid then shows label values, or
-- where held-out rows sit between training rows.  Refused on an index over
-- a label or an expression, or not led by the time column (CLUSTER ...
-- USING, ALTER TABLE ... CLUSTER ON, and CLUSTER of a table or of every
-- table when the clustered index is such a one); the time column's index
-- works, and any index on the unprotected table.
CLUSTER g37.t USING t_label;
ALTER TABLE g37.t CLUSTER ON t_label;
CLUSTER g37.t USING t_x;
CLUSTER g37.t USING t_expr;
CLUSTER g37.t USING t_ts;
CLUSTER g37.t;
CLUSTER g37.plain USING plain_label;
SELECT indexrelid::regclass AS clustered FROM pg_index
 WHERE indrelid IN ('g37.t'::regclass, 'g37.plain'::regclass) AND indisclustered ORDER BY indexrelid::regclass::text;
-- A clustered index set before the table was protected: CLUSTER of the
-- table and the bare CLUSTER (every table with a clustered index) refuse.
RESET ROLE;
SET asof.guard = off;
ALTER TABLE g37.t CLUSTER ON t_label;
RESET asof.guard;
SET ROLE regress_g37_owner;
CLUSTER g37.t;
CLUSTER;
ALTER TABLE g37.t SET WITHOUT CLUSTER;
CLUSTER;

-- 4b. Index rebuilds evaluate index expressions on every row.  An
-- expression index created before asof.protect that calls a function that
-- is not built in (its owner can replace the body, say with a RAISE NOTICE
-- of its argument): REINDEX (index, table, schema), VACUUM FULL, CLUSTER
-- and the ALTER TABLE subcommands that may rewrite the table are refused;
-- on g37.t, whose expression index uses built-in operators only, they
-- work, and so they do on g37.u once that index is dropped.
CREATE FUNCTION g37.f(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$BEGIN RETURN $1; END$$;
CREATE TABLE g37.u (id int, ts timestamp, x int, label int);
INSERT INTO g37.u VALUES (1, '2020-01-10', 1, 1), (2, '2020-06-10', 2, 2);
CREATE INDEX u_f ON g37.u (g37.f(label));
CREATE INDEX u_ts ON g37.u (ts);
SELECT asof.protect('g37.u', 'ts', '{label}');
REINDEX INDEX g37.u_f;
REINDEX TABLE g37.u;
REINDEX SCHEMA g37;
VACUUM (FULL) g37.u;
CLUSTER g37.u USING u_ts;
ALTER TABLE g37.u SET UNLOGGED;
ALTER TABLE g37.u ADD COLUMN n int DEFAULT random();
REINDEX TABLE g37.t;
VACUUM (FULL) g37.t;
ALTER TABLE g37.t SET UNLOGGED;
ALTER TABLE g37.t SET LOGGED;
DROP INDEX g37.u_f;
REINDEX TABLE g37.u;
VACUUM (FULL) g37.u;

-- 5. Generated columns: refused (they are computed from every row and can
-- be read where the label cannot); an identity column is fine.
ALTER TABLE g37.t ADD COLUMN late boolean GENERATED ALWAYS AS (label > 2) STORED;
ALTER TABLE g37.t ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY;
ALTER TABLE g37.plain ADD COLUMN late boolean GENERATED ALWAYS AS (label > 2) STORED;

-- 5b. Domains and typed tables: validating a domain constraint checks
-- every column of the domain in every table (a failing check names the
-- table: an oracle for labels); refused while a protected table has such
-- a column (PostgreSQL itself refuses it for arrays), fine NOT VALID or for a
-- domain no protected table uses.  ALTER TYPE ... CASCADE would rewrite a
-- protected typed table: refused; without typed tables protected, fine.
RESET ROLE;
CREATE DOMAIN g37.lab AS int;
CREATE DOMAIN g37.other AS int;
CREATE TYPE g37.row_t AS (id int, ts timestamp, label int);
CREATE TYPE g37.row_u AS (id int, ts timestamp, label int);
CREATE TABLE g37.dt (id int, ts timestamp, label g37.lab);
CREATE TABLE g37.typed OF g37.row_t;
CREATE TABLE g37.typed_plain OF g37.row_u;
INSERT INTO g37.dt VALUES (1, '2020-01-01', 3);
SELECT asof.protect('g37.dt', 'ts', '{label}');
SELECT asof.protect('g37.typed', 'ts', '{label}');
ALTER DOMAIN g37.lab ADD CONSTRAINT small CHECK (VALUE < 2);
ALTER DOMAIN g37.lab SET NOT NULL;
ALTER DOMAIN g37.lab ADD CONSTRAINT small CHECK (VALUE < 2) NOT VALID;
ALTER DOMAIN g37.lab VALIDATE CONSTRAINT small;
ALTER DOMAIN g37.other ADD CONSTRAINT small CHECK (VALUE < 2);
ALTER TYPE g37.row_t ALTER ATTRIBUTE label TYPE bigint CASCADE;
ALTER TYPE g37.row_t DROP ATTRIBUTE label CASCADE;
ALTER TYPE g37.row_u ALTER ATTRIBUTE label TYPE bigint CASCADE;
SELECT conname, convalidated FROM pg_constraint WHERE contypid IN ('g37.lab'::regtype, 'g37.other'::regtype) ORDER BY 1, 2;
SELECT attrelid::regclass, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid IN ('g37.typed'::regclass, 'g37.typed_plain'::regclass) AND attname = 'label' ORDER BY attrelid::regclass::text;
SET ROLE regress_g37_owner;

-- 6. A partition or child that leaves a protected table loses its
-- protection: DETACH PARTITION (CONCURRENTLY too) and NO INHERIT (with
-- ONLY too) are refused; on unprotected tables they work.
CREATE TABLE g37.pt (id int, ts timestamp, x int, label int, fut int) PARTITION BY RANGE (ts);
CREATE TABLE g37.pt_a PARTITION OF g37.pt FOR VALUES FROM (MINVALUE) TO ('2020-03-01');
CREATE INDEX pt_expr ON g37.pt ((x + 1));
SELECT asof.protect('g37.pt', 'ts', '{label}');
CREATE TABLE g37.ih (id int, ts timestamp, x int, label int, fut int);
SELECT asof.protect('g37.ih', 'ts', '{label}');
CREATE TABLE g37.ih_c () INHERITS (g37.ih);
CREATE TABLE g37.ppt (LIKE g37.pt) PARTITION BY RANGE (ts);
CREATE TABLE g37.ppt_a PARTITION OF g37.ppt FOR VALUES FROM (MINVALUE) TO ('2020-03-01');
CREATE TABLE g37.pih_c () INHERITS (g37.plain);
ALTER TABLE g37.pt DETACH PARTITION g37.pt_a;
ALTER TABLE g37.pt DETACH PARTITION g37.pt_a CONCURRENTLY;
ALTER TABLE g37.ih_c NO INHERIT g37.ih;
ALTER TABLE ONLY g37.ih_c NO INHERIT g37.ih;
ALTER TABLE g37.ppt DETACH PARTITION g37.ppt_a;
ALTER TABLE g37.pih_c NO INHERIT g37.plain;
SELECT inhrelid::regclass AS member, inhparent::regclass AS parent FROM pg_inherits
 WHERE inhparent IN ('g37.pt'::regclass, 'g37.ih'::regclass, 'g37.ppt'::regclass, 'g37.plain'::regclass)
 ORDER BY inhrelid::regclass::text;

-- 7. A new partition or child of a protected table is checked as the
-- catalog resolved it, whatever the syntax: CHECK constraints (in CREATE
-- TABLE ... PARTITION OF, WITH OPTIONS, copied by LIKE ... INCLUDING ALL,
-- or on a table attached), generated columns, extended statistics, and
-- indexes the guard refuses (a unique index over the label) are refused,
-- and nothing is created or attached.
CREATE TABLE g37.pt_b PARTITION OF g37.pt (CHECK (label < 2)) FOR VALUES FROM ('2020-03-01') TO ('2020-04-01');
CREATE TABLE g37.pt_b PARTITION OF g37.pt (label WITH OPTIONS CHECK (label < 2)) FOR VALUES FROM ('2020-03-01') TO ('2020-04-01');
CREATE TABLE g37.src (id int, ts timestamp, x int, label int CHECK (label < 2), fut int);
CREATE TABLE g37.ih_d (LIKE g37.src INCLUDING ALL) INHERITS (g37.ih);
CREATE TABLE g37.ih_d (LIKE g37.src INCLUDING ALL, late int GENERATED ALWAYS AS (label * 2) STORED);
ALTER TABLE g37.ih_d INHERIT g37.ih;
ALTER TABLE g37.ih_d DROP CONSTRAINT src_label_check;
ALTER TABLE g37.ih_d INHERIT g37.ih;
ALTER TABLE g37.ih_d DROP COLUMN late;
CREATE STATISTICS g37.s_d ON x, label FROM g37.ih_d;
ALTER TABLE g37.ih_d INHERIT g37.ih;
DROP STATISTICS g37.s_d;
CREATE UNIQUE INDEX ih_d_u ON g37.ih_d (label, id);
ALTER TABLE g37.ih_d INHERIT g37.ih;
CREATE TABLE g37.pt_c (LIKE g37.pt);
CREATE UNIQUE INDEX pt_c_u ON g37.pt_c (label, ts);
ALTER TABLE g37.pt ATTACH PARTITION g37.pt_c FOR VALUES FROM ('2020-04-01') TO ('2020-05-01');
SELECT c.relname AS not_created FROM (VALUES ('pt_b')) v(n) LEFT JOIN pg_class c
    ON c.relname = v.n AND c.relnamespace = 'g37'::regnamespace;
SELECT inhrelid::regclass AS member FROM pg_inherits
 WHERE inhparent IN ('g37.pt'::regclass, 'g37.ih'::regclass) ORDER BY inhrelid::regclass::text;
-- Without them it works; the statistics of the new member's label column
-- and index expressions are deleted (a table attached after ANALYZE) and
-- their targets set to 0, as asof.protect did for the parent.
CREATE TABLE g37.pt_b PARTITION OF g37.pt FOR VALUES FROM ('2020-03-01') TO ('2020-04-01');
DROP INDEX g37.ih_d_u;
INSERT INTO g37.ih_d VALUES (1, '2020-01-01', 1, 1, 1);
ANALYZE g37.ih_d;
SELECT attname AS ih_d_stats_before FROM pg_stats WHERE schemaname = 'g37' AND tablename = 'ih_d' ORDER BY 1;
ALTER TABLE g37.ih_d INHERIT g37.ih;
SELECT attname AS ih_d_stats_after FROM pg_stats WHERE schemaname = 'g37' AND tablename = 'ih_d' ORDER BY 1;
SELECT a.attrelid::regclass, a.attname, coalesce(a.attstattarget, -1) AS attstattarget FROM pg_attribute a
 WHERE a.attrelid IN ('g37.pt_b'::regclass, 'g37.ih_d'::regclass, 'g37.pt_b_expr_idx'::regclass)
   AND a.attnum > 0 AND NOT a.attisdropped AND coalesce(a.attstattarget, -1) <> -1 ORDER BY a.attrelid::regclass::text, a.attnum;

-- A superuser with the guard off may create a partition with a CHECK;
-- its statistics are closed all the same (the guard is on again later).
RESET ROLE;
SET asof.guard = off;
CREATE TABLE g37.pt_e PARTITION OF g37.pt (CHECK (x >= 0)) FOR VALUES FROM ('2020-06-01') TO ('2020-07-01');
RESET asof.guard;
SELECT a.attrelid::regclass, a.attname, coalesce(a.attstattarget, -1) AS attstattarget FROM pg_attribute a
 WHERE a.attrelid IN ('g37.pt_e'::regclass, 'g37.pt_e_expr_idx'::regclass)
   AND a.attnum > 0 AND NOT a.attisdropped AND coalesce(a.attstattarget, -1) <> -1 ORDER BY a.attrelid::regclass::text, a.attnum;
SET ROLE regress_g37_owner;

-- 8. Publications: logical replication sends every row.  A publication
-- that would include a protected table or one of its partitions is
-- refused, however it names it (FOR TABLE, FOR ALL TABLES, FOR TABLES IN
-- SCHEMA, ALTER PUBLICATION ... ADD / SET, a table moved into a published
-- schema, a new partition of a protected table in one); a publication of
-- the unprotected table works.
RESET ROLE;
SET client_min_messages = error;	-- (wal_level is not logical here)
CREATE SCHEMA g37pub;
CREATE PUBLICATION regress_g37_p1 FOR TABLE g37.t;
CREATE PUBLICATION regress_g37_p1 FOR TABLE g37.pt_a;
CREATE PUBLICATION regress_g37_p1 FOR ALL TABLES;
CREATE PUBLICATION regress_g37_p1 FOR TABLES IN SCHEMA g37;
CREATE PUBLICATION regress_g37_p1 FOR TABLE g37.plain;
ALTER PUBLICATION regress_g37_p1 ADD TABLE g37.t;
ALTER PUBLICATION regress_g37_p1 SET TABLE g37.pt;
ALTER PUBLICATION regress_g37_p1 ADD TABLES IN SCHEMA g37;
ALTER PUBLICATION regress_g37_p1 ADD TABLES IN SCHEMA g37pub;
ALTER TABLE g37.ih SET SCHEMA g37pub;
CREATE TABLE g37pub.pt_d PARTITION OF g37.pt FOR VALUES FROM ('2020-05-01') TO ('2020-06-01');
RESET client_min_messages;
SELECT pubname, schemaname, tablename FROM pg_publication_tables WHERE pubname = 'regress_g37_p1' ORDER BY 2, 3;
DROP PUBLICATION regress_g37_p1;
DROP SCHEMA g37pub;
SET ROLE regress_g37_owner;

-- 9. Training sets.  The analyst (SELECT only on the spine) builds a
-- training set on the protected spine g37.t after its split; its sealed
-- rows (ts >= 2020-03-01) are held out from the analyst, who owns the
-- table.  Indexes (any: through one, EXPLAIN ANALYZE's "Rows Removed by
-- Filter" would count the sealed rows with a given value), CLUSTER,
-- raising a statistics target of any column (by name or number), unique
-- constraints and SET NOT NULL are refused; SET STATISTICS 0 works.  The
-- same statements work on a training set of an unprotected spine.
SELECT asof.split('g37.t', '2020-03-01');
GRANT SELECT ON g37.t, g37.plain TO regress_g37_analyst;
RESET ROLE;
SELECT asof.create_feature_view('g37_fv', 'g37.plain', '{x}', 'ts', '{count(*) over 30 days}');
SET ROLE regress_g37_analyst;
SELECT asof.build_training_set('g37.ts', 'g37.t', 'ts', '{g37_fv}');
SELECT asof.build_training_set('g37.ts_plain', 'g37.plain', 'ts', '{g37_fv}');
SELECT count(*) AS readable, max(ts) < '2020-03-01' AS training_rows_only FROM g37.ts;
CREATE INDEX ts_f ON g37.ts (g37_fv__count_30d);
CREATE INDEX ts_ts ON g37.ts (ts);
CLUSTER g37.ts USING ts_ts;
ALTER TABLE g37.ts CLUSTER ON ts_f;
ALTER TABLE g37.ts ALTER COLUMN g37_fv__count_30d SET STATISTICS 100;
ALTER TABLE g37.ts ALTER COLUMN 3 SET STATISTICS 100;
CREATE UNIQUE INDEX ON g37.ts (id);
ALTER TABLE g37.ts ADD PRIMARY KEY (id);
ALTER TABLE g37.ts ALTER COLUMN g37_fv__count_30d SET NOT NULL;
CREATE INDEX ts_plain_f ON g37.ts_plain (g37_fv__count_30d);
CLUSTER g37.ts_plain USING ts_plain_f;
ALTER TABLE g37.ts_plain ALTER COLUMN g37_fv__count_30d SET STATISTICS 100;
CREATE UNIQUE INDEX ON g37.ts_plain (id);
ALTER TABLE g37.ts_plain ALTER COLUMN g37_fv__count_30d SET NOT NULL;
-- ANALYZE collects nothing for a column whose target is 0 (the sealing
-- sets every column of a training set to 0; here the analyst does it):
-- pg_stats stays empty for the training set, while the unprotected one
-- gets its statistics.
ALTER TABLE g37.ts ALTER COLUMN id SET STATISTICS 0, ALTER COLUMN ts SET STATISTICS 0,
    ALTER COLUMN x SET STATISTICS 0, ALTER COLUMN g37_fv__count_30d SET STATISTICS 0;
ANALYZE g37.ts;
ANALYZE g37.ts_plain;
SELECT tablename, count(*) AS columns_with_statistics FROM pg_stats
 WHERE schemaname = 'g37' AND tablename IN ('ts', 'ts_plain') GROUP BY 1 ORDER BY 1;
RESET ROLE;

-- A superuser with the guard off may do what the guard refuses.
SET asof.guard = off;
ALTER TABLE g37.t ADD CONSTRAINT c CHECK (x < 100) NOT VALID;
ALTER TABLE g37.t DROP CONSTRAINT c;
RESET asof.guard;

-- Clean up.
SELECT asof.drop_feature_view('g37_fv');
SET client_min_messages = warning;
SELECT asof.unprotect(tbl) FROM asof.protected_registry WHERE linked_to IS NULL AND tbl::text LIKE 'g37.%';
RESET client_min_messages;
DROP SCHEMA g37 CASCADE;
DROP OWNED BY regress_g37_owner, regress_g37_analyst;
DROP ROLE regress_g37_owner;
DROP ROLE regress_g37_analyst;
DELETE FROM asof.holdout_log WHERE table_name LIKE 'g37.%';
DELETE FROM asof.training_sets WHERE name::text LIKE 'g37.%';
