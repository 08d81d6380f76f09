--
-- 74_profile_guard: asof.profile and asof.validate go through the leakage
-- guard like any query (docs/validation.md, "Under the guard").  Before the
-- split, label and future columns are left out with a NOTICE, also when a
-- partition of the protected table is profiled directly; after the split a
-- plain role profiles the training rows only, and a transaction the owner
-- unsealed (audited) profiles the held-out rows too.
--
\set SHOW_CONTEXT never
CREATE ROLE regress_v74_owner;
CREATE ROLE regress_v74_analyst;
CREATE SCHEMA v74 AUTHORIZATION regress_v74_owner;
GRANT USAGE ON SCHEMA v74 TO regress_v74_analyst;
SET ROLE regress_v74_owner;
-- 6 days (2001-03-01 .. 03-06) of 10 flights; delay is the label, arr_time
-- a future column.  Partitioned by month: March in v74.flights_03.
CREATE TABLE v74.flights (dep_time timestamp, origin text, distance int, delay int, arr_time timestamp)
    PARTITION BY RANGE (dep_time);
CREATE TABLE v74.flights_03 PARTITION OF v74.flights FOR VALUES FROM ('2001-03-01') TO ('2001-04-01');
INSERT INTO v74.flights
SELECT timestamp '2001-03-01' + d * interval '1 day' + i * interval '1 hour',
       (ARRAY['SFO', 'LAX'])[1 + i % 2], 100 * (d + 1), d * 10 + i, NULL
  FROM generate_series(0, 5) d, generate_series(0, 9) i;
GRANT SELECT ON v74.flights, v74.flights_03 TO regress_v74_analyst;
SELECT asof.protect('v74.flights', 'dep_time', '{delay}', future_columns => '{arr_time}');
RESET ROLE;

-- Before the split: the label and the future column are left out, with a
-- NOTICE, here for the analyst; the other columns are
-- profiled over all rows (as reading them directly would).
SET ROLE regress_v74_analyst;
SELECT partition_start::date, column_name, rows, mean
  FROM asof.profile('v74.flights', 'dep_time') WHERE column_name <> 'origin';
-- Asking for the label explicitly does not help.
SELECT count(*) FROM asof.profile('v74.flights', 'dep_time', columns => '{delay}');
-- A partition read directly is mapped to the protected table.
SELECT DISTINCT column_name FROM asof.profile('v74.flights_03', 'dep_time') ORDER BY 1;
-- What the guard refuses to a query, profile would not compute either.
SELECT avg(delay) FROM v74.flights;
RESET ROLE;

-- After the split at 2001-03-04: the analyst profiles the training days
-- only, label included, for the partition too.
SET ROLE regress_v74_owner;
SELECT asof.split('v74.flights', '2001-03-04');
RESET ROLE;
SET ROLE regress_v74_analyst;
SELECT partition_start::date, rows, mean AS mean_delay, max AS max_delay
  FROM asof.profile('v74.flights', 'dep_time', columns => '{delay}');
SELECT count(*) AS partitions, max(partition_start)::date AS last
  FROM asof.profile('v74.flights_03', 'dep_time', columns => '{delay}');
-- validate sees the same: a reference in the held-out period has no rows
-- for the analyst.
SELECT count(*) FROM asof.validate('v74.flights', 'dep_time', '[2001-03-04, 2001-03-06)'::tsrange,
                                   '[2001-03-01, 2001-03-03)', columns => '{delay}');
RESET ROLE;

-- The owner, unsealed in one transaction (audited): every day.
SET ROLE regress_v74_owner;
BEGIN;
SELECT asof.unseal('v74.flights', 'profile the test period');
SELECT partition_start::date, rows, mean AS mean_delay, max AS max_delay
  FROM asof.profile('v74.flights', 'dep_time', columns => '{delay}');
COMMIT;
-- After the transaction, the training days again.
SELECT count(*) AS partitions FROM asof.profile('v74.flights', 'dep_time', columns => '{delay}');
RESET ROLE;
SELECT event, detail FROM asof.holdout_log WHERE table_name = 'v74.flights' AND event = 'unseal';

-- A role the guard does not apply to (asof.guard = off, superuser only)
-- profiles every row.
SET asof.guard = off;
SELECT count(*) AS partitions FROM asof.profile('v74.flights', 'dep_time', columns => '{delay}');
RESET asof.guard;

SET ROLE regress_v74_owner;
SELECT asof.unprotect('v74.flights');
RESET ROLE;
DROP SCHEMA v74 CASCADE;
DELETE FROM asof.profile_history WHERE table_name LIKE 'v74.%';
DELETE FROM asof.holdout_log WHERE table_name LIKE 'v74.%';
DROP ROLE regress_v74_owner;
DROP ROLE regress_v74_analyst;
