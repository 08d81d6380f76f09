--
-- 35_guard_fixes: side channels found by an adversarial review, each shown
-- refused on a protected table next to the legitimate statement that still
-- works.  Fixture: t(id, ts, x, label) protected with time ts and label
-- label, split at 2020-03-01; the held-out row id 99 has label 4242, the
-- held-out row id 100 comes after it (same x).
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
CREATE ROLE regress_asof_g35_owner;
CREATE SCHEMA g35 AUTHORIZATION regress_asof_g35_owner;
SET ROLE regress_asof_g35_owner;
CREATE TABLE g35.t (id int PRIMARY KEY, ts timestamp, x int, label int);
INSERT INTO g35.t VALUES (1, '2020-01-10', 10, 1), (2, '2020-02-10', 10, 2),
                         (99, '2020-03-10', 10, 4242), (100, '2020-03-20', 10, 5);
CREATE TABLE g35.plain (id int PRIMARY KEY, ts timestamp, x int, label int);
INSERT INTO g35.plain VALUES (1, '2020-01-10', 10, 1);
SELECT asof.protect('g35.t', 'ts', '{label}');

-- 1. Row-level security policies on a protected table: CREATE POLICY,
-- ALTER POLICY (even of the guard's own) and FORCE ROW LEVEL SECURITY are
-- refused; on an unprotected table they work.
CREATE POLICY leak ON g35.t USING (label = 4242);
ALTER POLICY asof_guard_deny ON g35.t USING (true);
ALTER TABLE g35.t FORCE ROW LEVEL SECURITY;
CREATE POLICY fine ON g35.plain USING (label = 1);
ALTER POLICY fine ON g35.plain USING (label > 0);
SELECT polname FROM pg_policy WHERE polrelid = 'g35.t'::regclass ORDER BY 1;
SELECT relforcerowsecurity FROM pg_class WHERE oid = 'g35.t'::regclass;

-- 2. Rules: refused on the protected table, fine elsewhere.
CREATE RULE leak AS ON UPDATE TO g35.t DO INSTEAD SELECT OLD.id, OLD.label;
CREATE RULE fine AS ON UPDATE TO g35.plain DO INSTEAD NOTHING;
SELECT rulename FROM pg_rules WHERE schemaname = 'g35' ORDER BY 1;
DROP RULE fine ON g35.plain;

-- 3. A protected table cannot become the child or partition of an
-- unprotected table (the parent's queries and ANALYZE would read its rows
-- unfiltered); an unprotected one still can.
CREATE TABLE g35.iparent (id int, ts timestamp, x int, label int);
ALTER TABLE g35.t INHERIT g35.iparent;
ALTER TABLE g35.plain INHERIT g35.iparent;
ALTER TABLE g35.plain NO INHERIT g35.iparent;
CREATE TABLE g35.q (id int, ts timestamp, x int, label int);
SELECT asof.protect('g35.q', 'ts', '{label}');
CREATE TABLE g35.pparent (id int, ts timestamp, x int, label int) PARTITION BY RANGE (ts);
ALTER TABLE g35.pparent ATTACH PARTITION g35.q FOR VALUES FROM (MINVALUE) TO (MAXVALUE);
SELECT count(*) FROM pg_inherits WHERE inhparent IN ('g35.iparent'::regclass, 'g35.pparent'::regclass);

-- At protect(): a table with a policy that reads a label column, the
-- whole row or a subquery (USING or WITH CHECK), with a rule, or that is a
-- partition or child of another table, or with forced row-level security
-- (policies would run on the owner's statements, asof.split's internal
-- queries included), is refused; a policy on other columns is fine.
CREATE TABLE g35.pol (id int, ts timestamp, label int);
CREATE POLICY leak ON g35.pol USING (label = 4242);
SELECT asof.protect('g35.pol', 'ts', '{label}');
DROP POLICY leak ON g35.pol;
CREATE POLICY leak ON g35.pol USING (pol IS NOT NULL);
SELECT asof.protect('g35.pol', 'ts', '{label}');
DROP POLICY leak ON g35.pol;
CREATE POLICY leak ON g35.pol FOR INSERT WITH CHECK (EXISTS (SELECT 1 FROM g35.plain WHERE plain.id = id));
SELECT asof.protect('g35.pol', 'ts', '{label}');
DROP POLICY leak ON g35.pol;
CREATE RULE leak AS ON UPDATE TO g35.pol DO ALSO NOTHING;
SELECT asof.protect('g35.pol', 'ts', '{label}');
DROP RULE leak ON g35.pol;
CREATE POLICY fine ON g35.pol USING (id > 0);
ALTER TABLE g35.pol FORCE ROW LEVEL SECURITY;
SELECT asof.protect('g35.pol', 'ts', '{label}');
ALTER TABLE g35.pol NO FORCE ROW LEVEL SECURITY;
SELECT asof.protect('g35.pol', 'ts', '{label}');
SELECT asof.unprotect('g35.pol');
CREATE TABLE g35.ichild0 () INHERITS (g35.iparent);
SELECT asof.protect('g35.ichild0', 'ts', '{label}');
SELECT table_name FROM asof.protected_tables ORDER BY table_name::text;

-- 4. Exclusion constraints: on an expression or with a WHERE clause they
-- evaluate it on every row (like expression and partial indexes): refused;
-- on plain columns, fine.
ALTER TABLE g35.t ADD CONSTRAINT leak EXCLUDE USING btree ((1 / (label - 4242)) WITH =);
ALTER TABLE g35.t ADD CONSTRAINT leak EXCLUDE USING btree (id WITH =) WHERE (label = 4242);
ALTER TABLE g35.t ADD CONSTRAINT fine EXCLUDE USING btree (id WITH =);
-- (not-null constraints, listed from 18 on, left out)
SELECT conname FROM pg_constraint WHERE conrelid = 'g35.t'::regclass AND contype <> 'n' ORDER BY 1;
ALTER TABLE g35.t DROP CONSTRAINT fine;

-- 5. A table with triggers (rules, policies) cannot become a partition or
-- child of a protected table; without them it can.
CREATE FUNCTION g35.spy() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TABLE g35.pp (id int, ts timestamp, x int, label int) PARTITION BY RANGE (ts);
SELECT asof.protect('g35.pp', 'ts', '{label}');
CREATE TABLE g35.pp_a (id int, ts timestamp, x int, label int);
CREATE TRIGGER spy BEFORE UPDATE ON g35.pp_a FOR EACH ROW EXECUTE FUNCTION g35.spy();
ALTER TABLE g35.pp ATTACH PARTITION g35.pp_a FOR VALUES FROM (MINVALUE) TO ('2020-06-01');
CREATE TABLE g35.ichild (id int, ts timestamp, x int, label int);
CREATE TRIGGER spy BEFORE UPDATE ON g35.ichild FOR EACH ROW EXECUTE FUNCTION g35.spy();
ALTER TABLE g35.ichild INHERIT g35.q;
-- Likewise with a rule or a policy (enabled or not).
DROP TRIGGER spy ON g35.ichild;
CREATE RULE spy AS ON UPDATE TO g35.ichild DO ALSO NOTHING;
ALTER TABLE g35.ichild INHERIT g35.q;
DROP RULE spy ON g35.ichild;
CREATE POLICY spy ON g35.ichild USING (label = 4242);
ALTER TABLE g35.ichild INHERIT g35.q;
DROP POLICY spy ON g35.ichild;
-- protect() looks at partitions and children too: a parent whose child
-- has a trigger is refused.
CREATE TABLE g35.tparent (id int, ts timestamp, x int, label int);
CREATE TABLE g35.tchild () INHERITS (g35.tparent);
CREATE TRIGGER spy BEFORE UPDATE ON g35.tchild FOR EACH ROW EXECUTE FUNCTION g35.spy();
SELECT asof.protect('g35.tparent', 'ts', '{label}');
DROP TRIGGER spy ON g35.tchild;
SELECT asof.protect('g35.tparent', 'ts', '{label}');
DROP TRIGGER spy ON g35.pp_a;
ALTER TABLE g35.pp ATTACH PARTITION g35.pp_a FOR VALUES FROM (MINVALUE) TO ('2020-06-01');
SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'g35.pp'::regclass;

-- 6. ALTER COLUMN ... TYPE rewrites every row through an assignment cast
-- that may be user code: refused on a protected table, whatever the column
-- (with or without USING); fine on an unprotected one.
ALTER TABLE g35.t ALTER COLUMN x TYPE bigint;
ALTER TABLE g35.plain ALTER COLUMN x TYPE bigint;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'g35.t'::regclass AND attname = 'x';

-- 9. Foreign keys: on a label or future column, or with a cascading
-- action, refused; a plain foreign key on another column is fine.
CREATE TABLE g35.ref (v int PRIMARY KEY);
INSERT INTO g35.ref VALUES (1), (2), (10), (20), (30), (4242);
ALTER TABLE g35.t ADD FOREIGN KEY (label) REFERENCES g35.ref;
ALTER TABLE g35.t ADD FOREIGN KEY (x) REFERENCES g35.ref ON DELETE CASCADE;
ALTER TABLE g35.t ADD FOREIGN KEY (x) REFERENCES g35.ref ON UPDATE SET NULL;
ALTER TABLE g35.t ADD CONSTRAINT t_x_fk FOREIGN KEY (x) REFERENCES g35.ref;
SELECT conname, confdeltype, confupdtype FROM pg_constraint
 WHERE conrelid = 'g35.t'::regclass AND contype = 'f' ORDER BY 1;

SELECT asof.split('g35.t', '2020-03-01');
SELECT id, label FROM g35.t ORDER BY id;
RESET ROLE;

-- 9 (continued). A foreign key with ON DELETE CASCADE that existed before
-- protect: the referential-integrity existence check still sees a held-out
-- row (inserting a reference to held-out row 2 works), but the cascade
-- does not reach it: deleting key 1 deletes training row 1 only; held-out
-- row 2 stays (seen with the test set unsealed).
CREATE TABLE g35.kref (k int PRIMARY KEY);
INSERT INTO g35.kref VALUES (1), (2);
CREATE TABLE g35.fk (id int PRIMARY KEY, ts timestamp,
                     k int REFERENCES g35.kref ON DELETE CASCADE, label int);
INSERT INTO g35.fk VALUES (1, '2020-01-10', 1, 1), (2, '2020-03-10', 1, 4242),
                          (3, '2020-01-20', 2, 2);
SELECT asof.protect('g35.fk', 'ts', '{label}');
SELECT asof.split('g35.fk', '2020-03-01');
CREATE TABLE g35.fkuse (fid int REFERENCES g35.fk (id));
INSERT INTO g35.fkuse VALUES (2);
INSERT INTO g35.fkuse VALUES (4);
DELETE FROM g35.kref WHERE k = 1;
SELECT id, k, label FROM g35.fk ORDER BY id;
BEGIN;
SELECT asof.unseal('g35.fk', 'check the cascade');
SELECT id, k, label FROM g35.fk ORDER BY id;
COMMIT;

-- 7. A domain CHECK in a feature is user code: the engine does not exempt
-- the build from the guard for it.  Entity x, the spine is t itself.  With
-- max(label), the held-out spine rows are sealed in the training set with
-- their real features (row 100: 4242, from row 99); with
-- max(label::g35.leakdom), whose CHECK fails on 4242, the build must not
-- read held-out rows: the held-out rows' features are NULL (counted) and no
-- error reveals the label.  Training rows: row 2 sees row 1 (1).
CREATE DOMAIN g35.leakdom AS int CHECK (VALUE <> 4242);
SELECT asof.create_feature_view('g35_plain', 'g35.t', '{x}', 'ts', '{max(label) over 365 days}');
SELECT asof.create_feature_view('g35_dom', 'g35.t', '{x}', 'ts', '{max(label::g35.leakdom) over 365 days}');
SET ROLE regress_asof_g35_owner;
SELECT asof.build_training_set('g35.ts_plain', 'g35.t', 'ts', '{g35_plain}');
SELECT asof.build_training_set('g35.ts_dom', 'g35.t', 'ts', '{g35_dom}');
BEGIN;
SELECT asof.unseal('g35.t', 'check the sealed rows');
SELECT * FROM g35.ts_plain ORDER BY id;
SELECT * FROM g35.ts_dom ORDER BY id;
COMMIT;
RESET ROLE;

-- 8. A training set whose spine is dropped stays protected with the
-- spine's split: its owner cannot unprotect it (its sealed rows came from
-- the spine's held-out rows); a superuser can.
SELECT asof.drop_feature_view('g35_plain');
SELECT asof.drop_feature_view('g35_dom');
SET ROLE regress_asof_g35_owner;
DROP TABLE g35.t CASCADE;
SELECT asof.unprotect('g35.ts_plain');
SELECT id, label FROM g35.ts_plain ORDER BY id;
RESET ROLE;
SELECT table_name, test_from FROM asof.protected_tables ORDER BY table_name::text;
SELECT asof.unprotect('g35.ts_plain');
SELECT * FROM g35.ts_plain ORDER BY id;

-- Clean up.
SET client_min_messages = warning;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT tbl FROM asof.protected_registry LOOP
    PERFORM asof.unprotect(r.tbl);
  END LOOP;
END $$;
RESET client_min_messages;
DROP SCHEMA g35 CASCADE;
DROP OWNED BY regress_asof_g35_owner;
DROP ROLE regress_asof_g35_owner;
DELETE FROM asof.holdout_log;
DELETE FROM asof.training_sets;
