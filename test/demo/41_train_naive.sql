-- test/demo/41_train_naive.sql: step 4b of the flights demo.  The same
-- spine with the naive features, as a notebook would build it.  Only its
-- training rows are used (development): in production the naive model is
-- served the lagged features.
\set ON_ERROR_STOP 1
\i test/demo/common.sql
\if :have_engine
\set ECHO queries
SELECT asof.build_training_set('asof_demo.train_naive',
         spine         => 'asof_demo.flights',
         at            => 'dep_time',
         feature_views => '{origin_naive,route_naive}') AS rows_built;
\set ECHO none
\else
\echo 'SKIPPED: this build has no training set engine (asof.build_training_set).'
\endif
