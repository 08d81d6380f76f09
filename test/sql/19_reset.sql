--
-- 19_reset: the regression tests share one database; this file runs between
-- groups of tests (feature views 1x, engine 2x, guard 3x-4x, demo 5x) and
-- removes what the group before it left, through the extension's functions,
-- so that each group starts from an empty registry and an empty schema
-- public.  The same file is linked as 29_reset and 49_reset.
--
SET client_min_messages = warning;
DO $$
DECLARE r record;
BEGIN
  IF to_regclass('asof.protected_registry') IS NOT NULL THEN
    FOR r IN SELECT tbl FROM asof.protected_registry WHERE linked_to IS NULL LOOP
      PERFORM asof.unprotect(r.tbl);
    END LOOP;
  END IF;
  FOR r IN SELECT name FROM asof.feature_views LOOP
    PERFORM asof.drop_feature_view(r.name);
  END LOOP;
  FOR r IN SELECT c.oid::regclass AS rel FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace
              AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
              AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid) LOOP
    EXECUTE format('DROP %s IF EXISTS %s CASCADE',
                   CASE (SELECT relkind FROM pg_class WHERE oid = r.rel)
                        WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                        WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, r.rel);
  END LOOP;
END $$;
RESET client_min_messages;
SELECT (SELECT count(*) FROM asof.feature_views) AS feature_views,
       (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace
           AND relkind IN ('r', 'p', 'v', 'm', 'f')) AS relations_in_public;
