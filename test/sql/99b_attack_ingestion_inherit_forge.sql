--
-- 99b_attack_ingestion_inherit_forge (attack round, hole): docs/online.md
-- says an UPDATE cannot change the tracked column, "so a role that may
-- only write rows (an ingester) cannot forge an arrival time".  An
-- inheritance child of a tracked table (created after tracking; it
-- inherits the column and its 'infinity' default, but not the triggers)
-- breaks that for a role with UPDATE on the tracked parent only:
-- UPDATE parent SET asof_ingested_at = ... reaches the child's rows,
-- where no keep trigger fires, and a feature view over the parent whose
-- available time is the column sees the forged arrival.
--
-- Fail-closed (whichever fix: refuse the child, or keep the arrival):
-- no row of the parent (children included) carries the forged value.
--
SET TimeZone = 'UTC';
SET client_min_messages = warning;
CREATE ROLE regress_asof100_owner;
CREATE ROLE regress_asof100_writer;
CREATE SCHEMA a100 AUTHORIZATION regress_asof100_owner;
GRANT USAGE ON SCHEMA a100 TO regress_asof100_writer;
SET ROLE regress_asof100_owner;
CREATE TABLE a100.tp (k text, te timestamp, v int);
SELECT asof.track_ingestion('a100.tp');
DO $$
BEGIN
  CREATE TABLE a100.tc () INHERITS (a100.tp);
  INSERT INTO a100.tc (k, te, v) VALUES ('c', '2001-01-01', 1);
EXCEPTION WHEN others THEN NULL;   -- refusing the child is a fix too
END $$;
INSERT INTO a100.tp (k, te, v) VALUES ('p', '2001-01-01', 1);
GRANT SELECT, UPDATE ON a100.tp TO regress_asof100_writer;
SET ROLE regress_asof100_writer;
UPDATE a100.tp SET asof_ingested_at = '1999-01-01 00:00+00';
SELECT count(*) AS forged_arrivals FROM a100.tp WHERE asof_ingested_at = '1999-01-01 00:00+00';
RESET ROLE;
SET ROLE regress_asof100_owner;
SELECT asof.untrack_ingestion('a100.tp');
RESET ROLE;
DROP SCHEMA a100 CASCADE;
DROP ROLE regress_asof100_owner;
DROP ROLE regress_asof100_writer;
