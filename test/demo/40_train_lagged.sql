-- test/demo/40_train_lagged.sql: step 4a of the flights demo.  The
-- training set with the features as production serves them: one row per
-- flight, prediction time = the actual departure (the file has no
-- scheduled time).
--
-- It is also the evaluation set: built in a transaction that opens the
-- held-out flights (asof.unseal, audited), it holds May and June too, with
-- their features exactly as production serves them.  A training set on a
-- protected spine is protected like it (leakage-guard contract, G5): after
-- the transaction its May-June rows are sealed again, and only the spine
-- owner's asof.unseal opens them.  Labels that became known only after the
-- split (flights still in the air at midnight on 1 May) are set to NULL.
\set ON_ERROR_STOP 1
\i test/demo/common.sql
\if :have_engine
\set ECHO queries
BEGIN;
\if :have_guard
SELECT asof.unseal('asof_demo.flights',
         reason => 'make demo: evaluation set, May-June features as production serves them') \gset
\endif
SELECT asof.build_training_set('asof_demo.train_lagged',
         spine         => 'asof_demo.flights',
         at            => 'dep_time',
         feature_views => '{origin_lagged,route_lagged}') AS rows_built;
COMMIT;
\set ECHO none
\if :have_guard
\echo
\echo 'After the transaction its May-June rows are sealed again:'
SELECT count(*) AS rows_seen,
       count(*) FILTER (WHERE dep_time >= '2001-05-01') AS may_june_seen,
       count(*) FILTER (WHERE delay IS NULL) AS null_labels
  FROM train_lagged;
\endif
\else
\echo 'SKIPPED: this build has no training set engine (asof.build_training_set).'
\endif
