-- pg_asof install script, part 31: the guard's functions and views (state is
-- in part 30).  Code part: re-run by every upgrade script, so every
-- statement here is idempotent.

CREATE OR REPLACE VIEW asof.protected_tables AS
SELECT r.tbl AS table_name,
       r.time_column,
       r.label_columns,
       r.future_columns,
       r.entity_columns,
       r.label_time,
       r.test_from,
       r.test_from IS NOT NULL AS has_split,
       r.registered_by,
       r.registered_at,
       r.split_by,
       r.split_at,
       r.linked_to AS training_set_of,
       (SELECT count(*) FROM asof.holdout_log l
         WHERE l.tbl = r.tbl AND l.event = 'unseal'
           AND l.at >= r.registered_at) AS openings
  FROM asof.protected_registry r;
COMMENT ON VIEW asof.protected_tables IS
'Protected tables: time, label, future and entity columns, label-time expression, split marker (test_from, NULL before the split), who registered and split them and when, training_set_of (for a training set built on a protected spine: the spine, whose split it follows), and openings: how many times the held-out rows were opened with asof.unseal since registration.';
GRANT SELECT ON asof.protected_tables TO PUBLIC;

-- C entry points (src/guard_api.c, src/guard_unseal.c).  Each checks that
-- the caller owns the table; the public functions below call them after
-- validating their arguments.
CREATE OR REPLACE FUNCTION asof.guard_loaded() RETURNS boolean
    AS 'MODULE_PATHNAME', 'asof_guard_loaded'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION asof.guard_loaded() IS
'True when the pg_asof library is loaded through shared_preload_libraries (the guard''s hooks are active).  Used by the restrictive policy asof_guard_deny on protected tables: without the library, calling it fails, so the tables fail closed.';

CREATE OR REPLACE FUNCTION asof._check_label_time(tbl regclass, label_time text) RETURNS void
    AS 'MODULE_PATHNAME', 'asof_check_label_time'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION asof._check_label_time(regclass, text) IS
'Internal: errors unless label_time is an expression over the columns of tbl of type timestamp, timestamptz or date without subqueries, aggregates, window functions or volatile functions.';

CREATE OR REPLACE FUNCTION asof._expr_reads_columns(tbl regclass, expr pg_node_tree, cols name[]) RETURNS boolean
    AS 'MODULE_PATHNAME', 'asof_expr_reads_columns'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION asof._expr_reads_columns(regclass, pg_node_tree, name[]) IS
'Internal (asof.protect): true when a stored expression over tbl (a row-level security policy''s USING or WITH CHECK) reads one of cols, the whole row, or contains a subquery; false for NULL.';

CREATE OR REPLACE FUNCTION asof._register(tbl regclass, time_column name, label_columns name[],
        future_columns name[], entity_columns name[], label_time text,
        rls_was_enabled boolean, permissive_policy_added boolean) RETURNS void
    AS 'MODULE_PATHNAME', 'asof_register'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof._register(regclass, name, name[], name[], name[], text, boolean, boolean) IS
'Internal (called by asof.protect): the owner of tbl adds its registry row and audit record, its label and future columns'' statistics are deleted, cached plans are invalidated.';

CREATE OR REPLACE FUNCTION asof._set_split(tbl regclass, test_from text) RETURNS text
    AS 'MODULE_PATHNAME', 'asof_set_split'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof._set_split(regclass, text) IS
'Internal (called by asof.split): the owner of tbl sets its split marker (canonical text), records it and invalidates cached plans.  Returns the previous marker or NULL.';

CREATE OR REPLACE FUNCTION asof._unregister(tbl regclass) RETURNS void
    AS 'MODULE_PATHNAME', 'asof_unregister'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof._unregister(regclass) IS
'Internal (called by asof.unprotect): the owner of tbl removes its registry row, records it and invalidates cached plans.';

CREATE OR REPLACE FUNCTION asof._split_report(tbl regclass, test_from text,
        OUT entity_keys_on_both_sides bigint, OUT duplicate_rows bigint,
        OUT skipped_columns text[], OUT compared_columns text[])
    AS 'MODULE_PATHNAME', 'asof_split_report'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof._split_report(regclass, text) IS
'Internal (called by asof.split): for a cutoff, the number of distinct entity keys found on both sides (NULL without entity columns, or when an entity column''s type has operators that are not built in) and the number of held-out rows equal to a training row on every column except time and labels; skipped_columns lists the columns left out because their type''s operators are not built in (they are never run over held-out rows); compared_columns the columns compared for duplicates (NULL: none).  Not executable by PUBLIC.';

-- Validation shared by the public functions: tbl is a table the caller owns.
CREATE OR REPLACE FUNCTION asof._check_owner(tbl regclass, caller oid) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  kind "char";
  owner oid;
BEGIN
  SELECT c.relkind, c.relowner INTO kind, owner FROM pg_catalog.pg_class c WHERE c.oid = tbl;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'relation with OID % does not exist', tbl::oid USING ERRCODE = 'undefined_table';
  END IF;
  IF kind NOT IN ('r', 'p') THEN
    RAISE EXCEPTION '"%" is not a table', tbl USING ERRCODE = 'wrong_object_type',
      DETAIL = 'Only tables and partitioned tables can be protected.';
  END IF;
  IF NOT pg_catalog.pg_has_role(caller, owner, 'USAGE') THEN
    RAISE EXCEPTION 'must be owner of table %', tbl USING ERRCODE = 'insufficient_privilege',
      DETAIL = 'Only the owner of a table can protect it, split it, unseal it or unprotect it.';
  END IF;
END $$;
COMMENT ON FUNCTION asof._check_owner(regclass, oid) IS
'Internal: errors unless tbl is a table or partitioned table owned by role caller (or a role caller is a member of).';

CREATE OR REPLACE FUNCTION asof._members(tbl regclass) RETURNS TABLE (relid regclass)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  WITH RECURSIVE m(relid) AS (
    SELECT tbl
    UNION
    SELECT i.inhrelid::regclass FROM pg_catalog.pg_inherits i JOIN m ON i.inhparent = m.relid)
  SELECT relid FROM m
$$;
COMMENT ON FUNCTION asof._members(regclass) IS
'Internal (asof.protect): tbl and all its partitions and inheritance children, at any depth; one row each.';

CREATE OR REPLACE FUNCTION asof._expression_index_columns(tbl regclass, target integer) RETURNS SETOF text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT format('ALTER INDEX %s ALTER COLUMN %s SET STATISTICS %s', i.indexrelid::regclass, p.n, target)
    FROM pg_catalog.pg_index i
    CROSS JOIN LATERAL pg_catalog.generate_series(1, i.indnatts) AS p(n)
   WHERE i.indrelid = tbl AND i.indexprs IS NOT NULL AND i.indkey[p.n - 1] = 0
$$;
COMMENT ON FUNCTION asof._expression_index_columns(regclass, integer) IS
'Internal (asof.protect, asof.unprotect): one ALTER INDEX ... SET STATISTICS target statement per expression column of an index on tbl (expression indexes get statistics of their own at ANALYZE).';

-- The public functions protect, split, unseal and unprotect are C entry
-- points (src/guard_api.c): each calls its implementation below,
-- asof._<name>(caller, ...), with the calling role as first argument.  The
-- implementations are not executable by PUBLIC, run as the extension's
-- owner with a pinned search_path, and check that caller owns the table.
CREATE OR REPLACE FUNCTION asof._protect(caller oid, tbl regclass, time_column name, label_columns name[],
        future_columns name[], entity_columns name[], label_time text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  c name;
  ttype regtype;
  seen name[] := '{}';
  rls boolean;
  permissive boolean;
  trig name;
  stmt text;
BEGIN
  IF tbl IS NULL OR time_column IS NULL OR label_columns IS NULL
     OR future_columns IS NULL OR entity_columns IS NULL THEN
    RAISE EXCEPTION 'tbl, time_column, label_columns, future_columns and entity_columns cannot be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  PERFORM asof._check_owner(tbl, caller);
  IF EXISTS (SELECT 1 FROM asof.protected_registry r WHERE r.tbl = _protect.tbl) THEN
    RAISE EXCEPTION 'table "%" is already protected', tbl USING ERRCODE = 'duplicate_object',
      HINT = format('Call asof.unprotect(%L) first to change its registration.', tbl::text);
  END IF;
  SELECT a.atttypid INTO ttype FROM pg_catalog.pg_attribute a
   WHERE a.attrelid = tbl AND a.attname = time_column AND a.attnum > 0 AND NOT a.attisdropped;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'column "%" of relation "%" does not exist', time_column, tbl USING ERRCODE = 'undefined_column';
  END IF;
  IF ttype NOT IN ('timestamp'::regtype, 'timestamptz'::regtype, 'date'::regtype) THEN
    RAISE EXCEPTION 'time column "%" of table "%" is of type %', time_column, tbl, ttype
      USING ERRCODE = 'datatype_mismatch',
      DETAIL = 'The time column must be of type timestamp, timestamp with time zone or date.';
  END IF;
  IF cardinality(label_columns) + cardinality(future_columns) = 0 THEN
    RAISE EXCEPTION 'no label or future columns given for table "%"', tbl USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Name the label columns (and the columns only known after the row''s time) to protect.';
  END IF;
  FOREACH c IN ARRAY label_columns || future_columns || entity_columns LOOP
    IF c IS NULL THEN
      RAISE EXCEPTION 'column names cannot be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = tbl
                     AND a.attname = c AND a.attnum > 0 AND NOT a.attisdropped) THEN
      RAISE EXCEPTION 'column "%" of relation "%" does not exist', c, tbl USING ERRCODE = 'undefined_column';
    END IF;
  END LOOP;
  FOREACH c IN ARRAY label_columns || future_columns LOOP
    IF c = time_column THEN
      RAISE EXCEPTION 'column "%" cannot be both the time column and a label or future column', c
        USING ERRCODE = 'invalid_parameter_value',
        DETAIL = 'The time column decides which rows are held out; it is read by every query after the split.';
    END IF;
    IF c = ANY (seen) THEN
      RAISE EXCEPTION 'column "%" is named twice among the label and future columns', c
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF c = ANY (entity_columns) THEN
      RAISE EXCEPTION 'column "%" cannot be both an entity column and a label or future column', c
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
    seen := seen || c;
  END LOOP;
  IF label_time IS NOT NULL THEN
    PERFORM asof._check_label_time(tbl, label_time);
  END IF;
  -- The table and its partitions and children (all protected with it).
  SELECT t.tgname INTO trig FROM pg_catalog.pg_trigger t
   WHERE t.tgrelid IN (SELECT m.relid FROM asof._members(tbl) m) AND NOT t.tgisinternal
     AND NOT asof._ingestion_trigger_ok(t.oid) LIMIT 1;  -- asof.track_ingestion's own (part 57)
  IF FOUND THEN
    RAISE EXCEPTION 'table "%" cannot be protected while it or one of its partitions or children has triggers', tbl
      USING ERRCODE = 'object_in_use',
      DETAIL = format('Trigger "%s" would receive whole rows, labels and held-out rows included.', trig),
      HINT = 'Drop those triggers first.';
  END IF;
  SELECT r.rulename INTO trig FROM pg_catalog.pg_rewrite r
   WHERE r.ev_class IN (SELECT m.relid FROM asof._members(tbl) m) AND r.rulename <> '_RETURN' LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'table "%" cannot be protected while it or one of its partitions or children has rules', tbl
      USING ERRCODE = 'object_in_use',
      DETAIL = format('Rule "%s" can read rows that statements touch, labels and held-out rows included.', trig),
      HINT = 'Drop those rules first.';
  END IF;
  -- A policy whose expressions read a label or future column (or the whole
  -- row) would evaluate them on every row, before the split too.
  SELECT p.polname INTO trig
    FROM pg_catalog.pg_policy p
   WHERE p.polrelid IN (SELECT m.relid FROM asof._members(tbl) m)
     AND (asof._expr_reads_columns(p.polrelid, p.polqual, label_columns || future_columns)
          OR asof._expr_reads_columns(p.polrelid, p.polwithcheck, label_columns || future_columns))
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'table "%" cannot be protected while its policy "%" reads a label or future column, the whole row or a subquery', tbl, trig
      USING ERRCODE = 'object_in_use',
      DETAIL = 'A row-level security policy is evaluated on every row, held-out rows included, before the split too.',
      HINT = 'Drop the policy or rewrite it without label and future columns first.';
  END IF;
  -- A generated column (stored, or virtual from PostgreSQL 18 on) whose
  -- expression reads a label or future column hands that value to every
  -- reader, before the split too, unless it is registered itself.
  SELECT a.attname INTO trig
    FROM asof._members(tbl) m
    JOIN pg_catalog.pg_attribute a ON a.attrelid = m.relid
    JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attgenerated <> '' AND NOT a.attisdropped
     AND NOT a.attname = ANY (label_columns || future_columns)
     AND asof._expr_reads_columns(a.attrelid, d.adbin, label_columns || future_columns)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'table "%" cannot be protected while its generated column "%" reads a label or future column', tbl, trig
      USING ERRCODE = 'object_in_use',
      DETAIL = 'A generated column is computed from the other columns of its row: reading it would read the label or future column before the split.',
      HINT = 'Drop the generated column, or register it as a label or future column too.';
  END IF;
  -- Forced row-level security would run the table's policies on the
  -- owner's statements, asof.split's internal queries included.
  SELECT m.relid::text INTO stmt FROM asof._members(tbl) m
    JOIN pg_catalog.pg_class c3 ON c3.oid = m.relid WHERE c3.relforcerowsecurity LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'table "%" cannot be protected while row-level security is forced on "%"', tbl, stmt
      USING ERRCODE = 'object_in_use',
      DETAIL = 'Forced policies run on the owner''s statements, asof.split''s internal queries over every row included.',
      HINT = format('ALTER TABLE %s NO FORCE ROW LEVEL SECURITY first.', stmt);
  END IF;
  -- Objects that would keep reading labels, or act as an oracle for them,
  -- once protected (generated columns: above): CHECK constraints over a
  -- label or future column (evaluated on every write, an UPDATE before the split
  -- included), unique keys over one (ON CONFLICT DO NOTHING tells whether a
  -- held-out value exists), and publications (logical replication sends
  -- every row).  The statements that would add them later are refused too.
  SELECT c.conname INTO trig
    FROM pg_catalog.pg_constraint c
   WHERE c.conrelid IN (SELECT m.relid FROM asof._members(tbl) m) AND c.contype = 'c'
     AND asof._expr_reads_columns(c.conrelid, c.conbin, label_columns || future_columns)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'table "%" cannot be protected while its CHECK constraint "%" reads a label or future column', tbl, trig
      USING ERRCODE = 'object_in_use',
      DETAIL = 'The constraint is evaluated on every write, before the split too: a failing write tells the label''s value.',
      HINT = 'Drop the constraint first.';
  END IF;
  SELECT i.indexrelid::pg_catalog.regclass::pg_catalog.text INTO stmt
    FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
   WHERE i.indrelid IN (SELECT m.relid FROM asof._members(tbl) m) AND i.indisunique
     AND a.attname = ANY (label_columns || future_columns)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'table "%" cannot be protected while its unique index % includes a label or future column', tbl, stmt
      USING ERRCODE = 'object_in_use',
      DETAIL = 'Inserting a value that a held-out row has fails or is skipped by ON CONFLICT DO NOTHING, which tells that the value exists.',
      HINT = 'Drop the index (or the constraint it backs) first.';
  END IF;
  SELECT p.pubname INTO trig
    FROM pg_catalog.pg_publication p
   WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_get_publication_tables(p.pubname) pt
                  WHERE pt.relid IN (SELECT m.relid FROM asof._members(tbl) m))
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'table "%" cannot be protected while publication "%" publishes it', tbl, trig
      USING ERRCODE = 'object_in_use',
      DETAIL = 'Logical replication sends every row, labels and held-out rows included, to the subscriber.',
      HINT = 'Remove the table from the publication (or drop a FOR ALL TABLES publication) first.';
  END IF;
  -- A partition or child is protected through its parent: queries and
  -- ANALYZE of an unprotected parent would read its rows unfiltered.
  SELECT i.inhparent::regclass::text INTO stmt FROM pg_catalog.pg_inherits i WHERE i.inhrelid = tbl LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'table "%" cannot be protected because it is a partition or child of table "%"', tbl, stmt
      USING ERRCODE = 'object_in_use',
      DETAIL = 'Queries and ANALYZE of the parent read the rows of its partitions and children.',
      HINT = 'Protect the top-level parent instead (its partitions and children are protected with it).';
  END IF;

  -- Fail closed without the library: a restrictive policy only the loaded
  -- guard lets pass (row-level security applies to roles other than the
  -- owner and superusers), and a permissive one beside it when the table
  -- has none of its own, or the restrictive policy would deny everything.
  SELECT c2.relrowsecurity INTO rls FROM pg_catalog.pg_class c2 WHERE c2.oid = tbl;
  permissive := NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid = tbl AND p.polpermissive);
  EXECUTE format('CREATE POLICY asof_guard_deny ON %s AS RESTRICTIVE USING (asof.guard_loaded())', tbl);
  IF permissive THEN
    EXECUTE format('CREATE POLICY asof_guard_permit ON %s AS PERMISSIVE USING (true) WITH CHECK (true)', tbl);
  END IF;
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);

  -- Statistics: no new ones for label and future columns (the C side
  -- deletes the existing ones, extended statistics data included).
  FOREACH c IN ARRAY label_columns || future_columns LOOP
    -- a virtual generated column (18) has no statistics of its own
    CONTINUE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                           WHERE a.attrelid = tbl AND a.attname = c AND a.attgenerated = 'v');
    EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET STATISTICS 0', tbl, c);
  END LOOP;
  FOR stmt IN
    SELECT format('ALTER STATISTICS %I.%I SET STATISTICS 0', n.nspname, s.stxname) FROM pg_catalog.pg_statistic_ext s
      JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
     WHERE s.stxrelid = tbl
       AND (s.stxexprs IS NOT NULL
            OR EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid = tbl AND a.attnum = ANY (s.stxkeys)
                          AND a.attname = ANY (label_columns || future_columns)))
  LOOP
    EXECUTE stmt;
  END LOOP;

  -- Expression indexes get statistics of their own at ANALYZE: none for
  -- any expression column (they may compute a label).
  FOR stmt IN SELECT asof._expression_index_columns(tbl, 0) LOOP
    EXECUTE stmt;
  END LOOP;

  PERFORM asof._register(tbl, time_column, label_columns, future_columns, entity_columns,
                         label_time, rls, permissive);
END $$;
COMMENT ON FUNCTION asof._protect(oid, regclass, name, name[], name[], name[], text) IS
'Internal: the implementation of asof.protect for role caller.';
CREATE OR REPLACE FUNCTION asof.protect(tbl regclass, time_column name, label_columns name[],
        future_columns name[] DEFAULT '{}', entity_columns name[] DEFAULT '{}',
        label_time text DEFAULT NULL) RETURNS void
    AS 'MODULE_PATHNAME', 'asof_api_protect'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof.protect(regclass, name, name[], name[], name[], text) IS
'Registers a protected table (owner only).  tbl: the table; time_column: its prediction time (timestamp, timestamptz or date); label_columns: the labels; future_columns: values only known after the row''s time; entity_columns: the entity key (used by asof.split to report keys on both sides); label_time: an expression over the row saying when its label became known (default: the time column; no subqueries or volatile functions).  Until asof.split declares a split, every read of a label or future column is refused.  Also deletes and stops the statistics of those columns and adds the row-level-security policies asof_guard_deny (and asof_guard_permit when the table has no permissive policy).  Errors: not the owner (42501), unknown column (42703), time column of another type (42804), a label that is the time column or named twice (22023), already protected (42710), a table with triggers (55006).  Returns nothing.';

CREATE OR REPLACE FUNCTION asof._split(caller oid, tbl regclass, test_from text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  reg asof.protected_registry;
  ttype regtype;
  canonical text;
  previous text;
  rep record;
  opened bigint;
BEGIN
  IF tbl IS NULL OR test_from IS NULL THEN
    RAISE EXCEPTION 'tbl and test_from cannot be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  PERFORM asof._check_owner(tbl, caller);
  SELECT * INTO reg FROM asof.protected_registry r WHERE r.tbl = _split.tbl;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'table "%" is not protected', tbl USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = format('Register it first with asof.protect(%L, time_column => ..., label_columns => ...).', tbl::text);
  END IF;
  IF reg.linked_to IS NOT NULL THEN
    RAISE EXCEPTION 'table "%" is a training set built on protected table "%"', tbl, reg.linked_to
      USING ERRCODE = 'object_not_in_prerequisite_state',
      DETAIL = 'Its split follows the split of the spine it was built on.',
      HINT = format('Move the split of the spine: asof.split(%L, test_from => ...).', reg.linked_to::text);
  END IF;
  SELECT a.atttypid INTO ttype FROM pg_catalog.pg_attribute a
   WHERE a.attrelid = tbl AND a.attname = reg.time_column;
  -- The cutoff, read as the time column's type, kept as ISO 8601 text
  -- (independent of DateStyle; timestamptz keeps its offset).
  EXECUTE format('SELECT to_json(%L::%s) #>> ''{}''', test_from, ttype) INTO canonical;
  IF canonical IN ('infinity', '-infinity') THEN
    RAISE EXCEPTION 'test_from cannot be %', canonical USING ERRCODE = 'invalid_parameter_value',
      DETAIL = 'An infinite cutoff leaves either no training rows or no held-out rows.';
  END IF;
  -- Wait for every transaction reading the table (cursors included), and
  -- keep new readers out until this transaction commits.
  EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', tbl);

  SELECT * INTO rep FROM asof._split_report(tbl, canonical);
  IF rep.entity_keys_on_both_sides IS NOT NULL THEN
    RAISE NOTICE 'split of "%": distinct entity keys (%) with rows on both sides of %: %',
      tbl, array_to_string(reg.entity_columns, ', '), canonical, rep.entity_keys_on_both_sides;
  END IF;
  IF rep.skipped_columns IS NOT NULL THEN
    RAISE NOTICE 'split of "%": columns left out of the report: %', tbl, array_to_string(rep.skipped_columns, ', ')
      USING DETAIL = 'Their types'' comparison operators are not built in, and the report runs no user code over held-out rows.';
  END IF;
  IF rep.duplicate_rows = 0 THEN
    RAISE NOTICE 'split of "%": held-out rows equal to a training row on every column except % and the labels: %',
      tbl, reg.time_column, rep.duplicate_rows;
  ELSE
    RAISE NOTICE 'split of "%": held-out rows equal to a training row on every column except % and the labels: %',
      tbl, reg.time_column, rep.duplicate_rows
      USING DETAIL = CASE WHEN rep.compared_columns IS NULL
          THEN 'No column besides the time and the labels can be compared, so every held-out row counts.'
          ELSE format('Rows were compared on %s. Without a column that identifies each event, such as a flight number or an order id, equal rows are normal: two flights on the same route are two flights, not one flight twice. They are leakage only when a held-out row is the same event as a training row (recorded twice, or loaded again across the cutoff), because the model is then tested on rows it was trained on.',
                      array_to_string(rep.compared_columns, ', ')) END,
      HINT = 'Look into it when the compared columns should identify each row, or when the data was loaded from overlapping extracts; a generated serial key makes every row distinct and would hide such copies.';
  END IF;

  previous := asof._set_split(tbl, canonical);
  IF previous IS NOT NULL AND previous IS DISTINCT FROM canonical THEN
    SELECT count(*) INTO opened FROM asof.holdout_log l
     WHERE l.tbl = _split.tbl AND l.event = 'unseal' AND l.at >= reg.registered_at;
    IF opened > 0 THEN
      RAISE WARNING 'moved the split of "%" from % to % after its test set was opened (openings: %)', tbl, previous, canonical, opened
        USING DETAIL = 'Rows held out before were already seen; results on the new test set are optimistic.';
    ELSE
      RAISE NOTICE 'moved the split of "%" from % to %', tbl, previous, canonical;
    END IF;
  END IF;
END $$;
COMMENT ON FUNCTION asof._split(oid, regclass, text) IS
'Internal: the implementation of asof.split for role caller.';
CREATE OR REPLACE FUNCTION asof.split(tbl regclass, test_from text) RETURNS void
    AS 'MODULE_PATHNAME', 'asof_api_split'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof.split(regclass, text) IS
'Declares (or moves) the train/test split of a protected table (owner only).  test_from: the cutoff, read as the time column''s type; rows with time >= test_from or NULL time are held out and invisible on every path to every role; label and future columns of the training rows become readable.  Waits for transactions reading the table, then applies to every session and cached plan.  NOTICEs: the number of distinct entity keys with rows on both sides (when entity columns are registered) and the number of held-out rows equal to a training row on every column except time and labels.  Moving a split is logged in asof.holdout_log and warns when the test set was already opened.  Errors: not the owner (42501), not protected (55000), a value that is not of the time column''s type, an infinite cutoff (22023).  Returns nothing.';

CREATE OR REPLACE FUNCTION asof._unseal(tbl regclass, reason text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'asof_unseal'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof._unseal(regclass, text) IS
'Internal (called by asof.unseal): owner only; commits an audit record through a background worker, makes the held-out rows of tbl visible for the rest of the current transaction.  Returns the number of earlier openings.';

CREATE OR REPLACE FUNCTION asof._unseal_table(caller oid, tbl regclass, reason text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  reg asof.protected_registry;
  registered boolean;
  before bigint;
BEGIN
  IF tbl IS NULL THEN
    RAISE EXCEPTION 'tbl cannot be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF reason IS NULL OR btrim(reason) = '' THEN
    RAISE EXCEPTION 'a reason is required to open the test set' USING ERRCODE = 'invalid_parameter_value',
      HINT = format('Say why the held-out rows are opened, e.g. asof.unseal(%L, reason => ''final evaluation of model v3'').', tbl::text);
  END IF;
  SELECT * INTO reg FROM asof.protected_registry r WHERE r.tbl = _unseal_table.tbl;
  registered := FOUND;
  -- A training set on a protected spine is opened by the spine's owner.
  PERFORM asof._check_owner(coalesce(reg.linked_to, tbl), caller);
  IF NOT registered THEN
    RAISE EXCEPTION 'table "%" is not protected', tbl USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  IF reg.test_from IS NULL THEN
    RAISE EXCEPTION 'table "%" has no split to unseal', tbl USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = format('Declare a split with asof.split(%L, test_from => ...).', tbl::text);
  END IF;
  before := asof._unseal(tbl, reason);
  IF before > 0 THEN
    RAISE WARNING 'the test set of "%" has been opened before (openings now: %)', tbl, before + 1
      USING DETAIL = 'Each evaluation on the same held-out rows adapts the model to them: results on this test set are now optimistic.';
  ELSE
    RAISE NOTICE 'held-out rows of "%" are visible until the end of this transaction', tbl;
  END IF;
END $$;
COMMENT ON FUNCTION asof._unseal_table(oid, regclass, text) IS
'Internal: the implementation of asof.unseal for role caller.';
CREATE OR REPLACE FUNCTION asof.unseal(tbl regclass, reason text) RETURNS void
    AS 'MODULE_PATHNAME', 'asof_api_unseal'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof.unseal(regclass, text) IS
'Opens the test set of a protected table deliberately (owner only): its held-out rows are visible for the rest of the current transaction only.  reason (text, required) is written to asof.holdout_log with the role and time by a separate transaction, so the record survives a rollback; openings are counted in asof.protected_tables and opening again warns that results are now optimistic.  Errors: not the owner (42501), not protected or no split (55000), empty reason (22023), no background worker slot (53000).  Returns nothing.';

CREATE OR REPLACE FUNCTION asof._unprotect(caller oid, tbl regclass) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  reg asof.protected_registry;
  c name;
  s text;
BEGIN
  IF tbl IS NULL THEN
    RAISE EXCEPTION 'tbl cannot be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  PERFORM asof._check_owner(tbl, caller);
  SELECT * INTO reg FROM asof.protected_registry r WHERE r.tbl = _unprotect.tbl;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'table "%" is not protected', tbl USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  IF reg.linked_to IS NOT NULL
     AND EXISTS (SELECT 1 FROM asof.protected_registry r WHERE r.tbl = reg.linked_to) THEN
    RAISE EXCEPTION 'table "%" is a training set built on protected table "%"', tbl, reg.linked_to
      USING ERRCODE = 'object_not_in_prerequisite_state',
      DETAIL = 'It stays protected as long as the spine it was built on.',
      HINT = format('Unprotect the spine, asof.unprotect(%L), or drop the training set.', reg.linked_to::text);
  END IF;
  -- A training set whose spine was dropped keeps the spine's split for good:
  -- its sealed rows were computed from the spine's held-out rows.
  IF reg.linked_to IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = reg.linked_to::oid)
     AND NOT (SELECT a.rolsuper FROM pg_catalog.pg_authid a WHERE a.oid = caller) THEN
    RAISE EXCEPTION 'cannot unprotect training set "%" because the spine it was built on was dropped', tbl
      USING ERRCODE = 'insufficient_privilege',
      DETAIL = 'Its sealed rows were computed from the spine''s held-out rows; it stays protected with the spine''s split.',
      HINT = 'Drop the training set, or ask a superuser to unprotect it.';
  END IF;
  -- First the registration (the guard refuses the statements below on a
  -- protected table), then the table's own state.
  PERFORM asof._unregister(tbl);
  EXECUTE format('DROP POLICY IF EXISTS asof_guard_deny ON %s', tbl);
  IF reg.permissive_policy_added THEN
    EXECUTE format('DROP POLICY IF EXISTS asof_guard_permit ON %s', tbl);
  END IF;
  IF NOT reg.rls_was_enabled THEN
    EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', tbl);
  END IF;
  FOREACH c IN ARRAY reg.label_columns || reg.future_columns LOOP
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = tbl AND a.attname = c AND NOT a.attisdropped
                 AND a.attgenerated <> 'v') THEN
      EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET STATISTICS -1', tbl, c);
    END IF;
  END LOOP;
  FOR s IN
    SELECT asof._expression_index_columns(tbl, -1)
    UNION ALL
    SELECT format('ALTER STATISTICS %I.%I SET STATISTICS -1', n.nspname, x.stxname)
      FROM pg_catalog.pg_statistic_ext x JOIN pg_catalog.pg_namespace n ON n.oid = x.stxnamespace
     WHERE x.stxrelid = tbl AND x.stxstattarget = 0
  LOOP
    EXECUTE s;
  END LOOP;
  -- Training sets built on this table follow it.
  FOR s IN SELECT r.tbl::text FROM asof.protected_registry r WHERE r.linked_to = _unprotect.tbl LOOP
    PERFORM asof._unprotect_orphan(s::regclass, caller);
  END LOOP;
END $$;
COMMENT ON FUNCTION asof._unprotect(oid, regclass) IS
'Internal: the implementation of asof.unprotect for role caller.';
CREATE OR REPLACE FUNCTION asof.unprotect(tbl regclass) RETURNS void
    AS 'MODULE_PATHNAME', 'asof_api_unprotect'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof.unprotect(regclass) IS
'Removes the protection of a table (owner only): drops its registry row and the guard''s policies, restores its row-level-security state and the default statistics target of its label and future columns (statistics come back at the next ANALYZE), and unprotects the training sets built on it.  The audit log keeps its history.  Errors: not the owner (42501), not protected (55000), a training set whose spine is still protected (55000), a training set whose spine was dropped, unless superuser (42501).  Returns nothing.';

CREATE OR REPLACE FUNCTION asof._invalidate(tbl regclass) RETURNS void
    AS 'MODULE_PATHNAME', 'asof_invalidate'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION asof._invalidate(regclass) IS
'Internal: drops cached plans and every backend''s guard cache for tbl (after a registry change).  Changes nothing else.';

CREATE OR REPLACE FUNCTION asof._unprotect_orphan(tbl regclass, caller oid) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  reg asof.protected_registry;
  c name;
BEGIN
  SELECT * INTO reg FROM asof.protected_registry r WHERE r.tbl = _unprotect_orphan.tbl;
  IF NOT FOUND OR reg.linked_to IS NULL
     OR EXISTS (SELECT 1 FROM asof.protected_registry r WHERE r.tbl = reg.linked_to) THEN
    RAISE EXCEPTION 'table "%" is not a training set of an unprotected spine', tbl
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  DELETE FROM asof.protected_registry r WHERE r.tbl = _unprotect_orphan.tbl;
  PERFORM asof._invalidate(tbl);
  INSERT INTO asof.holdout_log (at, tbl, table_name, event, role, detail)
    VALUES (now(), tbl, tbl::text, 'unprotect', (SELECT a.rolname FROM pg_catalog.pg_authid a WHERE a.oid = caller), format('spine %s unprotected', reg.linked_to));
  EXECUTE format('DROP POLICY IF EXISTS asof_guard_deny ON %s', tbl);
  EXECUTE format('DROP POLICY IF EXISTS asof_guard_permit ON %s', tbl);
  EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', tbl);
  FOREACH c IN ARRAY reg.label_columns || reg.future_columns LOOP
    EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET STATISTICS -1', tbl, c);
  END LOOP;
END $$;
COMMENT ON FUNCTION asof._unprotect_orphan(regclass, oid) IS
'Internal (asof.unprotect of a spine, for role caller): unprotects a training set whose spine is no longer protected.  Refuses any other table.';

-- A dropped protected table leaves no registry row behind.
CREATE OR REPLACE FUNCTION asof._forget_dropped() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  DELETE FROM asof.protected_registry r
   USING pg_catalog.pg_event_trigger_dropped_objects() d
   WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = r.tbl::oid AND d.objsubid = 0;
END $$;
COMMENT ON FUNCTION asof._forget_dropped() IS
'Internal event trigger: removes the registry rows of dropped protected tables.';
DROP EVENT TRIGGER IF EXISTS asof_forget_dropped;
CREATE EVENT TRIGGER asof_forget_dropped ON sql_drop EXECUTE FUNCTION asof._forget_dropped();

