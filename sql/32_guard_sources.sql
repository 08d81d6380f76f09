-- pg_asof install script, part 32: the guard's check of feature view
-- sources for the plain-SQL reference (G5, src/guard_engine.c and
-- src/guard_sources.c).
--
-- Code part (re-run by every upgrade script).

CREATE OR REPLACE FUNCTION asof.assert_exact_source(source regclass) RETURNS boolean
    AS 'MODULE_PATHNAME', 'asof_assert_exact_source'
    LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION asof.assert_exact_source(regclass) IS
'Checks, when the query runs, that the plain-SQL reference of a feature view (asof.feature_view_sql) can read source (regclass) exactly: returns true, or raises an error.  The query asof.feature_view_sql returns calls it for every source that reads a protected table.  Errors: the source reads a protected table whose train/test split is not unsealed in this transaction, or reads a protected table through a shape that hiding held-out rows would change (aggregate, DISTINCT, LIMIT, window function, set operation, outer, semi- or anti-join, event time that is not the table''s time column), or reads a foreign table while a protected table has a split (0A000); undefined table (42P01).';
