-- pg_asof install script, part 30: the leakage guard.
--
-- Owns: the registry of protected tables and split markers
-- (asof.protected_registry), the audit log (asof.holdout_log), the view
-- asof.protected_tables and the functions protect, split, unseal and
-- unprotect.  The guard itself (what is refused and hidden) is in C
-- (src/guard*.c); these functions validate their arguments, then change the
-- registry only through the C entry points asof._register, asof._set_split,
-- asof._unregister and asof._unseal, which check that the caller owns the
-- table, write as the extension's owner and invalidate cached plans.
-- Contract: docs/leakage-guard.md.

-- The registry: one row per protected table.
CREATE TABLE asof.protected_registry (
    tbl regclass PRIMARY KEY,
    time_column name NOT NULL,
    label_columns name[] NOT NULL,
    future_columns name[] NOT NULL,
    entity_columns name[] NOT NULL,
    label_time text,
    test_from text,
    registered_by name NOT NULL,
    registered_at timestamptz NOT NULL,
    split_by name,
    split_at timestamptz,
    rls_was_enabled boolean NOT NULL,
    permissive_policy_added boolean NOT NULL,
    linked_to regclass
);
COMMENT ON TABLE asof.protected_registry IS
'pg_asof leakage guard: one row per protected table (time, label, future and entity columns, label-time expression) and its split marker test_from (NULL: no split yet; else the cutoff as ISO 8601 text of the time column''s type).  Written only by asof.protect, asof.split and asof.unprotect; read it through asof.protected_tables.';
COMMENT ON COLUMN asof.protected_registry.test_from IS
'The split marker: rows with time < test_from are training rows, rows with time >= test_from or NULL time are held out.  ISO 8601 text (as to_json prints the time column''s type); NULL before the split.';
COMMENT ON COLUMN asof.protected_registry.linked_to IS
'For a training set built on a protected spine: the spine.  Its split follows the spine''s; it cannot be split or unprotected on its own; only the spine''s owner unseals it.';
COMMENT ON COLUMN asof.protected_registry.rls_was_enabled IS
'Whether row-level security was enabled on the table before protect (restored by unprotect).';
COMMENT ON COLUMN asof.protected_registry.permissive_policy_added IS
'Whether protect added the permissive policy asof_guard_permit because the table had no permissive policy of its own (dropped by unprotect).';

-- The audit log: every protect, split, moved split, unseal and unprotect.
-- Unseal records are written by a separate background worker in a
-- transaction of their own, so they survive a rollback of the caller.
CREATE TABLE asof.holdout_log (
    at timestamptz NOT NULL,
    tbl regclass NOT NULL,
    table_name text NOT NULL,
    event text NOT NULL CHECK (event IN ('protect', 'split', 'move split', 'unseal', 'unprotect')),
    role name NOT NULL,
    detail text
);
COMMENT ON TABLE asof.holdout_log IS
'pg_asof leakage guard audit log: one row per protect, split, move split, unseal (detail: the reason) and unprotect, with the role and the time.  Unseal rows are committed by a background worker before asof.unseal returns, so they survive a rollback.';

SELECT pg_catalog.pg_extension_config_dump('asof.protected_registry', '');
SELECT pg_catalog.pg_extension_config_dump('asof.holdout_log', '');
REVOKE ALL ON asof.protected_registry, asof.holdout_log FROM PUBLIC;
GRANT SELECT ON asof.protected_registry, asof.holdout_log TO PUBLIC;
