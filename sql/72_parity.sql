-- pg_asof install script, part 72: the parity report (docs/online.md,
-- "Parity report").  Code part: re-run by every upgrade script.
--
-- asof.parity_values (src/parity.c) recomputes every logged request
-- through the engine and compares it value by value; asof.parity_report
-- aggregates it per feature; asof.parity_mismatches samples its
-- mismatches and explains each with the source rows visible offline that
-- the job could not have seen.  All three run with the caller's privileges
-- and under the leakage guard.

CREATE OR REPLACE FUNCTION asof.parity_values(feature_view text, since timestamptz DEFAULT NULL,
                                              until timestamptz DEFAULT NULL)
    RETURNS TABLE (served_at timestamptz, entity text[], at timestamptz, tick timestamptz,
                   stale boolean, feature text, is_numeric boolean, served jsonb, offline jsonb,
                   equal boolean, abs_diff double precision, abs_sum double precision)
    AS 'MODULE_PATHNAME', 'asof_parity_values'
    LANGUAGE C VOLATILE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION asof.parity_values(text, timestamptz, timestamptz) IS
'The comparison under asof.parity_report: for every request of feature view feature_view (text) in its serving log whose served_at is in [since, until) (timestamptz; NULL: unbounded), one row per feature, ordered by served_at, at, entity, then the view''s feature order: served_at, entity (text[]), at and tick (timestamptz; for a timestamp view, its wall-clock values read as UTC), stale (boolean: served from a tick older than k(at); then offline and equal are NULL), feature (text), is_numeric (boolean: an integer, numeric or floating-point feature), served (jsonb: the logged value; NULL when the log lacks the key), offline (jsonb: the engine''s value as of k(at) on the source as it is now, TTL against at; JSON null for NULL), equal (boolean: both null, or equal as jsonb, numbers by value; features of real or double precision inputs within 1e-9 of their magnitude, at least 1), abs_diff and abs_sum (double precision: |served - offline| and |served| + |offline| for two numbers of a numeric feature, else NULL).  Reads the log and the source with the caller''s privileges.  Errors: 42704 unknown view, 55000 continuous view or no online table yet, 22023 since after until, 42501 when the leakage guard applies to the caller and the source reads a protected table with a split: a range whose until is NULL or after the split, a request whose k(at) or tick is at or after it, or a transaction that called asof.unseal.';

CREATE OR REPLACE FUNCTION asof.parity_report(feature_view text, since timestamptz DEFAULT NULL,
                                              until timestamptz DEFAULT NULL)
    RETURNS TABLE (feature text, requests bigint, stale bigint, compared bigint, mismatches bigint,
                   mismatch_rate double precision, missing bigint, extra bigint,
                   smape double precision, max_abs_diff double precision)
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
    -- the view is checked (42704) and the guard applied before the
    -- registry is read: parity_values runs first, in full
    WITH v AS MATERIALIZED (
        SELECT * FROM asof.parity_values(parity_report.feature_view, parity_report.since,
                                         parity_report.until)),
    agg AS (
        SELECT v.feature,
               count(*) AS requests,
               count(*) FILTER (WHERE v.stale) AS stale,
               count(*) FILTER (WHERE NOT v.stale) AS compared,
               count(*) FILTER (WHERE NOT v.stale AND NOT v.equal) AS mismatches,
               count(*) FILTER (WHERE NOT v.stale AND (v.served IS NULL OR jsonb_typeof(v.served) = 'null')
                                  AND jsonb_typeof(v.offline) <> 'null') AS missing,
               count(*) FILTER (WHERE NOT v.stale AND v.served IS NOT NULL AND jsonb_typeof(v.served) <> 'null'
                                  AND jsonb_typeof(v.offline) = 'null') AS extra,
               sum(v.abs_diff) AS sum_diff,
               sum(v.abs_sum) AS sum_abs,
               max(v.abs_diff) AS max_diff,
               bool_or(v.is_numeric) AS is_numeric
          FROM v GROUP BY v.feature),
    feats AS (
        SELECT r.position, r.name
          FROM asof.feature_view_feature_registry r
         WHERE r.feature_view = parity_report.feature_view
           AND (SELECT count(*) FROM v) >= 0)   -- after v: errors first
    SELECT f.name,
           coalesce(a.requests, 0),
           coalesce(a.stale, 0),
           coalesce(a.compared, 0),
           coalesce(a.mismatches, 0),
           a.mismatches::double precision / nullif(a.compared, 0),
           coalesce(a.missing, 0),
           coalesce(a.extra, 0),
           CASE WHEN a.is_numeric THEN
               CASE WHEN a.sum_abs > 0 THEN a.sum_diff / a.sum_abs
                    WHEN a.sum_abs = 0 THEN 0::double precision END END,
           CASE WHEN a.is_numeric THEN a.max_diff END
      FROM feats f LEFT JOIN agg a ON a.feature = f.name
     ORDER BY f.position
$$;
COMMENT ON FUNCTION asof.parity_report(text, timestamptz, timestamptz) IS
'Online/offline parity of feature view feature_view (text), after Chronon''s consistency metrics: over the requests of its serving log whose served_at is in [since, until) (timestamptz; NULL: unbounded), what was served against what the engine computes now, as of the tick that was served (asof.parity_values).  One row per feature, in the view''s order: feature (text), requests (bigint: logged requests in the range), stale (bigint: served from a tick older than k(at), not compared), compared (requests - stale), mismatches (compared values that differ, NULL against a value included; features of real or double precision inputs are equal within 1e-9 of their magnitude, all others must be identical), mismatch_rate (double precision: mismatches / compared; NULL when nothing was compared), missing (served NULL where offline has a value), extra (served a value where offline has NULL), smape (sum |a - b| / sum (|a| + |b|) over compared pairs of two numbers; 0 when every such pair is 0; NULL for non-numeric features or without pairs), max_abs_diff (the largest |a - b|, numeric features only).  A view whose log has no request in the range gives every feature with zero counts and NULL rate.  Errors: those of asof.parity_values (42704, 55000, 22023, 42501).';

CREATE OR REPLACE FUNCTION asof.parity_mismatches(feature_view text, since timestamptz DEFAULT NULL,
                                                  until timestamptz DEFAULT NULL, max_rows integer DEFAULT 20)
    RETURNS TABLE (entity text[], at timestamptz, tick timestamptz, feature text,
                   served jsonb, offline jsonb, explanation jsonb)
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC'
AS $$
DECLARE
    reg asof.feature_view_registry;
    m record;
    w interval;
    agg text;
    tracked name;
    mat_at timestamptz;
    keycond text := '';
    te text;
    ta text;
    tt text;
    lo text;
    q text;
    nvisible bigint;
    nafter bigint;
    sample jsonb;
    is_ts boolean;
BEGIN
    IF max_rows IS NULL OR max_rows < 0 THEN
        RAISE EXCEPTION 'max_rows must be zero or more' USING ERRCODE = '22023';
    END IF;
    FOR m IN
        SELECT v.entity, v.at, v.tick, v.feature, v.served, v.offline
          FROM asof.parity_values(parity_mismatches.feature_view, parity_mismatches.since,
                                  parity_mismatches.until) v
         WHERE NOT v.stale AND NOT v.equal
         LIMIT max_rows
    LOOP
        IF reg IS NULL THEN
            SELECT * INTO STRICT reg FROM asof.feature_view_registry r
             WHERE r.name = parity_mismatches.feature_view;
            -- times of the view's type: a timestamp view's are UTC wall clock
            is_ts := reg.time_type = 'timestamp'::regtype;
            tt := CASE WHEN is_ts THEN '$2' ELSE '$3' END;
            te := '(' || reg.event_time_sql || ')';
            ta := '(' || coalesce(reg.available_time_sql, reg.event_time_sql) || ')';
            FOR i IN 1 .. array_length(reg.entity, 1) LOOP
                keycond := keycond || format(' AND s.%I OPERATOR(pg_catalog.=) CAST($1[%s] AS %s)',
                    reg.entity[i], i,
                    (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                      WHERE a.attrelid = reg.source AND a.attname = reg.entity[i]));
            END LOOP;
            IF to_regclass('asof.ingestion_tracking') IS NOT NULL THEN
                EXECUTE 'SELECT t.column_name FROM asof.ingestion_tracking t WHERE t.relation OPERATOR(pg_catalog.=) $1'
                   INTO tracked USING reg.source;
            END IF;
        END IF;
        SELECT r.window_size, r.aggregate INTO w, agg FROM asof.feature_view_feature_registry r
         WHERE r.feature_view = parity_mismatches.feature_view AND r.name = m.feature;
        SELECT x.materialized_at INTO mat_at FROM asof.materializations x
         WHERE x.feature_view = parity_mismatches.feature_view
           AND x.tick = (m.tick AT TIME ZONE 'UTC');
        -- the rows of the entity the value is computed from, visible at the
        -- tick: in the window [tick - W, tick); for last values, from at - TTL
        -- (no lower bound without a TTL)
        lo := CASE WHEN w IS NOT NULL THEN format(' AND %s OPERATOR(pg_catalog.>=) (%s OPERATOR(pg_catalog.-) $4)', te, tt)
                   WHEN reg.ttl IS NOT NULL THEN format(' AND %s OPERATOR(pg_catalog.>=) (%s OPERATOR(pg_catalog.-) $5)',
                        te, CASE WHEN reg.time_type = 'timestamp'::regtype THEN '$6' ELSE '$7' END)
                   ELSE '' END;
        q := format('SELECT %s AS te, %s AS ta, %s AS arrived FROM %s s WHERE %s OPERATOR(pg_catalog.<) %s '
                      'AND %s OPERATOR(pg_catalog.<) %s%s%s',
                      te, ta, CASE WHEN tracked IS NULL THEN 'NULL::timestamptz' ELSE format('s.%I', tracked) END,
                      reg.source::text, te, tt, ta, tt, lo, keycond);
        EXECUTE format('SELECT count(*), count(*) FILTER (WHERE x.arrived OPERATOR(pg_catalog.>) $8), '
                       'jsonb_agg(jsonb_build_object(''event_time'', x.te, ''available_time'', x.ta, '
                       '''arrived_at'', x.arrived, ''after_job'', CASE WHEN x.arrived OPERATOR(pg_catalog.>) $8 THEN true '
                       'WHEN x.arrived OPERATOR(pg_catalog.<) $8 THEN false END) '
                       'ORDER BY x.ta DESC, x.te DESC) FILTER (WHERE $9 OR x.arrived OPERATOR(pg_catalog.>=) $8) '
                       'FROM (%s) x', q)
           INTO nvisible, nafter, sample
          USING m.entity, m.tick AT TIME ZONE 'UTC', m.tick, coalesce(w, '0'), coalesce(reg.ttl, '0'),
                m.at AT TIME ZONE 'UTC', m.at, mat_at, tracked IS NULL;
        entity := m.entity;
        at := m.at;
        tick := m.tick;
        feature := m.feature;
        served := m.served;
        offline := m.offline;
        explanation := jsonb_build_object(
            'aggregate', agg,
            'window_from', CASE WHEN w IS NOT NULL THEN
                                    CASE WHEN is_ts THEN to_jsonb((m.tick - w) AT TIME ZONE 'UTC') ELSE to_jsonb(m.tick - w) END
                                WHEN reg.ttl IS NOT NULL THEN
                                    CASE WHEN is_ts THEN to_jsonb((m.at - reg.ttl) AT TIME ZONE 'UTC') ELSE to_jsonb(m.at - reg.ttl) END
                           END,
            'window_to', CASE WHEN is_ts THEN to_jsonb(m.tick AT TIME ZONE 'UTC') ELSE to_jsonb(m.tick) END,
            'materialized_at', mat_at,
            'ingestion_column', tracked,
            'visible_offline', nvisible,
            'arrived_after_job', CASE WHEN tracked IS NOT NULL THEN nafter END,
            'rows', coalesce((SELECT jsonb_agg(e) FROM (SELECT e FROM jsonb_array_elements(sample) e LIMIT 10) l),
                             '[]'::jsonb));
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION asof.parity_mismatches(text, timestamptz, timestamptz, integer) IS
'A sample of the mismatches asof.parity_report counts for feature view feature_view (text) over requests served in [since, until) (timestamptz; NULL: unbounded): at most max_rows (integer, default 20) rows, in the order of asof.parity_values, of entity (text[]), at and tick (timestamptz; a timestamp view''s wall-clock values read as UTC), feature (text), served and offline (jsonb), and explanation (jsonb): aggregate, window_from and window_to (the event times the value is computed from: [tick - W, tick) for a window, from at - TTL for a last value with a TTL), materialized_at (asof.materializations; NULL when the tick is no longer retained), ingestion_column (the source''s asof.track_ingestion column, or NULL), visible_offline (source rows of the entity in that range visible at the tick now: available and event time before it), arrived_after_job (with ingestion tracking: of them, those whose arrival is after materialized_at, which the job cannot have seen; NULL without), rows (up to 10 of them, latest available time first: event_time, available_time, arrived_at, after_job (true: arrived after materialized_at, false: before, NULL: at that very time or unknown); with ingestion tracking only those that arrived at or after the job).  Source rows are read with the caller''s privileges and under the leakage guard.  Errors: those of asof.parity_values, 22023 negative or NULL max_rows.';
