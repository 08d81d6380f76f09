--
-- 95_attack_sealed_last_bound (attack round, hole): a training set that
-- seals held-out spine rows computes their features "from the whole
-- source (held-out rows included)" (docs/leakage-guard.md, G5).  But the
-- lower bound of a `last` feature without a TTL (source_read.c,
-- lookup_last_bound: the last visible row before each entity's first k)
-- is looked up by a query that runs under the split's row filter, outside
-- the one-shot exemption of the sealed read.  When an entity's only rows
-- before its first k are held out, the lookup finds none, the bound
-- becomes that k, and the exempt read starts after the held-out row:
-- the sealed value is NULL, computed over a partial set of rows.
--
-- Data: source s95 rows (entity, te, v): e0 01-01 01:00 v=1 (training),
-- e9 01-02 02:00 v=42 and 01-02 05:00 v=43 (held out, split 01-02).
-- Spine sp95: e9 at 01-02 03:00 and 06:00 (held out, sealed).
-- Truth (k(t) = t): last(v) at 03:00 = 42 (the 02:00 row), at 06:00 = 43.
--
SET TimeZone = 'UTC';
SET client_min_messages = warning;
SET asof.progress_interval = 0;
CREATE ROLE regress_asof95;
CREATE SCHEMA a95 AUTHORIZATION regress_asof95;
SET ROLE regress_asof95;
CREATE TABLE a95.s95 (k text, te timestamp, v int, lab int);
INSERT INTO a95.s95 VALUES ('e0', '2001-01-01 01:00', 1, 0),
  ('e9', '2001-01-02 02:00', 42, 0), ('e9', '2001-01-02 05:00', 43, 0);
CREATE INDEX ON a95.s95 (k, te);
ANALYZE a95.s95;
SELECT asof.protect('a95.s95', 'te', '{lab}');
SELECT asof.create_feature_view('a95_v', 'a95.s95', '{k}', event_time => 'te',
                                features => '{last(v) as lv}');
SELECT asof.split('a95.s95', '2001-01-02 00:00');
CREATE TABLE a95.sp95 (k text, t timestamp, y int);
INSERT INTO a95.sp95 VALUES ('e9', '2001-01-02 03:00', 1), ('e9', '2001-01-02 06:00', 1);
SELECT asof.protect('a95.sp95', 't', '{y}');
SELECT asof.split('a95.sp95', '2001-01-02 00:00');
-- both reads (by entity and one sorted read) must give 42 and 43
SET asof.engine_read_by_entity = off;
SELECT asof.build_training_set('a95.ts_off', 'a95.sp95', 't', '{a95_v}');
SET asof.engine_read_by_entity = on;
SELECT asof.build_training_set('a95.ts_on', 'a95.sp95', 't', '{a95_v}');
RESET asof.engine_read_by_entity;
BEGIN;
SELECT asof.unseal('a95.sp95', reason => 'regression test 95');
SELECT 'off' AS mode, * FROM a95.ts_off UNION ALL SELECT 'on', * FROM a95.ts_on ORDER BY 1, 3;
ROLLBACK;
RESET ROLE;
SELECT asof.drop_feature_view('a95_v');
DROP SCHEMA a95 CASCADE;
DROP ROLE regress_asof95;
