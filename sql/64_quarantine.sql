-- pg_asof install script, part 64: the check a feature view's new snapshot
-- passes before it is published (code part: idempotent, re-run by every
-- upgrade script).  Contract: docs/validation.md, "Quarantine".
--
-- asof._validate_snapshot is the interface asof.materialize (issue 8) calls
-- with validate => true: it compares the snapshot's feature values with the
-- view's values at the reference_ticks ticks before it (computed by the
-- engine, asof.feature_view_values), records every alert in
-- asof.validation_alerts and returns the number of high-severity alerts;
-- the caller publishes the snapshot only when that number is 0.

CREATE OR REPLACE FUNCTION asof._validate_snapshot(feature_view text, tick timestamptz, snapshot regclass,
        reference_ticks integer DEFAULT 28, sensitivity float8 DEFAULT 0.2) RETURNS integer
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v record;
  t timestamp;                 -- the tick, UTC wall clock
  cols name[];
  sel text;
  col name;
  short text;
  a record;
  held boolean;
  high integer := 0;
BEGIN
  -- phase 1: arguments
  SELECT r.* INTO v FROM asof.feature_views r WHERE r.name OPERATOR(pg_catalog.=) feature_view;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'feature view "%" does not exist', feature_view USING ERRCODE = 'undefined_object';
  END IF;
  IF v.cadence IS NULL THEN
    RAISE EXCEPTION 'feature view "%" is continuous and has no snapshots', feature_view
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF tick IS NULL OR snapshot IS NULL OR reference_ticks IS NULL OR reference_ticks OPERATOR(pg_catalog.<) 2 THEN
    RAISE EXCEPTION 'tick and snapshot must not be NULL and reference_ticks must be at least 2'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  t := pg_catalog.timezone('UTC', tick);

  -- phase 2: the reference values, then the snapshot's as the tick's partition
  cols := asof.feature_view_values(feature_view,
            pg_catalog.tsrange(t OPERATOR(pg_catalog.-) (v.cadence OPERATOR(pg_catalog.*) reference_ticks), t, '[)'),
            v.cadence);
  sel := '';
  FOREACH col IN ARRAY cols LOOP
    short := pg_catalog.substr(col, pg_catalog.length(feature_view) OPERATOR(pg_catalog.+) 3);
    IF EXISTS (SELECT FROM pg_catalog.pg_attribute at WHERE at.attrelid OPERATOR(pg_catalog.=) snapshot
                  AND at.attname OPERATOR(pg_catalog.=) col AND at.attnum OPERATOR(pg_catalog.>) 0 AND NOT at.attisdropped) THEN
      sel := sel OPERATOR(pg_catalog.||) ', ' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(col);
    ELSIF EXISTS (SELECT FROM pg_catalog.pg_attribute at WHERE at.attrelid OPERATOR(pg_catalog.=) snapshot
                     AND at.attname OPERATOR(pg_catalog.=) short AND at.attnum OPERATOR(pg_catalog.>) 0 AND NOT at.attisdropped) THEN
      sel := sel OPERATOR(pg_catalog.||) ', ' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(short);
    ELSE
      RAISE EXCEPTION 'snapshot "%" has no column for feature "%" of feature view "%"', snapshot, short, feature_view
        USING ERRCODE = 'undefined_column',
              HINT = pg_catalog.format('Name the column %I or %I.', short, col);
    END IF;
  END LOOP;
  EXECUTE pg_catalog.format('INSERT INTO pg_temp.asof_fv_values (tick%s) SELECT %s%s FROM %s',
            (SELECT pg_catalog.string_agg(', ' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c), '') FROM pg_catalog.unnest(cols) c),
            CASE WHEN v.time_type OPERATOR(pg_catalog.=) 'pg_catalog.timestamptz'::pg_catalog.regtype
                 THEN '$1' ELSE 'pg_catalog.timezone(''UTC'', $1)' END,
            sel, snapshot)
    USING tick;

  -- phase 3: validate the tick against the reference ticks; record the alerts
  held := EXISTS (SELECT FROM asof.protected_registry r
                   WHERE r.tbl OPERATOR(pg_catalog.=) v.source AND r.test_from IS NOT NULL
                     AND t OPERATOR(pg_catalog.>=) pg_catalog.timezone('UTC',
                           CASE WHEN v.time_type OPERATOR(pg_catalog.=) 'pg_catalog.timestamptz'::pg_catalog.regtype
                                THEN r.test_from::pg_catalog.timestamptz
                                ELSE pg_catalog.timezone('UTC', r.test_from::pg_catalog.timestamp) END));
  FOR a IN SELECT * FROM asof.validate('pg_temp.asof_fv_values', 'tick',
             pg_catalog.tsrange(t OPERATOR(pg_catalog.-) (v.cadence OPERATOR(pg_catalog.*) reference_ticks), t, '[)'),
             pg_catalog.tsrange(t, t OPERATOR(pg_catalog.+) v.cadence, '[)'),
             v.cadence, sensitivity, cols) LOOP
    INSERT INTO asof.validation_alerts (feature_view, tick, column_name, statistic, observed, expected_low,
                                        expected_high, severity, explanation, held_out, recorded_by)
    VALUES (feature_view, tick, a.column_name, a.statistic, a.observed, a.expected_low, a.expected_high,
            a.severity, a.explanation, held, CURRENT_USER);
    IF a.severity OPERATOR(pg_catalog.=) 'high' THEN
      high := high OPERATOR(pg_catalog.+) 1;
      RAISE LOG 'pg_asof: snapshot of feature view "%" at tick % failed validation: %', feature_view, tick, a.explanation;
      IF held THEN
        RAISE NOTICE 'snapshot of feature view "%" at tick % failed validation (held-out period: details in asof.validation_alerts)',
          feature_view, tick;
      ELSE
        RAISE NOTICE 'snapshot of feature view "%" at tick % failed validation: %', feature_view, tick, a.explanation;
      END IF;
    END IF;
  END LOOP;
  DROP TABLE pg_temp.asof_fv_values;
  RETURN high;
END $$;
COMMENT ON FUNCTION asof._validate_snapshot(text, timestamptz, regclass, integer, float8) IS
'Internal (asof.materialize with validate => true): checks a new snapshot of a feature view before it is published.  snapshot: a table or view with one row per entity and one column per feature, named <feature> or <view>__<feature>; tick: the snapshot''s tick (for a timestamp view, its UTC wall clock).  The reference is the view''s values at the reference_ticks ticks before (asof.feature_view_values, same entities, request time tick + delay); the statistics are those of asof.validate with grain = cadence.  Every alert is inserted into asof.validation_alerts (held_out when the tick is at or after the split of the view''s protected source); each high-severity one also raises a NOTICE (without values when held out) and a LOG line.  Returns the number of high-severity alerts: publish the snapshot only when it is 0.  Runs with the caller''s privileges; the caller needs INSERT on asof.validation_alerts.';
REVOKE EXECUTE ON FUNCTION asof._validate_snapshot(text, timestamptz, regclass, integer, float8) FROM PUBLIC;
