-- pg_asof install script, part 00: the schema.
--
-- The install script is assembled from sql/NN_*.sql in name order (see the
-- Makefile).  The control file sets schema = pg_catalog, so every object
-- here is schema-qualified; schema "asof" is created by this script, which
-- makes it an extension member that DROP EXTENSION removes.

\echo Use "CREATE EXTENSION pg_asof" to load this file. \quit

CREATE SCHEMA asof;
COMMENT ON SCHEMA asof IS 'pg_asof: point-in-time feature views, training sets and the train/test leakage guard';
GRANT USAGE ON SCHEMA asof TO PUBLIC;

CREATE FUNCTION asof.version() RETURNS text
    AS 'MODULE_PATHNAME', 'asof_version'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION asof.version() IS
'Version of the loaded pg_asof library (text, SemVer).  Equal to the extension version when the installed library and SQL script match.';

-- Load the library now, whatever check_function_bodies says (pg_restore turns
-- it off): a server without pg_asof in shared_preload_libraries refuses here.
DO $$ BEGIN PERFORM asof.version(); END $$;
