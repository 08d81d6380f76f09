-- pg_asof install script, part 50: the production side's state (docs/online.md).
--
-- Owns: schema asof_online (one online table per materialized feature view,
-- created by asof.materialize), the registries asof.online_tables,
-- asof.materializations and asof.materialization_schedule.  Functions are
-- in parts 51 and 52.  The same statements are in
-- sql/upgrade/0.1.0--0.2.0/50_online.sql.

CREATE SCHEMA asof_online;
COMMENT ON SCHEMA asof_online IS
'pg_asof: one online table per materialized feature view (asof_online.<view>, keyed by entity and tick, written only by asof.materialize) and its served row type asof_online.<view>__served.  Derived data: dropped with the feature view, rebuilt by asof.materialize.';
GRANT USAGE ON SCHEMA asof_online TO PUBLIC;

CREATE TABLE asof.online_tables (
    feature_view text PRIMARY KEY,
    online_table regclass NOT NULL,
    served_type regtype NOT NULL,
    retain_ticks integer NOT NULL CHECK (retain_ticks > 0),
    serve_sql text NOT NULL,
    batch_sql text NOT NULL,
    created timestamptz NOT NULL,
    log_table regclass NOT NULL
);
COMMENT ON TABLE asof.online_tables IS
'pg_asof: one row per feature view with an online table: the table, its served row type (the columns of asof.online_features_batch), how many recent ticks it keeps, the two serving queries (generated at creation), and its serving log table asof_online."<view>__log" (asof.log_serving).  Written only by asof.materialize (retain_ticks: 48 when created).';

CREATE TABLE asof.materializations (
    feature_view text NOT NULL,
    tick timestamp NOT NULL,
    published timestamp NOT NULL,
    entities bigint NOT NULL,
    materialized_at timestamptz NOT NULL,
    materialized_by name NOT NULL,
    replaced integer NOT NULL,
    PRIMARY KEY (feature_view, tick)
);
COMMENT ON TABLE asof.materializations IS
'pg_asof: one row per retained snapshot of a feature view: its tick and publication time tick + delay (UTC wall clock: for timestamptz views the instant AT TIME ZONE ''UTC''), the number of entities written, when, by whom, and how often it was replaced.  Written only by asof.materialize; a tick leaves it when its rows leave the online table.';

CREATE TABLE asof.materialization_schedule (
    feature_view text PRIMARY KEY,
    run_as regrole NOT NULL,
    validate boolean NOT NULL,
    scheduled_at timestamptz NOT NULL,
    scheduled_by name NOT NULL
);
COMMENT ON TABLE asof.materialization_schedule IS
'pg_asof: the feature views asof.run_due_materializations() materializes, the role each runs as, the validate flag (reserved for data validation), when and by whom it was scheduled.  Written only by asof.schedule_materialization and asof.unschedule_materialization.';

SELECT pg_catalog.pg_extension_config_dump('asof.online_tables', '');
SELECT pg_catalog.pg_extension_config_dump('asof.materializations', '');
SELECT pg_catalog.pg_extension_config_dump('asof.materialization_schedule', '');
REVOKE ALL ON asof.online_tables, asof.materializations, asof.materialization_schedule FROM PUBLIC;
GRANT SELECT ON asof.online_tables, asof.materializations, asof.materialization_schedule TO PUBLIC;
