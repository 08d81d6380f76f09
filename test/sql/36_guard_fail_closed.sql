--
-- 36_guard_fail_closed: the classes of issue 10 that a plain role or an
-- accident opened on 0.1.0, each refused (or harmless) next to its
-- legitimate twin.  The registry cache's failed load is in the isolation
-- spec guard_fail_closed; DDL is in 37_guard_ddl.
--
-- Fixture: regress_g36_victim owns g36v.flights(id, dep_time, delay, lbl)
-- protected with label lbl and split at 2001-03-01.  Training rows: ids 1
-- and 2 (labels 1 and 2); held-out rows: id 3 (label 3000) and id 4 (NULL
-- time, label 4000).  regress_g36_attacker has SELECT on it and owns
-- schema g36a.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
CREATE ROLE regress_g36_victim;
CREATE ROLE regress_g36_attacker;
CREATE SCHEMA g36v AUTHORIZATION regress_g36_victim;
CREATE SCHEMA g36a AUTHORIZATION regress_g36_attacker;
GRANT USAGE ON SCHEMA g36v TO regress_g36_attacker;
SET ROLE regress_g36_victim;
CREATE TABLE g36v.flights (id int PRIMARY KEY, dep_time timestamp, delay int, lbl int);
INSERT INTO g36v.flights VALUES (1, '2001-01-10', 10, 1), (2, '2001-02-10', 20, 2),
                                (3, '2001-03-10', 30, 3000), (4, NULL, 40, 4000);
GRANT SELECT ON g36v.flights TO regress_g36_attacker;
SET client_min_messages = warning;
SELECT asof.protect('g36v.flights', 'dep_time', '{lbl}');
SELECT asof.split('g36v.flights', '2001-03-01');
RESET client_min_messages;
RESET ROLE;

-- 1. Internal functions are not executable by PUBLIC (0.1.0: a plain role
-- moved the split of a training set built on someone else's spine, and
-- read split-report aggregates at any cutoff).
SET ROLE regress_g36_attacker;
SELECT asof._set_split('g36v.flights', '2001-04-01');
SELECT * FROM asof._split_report('g36v.flights', '2001-04-01');
SELECT asof._unseal('g36v.flights', '');
SELECT asof._unprotect_orphan('g36v.flights', 0);
SELECT asof._protect(0, 'g36v.flights', 'dep_time', '{lbl}', '{}', '{}', NULL);
-- ... and the public functions check the caller's ownership.
SELECT asof.split('g36v.flights', '2001-04-01');
SELECT asof.unprotect('g36v.flights');
RESET ROLE;
-- No internal function of schema asof is executable by PUBLIC, except the
-- one the ddl_command_end event trigger calls as the role running the DDL
-- and asof.validate's number formatting.
SELECT p.oid::regprocedure AS executable_by_public
  FROM pg_proc p
 WHERE p.pronamespace = 'asof'::regnamespace AND p.proname LIKE '\_%'
   AND has_function_privilege('regress_g36_attacker', p.oid, 'EXECUTE')
 ORDER BY 1;
-- Every function of the extension that is plpgsql or SQL pins search_path.
SELECT p.oid::regprocedure AS without_search_path
  FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
   AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
 WHERE p.prolang IN (SELECT oid FROM pg_language WHERE lanname IN ('plpgsql', 'sql'))
   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')
   AND p.oid <> 'asof.run_in_utc(text)'::regprocedure
 ORDER BY 1;

-- 2. User code never runs with the guard switched off.  The attacker owns
-- a protected table and calls asof.split with its own "<" on timestamp
-- first on search_path; 0.1.0 ran that operator inside the split report
-- with every hook off, and it read the victim's held-out rows and labels.
SET ROLE regress_g36_attacker;
CREATE TABLE g36a.loot (what text);
CREATE FUNCTION g36a.lt(a timestamp, b timestamp) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO g36a.loot SELECT 'lbl ' || lbl FROM g36v.flights;
  RETURN pg_catalog.timestamp_lt(a, b);
END $$;
CREATE OPERATOR g36a.< (FUNCTION = g36a.lt, LEFTARG = timestamp, RIGHTARG = timestamp);
CREATE FUNCTION g36a.ge(a timestamp, b timestamp) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO g36a.loot SELECT 'lbl ' || lbl FROM g36v.flights;
  RETURN pg_catalog.timestamp_ge(a, b);
END $$;
CREATE OPERATOR g36a.>= (FUNCTION = g36a.ge, LEFTARG = timestamp, RIGHTARG = timestamp);
CREATE TYPE g36a.color AS ENUM ('red', 'blue');
CREATE TABLE g36a.mine (id int, t timestamp, c g36a.color, y int);
INSERT INTO g36a.mine VALUES (1, '2001-01-01', 'red', 1), (2, '2001-02-01', 'red', 0),
                             (3, '2001-03-05', 'blue', 1);
SET search_path = g36a, pg_catalog;
SELECT asof.protect('g36a.mine', 't', '{y}', entity_columns => '{c}');
-- Legitimate twin: the split works; the enum column is left out of the
-- report (its operators are not built in) and says so.
SELECT asof.split('g36a.mine', '2001-03-01');
RESET search_path;
SELECT count(*) AS loot_rows FROM g36a.loot;
RESET ROLE;

-- 3. The foreign-key exemption covers the integrity check only.  The
-- attacker's enum has an implicit cast to int whose function reads the
-- victim's table; a foreign key from the enum column to the attacker's own
-- int key runs that cast inside the integrity check (0.1.0 left the
-- held-out rows visible to it).
SET ROLE regress_g36_attacker;
CREATE TABLE g36a.loot2 (id int, lbl int);
CREATE TYPE g36a.k AS ENUM ('one', 'two');
CREATE FUNCTION g36a.k_to_int(v g36a.k) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO g36a.loot2 SELECT id, lbl FROM g36v.flights;
  RETURN CASE v::text WHEN 'one' THEN 1 ELSE 2 END;
END $$;
RESET ROLE;
CREATE CAST (g36a.k AS int) WITH FUNCTION g36a.k_to_int(g36a.k) AS IMPLICIT;
SET ROLE regress_g36_attacker;
CREATE TABLE g36a.pk (id int PRIMARY KEY);
INSERT INTO g36a.pk VALUES (1), (2);
CREATE TABLE g36a.fk (v g36a.k);
ALTER TABLE g36a.fk ADD FOREIGN KEY (v) REFERENCES g36a.pk (id);
INSERT INTO g36a.fk VALUES ('one');
-- The cast ran, and saw the training rows only.
SELECT id, lbl FROM g36a.loot2 ORDER BY id, lbl;
RESET ROLE;
-- Legitimate twin: the integrity check itself still sees held-out keys (a
-- reference to held-out row 3 is accepted; documented residue).
SET ROLE regress_g36_victim;
CREATE TABLE g36v.refs (flight int REFERENCES g36v.flights (id));
INSERT INTO g36v.refs VALUES (3), (1);
SELECT count(*) AS refs FROM g36v.refs;
DROP TABLE g36v.refs;
RESET ROLE;

-- 5. search_path: a function planted first on the caller's search_path is
-- never run by the extension's functions (0.1.0: asof.protect called
-- cardinality(), array_to_string() and format() unqualified, as the caller).
CREATE SCHEMA g36s;
CREATE TABLE g36s.ran (who text);
GRANT ALL ON SCHEMA g36s TO PUBLIC;
GRANT ALL ON g36s.ran TO PUBLIC;
CREATE FUNCTION g36s.cardinality(anyarray) RETURNS int LANGUAGE sql
  AS $$ INSERT INTO g36s.ran VALUES (current_user) RETURNING 1 $$;
CREATE FUNCTION g36s.array_to_string(anyarray, text) RETURNS text LANGUAGE sql
  AS $$ INSERT INTO g36s.ran VALUES (current_user) RETURNING 'x' $$;
CREATE TABLE g36s.t (id int, t timestamp, y int);
INSERT INTO g36s.t VALUES (1, '2001-01-01', 1), (2, '2001-05-01', 0);
SET search_path = g36s, pg_catalog;
SET client_min_messages = warning;
SELECT asof.protect('g36s.t', 't', '{y}');
SELECT asof.split('g36s.t', '2001-03-01');
SELECT asof.unprotect('g36s.t');
RESET client_min_messages;
RESET search_path;
SELECT count(*) AS planted_functions_run FROM g36s.ran;

-- 8. Per-backend state follows rollbacks.  The victim moves the split later
-- inside a transaction that rolls back: the committed split applies again
-- (0.1.0 kept the rolled-back cutoff).
SET ROLE regress_g36_victim;
SET client_min_messages = warning;
BEGIN;
SELECT asof.split('g36v.flights', '2001-04-01');
SELECT count(*) AS rows_in_transaction FROM g36v.flights;
ROLLBACK;
SELECT count(*) AS rows_after_rollback FROM g36v.flights;
-- unprotect in a transaction that then fails: still protected afterwards
-- (0.1.0: the rest of the session saw every row).
BEGIN;
SELECT asof.unprotect('g36v.flights');
SELECT count(*) AS rows_unprotected_in_transaction FROM g36v.flights;
SELECT 1 / 0;
ROLLBACK;
SELECT count(*) AS rows_after_failed_unprotect FROM g36v.flights;
-- The same inside a subtransaction.
BEGIN;
SAVEPOINT a;
SELECT asof.unprotect('g36v.flights');
ROLLBACK TO a;
SELECT count(*) AS rows_after_rollback_to_savepoint FROM g36v.flights;
COMMIT;
-- An unseal in a subtransaction that rolls back closes again.
BEGIN;
SAVEPOINT b;
SELECT asof.unseal('g36v.flights', 'regress 36: opened, then rolled back');
SELECT count(*) AS rows_unsealed FROM g36v.flights;
ROLLBACK TO b;
SELECT count(*) AS rows_after_rollback_to_savepoint FROM g36v.flights;
COMMIT;
RESET client_min_messages;
RESET ROLE;

-- 10. A registration goes with its relation, however it is dropped: here a
-- temporary protected table dropped by DISCARD TEMP (the path a session's
-- end takes).  0.1.0 kept the row, and split, unprotect and DROP EXTENSION
-- then failed on it.
SET ROLE regress_g36_victim;
CREATE TEMP TABLE tmp_flights (id int, t timestamp, y int);
SET client_min_messages = warning;
SELECT asof.protect('tmp_flights', 't', '{y}');
RESET client_min_messages;
SELECT count(*) AS temp_registrations FROM asof.protected_registry r
 JOIN pg_class c ON c.oid = r.tbl WHERE c.relpersistence = 't';
DISCARD TEMP;
SELECT count(*) AS registrations_of_dropped_relations FROM asof.protected_registry r
 WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = r.tbl);
SET client_min_messages = warning;
SELECT asof.split('g36v.flights', '2001-03-01');
RESET client_min_messages;
RESET ROLE;

-- 9. A training set built on a protected spine by a SELECT-only role: its
-- builder owns the table, and ANALYZE (or autovacuum) computed pg_stats of
-- the label and feature columns over the sealed rows too.  Every column of
-- a training set now has statistics target 0: ANALYZE computes nothing.
CREATE TABLE g36v.ev (id int, t timestamp, v int);
INSERT INTO g36v.ev VALUES (1, '2001-01-01', 5), (2, '2001-03-05', 7);
GRANT SELECT ON g36v.ev TO regress_g36_attacker;
SELECT asof.create_feature_view('g36_ev', 'g36v.ev', '{id}', 't', '{"count(*) over 30 days", "last(v)"}');
SET ROLE regress_g36_attacker;
SET client_min_messages = warning;
SELECT asof.build_training_set('g36a.ts', 'g36v.flights', 'dep_time', '{g36_ev}');
RESET client_min_messages;
ANALYZE g36a.ts;
SELECT count(*) AS statistics_rows FROM pg_stats WHERE schemaname = 'g36a' AND tablename = 'ts';
SELECT count(*) FILTER (WHERE attstattarget <> 0) AS columns_with_statistics, count(*) AS columns
  FROM pg_attribute WHERE attrelid = 'g36a.ts'::regclass AND attnum > 0 AND NOT attisdropped;
-- Legitimate twin: the builder's own unprotected table gets statistics.
CREATE TABLE g36a.plain AS SELECT id, dep_time FROM g36v.flights;
ANALYZE g36a.plain;
SELECT count(*) AS statistics_rows FROM pg_stats WHERE schemaname = 'g36a' AND tablename = 'plain';
RESET ROLE;
SELECT asof.drop_feature_view('g36_ev');

-- 11. label_time follows the rules of feature expressions: no clock or
-- session values (0.1.0 accepted now(), and every label became NULL).
SET ROLE regress_g36_victim;
CREATE TABLE g36v.lt (id int, t timestamp, y int);
SELECT asof.protect('g36v.lt', 't', '{y}', label_time => 'now()');
SELECT asof.protect('g36v.lt', 't', '{y}', label_time => 'LOCALTIMESTAMP');
SELECT asof.protect('g36v.lt', 't', '{y}', label_time => 't + interval ''1 day''');
SELECT label_time FROM asof.protected_tables WHERE table_name = 'g36v.lt'::regclass;
SELECT asof.unprotect('g36v.lt');
RESET ROLE;

-- G5: the engine reads held-out source rows for rows sealed in a training
-- set only when the source's owner builds it on a spine the same owner owns.
-- (a) The attacker's own protected spine, split so that every row is
-- sealed, over the victim's table: before this rule the sealed row of id 3
-- got the victim's held-out label 3000, opened by the attacker's own unseal.
SET ROLE regress_g36_attacker;
CREATE TABLE g36a.sp (id int, t timestamp, y int);
INSERT INTO g36a.sp VALUES (1, '2001-03-20', 0), (3, '2001-03-20', 0);
SET client_min_messages = warning;
SELECT asof.protect('g36a.sp', 't', '{y}');
SELECT asof.split('g36a.sp', '1900-01-01');
SELECT asof.create_feature_view('g36_steal', 'g36v.flights', '{id}', 'dep_time', '{last(lbl) as lab}');
SELECT asof.build_training_set('g36a.steal', 'g36a.sp', 't', '{g36_steal}');
RESET client_min_messages;
BEGIN;
SELECT asof.unseal('g36a.sp', 'regress 36: the attacker opens its own spine') IS NULL AS opened;
SELECT id, g36_steal__lab FROM g36a.steal ORDER BY id;
COMMIT;
-- (b) The victim's table as spine and source, built by the attacker with
-- an expression whose error would print a held-out row: no error, the
-- sealed rows' features are NULL (before: "invalid input syntax for type
-- integer: "held:3000"").
SET client_min_messages = warning;
SELECT asof.create_feature_view('g36_err', 'g36v.flights', '{id}', 'dep_time',
         ARRAY[$$last(CASE WHEN dep_time >= '2001-03-01' THEN ('held:' || lbl::text)::int END) as f$$]);
SELECT asof.build_training_set('g36a.err', 'g36v.flights', 'dep_time', '{g36_err}');
RESET client_min_messages;
SELECT asof.drop_feature_view('g36_steal');
SELECT asof.drop_feature_view('g36_err');
RESET ROLE;

-- Clean up.
SET client_min_messages = warning;
SELECT asof.unprotect('g36v.flights');
SELECT asof.unprotect('g36a.mine');
SELECT asof.unprotect('g36a.sp');
DROP CAST (g36a.k AS int);
DROP SCHEMA g36v, g36a, g36s CASCADE;
DROP OWNED BY regress_g36_victim, regress_g36_attacker;
DROP ROLE regress_g36_victim, regress_g36_attacker;
DELETE FROM asof.holdout_log;
RESET client_min_messages;

-- 6. At protect time: a generated column or CHECK constraint that reads a
-- label, a unique index over one, or a publication of the table is refused
-- (each would keep reading or revealing labels once protected); the same
-- table without them is protected.
CREATE TABLE g36_pt (id int, t timestamp, y int, y2 int GENERATED ALWAYS AS (y * 2) STORED);
SELECT asof.protect('g36_pt', 't', '{y}');
ALTER TABLE g36_pt DROP COLUMN y2;
ALTER TABLE g36_pt ADD CONSTRAINT y_small CHECK (y < 100);
SELECT asof.protect('g36_pt', 't', '{y}');
ALTER TABLE g36_pt DROP CONSTRAINT y_small;
CREATE UNIQUE INDEX g36_pt_y ON g36_pt (id, y);
SELECT asof.protect('g36_pt', 't', '{y}');
DROP INDEX g36_pt_y;
SET client_min_messages = error;
CREATE PUBLICATION g36_pub FOR TABLE g36_pt;
RESET client_min_messages;
SELECT asof.protect('g36_pt', 't', '{y}');
DROP PUBLICATION g36_pub;
-- Legitimate twin: a CHECK and a unique index on other columns are fine.
ALTER TABLE g36_pt ADD CONSTRAINT id_positive CHECK (id > 0);
CREATE UNIQUE INDEX g36_pt_id ON g36_pt (id);
SELECT asof.protect('g36_pt', 't', '{y}');
SELECT asof.unprotect('g36_pt');
DROP TABLE g36_pt;
