-- pg_asof install script, part 40: training sets and the point-in-time engine.
--
-- asof.build_training_set and asof.features_at are C (src/training_set.c,
-- src/engine.c); asof.training_sets records every build.  See docs/engine.md.

CREATE TABLE asof.training_sets (
    name          text        NOT NULL,  -- the table built, schema-qualified
    version       integer     NOT NULL,  -- 1, 2, ... per name
    spine         text        NOT NULL,  -- the spine relation, schema-qualified
    at            text        NOT NULL,  -- prediction time: spine column or expression
    feature_views text[]      NOT NULL,  -- as passed
    definitions   jsonb       NOT NULL,  -- every view's full definition as of the build
    row_count     bigint      NOT NULL,
    built_at      timestamptz NOT NULL,  -- when the build started
    duration      interval    NOT NULL,
    built_by      text        NOT NULL,  -- the role that ran the build
    PRIMARY KEY (name, version)
);
COMMENT ON TABLE asof.training_sets IS
'Versions of training sets built by asof.build_training_set: one row per build, with the spine, the prediction time, every feature view''s full definition as of the build, the row count, when, how long and by whom.  Written only by asof.build_training_set.';
SELECT pg_catalog.pg_extension_config_dump('asof.training_sets', '');
GRANT SELECT ON asof.training_sets TO PUBLIC;
