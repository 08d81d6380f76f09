--
-- 99c_online_follow_protect: asof.protect and asof.split of a table reach
-- the online tables of the views that read it at once, not at their next
-- materialize (docs/online.md, The leakage guard).  Data: fo_src, 8 rows
-- of entity 'e' every 6 hours from 2001-01-01 00:00 (v = 1..8); view
-- fo_v = count(*) and sum(v) over 1 day, 6-hour cadence.  Tick 01-02 12:00
-- counts the rows of [01-01 12:00, 01-02 12:00): v = 3, 4, 5, 6 (count 4,
-- sum 18); tick 01-01 12:00 counts v = 1, 2 (count 2, sum 3).
--
SET TimeZone = 'UTC';
SET client_min_messages = warning;
SET asof.progress_interval = 0;
SET asof.clock = '2001-01-10 00:00+00';
CREATE ROLE regress_fo_reader;
CREATE TABLE fo_src (k text, te timestamp, v int, lab int);
INSERT INTO fo_src SELECT 'e', '2001-01-01'::timestamp + (i - 1) * interval '6 hours', i, 0
  FROM generate_series(1, 8) i;
SELECT asof.create_feature_view('fo_v', 'fo_src', '{k}', event_time => 'te',
         features => '{count(*) over 1 day, sum(v) over 1 day}', cadence => '6 hours');
SELECT asof.materialize('fo_v', '2001-01-01 12:00'::timestamp);
SELECT asof.materialize('fo_v', '2001-01-02 12:00'::timestamp);
SELECT asof.grant_online_read('fo_v', 'regress_fo_reader');
GRANT SELECT ON fo_src TO regress_fo_reader;
RESET client_min_messages;
-- not protected yet: neither the online table nor its log
SELECT count(*) AS protected FROM asof.protected_tables
 WHERE table_name::text LIKE 'asof_online.fo_v%';
-- protecting the source protects and links both, in the same call
SELECT asof.protect('fo_src', 'te', '{lab}');
SELECT table_name::text, time_column, training_set_of::text, test_from
  FROM asof.protected_tables WHERE table_name::text LIKE 'asof_online.fo_v%' ORDER BY 1;
-- the online table cannot be split (or unprotected) on its own, not even by
-- a superuser: its features would open before the source's split
SELECT asof.split('asof_online.fo_v', '2001-01-05');
SELECT asof.unprotect('asof_online.fo_v__log');
-- before the split, the features are future columns: refused to the reader
SET ROLE regress_fo_reader;
SELECT fo_v__count_1d FROM asof_online.fo_v;
SELECT count(*) AS ticks FROM asof_online.fo_v;
RESET ROLE;
-- the split reaches them too: linked, and the reader sees the tick before
-- 01-02 only
SELECT asof.split('fo_src', '2001-01-02 00:00');
SELECT table_name::text, training_set_of::text, test_from
  FROM asof.protected_tables WHERE table_name::text LIKE 'asof_online.fo_v%' ORDER BY 1;
SET ROLE regress_fo_reader;
SELECT tick, fo_v__count_1d, fo_v__sum_v_1d FROM asof_online.fo_v ORDER BY tick;
RESET ROLE;
-- with the guard off (production) both ticks are there, as computed above
SET asof.guard = off;
SELECT tick, fo_v__count_1d, fo_v__sum_v_1d FROM asof_online.fo_v ORDER BY tick;
RESET asof.guard;
-- a source calling a function that is not built in cannot be
-- materialized while any table is protected (the function could read it)
CREATE FUNCTION fo_double(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
CREATE TABLE fo_plain (k text, te timestamp, v int);
CREATE VIEW fo_fn AS SELECT k, te, fo_double(v) AS v2 FROM fo_plain;
SELECT asof.create_feature_view('fo_fn_v', 'fo_fn', '{k}', event_time => 'te',
         features => '{sum(v2) over 1 day}', cadence => '6 hours') IS NOT NULL AS created;
SELECT asof.materialize('fo_fn_v', '2001-01-02 12:00'::timestamp);
SELECT count(*) AS online_tables FROM asof.online_tables WHERE feature_view = 'fo_fn_v';
-- an online table materialized while nothing was protected, over a source
-- calling a function: protecting any table is then refused (the function
-- could read it), naming the view
SELECT asof.unprotect('fo_src');
SELECT asof.materialize('fo_fn_v', '2001-01-02 12:00'::timestamp);
CREATE TABLE fo_other (te timestamp, lab int);
SELECT asof.protect('fo_other', 'te', '{lab}');
SELECT count(*) AS protected FROM asof.protected_tables WHERE table_name = 'fo_other'::regclass;
-- clean up
SET client_min_messages = warning;
SELECT asof.drop_feature_view('fo_fn_v');
RESET client_min_messages;
-- a source that reads a training set (linked to a protected spine) cannot
-- be materialized: its online table could not follow the spine's split
-- (found by an attack: it was left unprotected, with held-out labels)
CREATE TABLE fo_spine (k text, te timestamp, y int);
INSERT INTO fo_spine SELECT 'e', '2001-01-01'::timestamp + i * interval '6 hours', 9000 + i
  FROM generate_series(0, 7) i;
SELECT asof.protect('fo_spine', 'te', '{y}');
SELECT asof.split('fo_spine', '2001-01-02 00:00');
SET client_min_messages = warning;
SELECT asof.build_training_set('fo_ts', 'fo_spine', 'te', ARRAY['fo_v']);
SELECT asof.create_feature_view('fo_tsv', 'fo_ts', '{k}', event_time => 'te',
         features => '{max(y) over 1 day}', cadence => '6 hours') IS NOT NULL AS created;
RESET client_min_messages;
SET asof.guard = off;
SELECT asof.materialize('fo_tsv', '2001-01-01 12:00'::timestamp);
RESET asof.guard;
SELECT count(*) AS online_tables FROM asof.online_tables WHERE feature_view = 'fo_tsv';
SET client_min_messages = warning;
SELECT asof.drop_feature_view('fo_tsv');
DROP TABLE fo_ts;
SELECT asof.unprotect('fo_spine');
DROP TABLE fo_spine;
RESET client_min_messages;
SET client_min_messages = warning;
SELECT asof.drop_feature_view('fo_v');
DROP VIEW fo_fn;
DROP TABLE fo_plain, fo_src, fo_other;
DROP FUNCTION fo_double(int);
DROP ROLE regress_fo_reader;
