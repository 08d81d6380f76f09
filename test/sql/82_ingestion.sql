--
-- 82_ingestion: knowledge time captured at ingestion (asof.track_ingestion,
-- docs/online.md).  Stamps under a set asof.clock: one per transaction,
-- the clock at pre-commit; existing rows and the refusal without them;
-- UPDATE keeps the first arrival; a forged value is overwritten; rows of a
-- rolled-back subtransaction, deleted again, updated again; COPY;
-- partitions; untracking; bad input (nothing changed); a feature view
-- whose available time is the tracked column; materialize in REPEATABLE
-- READ; a protected table (the triggers allowed, no other trigger, the
-- guard still hides held-out rows).  Expected values derived by hand.
--
SET TimeZone = 'UTC';
SET asof.progress_interval = 0;
CREATE TABLE ing (k text, te timestamp, v int);
CREATE VIEW ing_view AS SELECT * FROM ing;
CREATE ROLE regress_ing_other;
GRANT SELECT, INSERT, UPDATE ON ing TO regress_ing_other;

-- 1. bad input: each refused, nothing changed
SELECT asof.track_ingestion('ing', NULL);
SELECT asof.track_ingestion(NULL);
SELECT asof.track_ingestion('ing_view');
SELECT asof.track_ingestion('pg_class_oid_index');
SELECT asof.track_ingestion('ing', 'te');                 -- a column of the table
SELECT asof.untrack_ingestion('ing');                     -- not tracked
SET ROLE regress_ing_other;
SELECT asof.track_ingestion('ing');                       -- not the owner
RESET ROLE;
SELECT count(*) AS registered FROM asof.ingestion_tracking;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'ing'::regclass;
SELECT attname FROM pg_attribute WHERE attrelid = 'ing'::regclass AND attnum > 0 ORDER BY attnum;

-- 2. rows already there: refused without existing (nothing changed), then given
INSERT INTO ing VALUES ('a', '2001-01-01 08:00', 1), ('b', '2001-01-01 08:30', 2);
SELECT asof.track_ingestion('ing');
SELECT count(*) AS registered FROM asof.ingestion_tracking;
SELECT attname FROM pg_attribute WHERE attrelid = 'ing'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SET asof.clock = '2001-01-01 09:30+00';
SELECT asof.track_ingestion('ing', existing => '2001-01-01 09:00+00');
SELECT relation, column_name, tracked_since, tracked_by FROM asof.ingestion_tracking;
SELECT v, asof_ingested_at FROM ing ORDER BY v;
SELECT asof.track_ingestion('ing');                       -- twice
SELECT tgname, tgtype, tgdeferrable, tginitdeferred FROM pg_trigger WHERE tgrelid = 'ing'::regclass ORDER BY tgname;

-- 3. one stamp per transaction: the clock at pre-commit, over the inserter's value
BEGIN;
SET LOCAL asof.clock = '2001-01-01 10:00+00';
INSERT INTO ing VALUES ('a', '2001-01-01 09:50', 3);
INSERT INTO ing (k, te, v, asof_ingested_at) VALUES ('b', '2001-01-01 09:55', 4, '2000-01-01 00:00+00');
SELECT v, asof_ingested_at FROM ing WHERE v >= 3 ORDER BY v;   -- not stamped before commit
SET LOCAL asof.clock = '2001-01-01 10:07+00';
COMMIT;
SELECT v, asof_ingested_at FROM ing WHERE v >= 3 ORDER BY v;   -- both 10:07

-- 4. UPDATE keeps the first arrival, also for a role that may update
SET asof.clock = '2001-01-01 10:15+00';
UPDATE ing SET asof_ingested_at = '2030-01-01', v = 30 WHERE v = 3;
SET ROLE regress_ing_other;
UPDATE ing SET asof_ingested_at = NULL WHERE v = 4;
INSERT INTO ing (k, te, v, asof_ingested_at) VALUES ('b', '2001-01-01 09:56', 40, '1999-01-01 00:00+00');
RESET ROLE;
SELECT v, asof_ingested_at FROM ing WHERE v IN (4, 30, 40) ORDER BY v;

-- 5. in the inserting transaction: updated again, a rolled-back and a
-- released subtransaction, deleted again; an aborted transaction
BEGIN;
SET LOCAL asof.clock = '2001-01-01 11:00+00';
INSERT INTO ing VALUES ('a', '2001-01-01 10:30', 5);
UPDATE ing SET v = 50 WHERE v = 5;
UPDATE ing SET asof_ingested_at = '1999-01-01' WHERE v = 50;
SAVEPOINT s1;
INSERT INTO ing VALUES ('a', '2001-01-01 10:31', 6);
ROLLBACK TO s1;
SAVEPOINT s2;
INSERT INTO ing VALUES ('b', '2001-01-01 10:32', 7);
RELEASE s2;
INSERT INTO ing VALUES ('b', '2001-01-01 10:33', 8);
DELETE FROM ing WHERE v = 8;
COMMIT;
BEGIN;
INSERT INTO ing VALUES ('b', '2001-01-01 10:34', 9);
ROLLBACK;
SELECT v, asof_ingested_at FROM ing WHERE v BETWEEN 5 AND 9 OR v = 50 ORDER BY v;

-- 6. COPY, and SET CONSTRAINTS IMMEDIATE (the stamp is then taken at once, still one per transaction)
SET asof.clock = '2001-01-01 12:00+00';
COPY ing (k, te, v) FROM stdin;
c	2001-01-01 11:10	11
c	2001-01-01 11:20	12
\.
BEGIN;
SET CONSTRAINTS asof_ingestion_stamp IMMEDIATE;
SET LOCAL asof.clock = '2001-01-01 12:10+00';
INSERT INTO ing VALUES ('c', '2001-01-01 11:30', 13);
SET LOCAL asof.clock = '2001-01-01 12:20+00';
INSERT INTO ing VALUES ('c', '2001-01-01 11:40', 14);
COMMIT;
SELECT v, asof_ingested_at FROM ing WHERE v BETWEEN 11 AND 14 ORDER BY v;

-- COPY FREEZE in the transaction that created the table: stamped too; a
-- timestamptz view reads the column as it is; renaming the column stops
-- inserts (nothing is stored unstamped) until it is named back
BEGIN;
CREATE TABLE ingf (k text, te timestamptz);
SELECT asof.track_ingestion('ingf');
SET LOCAL asof.clock = '2001-01-01 12:30+00';
COPY ingf (k, te) FROM stdin WITH (FREEZE);
f	2001-01-01 12:00+00
f	2001-01-01 12:10+00
\.
COMMIT;
SELECT asof.create_feature_view('ingf_v', 'ingf', '{k}', event_time => 'te',
         available_time => 'asof_ingested_at', features => '{count(*) over 1 day}');
SELECT asof.features_at('ingf_v', '{f}', '2001-01-01 12:30+00'::timestamptz) AS at_stamp,
       asof.features_at('ingf_v', '{f}', '2001-01-01 12:30:00.000001+00'::timestamptz) AS after;
SELECT asof.drop_feature_view('ingf_v');
ALTER TABLE ingf RENAME COLUMN asof_ingested_at TO arrived;
INSERT INTO ingf VALUES ('f', '2001-01-01 12:20+00');
ALTER TABLE ingf RENAME COLUMN arrived TO asof_ingested_at;
INSERT INTO ingf VALUES ('f', '2001-01-01 12:20+00');
SELECT te, asof_ingested_at FROM ingf ORDER BY te;
DROP TABLE ingf;

-- DDL on the table after an immediate stamp in the same transaction (a new
-- index gets the later stamps); a procedure that commits inside CALL
CREATE TABLE ingd (k text, te timestamp);
SELECT asof.track_ingestion('ingd');
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET LOCAL asof.clock = '2001-01-01 12:40+00';
INSERT INTO ingd VALUES ('d', '2001-01-01 12:00');
CREATE INDEX ingd_i ON ingd (asof_ingested_at);
ALTER TABLE ingd ADD COLUMN w int DEFAULT 7;
INSERT INTO ingd VALUES ('d', '2001-01-01 12:01');
SET CONSTRAINTS ALL DEFERRED;
INSERT INTO ingd VALUES ('d', '2001-01-01 12:02');
COMMIT;
CREATE PROCEDURE ingd_load() LANGUAGE plpgsql AS $$
BEGIN
  SET LOCAL asof.clock = '2001-01-01 12:50+00';
  INSERT INTO ingd VALUES ('e', '2001-01-01 12:03');
  COMMIT;
  SET LOCAL asof.clock = '2001-01-01 12:55+00';
  INSERT INTO ingd VALUES ('e', '2001-01-01 12:04');
END $$;
CALL ingd_load();
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT te, w, asof_ingested_at FROM ingd WHERE asof_ingested_at >= '2001-01-01' ORDER BY te;
RESET enable_seqscan;
RESET enable_bitmapscan;
DROP TABLE ingd;
DROP PROCEDURE ingd_load();

-- 7. without asof.clock: the wall clock at pre-commit, not the transaction's start
RESET asof.clock;
BEGIN;
INSERT INTO ing VALUES ('d', '2001-01-01 12:00', 15);
SELECT pg_sleep(0.01);
CREATE TEMP TABLE ing_times AS SELECT now() AS xact_start, clock_timestamp() AS last_statement;
COMMIT;
SELECT i.asof_ingested_at > t.last_statement AS after_last_statement,
       i.asof_ingested_at <= clock_timestamp() AS before_now
  FROM ing i, ing_times t WHERE i.v = 15;
DELETE FROM ing WHERE v = 15;

-- 8. a feature view whose available time is the tracked column (a
-- timestamp view: the stamp's UTC wall clock).  Visible at t: ta < t and
-- te < t.  Rows of "a": v 1 (te 08:00, ta 09:00), 30 (09:50, 10:07),
-- 50 (10:30, 11:00); of "b": 2 (08:30, 09:00), 4 (09:55, 10:07),
-- 40 (09:56, 10:15), 7 (10:32, 11:00).  Each window of 1 day holds them
-- all; "last" is the visible row with the greatest te.
SELECT asof.create_feature_view('ing_v', 'ing', '{k}', event_time => 'te',
         available_time => 'asof_ingested_at AT TIME ZONE ''UTC''',
         features => '{count(*) over 1 day, last(v)}');
SELECT v, te, asof_ingested_at AT TIME ZONE 'UTC' AS ta FROM ing WHERE k IN ('a', 'b') ORDER BY k, te;
SELECT t, asof.features_at('ing_v', '{a}', t) AS a, asof.features_at('ing_v', '{b}', t) AS b
  FROM unnest('{2001-01-01 09:00, 2001-01-01 09:00:00.000001, 2001-01-01 10:07, 2001-01-01 10:08, 2001-01-01 11:30}'::timestamp[]) t;
-- the same view on landing time = event time sees the rows that came late
SELECT asof.create_feature_view('ing_te', 'ing', '{k}', event_time => 'te',
         features => '{count(*) over 1 day, last(v)}');
SELECT asof.features_at('ing_te', '{a}', '2001-01-01 10:00'::timestamp) AS by_event_time,
       asof.features_at('ing_v', '{a}', '2001-01-01 10:00'::timestamp) AS by_arrival;
-- materialize refuses REPEATABLE READ for a tracked source, also read
-- through a view (its snapshot predates the wait); the 11:00 tick holds
-- the rows with ta < 11:00 and te < 11:00: a 1, 30; b 2, 4, 40
CREATE VIEW ing_view2 AS SELECT * FROM ing;
SELECT asof.create_feature_view('ing_s', 'ing_view2', '{k}', event_time => 'te',
         available_time => 'asof_ingested_at AT TIME ZONE ''UTC''',
         features => '{count(*) over 1 day}', cadence => '1 hour');
SET asof.clock = '2001-01-01 12:30+00';
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT asof.materialize('ing_s', '2001-01-01 11:00'::timestamp);
ROLLBACK;
SELECT asof.materialize('ing_s', '2001-01-01 11:00'::timestamp);
SELECT k, ing_s__count_1d FROM asof_online.ing_s ORDER BY k;
SELECT asof.features_at('ing_s', '{a}', '2001-01-01 11:00'::timestamp) AS a,
       asof.features_at('ing_s', '{b}', '2001-01-01 11:00'::timestamp) AS b;
SELECT asof.drop_feature_view('ing_s');
DROP VIEW ing_view2;
SELECT asof.drop_feature_view('ing_te');
SELECT asof.drop_feature_view('ing_v');

-- 9. partitions: tracked through the parent, also a partition created later
CREATE TABLE ingpart (k text, te timestamp, v int) PARTITION BY RANGE (te);
CREATE TABLE ingpart_1 PARTITION OF ingpart FOR VALUES FROM ('2001-01-01') TO ('2001-01-02');
SELECT asof.track_ingestion('ingpart');
SELECT asof.track_ingestion('ingpart_1');                 -- tracked through its parent
CREATE TABLE ingpart_2 PARTITION OF ingpart FOR VALUES FROM ('2001-01-02') TO ('2001-01-03');
SET asof.clock = '2001-01-03 00:00+00';
INSERT INTO ingpart VALUES ('a', '2001-01-01 10:00', 1), ('a', '2001-01-02 10:00', 2);
INSERT INTO ingpart_2 VALUES ('b', '2001-01-02 11:00', 3);
SELECT tableoid::regclass, v, asof_ingested_at FROM ingpart ORDER BY v;
SELECT asof.untrack_ingestion('ingpart');
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid IN ('ingpart'::regclass, 'ingpart_1'::regclass, 'ingpart_2'::regclass);
DROP TABLE ingpart;

-- a table owned by a role that is not a superuser: its owner tracks it
-- (the triggers call internal functions the owner may not execute)
CREATE TABLE ingo (k text, te timestamp);
ALTER TABLE ingo OWNER TO regress_ing_other;
SET ROLE regress_ing_other;
SELECT asof.track_ingestion('ingo');
INSERT INTO ingo VALUES ('o', '2001-01-01 10:00');
SELECT k, asof_ingested_at FROM ingo;
SELECT tracked_by FROM asof.ingestion_tracking WHERE relation = 'ingo'::regclass;
SELECT asof.untrack_ingestion('ingo');
RESET ROLE;
DROP TABLE ingo;

-- 10. untrack: triggers and registry row gone, the column and its values
-- stay, new rows get NULL; not the owner; twice
SET ROLE regress_ing_other;
SELECT asof.untrack_ingestion('ing');
RESET ROLE;
SELECT asof.untrack_ingestion('ing');
SELECT asof.untrack_ingestion('ing');
INSERT INTO ing VALUES ('e', '2001-01-01 13:00', 16);
SELECT v, asof_ingested_at FROM ing WHERE v IN (1, 16) ORDER BY v;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'ing'::regclass;
SELECT count(*) AS registered FROM asof.ingestion_tracking;

-- 11. a protected table: tracked after its split; a held-out row is stamped
-- too; the guard still hides held-out rows; no other trigger, the
-- extension's trigger functions included, gets on
SET client_min_messages = warning;
CREATE TABLE ingp (k text, te timestamp, y int);
INSERT INTO ingp VALUES ('a', '2001-01-01 10:00', 1), ('a', '2001-01-03 10:00', 2);
SELECT asof.protect('ingp', 'te', '{y}');
SELECT asof.split('ingp', '2001-01-02');
RESET client_min_messages;
SET asof.clock = '2001-01-04 00:00+00';
SELECT asof.track_ingestion('ingp', existing => '2001-01-03 12:00+00');
INSERT INTO ingp VALUES ('a', '2001-01-01 11:00', 3), ('a', '2001-01-03 11:00', 4);
GRANT SELECT (k, te, asof_ingested_at) ON ingp TO regress_ing_other;
SET ROLE regress_ing_other;
SELECT k, te, asof_ingested_at FROM ingp ORDER BY te;     -- held-out rows hidden
RESET ROLE;
SET asof.guard = off;
SELECT te, y, asof_ingested_at FROM ingp ORDER BY te;     -- all four, the new ones stamped
RESET asof.guard;
CREATE FUNCTION ingp_spy() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER spy BEFORE INSERT ON ingp FOR EACH ROW EXECUTE FUNCTION ingp_spy();
-- the extension's functions with another column, a second copy, a WHEN, another shape
CREATE CONSTRAINT TRIGGER spy AFTER INSERT ON ingp DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION asof._ingestion_stamp('y');
CREATE CONSTRAINT TRIGGER spy AFTER INSERT ON ingp DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION asof._ingestion_stamp('asof_ingested_at');
CREATE TRIGGER spy BEFORE UPDATE ON ingp FOR EACH ROW WHEN (OLD.y > 1)
  EXECUTE FUNCTION asof._ingestion_keep('asof_ingested_at');
CREATE TRIGGER spy AFTER INSERT ON ingp FOR EACH ROW EXECUTE FUNCTION asof._ingestion_stamp('asof_ingested_at');
CREATE OR REPLACE TRIGGER asof_ingestion_keep BEFORE UPDATE ON ingp FOR EACH ROW
  EXECUTE FUNCTION asof._ingestion_keep('asof_ingested_at');
SELECT tgname FROM pg_trigger WHERE tgrelid = 'ingp'::regclass ORDER BY tgname;
-- untracked and tracked again (the guard lets its own triggers back on)
SELECT asof.untrack_ingestion('ingp');
ALTER TABLE ingp DROP COLUMN asof_ingested_at;
SELECT asof.track_ingestion('ingp', existing => '-infinity');
SELECT tgname FROM pg_trigger WHERE tgrelid = 'ingp'::regclass ORDER BY tgname;
-- a tracked table can be protected; an untracked one with triggers cannot
SET client_min_messages = warning;
CREATE TABLE ingq (k text, te timestamp, y int);
SELECT asof.track_ingestion('ingq');
SELECT asof.protect('ingq', 'te', '{y}');
CREATE TABLE ingr (k text, te timestamp, y int);
CREATE TRIGGER spy BEFORE INSERT ON ingr FOR EACH ROW EXECUTE FUNCTION ingp_spy();
SELECT asof.protect('ingr', 'te', '{y}');
RESET client_min_messages;

-- 12. dropping a table leaves the registry
SELECT relation FROM asof.ingestion_tracking ORDER BY relation::text;
DROP TABLE ingq;
SELECT relation FROM asof.ingestion_tracking ORDER BY relation::text;

SELECT asof.unprotect('ingp');
DROP TABLE ingp, ingr, ing_times;
DROP FUNCTION ingp_spy();
DROP VIEW ing_view;
DROP TABLE ing;
REVOKE ALL ON SCHEMA public FROM regress_ing_other;
DROP ROLE regress_ing_other;
RESET asof.clock;
