-- test/demo/common.sql: included by every step of the flights demo
-- (test/demo.sh, test/sql/50_demo.sql).  Sets the search path to the
-- demo's schema and finds out which parts of the pg_asof API this build
-- has, so that a step whose API is missing says so and is skipped instead of
-- failing or faking a result.  Creates nothing.
SET search_path = asof_demo, public;
SELECT to_regprocedure('asof.protect(regclass,name,name[],name[],name[],text)') IS NOT NULL
         AND to_regprocedure('asof.split(regclass,text)') IS NOT NULL
         AND to_regprocedure('asof.unseal(regclass,text)') IS NOT NULL AS have_guard,
       to_regprocedure('asof.create_feature_view(text,regclass,name[],text,text[],text,interval,timestamptz,interval,interval)') IS NOT NULL AS have_views,
       to_regprocedure('asof.build_training_set(text,regclass,text,text[])') IS NOT NULL AS have_engine
\gset
