-- Upgrade 0.1.0 -> 0.2.0, issue 14: state of the guard's training-set
-- follow-up (G5).  The same as sql/32_guard_sources_state.sql.

CREATE TABLE asof.training_set_splits (
    training_set regclass PRIMARY KEY,  -- a training set built on a protected spine
    spine        regclass NOT NULL,     -- that spine
    test_from    text     NOT NULL,     -- the spine's split when it was built (ISO 8601)
    needs_rebuild boolean NOT NULL DEFAULT false  -- the split moved later since
);
COMMENT ON TABLE asof.training_set_splits IS
'pg_asof leakage guard: the split of its protected spine each training set was built under, and whether the split has moved later since (then labels and features set to NULL under the old split stay NULL until it is built again).  Written only by asof.build_training_set and asof.split; read it through asof.training_sets_to_rebuild.';
SELECT pg_catalog.pg_extension_config_dump('asof.training_set_splits', '');
GRANT SELECT ON asof.training_set_splits TO PUBLIC;
