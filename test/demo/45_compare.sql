-- test/demo/45_compare.sql: part of step 4 of the flights demo.  Shows
-- what the naive features see that production cannot, on April (training
-- rows, readable after the split): how strongly each 1-hour and 6-hour
-- feature follows the flight's own arrival delay; and that
-- asof.features_at, what production serves, returns exactly the training
-- set's values (about 20 flights: each call is a lookup of its own).
\set ON_ERROR_STOP 1
\i test/demo/common.sql
\if :have_engine
\echo 'April flights: correlation of each feature with the flight''s own arrival delay'
SELECT 'naive (event time only)' AS features,
       count(*) AS flights,
       round(corr(origin_naive__avg_delay_1h, delay)::numeric, 3) AS origin_1h,
       round(corr(origin_naive__avg_delay_6h, delay)::numeric, 3) AS origin_6h,
       round(corr(route_naive__avg_delay_1d, delay)::numeric, 3) AS route_1d
  FROM train_naive
 WHERE dep_time >= '2001-04-01' AND dep_time < '2001-05-01'
UNION ALL
SELECT 'lagged (as served)',
       count(*),
       round(corr(origin_lagged__avg_delay_1h, delay)::numeric, 3),
       round(corr(origin_lagged__avg_delay_6h, delay)::numeric, 3),
       round(corr(route_lagged__avg_delay_1d, delay)::numeric, 3)
  FROM train_lagged
 WHERE dep_time >= '2001-04-01' AND dep_time < '2001-05-01'
 ORDER BY 1 DESC;

\echo
\echo 'Development = production, value by value: for about 20 April flights spread over'
\echo 'the month, asof.features_at (what production serves at that moment) against the'
\echo 'training set row (every feature of both lagged views):'
WITH april AS (
    SELECT *, row_number() OVER (ORDER BY id) AS rn, count(*) OVER () AS n
      FROM train_lagged
     WHERE dep_time >= '2001-04-01' AND dep_time < '2001-05-01'
)
SELECT count(*) AS flights_checked,
       count(*) FILTER (WHERE asof.features_at('origin_lagged', ARRAY[origin], dep_time)
                 = jsonb_build_object(
                     'avg_delay_1h', origin_lagged__avg_delay_1h, 'avg_delay_6h', origin_lagged__avg_delay_6h,
                     'avg_delay_1d', origin_lagged__avg_delay_1d, 'avg_delay_7d', origin_lagged__avg_delay_7d,
                     'count_1d', origin_lagged__count_1d, 'max_delay_1d', origin_lagged__max_delay_1d,
                     'late_share_1d', origin_lagged__late_share_1d)) AS origin_lagged_identical,
       count(*) FILTER (WHERE asof.features_at('route_lagged', ARRAY[origin, destination], dep_time)
                 = jsonb_build_object(
                     'avg_delay_1d', route_lagged__avg_delay_1d, 'avg_delay_7d', route_lagged__avg_delay_7d,
                     'count_7d', route_lagged__count_7d, 'last_delay', route_lagged__last_delay)) AS route_lagged_identical
  FROM april
 WHERE rn % greatest(n / 20, 1) = 0;
\else
\echo 'SKIPPED: no training sets to compare (no engine in this build).'
\endif
