-- test/t/upgrade_members.sql: every member object of extension pg_asof
-- (pg_depend deptype 'e') with its definition, owner, ACL and comment, one
-- block per object, sorted; test/t/upgrade.sh prints it for an upgraded and
-- a fresh database and compares.  pg_dump --schema-only leaves extension
-- members out, so comparing its output could not fail.
WITH m AS (
    SELECT d.classid, d.objid
      FROM pg_catalog.pg_depend d
      JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
     WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
       AND e.extname OPERATOR(pg_catalog.=) 'pg_asof'
       AND d.deptype OPERATOR(pg_catalog.=) 'e'
), described AS (
    SELECT o.type, o.identity,
           CASE m.classid
           WHEN 'pg_catalog.pg_proc'::pg_catalog.regclass THEN (
               SELECT CASE WHEN p.prokind OPERATOR(pg_catalog.=) 'a'
                           THEN 'aggregate ' || pg_catalog.pg_get_function_arguments(p.oid)
                           ELSE pg_catalog.pg_get_functiondef(p.oid) END
                      || E'\n  acl: ' || coalesce(p.proacl::text, 'default')
                      || E'\n  owner: ' || p.proowner::pg_catalog.regrole::text
                 FROM pg_catalog.pg_proc p WHERE p.oid OPERATOR(pg_catalog.=) m.objid)
           WHEN 'pg_catalog.pg_class'::pg_catalog.regclass THEN (
               SELECT 'kind ' || c.relkind::text
                      || E'\n  acl: ' || coalesce(c.relacl::text, 'default')
                      || E'\n  options: ' || coalesce(c.reloptions::text, '')
                      || E'\n  rls: ' || c.relrowsecurity::text || ' ' || c.relforcerowsecurity::text
                      || E'\n  columns: ' || coalesce((
                          SELECT pg_catalog.string_agg(a.attname::text || ' '
                                     || pg_catalog.format_type(a.atttypid, a.atttypmod)
                                     || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                                     || coalesce(' default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '')
                                     || coalesce(' generated ' || NULLIF(a.attgenerated::text, ''), '')
                                     || coalesce(' identity ' || NULLIF(a.attidentity::text, ''), '')
                                     || coalesce(' acl ' || a.attacl::text, '')
                                     || coalesce(' comment ' || pg_catalog.col_description(c.oid, a.attnum), ''),
                                     ', ' ORDER BY a.attnum)
                            FROM pg_catalog.pg_attribute a
                            LEFT JOIN pg_catalog.pg_attrdef ad
                              ON ad.adrelid OPERATOR(pg_catalog.=) a.attrelid
                             AND ad.adnum OPERATOR(pg_catalog.=) a.attnum
                           WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid
                             AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped), '')
                      || E'\n  constraints: ' || coalesce((
                          SELECT pg_catalog.string_agg(k.conname::text || ' ' || pg_catalog.pg_get_constraintdef(k.oid),
                                                       '; ' ORDER BY k.conname)
                            FROM pg_catalog.pg_constraint k
                           WHERE k.conrelid OPERATOR(pg_catalog.=) c.oid
                             AND k.contype OPERATOR(pg_catalog.<>) 'n'), '')
                      || E'\n  indexes: ' || coalesce((
                          SELECT pg_catalog.string_agg(pg_catalog.pg_get_indexdef(i.indexrelid), '; '
                                                       ORDER BY pg_catalog.pg_get_indexdef(i.indexrelid))
                            FROM pg_catalog.pg_index i
                           WHERE i.indrelid OPERATOR(pg_catalog.=) c.oid), '')
                      || E'\n  triggers: ' || coalesce((
                          SELECT pg_catalog.string_agg(pg_catalog.pg_get_triggerdef(t.oid), '; ' ORDER BY t.tgname)
                            FROM pg_catalog.pg_trigger t
                           WHERE t.tgrelid OPERATOR(pg_catalog.=) c.oid AND NOT t.tgisinternal), '')
                      || E'\n  policies: ' || coalesce((
                          SELECT pg_catalog.string_agg(pol.polname::text || ' ' || pol.polcmd::text || ' '
                                     || pol.polpermissive::text || ' '
                                     || coalesce(pg_catalog.pg_get_expr(pol.polqual, pol.polrelid), '') || ' '
                                     || coalesce(pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid), ''),
                                     '; ' ORDER BY pol.polname)
                            FROM pg_catalog.pg_policy pol
                           WHERE pol.polrelid OPERATOR(pg_catalog.=) c.oid), '')
                      || CASE WHEN c.relkind IN ('v', 'm')
                              THEN E'\n  view: ' || pg_catalog.pg_get_viewdef(c.oid) ELSE '' END
                      || E'\n  owner: ' || c.relowner::pg_catalog.regrole::text
                 FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) m.objid)
           WHEN 'pg_catalog.pg_namespace'::pg_catalog.regclass THEN (
               SELECT 'acl: ' || coalesce(n.nspacl::text, 'default')
                      || E'\n  owner: ' || n.nspowner::pg_catalog.regrole::text
                 FROM pg_catalog.pg_namespace n WHERE n.oid OPERATOR(pg_catalog.=) m.objid)
           WHEN 'pg_catalog.pg_event_trigger'::pg_catalog.regclass THEN (
               SELECT ev.evtevent::text || ' ' || ev.evtfoid::pg_catalog.regprocedure::text || ' '
                      || ev.evtenabled::text || ' ' || coalesce(ev.evttags::text, '')
                 FROM pg_catalog.pg_event_trigger ev WHERE ev.oid OPERATOR(pg_catalog.=) m.objid)
           WHEN 'pg_catalog.pg_type'::pg_catalog.regclass THEN (
               SELECT t.typtype::text || ' ' || coalesce(pg_catalog.format_type(t.typbasetype, t.typtypmod), '')
                      || E'\n  acl: ' || coalesce(t.typacl::text, 'default')
                 FROM pg_catalog.pg_type t WHERE t.oid OPERATOR(pg_catalog.=) m.objid)
           ELSE 'no definition compared for this kind of object'
           END AS definition,
           (SELECT d.description FROM pg_catalog.pg_description d
             WHERE d.objoid OPERATOR(pg_catalog.=) m.objid
               AND d.classoid OPERATOR(pg_catalog.=) m.classid
               AND d.objsubid OPERATOR(pg_catalog.=) 0) AS comment
      FROM m, LATERAL pg_catalog.pg_identify_object(m.classid, m.objid, 0) AS o
)
SELECT type || ' ' || identity || E'\n  ' || coalesce(definition, '(none)')
       || E'\n  comment: ' || coalesce(comment, '(none)')
  FROM described
 UNION ALL
-- which member tables pg_dump dumps, and with which condition
SELECT 'config ' || c.oid::pg_catalog.regclass::text || ' ' || coalesce(x.cond, '')
  FROM pg_catalog.pg_extension e,
       LATERAL ROWS FROM (pg_catalog.unnest(e.extconfig), pg_catalog.unnest(e.extcondition)) AS x(rel, cond)
  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) x.rel
 WHERE e.extname OPERATOR(pg_catalog.=) 'pg_asof'
 ORDER BY 1;
