-- pg_asof install script, part 99: privileges of internal functions.
--
-- Code part (re-run by every upgrade script).  Every function of schema
-- asof whose name starts with an underscore is internal: not executable by
-- PUBLIC.  The public functions reach them through their C entry points
-- (src/guard_api.c), which call them directly after fixing the calling
-- role, or run as the extension's owner; event triggers call theirs
-- without a privilege check.  One exception: asof._feature_view_check,
-- which the ddl_command_end event trigger calls as the role running the
-- DDL; it only loads a feature view definition and changes nothing.

DO $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'asof'::regnamespace AND p.proname LIKE '\_%'
              AND p.proname <> '_feature_view_check'
  LOOP
    EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
  END LOOP;
END $$;
