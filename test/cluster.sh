# test/cluster.sh: the throwaway-cluster machinery shared by "make test",
# "make demo" and "make bench".  Source it, then call:
#
#   asof_install_deps [extra Debian packages...]
#                         apt-get installs whatever is missing (as root)
#   asof_build_install    builds with -Werror (COPT) and installs pg_asof into a
#                         private copy of the PostgreSQL installation under
#                         $ASOF_TMP (the system installation is not touched)
#   asof_cluster_start NAME [preload]
#                         initdb + start a cluster in $ASOF_TMP/NAME, as the
#                         postgres OS user, on a private socket; exports
#                         PGHOST, PGPORT, PGUSER for it.  preload defaults to
#                         pg_asof; pass '' for a server without it.  With
#                         pg_cron in preload, cron.database_name is
#                         $ASOF_CRON_DB (default asof_cron), created here,
#                         and jobs run in background workers (the cluster
#                         has no TCP socket for pg_cron to connect to).
#   asof_flights_csv      prints the path of the 3M flights
#                         ($FLIGHTS, or ../shared/data/flights-3m.csv.gz
#                         beside the checkout); fails when there is none
#   asof_bench_db NAME    a database for a benchmark: on the server PGHOST
#                         names (database NAME, dropped at exit), else on a
#                         throwaway cluster NAME; sets PSQL (an array), db
#                         and where (the server, in words)
#   asof_cleanup          stops every cluster started and removes $ASOF_TMP
#                         (installed as an EXIT trap by asof_init)
#   asof_python [candidate...]
#                         prints the python3 that can import psycopg2,
#                         pandas and sklearn (the demo's training script)
#
# Nothing here writes outside $ASOF_TMP except the build products in the
# source tree and the Debian packages it installs.

ASOF_PGVER=${ASOF_PGVER:-15}
ASOF_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ASOF_CLUSTERS=()

asof_log() { printf '%s\n' "$*" >&2; }

asof_init() {
	ASOF_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pg_asof.XXXXXX")
	chmod 755 "$ASOF_TMP"
	export ASOF_TMP
	trap asof_cleanup EXIT
	trap 'exit 130' INT TERM HUP
}

asof_cleanup() {
	local c
	for c in "${ASOF_CLUSTERS[@]}"; do
		asof_as_postgres "$ASOF_BINDIR/pg_ctl" -D "$c" -m immediate stop >/dev/null 2>&1
	done
	ASOF_CLUSTERS=()
	[ -n "${ASOF_TMP:-}" ] && [ -d "$ASOF_TMP" ] && rm -rf "$ASOF_TMP"
}

# Run a command as the postgres OS user when we are root (the server refuses
# to run as root); as ourselves otherwise.
asof_as_postgres() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

asof_install_deps() {
	local pkgs=(make gcc "postgresql-$ASOF_PGVER" "postgresql-server-dev-$ASOF_PGVER" "$@")
	local missing=() p
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		asof_log "missing Debian packages: ${missing[*]} (run as root, or install them)"
		return 1
	fi
	asof_log "installing Debian packages: ${missing[*]}"
	apt-get update -qq >/dev/null &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			"${missing[@]}" >/dev/null
}

asof_build_install() {
	ASOF_PG_CONFIG=/usr/lib/postgresql/$ASOF_PGVER/bin/pg_config
	local bindir pkglibdir sharedir
	bindir=$("$ASOF_PG_CONFIG" --bindir)
	pkglibdir=$("$ASOF_PG_CONFIG" --pkglibdir)
	sharedir=$("$ASOF_PG_CONFIG" --sharedir)
	make -s -C "$ASOF_SRC" -j2 PG_CONFIG="$ASOF_PG_CONFIG" COPT=-Werror >&2 || return 1
	# A private copy of the installation: PostgreSQL finds its share and lib
	# directories relative to its binaries, so a copy plus "make install
	# DESTDIR=" is an installation of its own (as core's temp-install is).
	ASOF_INST=$ASOF_TMP/install
	mkdir -p "$ASOF_INST$(dirname "$bindir")" "$ASOF_INST$(dirname "$sharedir")"
	cp -a "$bindir" "$ASOF_INST$bindir"
	mkdir -p "$ASOF_INST$pkglibdir"
	(cd "$pkglibdir" && find . -maxdepth 1 -type f -name '*.so' -exec cp -a {} "$ASOF_INST$pkglibdir/" \;)
	cp -a "$sharedir" "$ASOF_INST$sharedir"
	make -s -C "$ASOF_SRC" install PG_CONFIG="$ASOF_PG_CONFIG" DESTDIR="$ASOF_INST" >/dev/null || return 1
	ASOF_BINDIR=$ASOF_INST$bindir
	export ASOF_BINDIR ASOF_PG_CONFIG
}

# asof_cluster_start NAME [preload]
asof_cluster_start() {
	local name=$1 preload=${2-pg_asof}
	local dir=$ASOF_TMP/$name sock=$ASOF_TMP/$name.sock
	mkdir -p "$sock"
	chown postgres: "$ASOF_TMP" "$sock" 2>/dev/null
	asof_as_postgres "$ASOF_BINDIR/initdb" -D "$dir" -A trust -U postgres \
		--no-sync -E UTF8 --no-locale >"$ASOF_TMP/$name.initdb.log" 2>&1 || {
		cat "$ASOF_TMP/$name.initdb.log" >&2
		return 1
	}
	cat >>"$dir/postgresql.conf" <<CONF
listen_addresses = ''
port = 5432
unix_socket_directories = '$sock'
shared_preload_libraries = '$preload'
fsync = off
synchronous_commit = off
full_page_writes = off
max_prepared_transactions = 10
lc_messages = 'C'
jit = off
CONF
	case ",$preload," in
	*,pg_cron,*) printf "cron.database_name = '%s'\ncron.use_background_workers = on\n" \
		"${ASOF_CRON_DB:-asof_cron}" >>"$dir/postgresql.conf" ;;
	esac
	ASOF_CLUSTERS+=("$dir")
	asof_as_postgres "$ASOF_BINDIR/pg_ctl" -D "$dir" -l "$ASOF_TMP/$name.log" -w start >/dev/null || {
		cat "$ASOF_TMP/$name.log" >&2
		return 1
	}
	export PGHOST=$sock PGPORT=5432 PGUSER=postgres
	case ",$preload," in
	*,pg_cron,*) "$ASOF_BINDIR/createdb" "${ASOF_CRON_DB:-asof_cron}" || return 1 ;;
	esac
}

# asof_python [candidate...]: prints the first interpreter that can import
# psycopg2, pandas and sklearn, the modules of examples/train_flights.py.
# With $PYTHON set, only that one is tried (the user chose it).  Otherwise
# the candidates given, by default Debian's /usr/bin/python3 (where
# python3-psycopg2, python3-pandas and python3-sklearn install them) and then
# every python3 on PATH in order: another python3 first on PATH (pyenv, a
# virtual environment) does not see Debian's modules.  Returns 1, printing
# nothing, when none can.
asof_python() {
	local c onpath
	if [ -n "${PYTHON:-}" ]; then
		set -- "$PYTHON"
	elif [ $# -eq 0 ]; then
		mapfile -t onpath < <(type -ap python3)
		set -- /usr/bin/python3 "${onpath[@]}"
	fi
	for c in "$@"; do
		if "$c" -c 'import psycopg2, pandas, sklearn' </dev/null >/dev/null 2>&1; then
			printf '%s\n' "$c"
			return 0
		fi
	done
	return 1
}

asof_flights_csv() {
	local d
	if [ -n "${FLIGHTS:-}" ]; then
		[ -f "$FLIGHTS" ] && echo "$FLIGHTS"
		return
	fi
	for d in "$ASOF_SRC/../shared/data" "$ASOF_SRC/../../shared/data"; do
		if [ -f "$d/flights-3m.csv.gz" ]; then
			echo "$(cd "$d" && pwd)/flights-3m.csv.gz"
			return 0
		fi
	done
	return 1
}

asof_bench_db() {
	local name=$1
	if [ -n "${PGHOST:-}" ]; then
		PSQL=(command psql -X -q -v ON_ERROR_STOP=1)
		"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null || return 1
		ASOF_BENCH_DB=$name
		trap '"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $ASOF_BENCH_DB" >/dev/null' EXIT
		db=$name
		where="your server ($PGHOST)"
	else
		asof_init
		asof_install_deps || return 1
		asof_build_install || return 1
		asof_cluster_start "$name" || return 1
		PSQL=("$ASOF_BINDIR/psql" -X -q -v ON_ERROR_STOP=1)
		db=postgres
		where="a throwaway cluster (test/cluster.sh)"
	fi
}
