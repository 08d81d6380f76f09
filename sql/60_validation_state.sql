-- pg_asof install script, part 60: data validation, state (run once).
--
-- Owns: asof.profile_history (the schema each asof.profile run saw, so that
-- asof.validate compares a table's columns with an earlier run's, not with
-- the table itself) and asof.validation_alerts (alerts recorded when a
-- feature view's snapshot is checked before it is served).  The same
-- statements are in sql/upgrade/0.1.0--0.2.0/60_validation.sql.
-- Contract: docs/validation.md.

CREATE TABLE asof.profile_history (
    run_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    tbl regclass NOT NULL,
    table_name text NOT NULL,
    time_column name NOT NULL,
    grain interval NOT NULL,
    columns text[] NOT NULL,
    types text[] NOT NULL,
    run_by name NOT NULL
);
COMMENT ON TABLE asof.profile_history IS
'pg_asof validation: one row per asof.profile run of a table that is not temporary (asof.validate runs one too): the table, its time column and grain, and the table''s schema at that moment (every column''s name and type, in column order); run_at is the clock time of the run (clock_timestamp), so runs of one transaction are ordered.  No statistics are kept.  Written by asof.profile as the owner of this table.';

CREATE TABLE asof.validation_alerts (
    recorded_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    feature_view text NOT NULL,
    tick timestamptz NOT NULL,
    column_name name,
    statistic text NOT NULL,
    observed float8,
    expected_low float8,
    expected_high float8,
    severity text NOT NULL CHECK (severity IN ('low', 'high')),
    explanation text NOT NULL,
    held_out boolean NOT NULL,
    recorded_by name NOT NULL
);
COMMENT ON TABLE asof.validation_alerts IS
'pg_asof validation: alerts raised when a feature view''s snapshot was checked before publishing (asof._validate_snapshot).  held_out: the tick is at or after the split of a protected source of the view; such rows are visible only to superusers and the extension''s owner, like the held-out period itself.';

ALTER TABLE asof.validation_alerts ENABLE ROW LEVEL SECURITY;
CREATE POLICY validation_alerts_training ON asof.validation_alerts FOR SELECT
    USING (NOT held_out);

SELECT pg_catalog.pg_extension_config_dump('asof.profile_history', '');
SELECT pg_catalog.pg_extension_config_dump('asof.validation_alerts', '');
REVOKE ALL ON asof.profile_history, asof.validation_alerts FROM PUBLIC;
GRANT SELECT ON asof.profile_history, asof.validation_alerts TO PUBLIC;
