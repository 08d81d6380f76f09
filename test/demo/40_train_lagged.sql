-- test/demo/40_train_lagged.sql: step 4a of the flights demo.  The
-- training set with the features as production serves them: one row per
-- flight, prediction time = the actual departure (the file has no
-- scheduled time).
\set ON_ERROR_STOP 1
\i test/demo/common.sql
\if :have_engine
SELECT asof.build_training_set('asof_demo.train_lagged',
         spine         => 'asof_demo.flights',
         at            => 'dep_time',
         feature_views => '{origin_lagged,route_lagged}') AS rows_built;
\else
\echo 'SKIPPED: this build has no training set engine (asof.build_training_set).'
\endif
