-- test/demo/00_load.sql: step 0 of the flights demo.  (Re)creates schema
-- asof_demo with table flights and loads the flights through the client
-- (psql's \copy runs gzip on the client machine, so this works against a
-- remote server too).  psql variable flights_file names the .csv.gz file.
-- Also creates the demo's helpers: asof_demo.auc() and asof_demo.results.
-- Must not use any pg_asof API (it runs before CREATE EXTENSION).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS asof_demo CASCADE;
RESET client_min_messages;
CREATE SCHEMA asof_demo;
SET search_path = asof_demo, public;

CREATE TABLE flights (
    id          bigint GENERATED ALWAYS AS IDENTITY, -- line of the file
    dep_time    timestamp NOT NULL, -- actual departure, local time of origin
    origin      text NOT NULL,      -- IATA code of the departure airport
    destination text NOT NULL,      -- IATA code of the arrival airport
    distance    integer NOT NULL,   -- miles
    delay       integer             -- arrival delay, minutes (the label)
);

\set load_flights '\\copy asof_demo.flights (dep_time, origin, destination, distance, delay) FROM PROGRAM ''gzip -dc "' :flights_file '"'' WITH (FORMAT csv, HEADER true)'
:load_flights
-- What a production source has: an index for lookups by entity (the
-- origin, or the route), which asof.features_at uses.
CREATE INDEX ON flights (origin, destination);
ANALYZE flights;

\echo
SELECT count(*) AS flights,
       count(DISTINCT origin) AS origins,
       min(dep_time) AS first_departure,
       max(dep_time) AS last_departure
  FROM flights;

-- The score of every model is judged by the area under the ROC curve,
-- computed here in SQL: the Mann-Whitney U statistic from ranks, tied
-- scores sharing their average rank.
--
--   AUC = (R1 - n1 (n1 + 1) / 2) / (n1 n0)
--
-- R1: the sum of the (average) ranks of the positive rows when all rows are
-- ranked by score; n1, n0: the numbers of positive and negative rows.  It
-- equals the probability that a random positive row scores above a random
-- negative one, ties counting one half.  query is any query returning the
-- columns (score float8, positive boolean); rows where either is NULL are
-- left out and not counted in n.
CREATE FUNCTION auc(query text, OUT auc float8, OUT n bigint, OUT positives bigint)
LANGUAGE plpgsql STABLE AS $fn$
BEGIN
    EXECUTE format($q$
        WITH s AS (
            SELECT score::float8 AS score, positive::boolean AS positive
              FROM (%s) AS q(score, positive)
             WHERE score IS NOT NULL AND positive IS NOT NULL
        ), ranked AS (
            SELECT positive,
                   rank() OVER (ORDER BY score)
                     + (count(*) OVER (PARTITION BY score) - 1) / 2.0 AS avg_rank
              FROM s
        ), t AS (
            SELECT count(*) FILTER (WHERE positive) AS n1,
                   count(*) FILTER (WHERE NOT positive) AS n0,
                   coalesce(sum(avg_rank) FILTER (WHERE positive), 0) AS r1
              FROM ranked
        )
        SELECT ((r1 - n1 * (n1 + 1) / 2.0) / nullif(n1 * n0, 0))::float8,
               n1 + n0, n1
          FROM t$q$, query)
      INTO auc, n, positives;
END
$fn$;
COMMENT ON FUNCTION auc(text) IS
'Area under the ROC curve of query''s rows (score float8, positive boolean): the Mann-Whitney U statistic from average ranks (ties count one half) divided by n1*n0.  Rows with a NULL score or label are left out.  NULL when either class is empty.';

-- One row per scored feature set, filled by steps 5 and 6 (SQL and Python).
CREATE TABLE results (
    feature_set text NOT NULL,      -- e.g. 'single feature: origin 6h avg delay'
    features    text NOT NULL,      -- 'naive' or 'lagged'
    scored_by   text NOT NULL,      -- 'SQL' or 'train_flights.py'
    dev_auc     float8,             -- April, the set's own features
    dev_n       bigint,
    prod_auc    float8,             -- May-June, features as served (lagged)
    prod_n      bigint,
    PRIMARY KEY (feature_set, features)
);
