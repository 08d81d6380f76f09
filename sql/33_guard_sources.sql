-- pg_asof install script, part 33: G5 beside the engine (issue 14): the
-- guard's check of feature view sources for the plain-SQL reference, and
-- training sets that follow a moved split of their spine
-- (src/guard_engine.c, src/guard_sources.c).
--
-- Code part (re-run by every upgrade script).

CREATE OR REPLACE FUNCTION asof.assert_exact_source(source regclass) RETURNS boolean
    AS 'MODULE_PATHNAME', 'asof_assert_exact_source'
    LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION asof.assert_exact_source(regclass) IS
'Checks, when the query runs, that the plain-SQL reference of a feature view (asof.feature_view_sql) can read source (regclass) exactly: returns true, or raises an error.  The query asof.feature_view_sql returns calls it for every source that reads a protected table.  Errors: the source reads a protected table whose train/test split is not unsealed in this transaction, or reads a protected table through a shape that hiding held-out rows would change (aggregate, DISTINCT, LIMIT, window function, set operation, outer, semi- or anti-join, event time that is not the table''s time column), or reads a foreign table while a protected table has a split (0A000); undefined table (42P01).';

-- Training sets linked to a spine follow its moved split (G5, issue 14):
-- labels that the new split makes immature are set to NULL at once (a
-- label the model could not have known must not become visible), and the
-- training set is listed in asof.training_sets_to_rebuild until it is
-- rebuilt (labels and features NULLed under the old split stay NULL).
CREATE OR REPLACE FUNCTION asof._training_set_follow_split(training_set regclass, spine regclass, test_from text, later boolean)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'asof_training_set_follow_split'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof._training_set_follow_split(regclass, regclass, text, boolean) IS
'Internal: sets to NULL the labels of training_set''s rows before test_from whose label time is at or after it (the spine''s split moved there, later when later is true); returns their number.';

CREATE OR REPLACE FUNCTION asof._spine_split_moved() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  rec record;
  ttype regtype;
  later boolean;
  n bigint;
BEGIN
  SELECT a.atttypid::regtype INTO ttype FROM pg_catalog.pg_attribute a
   WHERE a.attrelid OPERATOR(pg_catalog.=) NEW.tbl AND a.attname OPERATOR(pg_catalog.=) NEW.time_column;
  EXECUTE pg_catalog.format('SELECT %L::%s OPERATOR(pg_catalog.>) %L::%s', NEW.test_from, ttype, OLD.test_from, ttype)
    INTO later;
  FOR rec IN SELECT s.training_set FROM asof.training_set_splits s
              WHERE s.spine OPERATOR(pg_catalog.=) NEW.tbl
                AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) s.training_set::oid)
              ORDER BY s.training_set::text
  LOOP
    n := asof._training_set_follow_split(rec.training_set, NEW.tbl, NEW.test_from, later);
    IF later THEN
      -- Rows between the old and the new split become training rows:
      -- their labels follow, but what the old split set to NULL stays NULL.
      UPDATE asof.training_set_splits s SET needs_rebuild = true
       WHERE s.training_set OPERATOR(pg_catalog.=) rec.training_set;
      RAISE WARNING 'training set "%" must be built again: the split of "%" moved later, from % to %', rec.training_set, NEW.tbl, OLD.test_from, NEW.test_from
        USING DETAIL = pg_catalog.format('Labels of %s training rows whose label time is at or after the new split were set to NULL. Labels and features set to NULL under the old split stay NULL.', n),
              HINT = 'Build it again with asof.build_training_set; asof.training_sets_to_rebuild lists it until then.';
    ELSIF n OPERATOR(pg_catalog.>) 0 THEN
      -- Moved earlier: its training rows are what a new build gives.
      RAISE NOTICE 'training set "%" follows the split of "%", moved from % to %', rec.training_set, NEW.tbl, OLD.test_from, NEW.test_from
        USING DETAIL = pg_catalog.format('Labels of %s training rows whose label time is at or after the new split were set to NULL.', n);
    END IF;
  END LOOP;
  RETURN NULL;
END $$;
COMMENT ON FUNCTION asof._spine_split_moved() IS
'Internal: trigger on asof.protected_registry; when a spine''s split moves, its training sets follow (asof._training_set_follow_split): moved earlier, a NOTICE; moved later, a WARNING that they must be built again, and asof.training_sets_to_rebuild lists them.';

DROP TRIGGER IF EXISTS asof_spine_split_moved ON asof.protected_registry;
CREATE TRIGGER asof_spine_split_moved AFTER UPDATE OF test_from ON asof.protected_registry
  FOR EACH ROW
  WHEN (OLD.test_from IS NOT NULL AND NEW.test_from IS DISTINCT FROM OLD.test_from AND NEW.linked_to IS NULL)
  EXECUTE FUNCTION asof._spine_split_moved();

CREATE OR REPLACE VIEW asof.training_sets_to_rebuild AS
SELECT s.training_set,
       s.spine,
       s.test_from AS built_with_split,
       r.test_from AS current_split
  FROM asof.training_set_splits s
  JOIN asof.protected_registry r ON r.tbl OPERATOR(pg_catalog.=) s.spine
 WHERE s.needs_rebuild
   AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) s.training_set::oid);
COMMENT ON VIEW asof.training_sets_to_rebuild IS
'Training sets built on a protected spine whose split has moved later since: their labels follow the new split (immature ones NULL), but labels and features set to NULL under the old split stay NULL until the training set is built again.  Columns: training_set, spine, built_with_split, current_split (ISO 8601 text).';
GRANT SELECT ON asof.training_sets_to_rebuild TO PUBLIC;
