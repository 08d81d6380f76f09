-- dump_restore.sh fixture: asof.ingestion_tracking, with a tracked table
-- that is also protected (pg_restore re-creates its triggers, which the
-- guard lets onto a protected table because the registry row is restored
-- first) and a plain tracked table.
CREATE TABLE dump_ing (k text, te timestamp, y int);
INSERT INTO dump_ing VALUES ('a', '2001-01-01 10:00', 1), ('a', '2001-01-03 10:00', 2);
SELECT asof.protect('dump_ing', 'te', '{y}');
SELECT asof.split('dump_ing', '2001-01-02');
SELECT asof.track_ingestion('dump_ing', existing => '2001-01-01 00:00+00');
INSERT INTO dump_ing VALUES ('b', '2001-01-01 11:00', 3);
CREATE TABLE dump_ing_plain (k text, te timestamptz);
SELECT asof.track_ingestion('dump_ing_plain', 'arrived');
