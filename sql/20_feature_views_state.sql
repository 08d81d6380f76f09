-- pg_asof install script, part 20: feature view definitions.
--
-- Registry tables (dumped by pg_dump as extension configuration), the
-- functions that write them (C, src/feature_view.c), the listing view
-- asof.feature_views, the plain-SQL reference formulation
-- (src/reference_sql.c) and the event triggers that keep registrations in
-- step with their sources.  The contract is docs/point-in-time.md.

-- Schema of the per-feature-view helper views (see asof.create_feature_view):
-- each feature view owns a view asof_feature_views.<name> over the columns
-- of its source it uses, so PostgreSQL's dependency tracking protects them.
CREATE SCHEMA asof_feature_views;
COMMENT ON SCHEMA asof_feature_views IS
'pg_asof: one helper view per feature view, selecting the source columns and expressions it uses, so that PostgreSQL refuses to drop or retype them and DROP TABLE ... CASCADE removes the feature view; pg_asof reads the expressions from its query tree (following renames).  Managed by asof.create_feature_view and asof.drop_feature_view; never queried.';
GRANT USAGE ON SCHEMA asof_feature_views TO PUBLIC;

CREATE TABLE asof.feature_view_registry (
    name text PRIMARY KEY,
    source regclass NOT NULL,
    entity name[] NOT NULL,
    event_time text NOT NULL,
    event_time_sql text NOT NULL,
    available_time text,
    available_time_sql text,
    time_type regtype NOT NULL,
    cadence interval,
    anchor timestamptz NOT NULL,
    delay interval NOT NULL,
    ttl interval,
    created timestamptz NOT NULL
);
COMMENT ON TABLE asof.feature_view_registry IS
'pg_asof: one row per feature view (written only by asof.create_feature_view and asof.drop_feature_view).  event_time, available_time: the expressions as written; *_sql: the same, normalized (schema-qualified, ISO/UTC constants) as the engine evaluates them.  available_time NULL: the event time.  cadence NULL: continuous.  ttl NULL: no expiry.';

CREATE TABLE asof.feature_view_feature_registry (
    feature_view text NOT NULL,
    position integer NOT NULL,
    name text NOT NULL,
    definition text NOT NULL,
    aggregate text NOT NULL,
    argument text,
    argument_sql text,
    window_size interval,
    PRIMARY KEY (feature_view, position),
    UNIQUE (feature_view, name)
);
COMMENT ON TABLE asof.feature_view_feature_registry IS
'pg_asof: one row per feature of a feature view, in order.  definition: canonical text, e.g. "avg(delay) over 1h as avg_delay_1h".  aggregate: count(*), count, sum, avg, min, max, stddev, var, last or last_nonnull.  argument: as written (NULL for count(*)); argument_sql: normalized.  window_size: W in microseconds (NULL for last values).';

SELECT pg_catalog.pg_extension_config_dump('asof.feature_view_registry', '');
SELECT pg_catalog.pg_extension_config_dump('asof.feature_view_feature_registry', '');
GRANT SELECT ON asof.feature_view_registry, asof.feature_view_feature_registry TO PUBLIC;
