--
-- 78_validation_upgrade: ALTER EXTENSION pg_asof UPDATE from the released
-- 0.1.0 gives the validation objects of a fresh 0.2.0 install (state from
-- sql/upgrade/0.1.0--0.2.0/60_validation.sql, code from the code parts),
-- in a database of its own.
--
\set regress_db :DBNAME
SET client_min_messages = warning;
DROP DATABASE IF EXISTS regress_v78;
RESET client_min_messages;
CREATE DATABASE regress_v78;
\c regress_v78
CREATE EXTENSION pg_asof VERSION '0.1.0';
SELECT to_regproc('asof.validate') IS NULL AS no_validate_in_0_1_0;
ALTER EXTENSION pg_asof UPDATE TO '0.2.0';
-- The validation objects, their comments and privileges.
SELECT p.oid::regprocedure AS function, obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
       p.prosecdef AS security_definer
  FROM pg_proc p
 WHERE p.pronamespace = 'asof'::regnamespace
   AND p.proname IN ('profile', 'validate', 'validate_feature_view', 'feature_view_values',
                     '_validate_snapshot', '_number_text')
 ORDER BY p.oid::regprocedure::text;
SELECT c.oid::regclass AS table_name, obj_description(c.oid, 'pg_class') IS NOT NULL AS commented,
       c.relrowsecurity AS rls, has_table_privilege('public', c.oid, 'SELECT') AS public_select,
       has_table_privilege('public', c.oid, 'INSERT') AS public_insert,
       c.oid = ANY (e.extconfig) AS dumped
  FROM pg_class c, pg_extension e
 WHERE e.extname = 'pg_asof' AND c.oid IN ('asof.profile_history'::regclass, 'asof.validation_alerts'::regclass)
 ORDER BY c.oid::regclass::text;
SELECT polname, polcmd FROM pg_policy WHERE polrelid = 'asof.validation_alerts'::regclass;
-- They work.
CREATE TABLE t (ts timestamp, x int);
INSERT INTO t SELECT '2001-01-01'::timestamp + i * interval '1 hour', i % 5 FROM generate_series(0, 47) i;
SELECT partition_start, column_name, rows, mean FROM asof.profile('t', 'ts');
-- The members of the upgraded extension are those of a fresh install.
CREATE TEMP TABLE upgraded AS
SELECT pg_describe_object(classid, objid, 0) AS member FROM pg_depend
 WHERE refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_asof') AND deptype = 'e'
   AND pg_describe_object(classid, objid, 0) ~ '(profile|validat|feature_view_values|_number_text)';
DROP TABLE t;
DROP EXTENSION pg_asof;
CREATE EXTENSION pg_asof;
SELECT u.member AS only_upgraded, f.member AS only_fresh
  FROM upgraded u
  FULL JOIN (SELECT pg_describe_object(classid, objid, 0) AS member FROM pg_depend
              WHERE refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_asof') AND deptype = 'e'
                AND pg_describe_object(classid, objid, 0) ~ '(profile|validat|feature_view_values|_number_text)') f
    ON f.member = u.member
 WHERE u.member IS NULL OR f.member IS NULL;
-- (how many: 10 on 15; 17 also lists the tables' row types)
SELECT count(*) >= 10 AS validation_members FROM upgraded;
\c :regress_db
DROP DATABASE regress_v78;
