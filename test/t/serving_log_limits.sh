#!/usr/bin/env bash
# test/t/serving_log_limits.sh: the serving log's limits (docs/online.md,
# "Serving log").  (1) A full buffer drops entries and counts them, and
# serving never waits: a server with asof.serving_log_buffer = 64kB and no
# background worker slot (max_worker_processes = 0), so nothing drains.
# (2) On a hot standby, served requests are counted as dropped_standby and
# serving works; nothing reaches the primary's log.  Run by test/run.sh,
# which exports ASOF_TMP and ASOF_BINDIR.  Prints TAP-style ok / not ok.
set -uo pipefail
. "$(dirname "$0")/../cluster.sh"
trap 'for c in "${ASOF_CLUSTERS[@]}"; do asof_as_postgres "$ASOF_BINDIR/pg_ctl" -D "$c" -m immediate stop >/dev/null 2>&1; done' EXIT

check() { # check DESCRIPTION ACTUAL EXPECTED
	if [ "$2" == "$3" ]; then echo "ok - $1"; else
		echo "not ok - $1"; echo "#   expected: $3"; echo "#   got: $2"; fi
}

fixture="
SET TimeZone = 'UTC';
CREATE EXTENSION pg_asof;
CREATE TABLE sll_src (k text, te timestamp, v int);
INSERT INTO sll_src SELECT 'e' || (i % 10), '2001-01-01 00:00'::timestamp + i * interval '1 minute', i
  FROM generate_series(0, 119) i;
SELECT asof.create_feature_view('sll_v', 'sll_src', '{k}', event_time => 'te',
         features => '{count(*) over 1 day, max(v) over 1 day}', cadence => '1 hour');
SET asof.clock = '2001-01-02 00:00+00';
SELECT asof.materialize('sll_v', '2001-01-01 02:00'::timestamp);"

# (1) the buffer fills: 1000 requests of about 300 bytes each into 64 kB
asof_cluster_start sllfull || { echo "not ok - could not start a server"; exit 1; }
full=$ASOF_TMP/sllfull
cat >>"$full/postgresql.conf" <<CONF
asof.serving_log_buffer = '64kB'
max_worker_processes = 0
CONF
asof_as_postgres "$ASOF_BINDIR/pg_ctl" -D "$full" -l "$ASOF_TMP/sllfull.log" -w restart >/dev/null ||
	{ echo "not ok - could not restart with a 64 kB buffer"; exit 1; }
psql=("$ASOF_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d postgres)
"${psql[@]}" -c "$fixture" >/dev/null || { echo "not ok - fixture"; exit 1; }
out=$("${psql[@]}" -At -c "SET asof.clock = '2001-01-02 00:00+00'" -c "SET asof.log_serving = on" -c "
SELECT count(*) FILTER (WHERE (asof.online_features('sll_v', ARRAY['e' || (i % 10)], '2001-01-01 02:30'::timestamp)->>'count_1d')::int = 12)
  FROM generate_series(1, 1000) i" -c "SELECT asof.serving_log_flush(200)")
check "with the buffer full, every request is still served" "$(echo "$out" | sed -n 1p)" "1000"
check "asof.serving_log_flush times out (false) while nothing drains" "$(echo "$out" | sed -n 2p)" "f"
out=$("${psql[@]}" -At -c "SELECT logged + dropped_buffer_full = 1000, logged > 100, dropped_buffer_full > 0,
                               queued = logged, written, buffer_bytes, buffer_used_bytes <= buffer_bytes, workers
                          FROM asof.serving_log_status()")
check "entries are logged until the buffer is full, the rest dropped and counted; none written" \
	"$out" "t|t|t|t|0|65536|t|0"
out=$("${psql[@]}" -At -c "SELECT count(*) FROM asof_online.sll_v__log")
check "nothing reached the log table" "$out" "0"
asof_as_postgres "$ASOF_BINDIR/pg_ctl" -D "$full" -m fast -w stop >/dev/null

# (2) a hot standby of a primary that logs normally
asof_cluster_start sllprimary || { echo "not ok - could not start a primary"; exit 1; }
psql=("$ASOF_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d postgres)
"${psql[@]}" -c "$fixture" >/dev/null || { echo "not ok - fixture"; exit 1; }
standby=$ASOF_TMP/sllstandby
ssock=$ASOF_TMP/sllstandby.sock
mkdir -p "$ssock" && chown postgres: "$ssock" 2>/dev/null
asof_as_postgres "$ASOF_BINDIR/pg_basebackup" -h "$PGHOST" -U postgres -D "$standby" -R -X stream >/dev/null 2>&1 ||
	{ echo "not ok - pg_basebackup"; exit 1; }
echo "unix_socket_directories = '$ssock'" >>"$standby/postgresql.conf"
ASOF_CLUSTERS+=("$standby")
asof_as_postgres "$ASOF_BINDIR/pg_ctl" -D "$standby" -l "$ASOF_TMP/sllstandby.log" -w start >/dev/null ||
	{ echo "not ok - could not start the standby"; cat "$ASOF_TMP/sllstandby.log"; exit 1; }
spsql=("$ASOF_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$ssock" -d postgres)
out=$("${spsql[@]}" -At -c "SELECT pg_is_in_recovery()")
check "the standby is in recovery" "$out" "t"
out=$("${spsql[@]}" -At -c "SET asof.clock = '2001-01-02 00:00+00'" -c "SET asof.log_serving = on" \
	-c "SELECT asof.online_features('sll_v', '{e1}', '2001-01-01 02:30'::timestamp)" \
	-c "SELECT count(*) FROM asof.online_features_batch('sll_v', '{e1,e2,e3}', '2001-01-01 02:30'::timestamp, NULL::asof_online.sll_v__served)" \
	-c "SELECT asof.serving_log_flush(1000)" \
	-c "SELECT logged, dropped_standby, queued FROM asof.serving_log_status()" 2>&1)
check "on the standby: served, flush returns at once, 4 entries counted as dropped_standby" "$out" \
'{"count_1d": 12, "max_v_1d": 111}
3
t
0|4|0'
out=$("${psql[@]}" -At -c "SELECT count(*) FROM asof_online.sll_v__log")
check "nothing from the standby reached the primary's log" "$out" "0"
# the primary itself logs
out=$("${psql[@]}" -At -c "SET asof.clock = '2001-01-02 00:00+00'" -c "SET asof.log_serving = on" \
	-c "SELECT asof.online_features('sll_v', '{e1}', '2001-01-01 02:30'::timestamp) IS NOT NULL" \
	-c "SELECT asof.serving_log_flush()" -c "SELECT count(*) FROM asof_online.sll_v__log")
check "the primary logs and writes" "$out" "t
t
1"
