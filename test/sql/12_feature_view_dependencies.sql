--
-- 12_feature_view_dependencies: a feature view protects the source columns
-- it uses (through its helper view asof_feature_views.<name>); dropping the
-- source with CASCADE removes the registration; other changes are allowed.
--
CREATE TABLE fv_dep (
    airport text,
    te timestamp,
    ta timestamp,
    delay integer,
    distance integer,
    unused integer
);
CREATE FUNCTION pg_temp.registry() RETURNS text LANGUAGE sql AS $$
  SELECT format('%s views, %s features, %s helper views',
                (SELECT count(*) FROM asof.feature_view_registry),
                (SELECT count(*) FROM asof.feature_view_feature_registry),
                (SELECT count(*) FROM pg_class
                  WHERE relnamespace = 'asof_feature_views'::regnamespace))
$$;
SELECT asof.create_feature_view('dep', 'fv_dep', '{airport}', 'te',
  '{"avg(delay) over 1 hour", "count(*) over 1 day"}',
  available_time => 'ta + distance * interval ''1 second''');

-- the helper view: what it selects, that it is owned by the creator
-- (PostgreSQL 16 on leaves out the table name 15 puts before each column)
SELECT replace(pg_get_viewdef('asof_feature_views.dep'::regclass), 'fv_dep.', '') AS pg_get_viewdef;
SELECT relowner::regrole, reloptions FROM pg_class WHERE oid = 'asof_feature_views.dep'::regclass;

-- dropping, retyping or renaming a used column is refused: entity, event
-- time, available time, feature argument
ALTER TABLE fv_dep DROP COLUMN airport;
ALTER TABLE fv_dep DROP COLUMN te;
ALTER TABLE fv_dep DROP COLUMN distance;
ALTER TABLE fv_dep DROP COLUMN delay;
ALTER TABLE fv_dep ALTER COLUMN delay TYPE bigint;
ALTER TABLE fv_dep ALTER COLUMN ta TYPE timestamptz;
ALTER TABLE fv_dep RENAME COLUMN delay TO arrival_delay;
ALTER TABLE fv_dep RENAME COLUMN airport TO origin;
ALTER TABLE fv_dep RENAME COLUMN ta TO available;
DROP TABLE fv_dep;
SELECT pg_temp.registry();
SELECT attname FROM pg_attribute WHERE attrelid = 'fv_dep'::regclass AND attnum > 0 ORDER BY attnum;

-- changes that do not touch what the view uses are allowed
ALTER TABLE fv_dep DROP COLUMN unused;
ALTER TABLE fv_dep ADD COLUMN extra text;
ALTER TABLE fv_dep RENAME COLUMN extra TO more;
CREATE INDEX ON fv_dep (airport, te);
ALTER TABLE fv_dep RENAME TO fv_dep_renamed;
SELECT name, source FROM asof.feature_views;
SELECT asof._feature_view_check('dep');
ALTER TABLE fv_dep_renamed RENAME TO fv_dep;

-- a view as source, and DROP ... CASCADE of it
CREATE VIEW fv_dep_view AS SELECT airport, te, delay FROM fv_dep;
SELECT asof.create_feature_view('on_view', 'fv_dep_view', '{airport}', 'te', '{"last(delay)"}');
ALTER VIEW fv_dep_view RENAME COLUMN delay TO d;
SELECT pg_temp.registry();
DROP VIEW fv_dep_view CASCADE;
SELECT name FROM asof.feature_views ORDER BY name;
SELECT pg_temp.registry();

-- DROP TABLE ... CASCADE removes the registration
DROP TABLE fv_dep CASCADE;
SELECT pg_temp.registry();
SELECT asof.drop_feature_view('dep');

-- a dropped owner: DROP OWNED removes the role's feature views
CREATE ROLE regress_asof_fv_carol;
CREATE TABLE fv_dep2 (k int, t timestamptz, v float8);
GRANT SELECT ON fv_dep2 TO regress_asof_fv_carol;
SET ROLE regress_asof_fv_carol;
SELECT asof.create_feature_view('carols', 'fv_dep2', '{k}', 't', '{"max(v) over 1 day"}');
RESET ROLE;
DROP ROLE regress_asof_fv_carol;
SELECT pg_temp.registry();
DROP OWNED BY regress_asof_fv_carol;
DROP ROLE regress_asof_fv_carol;
SELECT pg_temp.registry();

-- a creation rolled back leaves nothing behind
BEGIN;
SELECT asof.create_feature_view('tx', 'fv_dep2', '{k}', 't', '{"max(v) over 1 day"}');
SELECT pg_temp.registry();
ROLLBACK;
SELECT pg_temp.registry();

-- DROP EXTENSION refuses while feature views exist (their helper views
-- depend on it) and removes everything with CASCADE; the extension comes
-- back empty
SELECT asof.create_feature_view('ext', 'fv_dep2', '{k}', 't', '{"max(v) over 1 day"}');
DROP EXTENSION pg_asof;
DROP EXTENSION pg_asof CASCADE;
SELECT count(*) FROM pg_namespace WHERE nspname IN ('asof', 'asof_feature_views');
CREATE EXTENSION pg_asof;
SELECT pg_temp.registry();
DROP TABLE fv_dep2;
