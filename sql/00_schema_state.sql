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
