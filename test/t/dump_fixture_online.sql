-- test/t/dump_fixture_online.sql: the production side's registries through
-- the extension's own functions: a snapshot of fixture_origin (created by
-- dump_fixture_feature_views.sql) in its online table, and the view on the
-- materialization schedule (the database has asof.guard = off from
-- dump_fixture_guard.sql, which exempts every role from the guard there).
SELECT asof.materialize('fixture_origin', '2001-01-01 08:00'::timestamp);
SELECT asof.schedule_materialization('fixture_origin');
