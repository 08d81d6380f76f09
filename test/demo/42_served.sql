-- test/demo/42_served.sql: step 4c of the flights demo.  Where the
-- production numbers will be read from: the features exactly as production
-- serves them (the lagged views) for the held-out flights of May and June.
--
-- A training set built on a protected spine carries the spine's protection
-- (leakage-guard contract, G5): its May-June rows are sealed and
-- asof.unseal opens them.  When this build's training sets are not
-- protected yet, they hold the training rows only (the engine sees the
-- spine as the user does); then this step builds the May-June features in
-- a transaction that opens the held-out flights (audited), and protects
-- and splits the result before committing, so that every row of it stays
-- sealed exactly as G5 would keep it.  Sets psql variable served to the
-- table to read.
\set ON_ERROR_STOP 1
\i test/demo/common.sql
\if :have_engine
\if :have_guard
SELECT EXISTS (SELECT 1 FROM asof.protected_tables
                WHERE table_name = 'asof_demo.train_lagged'::regclass) AS served_in_training_set \gset
\if :served_in_training_set
\echo 'train_lagged carries the protection of its spine: its May-June rows are sealed there.'
\else
\echo 'train_lagged holds the training rows only (this build''s training sets do not carry their'
\echo 'spine''s protection): the May-June features as production serves them are built once,'
\echo 'in a transaction that opens the held-out flights, and sealed before it commits.'
CREATE VIEW may_june AS
    SELECT * FROM flights WHERE dep_time >= '2001-05-01' AND dep_time < '2001-07-01';
\set ECHO queries
BEGIN;
SELECT asof.unseal('asof_demo.flights',
         reason => 'make demo: features as production serves them for May-June') \gset
SELECT asof.build_training_set('asof_demo.served_may_june',
         spine         => 'asof_demo.may_june',
         at            => 'dep_time',
         feature_views => '{origin_lagged,route_lagged}') AS rows_built;
SELECT asof.protect('asof_demo.served_may_june',
         time_column   => 'dep_time',
         label_columns => '{delay}',
         label_time    => 'dep_time + (30 + distance / 8) * interval ''1 minute''') \gset
SELECT asof.split('asof_demo.served_may_june', test_from => '2001-05-01') \gset
COMMIT;
\set ECHO none
SELECT count(*) AS served_may_june_rows_seen_now FROM served_may_june;
\endif
\else
\echo 'No leakage guard in this build: train_lagged holds every flight, May-June included.'
\endif
\else
\echo 'SKIPPED: no training sets (no engine in this build).'
\endif
