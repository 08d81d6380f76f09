-- pg_asof install script, part 99: privileges of internal functions.
--
-- Code part (re-run by every upgrade script).  Every function of schema
-- asof whose name starts with an underscore is internal: not executable by
-- PUBLIC.  The public functions reach them through their C entry points
-- (src/guard_api.c), which call them directly after fixing the calling
-- role, or run as the extension's owner; event triggers call theirs
-- without a privilege check.  Two exceptions, which change nothing and read
-- nothing protected: asof._feature_view_check, which the ddl_command_end
-- event trigger calls as the role running the DDL (it loads a feature view
-- definition), and asof._number_text, the number formatting asof.validate
-- uses in its explanations.

DO $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'asof'::regnamespace AND p.proname LIKE '\_%'
              AND p.proname NOT IN ('_feature_view_check', '_number_text')
  LOOP
    EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
  END LOOP;
END $$;
