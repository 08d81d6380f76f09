--
-- 30_guard_api: registering protected tables, split markers, unprotect;
-- ownership; bad input (G9) changes nothing; the registry is written only
-- through the functions (G6).  Contract: docs/leakage-guard.md.
--
\set SHOW_CONTEXT never
SET client_min_messages = notice;
CREATE ROLE regress_asof_g_owner;
CREATE ROLE regress_asof_g_analyst;
CREATE SCHEMA g30 AUTHORIZATION regress_asof_g_owner;
GRANT USAGE ON SCHEMA g30 TO regress_asof_g_analyst;
SET ROLE regress_asof_g_owner;
CREATE TABLE g30.flights (
    dep_time timestamp,
    origin text NOT NULL,
    dest text NOT NULL,
    distance int NOT NULL,
    delay int,
    arr_time timestamp,
    note json
);
GRANT SELECT ON g30.flights TO regress_asof_g_analyst;
-- Rows (numbered in comments) with split 2001-03-01: training rows 1-3,
-- held out 4 (exactly at the cutoff), 5 and 6 (NULL time).  Rows 5 and 6
-- equal row 1 on every column except time (dep_time), labels (delay) and
-- the json column (json has no equality operator: not compared); row 4
-- differs from row 3 in arr_time.  Origins with rows on both sides: SFO
-- only (LAX has training rows only).
INSERT INTO g30.flights VALUES
    ('2001-01-10 06:00', 'SFO', 'LAX', 337, 5, '2001-01-10 07:30', '{}'),      -- 1
    ('2001-01-20 06:00', 'LAX', 'SFO', 337, 25, '2001-01-20 07:30', '{}'),     -- 2
    ('2001-02-28 23:59:59', 'SFO', 'JFK', 2586, -3, '2001-03-01 08:00', '{}'), -- 3
    ('2001-03-01 00:00', 'SFO', 'JFK', 2586, 40, '2001-03-01 09:00', '{"a":1}'), -- 4
    ('2001-03-15 06:00', 'SFO', 'LAX', 337, 60, '2001-01-10 07:30', '{"b":2}'), -- 5
    (NULL, 'SFO', 'LAX', 337, 7, '2001-01-10 07:30', '{}');                    -- 6
CREATE TABLE g30.notime (id int, t text, label int);
CREATE TABLE g30.dated (id int, d date, label int);
INSERT INTO g30.dated VALUES (1, '2001-01-01', 1), (2, '2001-02-01', 2), (3, '2001-03-01', 3);
RESET ROLE;

-- G9: bad input gets a clear error and changes nothing.
SET ROLE regress_asof_g_owner;
SELECT asof.protect('g30.nosuch', 'dep_time', '{delay}');
SELECT asof.protect('g30.flights', 'nosuch', '{delay}');
SELECT asof.protect('g30.flights', 'dep_time', '{nosuch}');
SELECT asof.protect('g30.flights', 'dep_time', '{delay}', future_columns => '{nosuch}');
SELECT asof.protect('g30.flights', 'dep_time', '{delay}', entity_columns => '{nosuch}');
SELECT asof.protect('g30.flights', 'dep_time', '{dep_time}');
SELECT asof.protect('g30.flights', 'dep_time', '{delay}', future_columns => '{dep_time}');
SELECT asof.protect('g30.flights', 'dep_time', '{delay, delay}');
SELECT asof.protect('g30.flights', 'dep_time', '{delay}', future_columns => '{delay}');
SELECT asof.protect('g30.flights', 'dep_time', '{delay}', entity_columns => '{delay}');
SELECT asof.protect('g30.flights', 'dep_time', '{}');
SELECT asof.protect('g30.flights', 'dep_time', NULL);
SELECT asof.protect('g30.notime', 't', '{label}');
SELECT asof.protect('g30.flights', 'distance', '{delay}');
-- label_time: an expression over the row, deterministic, of a time type.
SELECT asof.protect('g30.flights', 'dep_time', '{delay}', label_time => 'arr_time + (SELECT interval ''1 day'')');
SELECT asof.protect('g30.flights', 'dep_time', '{delay}', label_time => 'arr_time + random() * interval ''1 day''');
SELECT asof.protect('g30.flights', 'dep_time', '{delay}', label_time => 'max(arr_time)');
SELECT asof.protect('g30.flights', 'dep_time', '{delay}', label_time => 'distance');
SELECT asof.protect('g30.flights', 'dep_time', '{delay}', label_time => 'nosuch + 1');
SELECT asof.protect('g30.flights', 'dep_time', '{delay}', label_time => 'arr_time) FROM g30.flights UNION SELECT (now()');
SELECT asof.protect('g30.flights', 'dep_time', '{delay}', label_time => 'arr_time; DROP TABLE g30.flights');
-- A split on a table that is not protected.
SELECT asof.split('g30.flights', '2001-03-01');
SELECT asof.unseal('g30.flights', 'look');
SELECT asof.unprotect('g30.flights');
RESET ROLE;
-- A non-owner cannot register, split, unseal or unprotect.
SET ROLE regress_asof_g_analyst;
SELECT asof.protect('g30.flights', 'dep_time', '{delay}');
RESET ROLE;
-- Nothing was registered, no policy added, no statistics target changed.
SELECT count(*) AS registered FROM asof.protected_registry;
SELECT count(*) AS logged FROM asof.holdout_log;
SELECT count(*) AS policies FROM pg_policy WHERE polrelid = 'g30.flights'::regclass;
SELECT attname, attstattarget FROM pg_attribute
 WHERE attrelid = 'g30.flights'::regclass AND attstattarget <> -1 AND attnum > 0 ORDER BY attnum;

-- The legitimate registration, by the owner.
SET ROLE regress_asof_g_owner;
SELECT asof.protect('g30.flights', 'dep_time', label_columns => '{delay}',
                    future_columns => '{arr_time}', entity_columns => '{origin}',
                    label_time => 'arr_time');
-- Twice is refused.
SELECT asof.protect('g30.flights', 'dep_time', '{delay}');
-- A date time column works too.
SELECT asof.protect('g30.dated', 'd', '{label}');
SELECT table_name, time_column, label_columns, future_columns, entity_columns,
       label_time, test_from, has_split, registered_by, openings
  FROM asof.protected_tables ORDER BY table_name::text;
-- Protect added a restrictive policy only the loaded guard lets pass, and a
-- permissive one beside it; row-level security is on.
SELECT polname, polpermissive, pg_get_expr(polqual, polrelid) AS qual
  FROM pg_policy WHERE polrelid = 'g30.flights'::regclass ORDER BY 1;
SELECT relrowsecurity FROM pg_class WHERE oid = 'g30.flights'::regclass;
-- No statistics are collected for label and future columns.
SELECT attname, attstattarget FROM pg_attribute
 WHERE attrelid = 'g30.flights'::regclass AND attstattarget <> -1 AND attnum > 0 ORDER BY attnum;

-- Splits: bad input first.
SELECT asof.split('g30.flights', 'not a time');
SELECT asof.split('g30.flights', 'infinity');
SELECT asof.split('g30.flights', NULL);
SELECT asof.split('g30.notime', '2001-03-01');
RESET ROLE;
SET ROLE regress_asof_g_analyst;
SELECT asof.split('g30.flights', '2001-03-01');
RESET ROLE;
SELECT test_from FROM asof.protected_registry WHERE tbl = 'g30.flights'::regclass;

-- The split reports entity keys on both sides (SFO: 1) and held-out rows
-- equal to a training row except time and labels (rows 5 and 6: 2).  For
-- g30.dated (no entity columns; the only other column is id, distinct on
-- every row): only the duplicate count, 0.
SET ROLE regress_asof_g_owner;
SELECT asof.split('g30.flights', test_from => '2001-03-01');
SELECT asof.split('g30.dated', '2001-02-01');
SELECT table_name, test_from, has_split, split_by FROM asof.protected_tables ORDER BY table_name::text;
-- Moving the split (not opened yet): a NOTICE, and a log record.
SELECT asof.split('g30.dated', '2001-03-01');
-- Splitting again at the same place is not a move.
SELECT asof.split('g30.dated', '2001-03-01');
SELECT table_name, event, role, detail FROM asof.holdout_log ORDER BY at, event;
RESET ROLE;

-- G6: the registry is written only through the functions, never directly
-- by a role that is not a superuser (the owner of the protected table
-- included).
SET ROLE regress_asof_g_owner;
UPDATE asof.protected_registry SET test_from = NULL;
DELETE FROM asof.protected_registry;
INSERT INTO asof.holdout_log VALUES (now(), 'g30.flights', 'x', 'unseal', 'x', 'x');
INSERT INTO asof.protected_registry (tbl, time_column, label_columns, future_columns, entity_columns, registered_by, registered_at, rls_was_enabled, permissive_policy_added)
  VALUES ('g30.notime', 't', '{label}', '{}', '{}', 'x', now(), false, false);
DELETE FROM asof.holdout_log;
-- The C entry points check ownership themselves.
RESET ROLE;
SET ROLE regress_asof_g_analyst;
SELECT asof._set_split('g30.flights', '2000-01-01');
SELECT asof._unregister('g30.flights');
SELECT asof._unseal('g30.flights', 'x');
SELECT * FROM asof._split_report('g30.flights', '2001-03-01');
SELECT asof._register('g30.notime', 't', '{label}', '{}', '{}', NULL, false, false);
-- A plain role cannot switch the guard off.
SET asof.guard = off;
SHOW asof.guard;
RESET ROLE;
SELECT table_name, test_from FROM asof.protected_tables ORDER BY table_name::text;

-- unprotect restores the table: no policy, row-level security off,
-- default statistics targets; the log keeps the history.
SET ROLE regress_asof_g_owner;
SELECT asof.unprotect('g30.dated');
SELECT asof.unprotect('g30.dated');
RESET ROLE;
SELECT count(*) AS policies FROM pg_policy WHERE polrelid = 'g30.dated'::regclass;
SELECT relrowsecurity FROM pg_class WHERE oid = 'g30.dated'::regclass;
SELECT attname, attstattarget FROM pg_attribute
 WHERE attrelid = 'g30.dated'::regclass AND attstattarget <> -1 AND attnum > 0 ORDER BY attnum;
SELECT table_name FROM asof.protected_tables ORDER BY table_name::text;
SELECT table_name, event FROM asof.holdout_log WHERE table_name = 'g30.dated' ORDER BY at, event;

-- A table with row-level security and a permissive policy of its own keeps
-- both after unprotect, and protect adds no permissive policy beside it.
SET ROLE regress_asof_g_owner;
CREATE POLICY own ON g30.dated USING (id > 1);
ALTER TABLE g30.dated ENABLE ROW LEVEL SECURITY;
SELECT asof.protect('g30.dated', 'd', '{label}');
SELECT polname, polpermissive FROM pg_policy WHERE polrelid = 'g30.dated'::regclass ORDER BY 1;
SELECT asof.unprotect('g30.dated');
SELECT polname, polpermissive FROM pg_policy WHERE polrelid = 'g30.dated'::regclass ORDER BY 1;
SELECT relrowsecurity FROM pg_class WHERE oid = 'g30.dated'::regclass;
RESET ROLE;

-- A table with a trigger cannot be protected (triggers see whole rows).
SET ROLE regress_asof_g_owner;
CREATE FUNCTION g30.trg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER t BEFORE INSERT ON g30.notime FOR EACH ROW EXECUTE FUNCTION g30.trg();
CREATE TABLE g30.trig (id int, at timestamp, label int);
CREATE TRIGGER t BEFORE INSERT ON g30.trig FOR EACH ROW EXECUTE FUNCTION g30.trg();
SELECT asof.protect('g30.trig', 'at', '{label}');
RESET ROLE;

-- A dropped protected table leaves no registry row behind.
SET ROLE regress_asof_g_owner;
SELECT asof.protect('g30.dated', 'd', '{label}');
DROP TABLE g30.dated;
RESET ROLE;
SELECT table_name FROM asof.protected_tables ORDER BY table_name::text;

-- Clean up.
SET ROLE regress_asof_g_owner;
SELECT asof.unprotect('g30.flights');
RESET ROLE;
DROP SCHEMA g30 CASCADE;
DROP ROLE regress_asof_g_owner;
DROP ROLE regress_asof_g_analyst;
DELETE FROM asof.holdout_log;
