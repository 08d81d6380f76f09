-- test/demo/45_compare.sql: part of step 4 of the flights demo.  Shows
-- what the naive features see that production cannot, on April (training
-- rows, readable after the split): how strongly each 1-hour and 6-hour
-- feature follows the flight's own arrival delay, and the flights where
-- the two kinds of feature differ most.
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
 WHERE dep_time >= '2001-04-01' AND dep_time < '2001-05-01';

\echo
\echo 'April flights whose origin 1-hour average delay differs most between the two:'
SELECT n.dep_time, n.origin, n.destination, n.delay,
       n.origin_naive__count_1d AS naive_n_1d,
       l.origin_lagged__count_1d AS served_n_1d,
       round(n.origin_naive__avg_delay_1h::numeric, 1) AS naive_avg_1h,
       round(l.origin_lagged__avg_delay_1h::numeric, 1) AS served_avg_1h
  FROM train_naive n
  JOIN train_lagged l USING (id)
 WHERE n.dep_time >= '2001-04-01' AND n.dep_time < '2001-05-01'
 ORDER BY abs(coalesce(n.origin_naive__avg_delay_1h, 0)
               - coalesce(l.origin_lagged__avg_delay_1h, 0)) DESC, n.id
 LIMIT 3;
\else
\echo 'SKIPPED: no training sets to compare (no engine in this build).'
\endif
