-- test/demo/40_train_lagged.sql: step 4a of the flights demo.  The
-- training set with the features as production serves them: one row per
-- flight, prediction time = the actual departure (the file has no
-- scheduled time).
--
-- It is also the evaluation set.  A training set on a protected spine is
-- protected like it (leakage-guard contract, G5): it holds every flight,
-- May and June with their features exactly as production serves them, but
-- those rows are sealed (only the spine owner's audited asof.unseal opens
-- them), and labels that became known only after the split (flights still
-- in the air at midnight on 1 May) are set to NULL.
\set ON_ERROR_STOP 1
\i test/demo/common.sql
\if :have_engine
\set ECHO queries
SELECT asof.build_training_set('asof_demo.train_lagged',
         spine         => 'asof_demo.flights',
         at            => 'dep_time',
         feature_views => '{origin_lagged,route_lagged}') AS rows_built;
\set ECHO none
\if :have_guard
\echo
\echo 'What a query sees of it: the training rows; its May-June rows are sealed.'
SELECT count(*) AS rows_seen,
       count(*) FILTER (WHERE dep_time >= '2001-05-01') AS may_june_seen,
       count(*) FILTER (WHERE delay IS NULL) AS null_labels
  FROM train_lagged;
\endif
\else
\echo 'SKIPPED: this build has no training set engine (asof.build_training_set).'
\endif
