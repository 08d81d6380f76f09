-- pg_asof install script, part 56: knowledge time captured at ingestion,
-- its state (docs/online.md, "Knowledge time: asof.track_ingestion").
--
-- Owns: the registry asof.ingestion_tracking.  Functions are in part 57.
-- Linked as sql/upgrade/0.1.0--0.2.0/56_ingestion.sql.

CREATE TABLE asof.ingestion_tracking (
    relation regclass PRIMARY KEY,
    column_name name NOT NULL,
    tracked_since timestamptz NOT NULL,
    tracked_by name NOT NULL
);
COMMENT ON TABLE asof.ingestion_tracking IS
'pg_asof: one row per table whose rows record when they arrived: the timestamptz column the commit stamp goes into, when tracking began (asof.now()) and who began it.  Written only by asof.track_ingestion and asof.untrack_ingestion; a dropped table leaves it.';

SELECT pg_catalog.pg_extension_config_dump('asof.ingestion_tracking', '');
REVOKE ALL ON asof.ingestion_tracking FROM PUBLIC;
GRANT SELECT ON asof.ingestion_tracking TO PUBLIC;
