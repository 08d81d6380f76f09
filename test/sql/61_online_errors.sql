--
-- 61_online_errors: bad input to the production side.  Each error is
-- clear, and nothing changes (the snapshots and the online table are
-- counted after each one).  Also: replace (logged), retention, timestamptz
-- views and the TimeZone, composite keys, and who may materialize, grant
-- and serve.
--
SET TimeZone = 'UTC';
SET asof.progress_interval = 0;
CREATE TABLE oe_src (k text, k2 int, te timestamp, v int);
INSERT INTO oe_src VALUES ('a', 1, '2001-01-01 09:10', 1), ('a', 2, '2001-01-01 09:50', 3),
                          ('b', 1, '2001-01-01 08:00', 10);
SELECT asof.create_feature_view('oe_v', 'oe_src', '{k}', event_time => 'te',
         features => '{count(*) over 1 hour, sum(v) over 2 hours, last(v)}',
         cadence => '1 hour', delay => '10 minutes');
SELECT asof.create_feature_view('oe_cont', 'oe_src', '{k}', event_time => 'te',
         features => '{count(*) over 1 hour}');
CREATE FUNCTION oe_state() RETURNS TABLE (snapshots bigint, online_rows bigint)
LANGUAGE plpgsql AS $$
BEGIN
  snapshots := (SELECT count(*) FROM asof.materializations WHERE feature_view = 'oe_v');
  online_rows := CASE WHEN to_regclass('asof_online.oe_v') IS NULL THEN NULL
                      ELSE (SELECT count(*) FROM asof_online.oe_v) END;
  RETURN NEXT;
END $$;

-- no online table before the first materialize
SELECT asof.online_features('oe_v', '{a}', '2001-01-01 10:10'::timestamp);
SELECT asof.grant_online_read('oe_v', current_user::regrole);

SET asof.clock = '2001-01-01 12:00+00';
SELECT asof.materialize('oe_v', '2001-01-01 10:00'::timestamp);
SELECT * FROM oe_state();

-- materialize: each error, then the state again
SELECT asof.materialize('oe_nope', '2001-01-01 10:00'::timestamp);
SELECT asof.materialize('oe_cont', '2001-01-01 10:00'::timestamp);
SELECT asof.materialize('oe_v', '2001-01-01 10:30'::timestamp);
SELECT asof.materialize('oe_v', '2001-01-01 09:59:59.999999'::timestamp);
SELECT asof.materialize('oe_v', '2001-01-01 13:00'::timestamp);
SELECT asof.materialize('oe_v', '2001-01-01 10:00'::timestamp);
SELECT asof.materialize('oe_v', '2001-01-01 10:00+00'::timestamptz);
SELECT asof.materialize(NULL, '2001-01-01 10:00'::timestamp);
SELECT asof.materialize('oe_v', 'infinity'::timestamp);
SELECT * FROM oe_state();
-- the current tick is not in the future: 12:00 is now
SELECT asof.materialize('oe_v', '2001-01-01 12:00'::timestamp);
-- replace => true recomputes a published tick, logged
INSERT INTO oe_src VALUES ('a', 3, '2001-01-01 09:55', 100);
SET client_min_messages = log;
SELECT asof.materialize('oe_v', '2001-01-01 10:00'::timestamp, replace => true);
RESET client_min_messages;
SELECT k, tick, oe_v__count_1h, oe_v__sum_v_2h, oe_v__last_v FROM asof_online.oe_v ORDER BY tick, k;
SELECT tick, entities, replaced FROM asof.materializations WHERE feature_view = 'oe_v' ORDER BY tick;

-- online_features: each error, then the state again
SELECT asof.online_features('oe_v', '{a}', '2001-01-01 10:10+00'::timestamptz);
SELECT asof.online_features('oe_v', '{a,b}', '2001-01-01 10:10'::timestamp);
SELECT asof.online_features('oe_v', '{}', '2001-01-01 10:10'::timestamp);
SELECT asof.online_features('oe_cont', '{a}', '2001-01-01 10:10'::timestamp);
SELECT asof.online_features('oe_nope', '{a}', '2001-01-01 10:10'::timestamp);
SELECT asof.online_features('oe_v', NULL, '2001-01-01 10:10'::timestamp);
-- 10:09:59.999999 is served from the 09:00 tick, which was never materialized
SELECT asof.online_features('oe_v', '{a}', '2001-01-01 10:09:59.999999'::timestamp);
SELECT asof.online_features('oe_v', '{a}', '2001-01-01 10:10'::timestamp);
-- a NULL time gives what the training set gives: count 0, NULL otherwise
SELECT asof.online_features('oe_v', '{a}', NULL::timestamp);
SELECT asof.features_at('oe_v', '{a}', NULL::timestamp);
-- the batch form
SELECT * FROM asof.online_features_batch('oe_v', '{a,b,zz}', '2001-01-01 12:10'::timestamp, NULL::asof_online.oe_v__served);
SELECT * FROM asof.online_features_batch('oe_v', '{{a},{b}}', '2001-01-01 12:10'::timestamp, NULL::asof_online.oe_v__served);
SELECT * FROM asof.online_features_batch('oe_v', '{{a,1},{b,1}}', '2001-01-01 12:10'::timestamp, NULL::asof_online.oe_v__served);
SELECT * FROM asof.online_features_batch('oe_v', '{a}', '2001-01-01 12:10'::timestamp, NULL::asof.materializations);
SELECT * FROM asof.online_features_batch('oe_v', '{a}', '2001-01-01 12:10+00'::timestamptz, NULL::asof_online.oe_v__served);
SELECT * FROM asof.online_features_batch('oe_v', '{a}', '2001-01-01 09:10'::timestamp, NULL::asof_online.oe_v__served);
SELECT * FROM asof.online_features_batch('oe_v', '{}', '2001-01-01 12:10'::timestamp, NULL::asof_online.oe_v__served);
SELECT * FROM oe_state();

-- who may do what
CREATE ROLE regress_online_ds;
CREATE ROLE regress_online_serving;
GRANT SELECT ON oe_src TO regress_online_ds;
SET ROLE regress_online_ds;
SELECT asof.materialize('oe_v', '2001-01-01 11:00'::timestamp);
SELECT asof.grant_online_read('oe_v', 'regress_online_ds');
SELECT asof.schedule_materialization('oe_v');
SELECT asof.online_features('oe_v', '{a}', '2001-01-01 10:10'::timestamp);
SELECT count(*) FROM asof_online.oe_v;
RESET ROLE;
SELECT * FROM oe_state();
SELECT asof.grant_online_read('oe_v', 'regress_online_serving');
SET ROLE regress_online_serving;
SELECT asof.online_features('oe_v', '{a}', '2001-01-01 10:10'::timestamp);
SELECT * FROM asof.online_features_batch('oe_v', '{a}', '2001-01-01 10:10'::timestamp, NULL::asof_online.oe_v__served);
INSERT INTO asof_online.oe_v (k, tick) VALUES ('x', '2001-01-01 10:00');
RESET ROLE;
SELECT asof.revoke_online_read('oe_v', 'regress_online_serving');
SET ROLE regress_online_serving;
SELECT asof.online_features('oe_v', '{a}', '2001-01-01 10:10'::timestamp);
RESET ROLE;

-- retention: the newest 48 ticks stay, in the registry and the table
SET asof.clock = '2001-01-04 00:00+00';
SELECT count(*) AS ticks_materialized
  FROM generate_series('2001-01-01 13:00'::timestamp, '2001-01-03 14:00', '1 hour') tick,
       LATERAL asof.materialize('oe_v', tick) n;
SELECT count(*) AS retained, min(tick), max(tick) FROM asof.materializations WHERE feature_view = 'oe_v';
SELECT count(DISTINCT tick) AS ticks_in_table, min(tick) FROM asof_online.oe_v;
SELECT asof.online_features('oe_v', '{a}', '2001-01-01 12:10'::timestamp);

-- a timestamptz view: ticks and "now" are instants, whatever the TimeZone
CREATE TABLE oe_tz (k text, te timestamptz, v int);
INSERT INTO oe_tz VALUES ('a', '2021-04-01 07:30+00', 1), ('a', '2021-04-01 08:30+00', 2);
SELECT asof.create_feature_view('oe_tzv', 'oe_tz', '{k}', event_time => 'te',
         features => '{sum(v) over 1 day, last(v)}', cadence => '1 day', delay => '1 hour', ttl => '1 day');
SET asof.clock = '2021-04-02 00:30+00';
SET TimeZone = 'Europe/Berlin';
SELECT asof.materialize('oe_tzv');
SELECT tick, published FROM asof.materializations WHERE feature_view = 'oe_tzv';
SELECT asof.materialize('oe_tzv', '2021-04-02 00:00'::timestamp);
SELECT asof.online_features('oe_tzv', '{a}');
SET asof.clock = '2021-04-02 01:00+00';
SELECT asof.online_features('oe_tzv', '{a}');
SELECT asof.online_features('oe_tzv', '{a}', '2021-04-02 03:00+02');
SET TimeZone = 'America/Los_Angeles';
SELECT asof.online_features('oe_tzv', '{a}');
SELECT asof.features_at('oe_tzv', '{a}', '2021-04-02 01:00+00'::timestamptz);
-- the TTL is applied against the request time: 1 day after 08:30 it expires
SELECT asof.online_features('oe_tzv', '{a}', '2021-04-02 08:30+00'::timestamptz) AS at_ttl,
       asof.online_features('oe_tzv', '{a}', '2021-04-02 08:30:00.000001+00'::timestamptz) AS after_ttl;
SET TimeZone = 'UTC';

-- a composite key
SELECT asof.create_feature_view('oe_pair', 'oe_src', '{k,k2}', event_time => 'te',
         features => '{count(*) over 1 day}', cadence => '1 hour');
SELECT asof.materialize('oe_pair', '2001-01-01 10:00'::timestamp);
SELECT asof.online_features('oe_pair', '{a,2}', '2001-01-01 10:00'::timestamp);
SELECT asof.online_features('oe_pair', '{a}', '2001-01-01 10:00'::timestamp);
SELECT asof.online_features('oe_pair', '{a,x}', '2001-01-01 10:00'::timestamp);
SELECT * FROM asof.online_features_batch('oe_pair', '{{a,1},{a,2},{b,1},{b,2}}', '2001-01-01 10:00'::timestamp, NULL::asof_online.oe_pair__served);
SELECT * FROM asof.online_features_batch('oe_pair', '{a,1}', '2001-01-01 10:00'::timestamp, NULL::asof_online.oe_pair__served);

-- clean up: dropping a view drops its online table
RESET asof.clock;
SELECT asof.drop_feature_view(v) FROM unnest('{oe_v,oe_cont,oe_tzv,oe_pair}'::text[]) v;
SELECT count(*) AS online_tables_left FROM pg_class WHERE relnamespace = 'asof_online'::regnamespace;
SELECT count(*) AS records_left FROM asof.materializations;
DROP FUNCTION oe_state;
DROP TABLE oe_src, oe_tz;
DROP ROLE regress_online_ds, regress_online_serving;
