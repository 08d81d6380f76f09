-- test/validation/inject.sql: the corruption injector of the validation
-- bench (test/validation/bench.sh) and of the regression test
-- test/sql/73_validate_faults.sql.  \i it in psql; it defines, for the
-- session only,
--
--   pg_temp.inject(tbl regclass, time_column name, kind text,
--                  day timestamp, col name, grain interval DEFAULT '1 day')
--
-- which applies one fault to the rows of tbl whose time is in
-- [day, day + grain) and returns the number of rows changed, added or
-- removed.  Kinds (issue 12, "Detection"), with col the column faulted:
--   unit          col * 60 (a delay in seconds instead of minutes)
--   null30        30% of the rows get col NULL (every row whose ordinal in
--                 ctid order is 0, 3 or 6 mod 10)
--   duplicate     every row of the day inserted a second time (col unused)
--   half_missing  the rows of the second half of the day deleted (time >=
--                 day + grain / 2; col unused)
--   new_category  20% of the rows (ordinal 1 or 6 mod 10) get col = 'NEW'
--   case          col = lower(col) on every row (airport codes change case)
--   stuck         col = the value of the day's first row, on every row
--   shift         col + the day's own standard deviation of col (rounded
--                 to the column's type)
-- Deterministic: the same table and arguments give the same rows.

CREATE FUNCTION pg_temp.inject(tbl regclass, time_column name, kind text,
                               day timestamp, col name, grain interval DEFAULT '1 day')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  during text := format('%I >= %L AND %I < %L', time_column, day, time_column, day + grain);
  picked text := format('ctid IN (SELECT ctid FROM (SELECT ctid, row_number() OVER (ORDER BY ctid) AS n FROM %s WHERE %s) x WHERE %%s)',
                        tbl, during);
  n bigint;
BEGIN
  CASE kind
  WHEN 'unit' THEN
    EXECUTE format('UPDATE %s SET %I = %I * 60 WHERE %s', tbl, col, col, during);
  WHEN 'null30' THEN
    EXECUTE format('UPDATE %s SET %I = NULL WHERE ' || picked, tbl, col, 'n % 10 IN (0, 3, 6)');
  WHEN 'duplicate' THEN
    EXECUTE format('INSERT INTO %s SELECT * FROM %s WHERE %s', tbl, tbl, during);
  WHEN 'half_missing' THEN
    EXECUTE format('DELETE FROM %s WHERE %I >= %L AND %I < %L', tbl,
                   time_column, day + grain / 2, time_column, day + grain);
  WHEN 'new_category' THEN
    EXECUTE format('UPDATE %s SET %I = ''NEW'' WHERE ' || picked, tbl, col, 'n % 10 IN (1, 6)');
  WHEN 'case' THEN
    EXECUTE format('UPDATE %s SET %I = lower(%I) WHERE %s', tbl, col, col, during);
  WHEN 'stuck' THEN
    EXECUTE format('UPDATE %s SET %I = (SELECT %I FROM %s WHERE %s ORDER BY %I, ctid LIMIT 1) WHERE %s',
                   tbl, col, col, tbl, during, time_column, during);
  WHEN 'shift' THEN
    EXECUTE format('UPDATE %s SET %I = %I + (SELECT stddev(%I) FROM %s WHERE %s) WHERE %s',
                   tbl, col, col, col, tbl, during, during);
  ELSE
    RAISE EXCEPTION 'unknown fault kind "%"', kind;
  END CASE;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
