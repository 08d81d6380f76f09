-- test/demo/60_report.sql: the flights demo's result table (test/demo.sh
-- only: the regression test checks these numbers' properties, not their
-- values).  Every number comes from asof_demo.results as steps 5 and 6
-- computed it.
\set ON_ERROR_STOP 1
\i test/demo/common.sql
SELECT feature_set AS "feature set",
       features,
       round(dev_auc::numeric, 4) AS "development AUC (April)",
       round(prod_auc::numeric, 4) AS "production AUC (May-June)",
       to_char(dev_auc - prod_auc, 'SG0.0000') AS gap
  FROM results
 ORDER BY scored_by, feature_set, features DESC;
