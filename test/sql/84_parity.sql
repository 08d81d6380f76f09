--
-- 84_parity: asof.parity_report on a small deterministic replay of the
-- committed flight sample (data/flights-sample.csv.gz).
--
-- Every tick of 2001-03-15 is materialized for a view by origin; every
-- flight of the day gets its features at its departure time from
-- asof.online_features, and what was served is logged.  The report must
-- find 0 mismatches on every feature.  Then one flight that landed before
-- an already materialized tick is inserted afterwards (late data): the
-- report must find exactly the mismatches derived by hand below.
--
-- Requests are logged by the serving log (asof.log_serving = on; the
-- background worker writes them, asof.serving_log_flush() waits for it).
-- Rows of a shape serving does not produce (altered values) are inserted
-- into the log directly, as superuser.
--
SET TimeZone = 'UTC';
SET client_min_messages = warning;
SET asof.progress_interval = 0;
CREATE TABLE pp_fl (dep_time timestamp NOT NULL, origin text NOT NULL, destination text NOT NULL,
                    distance integer NOT NULL, delay integer);
\copy pp_fl FROM PROGRAM 'gzip -dc data/flights-sample.csv.gz' WITH (FORMAT csv, HEADER true)
-- LAT: an origin of our own with one flight: departs 06:00, lands
-- 06:00 + (30 + 800 / 8) min = 08:10 (visible from tick 09:00 on), delay 20
INSERT INTO pp_fl VALUES ('2001-03-15 06:00', 'LAT', 'LDA', 800, 20);
CREATE INDEX ON pp_fl (origin, dep_time);
ANALYZE pp_fl;

SELECT asof.create_feature_view('pp_origin', 'pp_fl', '{origin}', 'dep_time', ARRAY[
    'count(*) over 1 day as n_1d', 'avg(delay) over 6 hours as avg_6h',
    'max(delay) over 1 day as max_1d', 'last(delay) as last_delay',
    'last(destination) as last_dest',
    'avg(delay::float8 / distance) over 6 hours as avg_f_6h'],
  available_time => 'dep_time + (30 + distance / 8) * interval ''1 minute''',
  cadence => '1 hour', delay => '10 minutes', ttl => '4 hours');

-- not materialized yet: no online table (55000)
SELECT * FROM asof.parity_report('pp_origin');

-- every tick of the day, as of the end of the day
SET asof.clock = '2001-03-16 00:00+00';
SELECT count(*) AS ticks, sum(asof.materialize('pp_origin', tick)) AS entity_rows
  FROM generate_series('2001-03-15 00:00'::timestamp, '2001-03-15 23:00', '1 hour') tick;

-- the serving log is created with the online table; nothing served yet:
-- an empty report (every feature, zero counts)
SELECT log_table FROM asof.online_tables WHERE feature_view = 'pp_origin';
SELECT * FROM asof.parity_report('pp_origin');
CREATE FUNCTION pp_serve(o text, t timestamp) RETURNS integer LANGUAGE sql AS $$
  SELECT CASE WHEN asof.online_features('pp_origin', ARRAY[o], t) IS NOT NULL THEN 1 END
$$;
SET asof.log_serving = on;

-- Serving.  Every flight of the day departing from 00:10 on (its tick is
-- published), at its departure time; LAT at hh:15 for every hour hh of the
-- day (k(at) = hh:00).  served_at: the clock, 2001-03-16 00:00 for the
-- flights, 00:05 for LAT (so that a range selects LAT's requests alone).
SELECT sum(pp_serve(origin, dep_time)) AS flights_served FROM pp_fl
 WHERE dep_time >= '2001-03-15 00:10' AND dep_time < '2001-03-16' AND origin <> 'LAT';
SET asof.clock = '2001-03-16 00:05+00';
SELECT sum(pp_serve('LAT', t)) AS lat_served
  FROM generate_series('2001-03-15 00:15'::timestamp, '2001-03-15 23:15', '1 hour') t;
-- two stale requests, served later (clock 2001-03-16 01:00): at 00:30 next
-- day, k(at) = 2001-03-16 00:00 is not materialized, tick 23:00 is served
SET asof.clock = '2001-03-16 01:00+00';
SELECT sum(pp_serve(o, '2001-03-16 00:30')) AS stale_served FROM unnest('{LAT,ORD}'::text[]) o;
RESET asof.log_serving;
SELECT asof.serving_log_flush();
SELECT tick, count(*) FROM asof_online.pp_origin__log WHERE at >= '2001-03-16' GROUP BY tick;

-- The same counts, independently from the source: requests = flights of
-- the day from 00:10 (not LAT) + 24 LAT + 2 stale.
SELECT (SELECT count(*) FROM pp_fl WHERE dep_time >= '2001-03-15 00:10' AND dep_time < '2001-03-16'
          AND origin <> 'LAT') + 24 + 2 AS expected_requests,
       (SELECT count(*) FROM asof_online.pp_origin__log) AS logged;
-- Non-NULL served values of the compared (not stale) requests, so that an
-- empty replay cannot pass.  N, counted from the source alone: n_1d
-- (a count) is never NULL, one per request (170 flights + 24 LAT = 194);
-- max_1d is non-NULL when the origin has a flight visible at k(at) in the
-- last day.  Stated minimum: N = 300 non-NULL values over all features.
SELECT count(*) AS max_1d_expected_non_null FROM (
  SELECT DISTINCT l.ctid FROM asof_online.pp_origin__log l, pp_fl f
   WHERE l.at < '2001-03-16' AND f.origin = l.entity[1] AND f.dep_time < l.tick
     AND f.dep_time + (30 + f.distance / 8) * interval '1 minute' < l.tick
     AND f.dep_time >= l.tick - interval '1 day') x;
SELECT f.key AS feature, count(*) FILTER (WHERE f.value <> 'null') AS non_null_served
  FROM asof_online.pp_origin__log l, jsonb_each(l.features) f
 WHERE l.at < '2001-03-16'
 GROUP BY f.key ORDER BY f.key;
SELECT count(*) >= 300 AS at_least_n_non_null
  FROM asof_online.pp_origin__log l, jsonb_each(l.features) f
 WHERE l.at < '2001-03-16' AND f.value <> 'null';

-- On-time data: 0 mismatches on every feature.
SELECT * FROM asof.parity_report('pp_origin');
SELECT count(*) AS mismatches FROM asof.parity_mismatches('pp_origin');
-- the comparison itself is not vacuous: every compared value has an
-- offline value of the same JSON type
SELECT count(*) AS compared_values,
       count(*) FILTER (WHERE jsonb_typeof(served) = jsonb_typeof(offline)) AS same_type,
       count(*) FILTER (WHERE offline <> 'null') AS non_null_offline
  FROM asof.parity_values('pp_origin') WHERE NOT stale;

-- Ranges of served_at: [since, until).  The flights were served at
-- 2001-03-16 00:00, LAT at 00:05, the two stale requests at 01:00.
SELECT feature, requests, stale, compared FROM asof.parity_report('pp_origin', since => '2001-03-16 00:30+00')
 WHERE feature = 'n_1d';
SELECT feature, requests, stale, compared FROM asof.parity_report('pp_origin', until => '2001-03-16 00:00+00')
 WHERE feature = 'n_1d';
SELECT feature, requests FROM asof.parity_report('pp_origin', '2001-03-16 00:00+00', '2001-03-16 00:00:00.000001+00')
 WHERE feature = 'n_1d';

-- Late data.  A LAT flight inserted now, after the job ran: departs 12:00,
-- lands 12:00 + (30 + 80 / 8) min = 12:40, delay 50, to LDX.  It is visible
-- offline from tick 13:00 on (available and event time before the tick);
-- the snapshots of 13:00 .. 23:00 were computed without it.  LAT's
-- requests are at hh:15 with k(at) = hh:00; the on-time flight (06:00,
-- delay 20) is visible from k = 09:00.  So, by feature, for k = hh:00:
--   n_1d        both flights are in [k - 1 day, k) for k = 13..23:
--               served 1, offline 2: 11 mismatches, |a-b| = 1 each.
--               SMAPE over all 24 compared pairs: k = 0..8: 0 vs 0;
--               k = 9..12: 1 vs 1 (|a|+|b| = 2, 4 pairs); k = 13..23: 1 vs 2
--               (diff 1, |a|+|b| = 3, 11 pairs): 11 / (8 + 33) = 11/41.
--   avg_6h      [k - 6h, k) holds 06:00 for k = 9..12, 12:00 for k = 13..18:
--               k = 13..18 served NULL, offline 50: 6 mismatches, all missing.
--   max_1d      k = 13..23: served 20, offline 50: 11 mismatches, max diff 30.
--               SMAPE: k = 9..12: 20 vs 20 (4 x 40), k = 13..23: 30 / 70 each:
--               330 / (160 + 770) = 330/930.
--   last_delay  TTL 4 h against at = k + 15 min: a last value is served when
--               its event time >= at - 4 h.  06:00: only k = 9 (at 09:15);
--               12:00: k = 13, 14, 15 (at <= 16:00), where the job served
--               NULL (06:00 expired): 3 mismatches, all missing.
--   last_dest   the same rows: 3 mismatches, missing; not numeric (no SMAPE).
--   avg_f_6h    as avg_6h: 6 mismatches, missing.
-- The stale requests (LAT, ORD at 2001-03-16 00:30) are counted as stale
-- and not compared, though LAT's would differ.  No other entity changes.
INSERT INTO pp_fl VALUES ('2001-03-15 12:00', 'LAT', 'LDX', 80, 50);
SELECT feature, requests, stale, compared, mismatches, missing, extra,
       mismatch_rate = mismatches::float8 / compared AS rate_ok,
       smape, max_abs_diff
  FROM asof.parity_report('pp_origin');
-- LAT's requests alone (served at 00:05): the SMAPEs derived above
SELECT feature, requests, mismatches, smape, smape = CASE feature WHEN 'n_1d' THEN 11::float8 / 41
                                        WHEN 'max_1d' THEN 330::float8 / 930 END AS smape_ok
  FROM asof.parity_report('pp_origin', '2001-03-16 00:05+00', '2001-03-16 00:06+00')
 WHERE feature IN ('n_1d', 'max_1d');
-- the mismatches are exactly LAT's, at the ticks derived above
SELECT feature, entity, string_agg(to_char(tick, 'HH24'), ',' ORDER BY tick) AS ticks
  FROM asof.parity_mismatches('pp_origin', max_rows => 1000)
 GROUP BY feature, entity ORDER BY feature, entity;
-- the explanation: the late flight is the row visible offline at the tick
-- (no ingestion tracking: every visible row of the window is listed, the
-- latest available time first; arrival unknown)
SELECT feature, to_char(tick, 'HH24') AS tick, served, offline, explanation
  FROM asof.parity_mismatches('pp_origin', max_rows => 3);
SELECT count(*) FROM asof.parity_mismatches('pp_origin', max_rows => 0);
-- With arrival times (asof.track_ingestion): the rows already there are
-- stamped as arrived at 2001-03-15 23:00, before the job (materialized_at
-- is asof.now() of the materialization: the clock, 2001-03-16 00:00); the
-- late flight is inserted again under the clock 2001-03-16 00:30, so it
-- arrived after the job.  The data, and so the report, are unchanged; the
-- explanation keeps the rows that arrived after the job: the late flight.
DELETE FROM pp_fl WHERE origin = 'LAT' AND destination = 'LDX';
SELECT asof.track_ingestion('pp_fl', existing => '2001-03-15 23:00+00');
SET asof.clock = '2001-03-16 00:30+00';
INSERT INTO pp_fl VALUES ('2001-03-15 12:00', 'LAT', 'LDX', 80, 50);
SELECT asof_ingested_at FROM pp_fl WHERE origin = 'LAT' AND destination = 'LDX';
SELECT feature, to_char(tick, 'HH24') AS tick, explanation
  FROM asof.parity_mismatches('pp_origin', max_rows => 2);
-- stamped at the job's very time (the clock at 2001-03-16 00:00): it cannot
-- be placed, it is listed with after_job NULL
DELETE FROM pp_fl WHERE origin = 'LAT' AND destination = 'LDX';
SET asof.clock = '2001-03-16 00:00+00';
INSERT INTO pp_fl VALUES ('2001-03-15 12:00', 'LAT', 'LDX', 80, 50);
SELECT feature, explanation->'arrived_after_job' AS arrived_after_job, explanation->'rows' AS rows
  FROM asof.parity_mismatches('pp_origin', max_rows => 1);
-- stamped before the job (a clock moved back): not an explanation, no row
DELETE FROM pp_fl WHERE origin = 'LAT' AND destination = 'LDX';
SET asof.clock = '2001-03-15 23:30+00';
INSERT INTO pp_fl VALUES ('2001-03-15 12:00', 'LAT', 'LDX', 80, 50);
SELECT feature, explanation->'arrived_after_job' AS arrived_after_job, explanation->'rows' AS rows
  FROM asof.parity_mismatches('pp_origin', max_rows => 1);
SET asof.clock = '2001-03-16 01:00+00';

-- Tolerance.  Two copies of LAT's request at 10:15 (served n_1d 1, avg_6h
-- 20 (of integers: must be identical), max_1d 20, last_delay and last_dest NULL (06:00 is older
-- than at - 4 h), avg_f_6h 20 / 800 = 0.025 (of floats: within 1e-9)),
-- logged at 02:00 with
-- altered values:
--   1: avg_f_6h + 5e-10 (within 1e-9 x max(1, |value|): equal),
--      avg_6h + 1e-12 (integer input: a mismatch), last_dest "LDA"
--      where offline is NULL (extra);
--   2: avg_f_6h + 2e-9 (beyond the tolerance: a mismatch), n_1d 2.
-- Expected: n_1d 1, avg_6h 1, max_1d 0, last_delay 0, last_dest 1 (extra 1),
-- avg_f_6h 1 mismatch.
INSERT INTO asof_online.pp_origin__log
SELECT '2001-03-16 02:00+00', l.at, l.tick, l.entity,
       CASE WHEN v = 1 THEN l.features || jsonb_build_object('avg_f_6h', 0.025 + 5e-10,
                                                              'avg_6h', (l.features->>'avg_6h')::numeric + 1e-12,
                                                              'last_dest', 'LDA')
            ELSE l.features || jsonb_build_object('avg_f_6h', 0.025 + 2e-9, 'n_1d', 2) END,
       l.role
  FROM asof_online.pp_origin__log l, generate_series(1, 2) v
 WHERE l.entity = '{LAT}' AND l.at = '2001-03-15 10:15';
SELECT feature, requests, compared, mismatches, missing, extra
  FROM asof.parity_report('pp_origin', '2001-03-16 02:00+00', '2001-03-16 02:00:01+00');
SELECT feature, served, offline, equal FROM asof.parity_values('pp_origin', '2001-03-16 02:00+00', '2001-03-16 02:00:01+00') WHERE feature IN ('avg_6h','avg_f_6h');
DELETE FROM asof_online.pp_origin__log WHERE served_at = '2001-03-16 02:00+00';

-- Bad input.  Each leaves the log and the registries unchanged.
CREATE TEMP TABLE pp_before AS
SELECT (SELECT count(*) FROM asof_online.pp_origin__log) AS log_rows,
       (SELECT count(*) FROM asof.training_sets) AS training_sets,
       (SELECT count(*) FROM asof.materializations) AS materializations;
SELECT * FROM asof.parity_report('no_such_view');
SELECT * FROM asof.parity_mismatches('no_such_view');
SELECT * FROM asof.parity_report(NULL);
SELECT * FROM asof.parity_report('pp_origin', '2001-03-17+00', '2001-03-16+00');
SELECT * FROM asof.parity_mismatches('pp_origin', max_rows => -1);
-- a range with nothing in it: an empty report (zero counts, NULL rate)
SELECT * FROM asof.parity_report('pp_origin', since => '2002-01-01+00');
SELECT count(*) FROM asof.parity_mismatches('pp_origin', since => '2002-01-01+00');
-- a continuous view has no online table and no log
SELECT asof.create_feature_view('pp_cont', 'pp_fl', '{origin}', 'dep_time', '{count(*) over 1 day}');
SELECT * FROM asof.parity_report('pp_cont');
SELECT (SELECT count(*) FROM asof_online.pp_origin__log) AS log_rows, b.log_rows AS log_rows_before,
       (SELECT count(*) FROM asof.training_sets) - b.training_sets AS new_training_sets,
       (SELECT count(*) FROM asof.materializations) - b.materializations AS new_materializations
  FROM pp_before b;
RESET asof.clock;

-- clean up
SET client_min_messages = warning;
SELECT asof.drop_feature_view('pp_origin');
SELECT asof.drop_feature_view('pp_cont');
DROP FUNCTION pp_serve(text, timestamp);
SELECT asof.untrack_ingestion('pp_fl');
DROP TABLE pp_fl;
