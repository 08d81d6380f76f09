-- test/demo/10_protect.sql: step 1 of the flights demo.  Creates the
-- extension, registers flights with the leakage guard (time dep_time, label
-- delay, label known at landing) and runs the first query a data scientist
-- would run, which the guard refuses: it reads the label before any
-- train/test split exists.  The statements a user would type are echoed
-- (ECHO queries); calls returning void end in \gset so they print nothing.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_asof;
RESET client_min_messages;
SELECT extname, extversion, asof.version() AS library_version
  FROM pg_extension WHERE extname = 'pg_asof';
\i test/demo/common.sql
\if :have_guard
\echo
\set ECHO queries
SELECT asof.protect('asof_demo.flights',
         time_column    => 'dep_time',
         label_columns  => '{delay}',
         entity_columns => '{origin,destination}',
         label_time     => 'dep_time + (30 + distance / 8) * interval ''1 minute''') \gset
\set ECHO none

\echo
\echo 'The first thing a data scientist types:'
\set ON_ERROR_STOP 0
\set ECHO queries
SELECT avg(delay) FROM flights;
\set ECHO none
\set ON_ERROR_STOP 1
SELECT :'LAST_ERROR_SQLSTATE' = '42501' AS refused \gset
\if :refused
\echo '=> refused (SQLSTATE 42501): no label is read before the split.'
\else
\echo '=> NOT refused: the leakage guard let a label read through before the split'
SELECT 1 / 0 AS guard_failed;
\endif

\echo
\echo 'Queries that read no label keep working, over all rows (the test period too):'
\set ECHO queries
SELECT count(*) AS flights, count(DISTINCT origin) AS origins,
       round(avg(distance)) AS avg_distance
  FROM flights;
\set ECHO none
\else
\echo 'SKIPPED: this build has no leakage guard (asof.protect, asof.split, asof.unseal); the data stay unprotected.'
\endif
