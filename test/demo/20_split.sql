-- test/demo/20_split.sql: step 2 of the flights demo.  Declares the split:
-- January to April 2001 are the training rows, May and June are held out.
-- Then the same kind of query sees the training rows only.
\set ON_ERROR_STOP 1
\i test/demo/common.sql
\if :have_guard
\set ECHO queries
SELECT asof.split('asof_demo.flights', test_from => '2001-05-01') \gset
\set ECHO none

\echo
\echo 'The same table after the split: every query sees the training rows only.'
\set ECHO queries
SELECT count(*) AS flights,
       min(dep_time) AS first_departure,
       max(dep_time) AS last_departure,
       round(avg(delay), 2) AS avg_delay
  FROM flights;
\set ECHO none
\else
\echo 'SKIPPED: this build has no leakage guard; no split is declared.'
\endif
