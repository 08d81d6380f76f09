--
-- 50_demo: the flights demo's own SQL (test/demo/*.sql, what "make demo"
-- runs) on the committed sample data/flights-sample.csv.gz, so that CI keeps
-- the demo working, with checks of its results.  The expected counts were
-- computed independently from the CSV file (a Python loop over its lines,
-- landing time = dep_time + 30 + distance / 8 minutes):
--   30000 flights; 19790 before 2001-05-01 (training rows), 10210 after;
--   5 training flights land at or after 2001-05-01 (immature labels);
--   14780 January-March flights; 5010 April flights, 5005 of them landing
--   before 2001-05-01 (885 of those late, delay > 15); 10210 May-June
--   flights (1927 late).
-- A step whose API is missing from the build prints SKIPPED (see
-- test/demo/common.sql); its checks below are skipped with it.  The demo's
-- files run with ECHO none: their output (results, \echo lines, errors and
-- notices) shows, their text does not.
--
\set flights_file 'data/flights-sample.csv.gz'
\set ECHO none
\i test/demo/00_load.sql
\set ECHO all

-- The load: every row of the file, split by the cutoff as computed from the
-- CSV.
SELECT count(*) AS flights,
       count(*) FILTER (WHERE dep_time < '2001-05-01') AS before_may,
       count(*) FILTER (WHERE dep_time >= '2001-05-01') AS from_may,
       count(DISTINCT id) AS ids
  FROM flights;

-- asof_demo.auc, by hand.  Positives {2, 3}, negatives {1, 2}: of the four
-- (positive, negative) pairs three are ordered right and one is tied,
-- (3 + 0.5) / 4 = 0.875.
SELECT * FROM auc($$VALUES (1.0, false), (2.0, true), (2.0, false), (3.0, true)$$);
-- All tied: 0.5.  Perfect: 1.  Reversed: 0.
SELECT * FROM auc($$VALUES (1, true), (1, false), (1, true), (1, false)$$);
SELECT * FROM auc($$VALUES (1, false), (2, true), (3, true)$$);
SELECT * FROM auc($$VALUES (2, false), (1, true)$$);
-- One class only: NULL (undefined), not an error.
SELECT * FROM auc($$VALUES (1, true), (2, true)$$);
-- NULL scores and NULL labels are left out and not counted: one pair left.
SELECT * FROM auc($$VALUES (NULL::float8, true), (1, false), (2, NULL::boolean), (3, true)$$);
-- Real data, heavy ties (distance as the score, 7 January days): the rank
-- formula agrees with counting every (late, on-time) pair, ties one half.
WITH s AS (
    SELECT distance AS score, delay > 15 AS late FROM flights
     WHERE dep_time < '2001-01-08'
), pairs AS (
    SELECT avg(CASE WHEN p.score > n.score THEN 1.0
                    WHEN p.score = n.score THEN 0.5 ELSE 0 END) AS auc,
           count(*) AS pairs
      FROM s p JOIN s n ON p.late AND NOT n.late
)
SELECT pairs.pairs > 100000 AS many_pairs,
       (SELECT count(DISTINCT score) < count(*) / 2 FROM s) AS many_ties,
       abs(pairs.auc - a.auc) < 1e-12 AS rank_formula_agrees
  FROM pairs,
       auc($$SELECT distance, delay > 15 FROM flights WHERE dep_time < '2001-01-08'$$) a;

-- Step 1: the guard refuses the exploratory query (ERROR with SQLSTATE
-- 42501, the message names table and column, never a value).
\set ECHO none
\i test/demo/10_protect.sql
\set ECHO all
-- Step 2: after the split every query sees the 19790 training rows only.
\set ECHO none
\i test/demo/20_split.sql
\set ECHO all
\set ECHO none
\i test/demo/common.sql
\set ECHO all
\if :have_guard
SELECT count(*) AS seen, max(dep_time) < '2001-05-01' AS all_before_may FROM flights;
SELECT count(*) AS seen_may_june FROM flights WHERE dep_time >= '2001-05-01';
\endif

-- Steps 3 and 4: feature views and training sets (no progress notices:
-- their timing would make the output vary).
SET asof.progress_interval = 0;
\set ECHO none
\i test/demo/30_feature_views.sql
\set ECHO all
\set ECHO none
\i test/demo/40_train_lagged.sql
\set ECHO all
\set ECHO none
\i test/demo/41_train_naive.sql
\set ECHO all
\set ECHO none
\i test/demo/45_compare.sql
\set ECHO all
\set ECHO none
\i test/demo/common.sql
\set ECHO all
\if :have_engine
-- One row per spine row the engine saw, every feature column there.
SELECT c.relname, array_agg(a.attname ORDER BY a.attnum) FILTER (WHERE a.attname LIKE '%\_\_%') AS features
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.oid IN ('train_lagged'::regclass, 'train_naive'::regclass)
 GROUP BY c.relname ORDER BY 1;
SELECT name, version, spine, at, feature_views, row_count
  FROM asof.training_sets WHERE name LIKE 'asof_demo.%' ORDER BY name, version;
\if :have_guard
-- Both training sets hold all 30000 flights (asof.training_sets above) and
-- are protected like their spine: a query sees the 19790 training rows, 5
-- of them with a NULL label (landed after the split).
SELECT 'train_lagged' AS training_set, count(*) AS seen,
       count(*) FILTER (WHERE delay IS NULL) AS null_labels,
       max(dep_time) < '2001-05-01' AS all_before_may FROM train_lagged
UNION ALL
SELECT 'train_naive', count(*), count(*) FILTER (WHERE delay IS NULL),
       max(dep_time) < '2001-05-01' FROM train_naive
ORDER BY 1;
SELECT table_name::text, time_column, label_columns, label_time, test_from
  FROM asof.protected_tables
 WHERE table_name IN ('flights'::regclass, 'train_lagged'::regclass, 'train_naive'::regclass)
 ORDER BY 1;
-- What production serves for a held-out time is refused while sealed...
\set ON_ERROR_STOP 0
SELECT asof.features_at('origin_lagged', '{ORD}', '2001-05-15 12:00'::timestamp);
\set ON_ERROR_STOP 1
-- ...and the 10210 May-June rows open in one transaction, with their labels.
BEGIN;
SELECT asof.unseal('train_lagged', reason => '50_demo: the held-out rows are there') \gset
SELECT count(*) AS may_june, count(delay) AS with_label, min(dep_time) >= '2001-05-01' AS all_from_may
  FROM train_lagged WHERE dep_time >= '2001-05-01';
-- Their features are what production serves (features_at, the flights
-- opened too), on every 1000th flight.
SELECT asof.unseal('flights', reason => '50_demo: features_at on held-out flights') \gset
SELECT count(*) AS checked,
       count(*) FILTER (WHERE asof.features_at('origin_lagged', ARRAY[origin], dep_time)
                 = jsonb_build_object(
                     'avg_delay_1h', origin_lagged__avg_delay_1h, 'avg_delay_6h', origin_lagged__avg_delay_6h,
                     'avg_delay_1d', origin_lagged__avg_delay_1d, 'avg_delay_7d', origin_lagged__avg_delay_7d,
                     'count_1d', origin_lagged__count_1d, 'max_delay_1d', origin_lagged__max_delay_1d,
                     'late_share_1d', origin_lagged__late_share_1d)) AS origin_identical,
       count(*) FILTER (WHERE asof.features_at('route_lagged', ARRAY[origin, destination], dep_time)
                 = jsonb_build_object(
                     'avg_delay_1d', route_lagged__avg_delay_1d, 'avg_delay_7d', route_lagged__avg_delay_7d,
                     'count_7d', route_lagged__count_7d, 'last_delay', route_lagged__last_delay)) AS route_identical
  FROM train_lagged WHERE dep_time >= '2001-05-01' AND id % 1000 = 0;
ROLLBACK;
SELECT count(*) AS seen FROM train_lagged WHERE dep_time >= '2001-05-01';
-- Every opening is in the audit log, rolled back or not.
SELECT table_name, event, detail FROM asof.holdout_log
 WHERE event = 'unseal'
   AND tbl IN ('asof_demo.flights'::regclass, 'asof_demo.train_lagged'::regclass)
 ORDER BY at;
\else
SELECT count(*) AS rows_in_train_lagged FROM train_lagged;
SELECT count(*) AS rows_in_train_naive FROM train_naive;
\endif
\endif

-- Step 5: the single-feature AUCs, on the April and May-June flights with a
-- known label; every AUC a probability.
\set ECHO none
\i test/demo/50_score.sql
\set ECHO all
\set ECHO none
\i test/demo/common.sql
\set ECHO all
\if :have_engine
SELECT feature_set, features, scored_by, dev_n, prod_n,
       dev_auc BETWEEN 0 AND 1 AS dev_auc_ok,
       prod_auc BETWEEN 0 AND 1 AS prod_auc_ok
  FROM results ORDER BY features DESC;
-- The development AUC, recomputed by counting every (late, on-time) pair of
-- April flights.
WITH s AS (
    SELECT coalesce(origin_lagged__avg_delay_6h,
                    (SELECT avg(origin_lagged__avg_delay_6h) FROM train_lagged
                      WHERE dep_time < '2001-04-01')) AS score,
           delay > 15 AS late
      FROM train_lagged
     WHERE dep_time >= '2001-04-01' AND dep_time < '2001-05-01' AND delay IS NOT NULL
)
SELECT abs(avg(CASE WHEN p.score > n.score THEN 1.0
                    WHEN p.score = n.score THEN 0.5 ELSE 0 END)
           - (SELECT dev_auc FROM results WHERE features = 'lagged' AND scored_by = 'SQL')) < 1e-12
       AS lagged_dev_auc_agrees
  FROM s p JOIN s n ON p.late AND NOT n.late;
\endif
