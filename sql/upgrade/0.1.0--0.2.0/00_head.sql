-- pg_asof upgrade script 0.1.0 -> 0.2.0, assembled from sql/upgrade/0.1.0--0.2.0/*
-- (state changes) and then every code part of the install script (see
-- sql/upgrade/README.md).

\echo Use "ALTER EXTENSION pg_asof UPDATE TO '0.2.0'" to load this file. \quit
