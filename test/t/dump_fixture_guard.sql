-- test/t/dump_fixture_guard.sql: the guard's registry through its own
-- functions: public.fixture_flights protected, with a split.
--
-- pg_dump reads every table with COPY t TO, which the guard refuses on a
-- protected table after its split (a backup must not lose the held-out
-- rows silently).  Backups are taken by a superuser with the guard off;
-- here for every session of this database, so that dump_restore.sh's plain
-- pg_dump works (PGOPTIONS='-c asof.guard=off' pg_dump ... does the same
-- for one run).  The restored database keeps the guard on.
SELECT asof.protect('public.fixture_flights', 'dep_time', label_columns => '{delay}',
                    entity_columns => '{origin}');
SELECT asof.split('public.fixture_flights', test_from => '2001-03-01');
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET asof.guard = off', current_database()); END $$;
