--
-- 00_extension: what CREATE EXTENSION installs, and that DROP EXTENSION
-- leaves nothing behind.  pg_regress created the extension already
-- (--load-extension); this test drops and re-creates it.
--

-- Not relocatable; schema "asof" is a member of the extension.
SELECT e.extname, e.extversion, e.extrelocatable,
       (SELECT count(*) FROM pg_depend d
         WHERE d.classid = 'pg_namespace'::regclass
           AND d.objid = 'asof'::regnamespace
           AND d.refobjid = e.oid AND d.deptype = 'e') AS schema_is_member
  FROM pg_extension e WHERE e.extname = 'pg_asof';

-- Catalog counts with the extension absent, after a CREATE and a DROP.
CREATE TEMP TABLE catalog_counts (label text, catalog text, n bigint);
CREATE PROCEDURE pg_temp.snapshot(label text) LANGUAGE plpgsql AS $$
DECLARE c text;
BEGIN
  FOREACH c IN ARRAY ARRAY['pg_class', 'pg_proc', 'pg_type', 'pg_namespace',
      'pg_depend', 'pg_shdepend', 'pg_description', 'pg_init_privs',
      'pg_event_trigger', 'pg_trigger', 'pg_policy', 'pg_constraint',
      'pg_attrdef', 'pg_rewrite', 'pg_aggregate', 'pg_operator', 'pg_cast']
  LOOP
    EXECUTE format('INSERT INTO catalog_counts SELECT %L, %L, count(*) FROM %I',
                   label, c, c);
  END LOOP;
END $$;

DROP EXTENSION pg_asof;
CALL pg_temp.snapshot('absent');
CREATE EXTENSION pg_asof;
CALL pg_temp.snapshot('created');
DROP EXTENSION pg_asof;
CALL pg_temp.snapshot('dropped');

-- The schema is gone with the extension.
SELECT count(*) AS asof_schemas FROM pg_namespace WHERE nspname = 'asof';

-- CREATE added objects (schema, tables, functions...): at least the schema.
SELECT a.n < c.n AS create_added_objects
  FROM catalog_counts a JOIN catalog_counts c USING (catalog)
 WHERE a.label = 'absent' AND c.label = 'created' AND catalog = 'pg_namespace';

-- DROP removed every one of them: no catalog differs from "absent".
SELECT a.catalog, a.n AS absent, d.n AS after_drop
  FROM catalog_counts a JOIN catalog_counts d USING (catalog)
 WHERE a.label = 'absent' AND d.label = 'dropped' AND a.n <> d.n;

CREATE EXTENSION pg_asof;

-- The registry tables are changed only through the extension's functions:
-- a role that is not a superuser can neither insert, update, delete nor
-- truncate any of them.  One row per registry table (pg_dump'ed config
-- tables), each must say refused for every command.
CREATE ROLE regress_asof_plain_role;
CREATE FUNCTION pg_temp.try_write(tbl regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  cmd text;
  verdict text := '';
  col name := (SELECT attname FROM pg_attribute WHERE attrelid = tbl AND attnum = 1);
BEGIN
  FOREACH cmd IN ARRAY ARRAY[
      format('INSERT INTO %s DEFAULT VALUES', tbl),
      format('UPDATE %s SET %I = %I', tbl, col, col),
      format('DELETE FROM %s', tbl),
      format('TRUNCATE %s', tbl)]
  LOOP
    BEGIN
      EXECUTE cmd;
      verdict := verdict || split_part(cmd, ' ', 1) || ' allowed; ';
    EXCEPTION WHEN insufficient_privilege THEN
      verdict := verdict || split_part(cmd, ' ', 1) || ' refused; ';
    WHEN OTHERS THEN
      verdict := verdict || split_part(cmd, ' ', 1) || ' failed: ' || SQLERRM || '; ';
    END;
  END LOOP;
  RETURN verdict;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.try_write(regclass) TO regress_asof_plain_role;
SET ROLE regress_asof_plain_role;
SELECT c::regclass AS registry_table, pg_temp.try_write(c::regclass) AS plain_role
  FROM pg_extension e, unnest(e.extconfig) AS c
 WHERE e.extname = 'pg_asof'
 ORDER BY c::regclass::text;
RESET ROLE;
REVOKE EXECUTE ON FUNCTION pg_temp.try_write(regclass) FROM regress_asof_plain_role;
DROP ROLE regress_asof_plain_role;
