-- test/demo/50_score.sql: step 5 of the flights demo, in SQL.  Scores a
-- single-feature predictor, the origin's 6-hour average arrival delay, for
-- "this flight arrives more than 15 minutes late", the same way for both
-- kinds of feature:
--   development: AUC on April with the set's own feature values;
--   production:  AUC on May and June with the feature as production serves
--                it (the lagged one, for both), read after an audited
--                asof.unseal of train_lagged in one transaction.
-- A NULL feature (no flight in the window) scores as the set's own mean over
-- January to March (the "fit" period).  Rows whose label is NULL are left
-- out.  The AUCs go to asof_demo.results; test/demo.sh prints them
-- (60_report.sql).
\set ON_ERROR_STOP 1
\i test/demo/common.sql
\if :have_engine
\set served 'asof_demo.train_lagged'
\set single '''single feature: origin avg delay 6h'''
\set apr 'dep_time >= ''2001-04-01'' AND dep_time < ''2001-05-01'''
\set may_june 'dep_time >= ''2001-05-01'' AND dep_time < ''2001-07-01'''
\set fit 'dep_time < ''2001-04-01'''
-- Development: April rows are training rows, readable after the split.
INSERT INTO results (feature_set, features, scored_by, dev_auc, dev_n)
SELECT :single, 'naive', 'SQL', a.auc, a.n
  FROM auc(format($q$
        SELECT coalesce(origin_naive__avg_delay_6h,
                        (SELECT avg(origin_naive__avg_delay_6h) FROM asof_demo.train_naive WHERE %s)),
               delay > 15
          FROM asof_demo.train_naive WHERE %s$q$, :'fit', :'apr')) a
UNION ALL
SELECT :single, 'lagged', 'SQL', a.auc, a.n
  FROM auc(format($q$
        SELECT coalesce(origin_lagged__avg_delay_6h,
                        (SELECT avg(origin_lagged__avg_delay_6h) FROM asof_demo.train_lagged WHERE %s)),
               delay > 15
          FROM asof_demo.train_lagged WHERE %s$q$, :'fit', :'apr')) a;

-- Production: May and June are held out; open them for this transaction.
BEGIN;
\if :have_guard
\set ECHO queries
SELECT asof.unseal(:'served',
         reason => 'make demo: production AUC of the single-feature score') \gset
\set ECHO none
\endif
UPDATE results r SET prod_auc = a.auc, prod_n = a.n
  FROM auc(format($q$
        SELECT coalesce(origin_lagged__avg_delay_6h,
                        (SELECT avg(origin_naive__avg_delay_6h) FROM asof_demo.train_naive WHERE %s)),
               delay > 15
          FROM %s WHERE %s$q$, :'fit', :'served', :'may_june')) a
 WHERE r.feature_set = :single AND r.features = 'naive';
UPDATE results r SET prod_auc = a.auc, prod_n = a.n
  FROM auc(format($q$
        SELECT coalesce(origin_lagged__avg_delay_6h,
                        (SELECT avg(origin_lagged__avg_delay_6h) FROM asof_demo.train_lagged WHERE %s)),
               delay > 15
          FROM %s WHERE %s$q$, :'fit', :'served', :'may_june')) a
 WHERE r.feature_set = :single AND r.features = 'lagged';
COMMIT;

SELECT feature_set, features, dev_n AS april_flights, prod_n AS may_june_flights
  FROM results WHERE scored_by = 'SQL' ORDER BY features DESC;
\else
\echo 'SKIPPED: nothing to score without training sets (no engine in this build).'
\endif
