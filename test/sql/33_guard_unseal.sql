--
-- 33_guard_unseal: G4.  unseal opens the held-out rows for the rest of the
-- current transaction only, writes an audit record that survives a
-- rollback, counts the openings and warns when the test set is reused; no
-- plan made while unsealed is reused after the transaction.
--
\set SHOW_CONTEXT never
CREATE ROLE regress_asof_g_owner;
CREATE ROLE regress_asof_g_analyst;
CREATE SCHEMA g33 AUTHORIZATION regress_asof_g_owner;
GRANT USAGE ON SCHEMA g33 TO regress_asof_g_analyst;
SET ROLE regress_asof_g_owner;
CREATE TABLE g33.flights (id int PRIMARY KEY, dep_time timestamp, distance int, delay int);
-- Split 2001-03-01: training rows 1, 2 (delays 5 + 25); held out 3, 4
-- (delays 40 + 60).
INSERT INTO g33.flights VALUES (1, '2001-01-10', 337, 5), (2, '2001-02-10', 337, 25),
    (3, '2001-03-10', 2586, 40), (4, NULL, 337, 60);
GRANT SELECT ON g33.flights TO regress_asof_g_analyst;
SELECT asof.protect('g33.flights', 'dep_time', '{delay}');
-- Unsealing needs a split.
SELECT asof.unseal('g33.flights', 'too early');
SELECT asof.split('g33.flights', '2001-03-01');
-- And a reason.
SELECT asof.unseal('g33.flights', '  ');
SELECT asof.unseal('g33.flights', NULL);
RESET ROLE;
-- Only the owner opens the test set.
SET ROLE regress_asof_g_analyst;
SELECT asof.unseal('g33.flights', 'curious');
RESET ROLE;
SELECT count(*) AS audit_records FROM asof.holdout_log WHERE event = 'unseal';

SET plan_cache_mode = force_generic_plan;
PREPARE before_unseal AS SELECT count(*), sum(delay) FROM g33.flights;
EXECUTE before_unseal;

-- Open in one transaction: every row is visible there, for every
-- statement, a plan prepared before or during the transaction included.
SET ROLE regress_asof_g_owner;
BEGIN;
SELECT asof.unseal('g33.flights', 'final evaluation of model v1');
SELECT count(*), sum(delay) FROM g33.flights;
EXECUTE before_unseal;
PREPARE during_unseal AS SELECT count(*), sum(delay) FROM g33.flights;
EXECUTE during_unseal;
-- COPY t TO is allowed while unsealed (nothing is left out).
COPY g33.flights TO stdout;
-- A cursor held past the transaction would keep the rows open: refused.
SAVEPOINT s;
DECLARE held CURSOR WITH HOLD FOR SELECT id FROM g33.flights;
ROLLBACK TO SAVEPOINT s;
DECLARE plain CURSOR FOR SELECT count(*) FROM g33.flights;
FETCH plain;
COMMIT;
-- The next transaction is sealed again: both plans are re-made.
SELECT count(*), sum(delay) FROM g33.flights;
EXECUTE before_unseal;
EXECUTE during_unseal;
RESET ROLE;

-- Unseal then ROLLBACK: the rows were visible, and the audit record stays.
SET ROLE regress_asof_g_owner;
BEGIN;
SELECT asof.unseal('g33.flights', 'peek, then roll back');
SELECT count(*) FROM g33.flights;
ROLLBACK;
SELECT count(*) FROM g33.flights;
RESET ROLE;
SELECT table_name, event, role, detail FROM asof.holdout_log
 WHERE event = 'unseal' ORDER BY at;
SELECT table_name, openings FROM asof.protected_tables;

-- Moving the split after the test set was opened warns.
SET ROLE regress_asof_g_owner;
SELECT asof.split('g33.flights', '2001-02-01');
SELECT count(*) FROM g33.flights;
RESET ROLE;
SELECT table_name, event, detail FROM asof.holdout_log
 WHERE event IN ('split', 'move split') ORDER BY at;

-- The audit record is committed even when the statement that unsealed
-- fails afterwards.
SET ROLE regress_asof_g_owner;
DO $$ BEGIN PERFORM asof.unseal('g33.flights', 'third look'); RAISE EXCEPTION 'model crashed'; END $$;
RESET ROLE;
SELECT openings FROM asof.protected_tables;

-- Clean up.
DEALLOCATE ALL;
RESET plan_cache_mode;
DROP SCHEMA g33 CASCADE;
DROP OWNED BY regress_asof_g_owner, regress_asof_g_analyst;
DROP ROLE regress_asof_g_owner;
DROP ROLE regress_asof_g_analyst;
DELETE FROM asof.holdout_log;
