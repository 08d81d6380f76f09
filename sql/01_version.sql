-- pg_asof install script, part 01: the library version, and loading it.
--
-- Code part: re-run by every upgrade script (see sql/upgrade/README).

CREATE OR REPLACE FUNCTION asof.version() RETURNS text
    AS 'MODULE_PATHNAME', 'asof_version'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION asof.version() IS
'Version of the loaded pg_asof library (text, SemVer).  Equal to the extension version when the installed library and SQL script match.';

-- Load the library now, whatever check_function_bodies says (pg_restore turns
-- it off): a server without pg_asof in shared_preload_libraries refuses here.
DO $$ BEGIN PERFORM asof.version(); END $$;
