-- pg_asof install script, part 63: validating feature views (code part:
-- idempotent, re-run by every upgrade script).  Contract:
-- docs/validation.md, "Feature views".
--
-- Owns: asof.validate_feature_view (the checks of asof.validate over a
-- feature view's values at its ticks) and asof._validate_snapshot (the
-- check asof.materialize runs on a new snapshot before publishing it).
-- Both compute the view's values with asof.build_training_set (the
-- engine, the caller's privileges, the guard's G5 rules) on a synthetic
-- spine: every entity of the source times every tick, at the request time
-- tick + delay, so that the values are the ones production serves for
-- that tick (TTL features included).

-- The synthetic spine and the values at its ticks, in pg_temp.asof_fv_values
-- (columns: entity columns, tick, at, <view>__<feature>...).  Ticks: anchor +
-- n * step within the period.
CREATE OR REPLACE FUNCTION asof.feature_view_values(feature_view text, during tsrange,
        step interval DEFAULT NULL) RETURNS name[]
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v record;
  keys text;
  tick_expr text;
  cols name[];
  n bigint;
BEGIN
  SELECT r.* INTO v FROM asof.feature_views r WHERE r.name OPERATOR(pg_catalog.=) feature_view;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'feature view "%" does not exist', feature_view USING ERRCODE = 'undefined_object';
  END IF;
  step := COALESCE(step, v.cadence);
  IF step IS NULL THEN
    RAISE EXCEPTION 'feature view "%" is continuous: give the step between ticks', feature_view
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF step OPERATOR(pg_catalog.<=) '0'::pg_catalog.interval
     OR pg_catalog.date_part('month', step) OPERATOR(pg_catalog.<>) 0
     OR pg_catalog.date_part('year', step) OPERATOR(pg_catalog.<>) 0 THEN
    RAISE EXCEPTION 'step must be a positive interval without months'
      USING ERRCODE = 'invalid_parameter_value', DETAIL = pg_catalog.format('The step given is %s.', step);
  END IF;
  IF during IS NULL OR pg_catalog.isempty(during) OR pg_catalog.lower_inf(during) OR pg_catalog.upper_inf(during) THEN
    RAISE EXCEPTION 'period must be non-empty with finite bounds'
      USING ERRCODE = 'invalid_parameter_value', DETAIL = pg_catalog.format('The period given is %s.', during);
  END IF;
  SELECT pg_catalog.string_agg(pg_catalog.quote_ident(e), ', ' ORDER BY o) INTO keys
    FROM pg_catalog.unnest(v.entity) WITH ORDINALITY u(e, o);
  -- ticks as the view's time type; a timestamptz view's ticks are UTC
  tick_expr := CASE WHEN v.time_type OPERATOR(pg_catalog.=) 'pg_catalog.timestamptz'::pg_catalog.regtype
                    THEN 'pg_catalog.timezone(''UTC'', g.tick)' ELSE 'g.tick' END;
  IF pg_catalog.to_regclass('pg_temp.asof_fv_spine') IS NOT NULL THEN
    DROP TABLE pg_temp.asof_fv_spine;
  END IF;
  IF pg_catalog.to_regclass('pg_temp.asof_fv_values') IS NOT NULL THEN
    DROP TABLE pg_temp.asof_fv_values;
  END IF;
  EXECUTE pg_catalog.format(
    'CREATE TEMP TABLE asof_fv_spine ON COMMIT DROP AS '
    'SELECT e.*, %1$s AS tick, %1$s OPERATOR(pg_catalog.+) $4 AS at '
    '  FROM (SELECT DISTINCT %2$s FROM %3$s WHERE (%2$s) IS NOT NULL) e, '
    '       pg_catalog.generate_series(pg_catalog.date_bin($3, $1, pg_catalog.timezone(''UTC'', $5)), $2, $3) g(tick) '
    ' WHERE $6 OPERATOR(pg_catalog.@>) g.tick',
    tick_expr, keys, v.source)
    USING pg_catalog.lower(during), pg_catalog.upper(during), step, v.delay, v.anchor, during;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n OPERATOR(pg_catalog.>) 5000000 THEN
    RAISE NOTICE 'feature view "%": computing % values (entities times ticks)', feature_view, n;
  END IF;
  PERFORM asof.build_training_set('pg_temp.asof_fv_values', 'pg_temp.asof_fv_spine', 'at',
                                  ARRAY[feature_view]);
  SELECT pg_catalog.array_agg((v.name OPERATOR(pg_catalog.||) '__' OPERATOR(pg_catalog.||) f.name)::pg_catalog.name
                              ORDER BY f.position) INTO cols
    FROM asof.feature_view_feature_registry f WHERE f.feature_view OPERATOR(pg_catalog.=) v.name;
  RETURN cols;
END $$;
COMMENT ON FUNCTION asof.feature_view_values(text, tsrange, interval) IS
'The values a feature view served at its ticks: creates (replacing it) the temporary table asof_fv_values (kept until the end of the session) with one row per entity of the view''s source (distinct non-NULL keys the caller can read) and tick anchor + n * step within "during" (UTC wall clock; step defaults to the view''s cadence and is required for a continuous view), columns: the entity columns, tick, at = tick + delay (the request time, so TTL features expire as served) and one column per feature (<view>__<feature>), computed by asof.build_training_set with the caller''s privileges (recorded in asof.training_sets like any build; the leakage guard''s rules apply: values derived from held-out rows are NULL).  Returns the feature column names.  Errors: unknown view, continuous view without step, step not positive or with months, empty or unbounded period.';
GRANT EXECUTE ON FUNCTION asof.feature_view_values(text, tsrange, interval) TO PUBLIC;

CREATE OR REPLACE FUNCTION asof.validate_feature_view(feature_view text, reference tsrange, target tsrange,
        grain interval DEFAULT '1 day', sensitivity float8 DEFAULT 0.2)
    RETURNS TABLE (partition_start timestamp, column_name name, statistic text, observed float8,
                   expected_low float8, expected_high float8, severity text, explanation text)
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v record;
  cols name[];
BEGIN
  SELECT r.* INTO v FROM asof.feature_views r WHERE r.name OPERATOR(pg_catalog.=) feature_view;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'feature view "%" does not exist', feature_view USING ERRCODE = 'undefined_object';
  END IF;
  IF reference IS NULL OR target IS NULL OR pg_catalog.isempty(reference) OR pg_catalog.isempty(target)
     OR pg_catalog.lower_inf(reference) OR pg_catalog.upper_inf(reference)
     OR pg_catalog.lower_inf(target) OR pg_catalog.upper_inf(target) THEN
    RAISE EXCEPTION 'reference and target periods must be non-empty with finite bounds'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = pg_catalog.format('The reference is %s and the target is %s.', reference, target);
  END IF;
  cols := asof.feature_view_values(feature_view,
            pg_catalog.tsrange(LEAST(pg_catalog.lower(reference), pg_catalog.lower(target)),
                               GREATEST(pg_catalog.upper(reference), pg_catalog.upper(target)), '[]'),
            COALESCE(v.cadence, grain));
  RETURN QUERY SELECT * FROM asof.validate('pg_temp.asof_fv_values', 'tick', reference, target,
                                           grain, sensitivity, cols);
  DROP TABLE pg_temp.asof_fv_values;
END $$;
COMMENT ON FUNCTION asof.validate_feature_view(text, tsrange, tsrange, interval, float8) IS
'The checks of asof.validate over a feature view''s values at its ticks: computes them with asof.feature_view_values over both periods (ticks every cadence, or every grain for a continuous view; every entity of the source; request time tick + delay, so TTL features count as served), then validates table pg_temp.asof_fv_values by its tick column, one column per feature (<view>__<feature>), partitions of grain.  Periods are UTC wall clock for timestamptz views.  Returns the alerts as asof.validate does.  Cost: entities x ticks values computed by the engine.  Values derived from held-out rows of a protected source are NULL (the guard): their partitions show as NULL fractions, never as values.  Errors: unknown view, empty, unbounded or overlapping periods, and those of asof.validate.';
GRANT EXECUTE ON FUNCTION asof.validate_feature_view(text, tsrange, tsrange, interval, float8) TO PUBLIC;
