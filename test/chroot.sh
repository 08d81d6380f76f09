#!/usr/bin/env bash
# test/chroot.sh: "make test PG=17", "make test PG=18": a command (by default
# the whole suite, test/run.sh) under another PostgreSQL major, in a Debian
# root that carries it, on this Debian 12 machine.
#
#   bash test/chroot.sh MAJOR [command args...]
#
# The root is built once with debootstrap (minbase plus the server, its
# headers, pg_cron, a compiler and the demo's Python packages) and cached in
# $ASOF_ROOTS (default /var/cache/pg_asof), one directory per major; it is
# rebuilt when missing or incomplete.  PostgreSQL 17 comes from Debian's
# trixie, 18 from forky (a moving testing suite: if it no longer carries
# 18 this fails and says so).
#
# Each run copies the source tree into the root's /tmp, and runs the command
# there in a private mount namespace (unshare) with /proc, /dev and a
# read-only ../shared mounted only while it runs; a trap unmounts them
# (umount -R) before anything under the root is removed, so that no rm ever
# reaches the host's /dev.  Needs root.  Sources test/cluster.sh only for its
# package helper.
set -uo pipefail
ASOF_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ASOF_ROOTS=${ASOF_ROOTS:-/var/cache/pg_asof}

chroot_log() { printf 'chroot.sh: %s\n' "$*" >&2; }

# root_suite MAJOR: the Debian suite carrying that major, and the
# debootstrap script to use for it (bookworm's debootstrap has no "forky").
root_suite() {
	case $1 in
	17) echo "trixie trixie" ;;
	18) echo "forky sid" ;;
	*) return 1 ;;
	esac
}

# The Debian archive as this machine's apt is configured to reach it.
debian_mirror() {
	local uri
	if [ -n "${ASOF_DEBIAN_MIRROR:-}" ]; then
		echo "$ASOF_DEBIAN_MIRROR"
		return 0
	fi
	uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '{print $2}' | grep -v -- '-security' | head -n 1)
	[ -z "$uri" ] && uri=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null |
		awk '{print $2}' | grep -v -- '-security' | head -n 1)
	[ -n "$uri" ] && echo "$uri"
}

root_packages() {
	local v=$1
	echo "postgresql-$v,postgresql-server-dev-$v,postgresql-$v-cron,build-essential,perl,python3-psycopg2,python3-pandas,python3-sklearn"
}

# mounts_under DIR: is anything mounted at or below DIR (in this namespace)?
mounts_under() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo
}

# safe_rm DIR: remove DIR, unless something is still mounted below it.
safe_rm() {
	[ -e "$1" ] || return 0
	if mounts_under "$1"; then
		umount -R "$1" 2>/dev/null
		for m in $(awk -v d="$1" 'index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
			umount -R "$m" 2>/dev/null
		done
	fi
	if mounts_under "$1"; then
		chroot_log "not removing $1: something is still mounted below it"
		return 1
	fi
	rm -rf --one-file-system "$1"
}

# build_root MAJOR DIR: debootstrap a root for MAJOR into DIR (cached).
build_root() {
	local v=$1 dir=$2 suite script mirror pkgs log
	read -r suite script <<<"$(root_suite "$v")"
	pkgs=$(root_packages "$v")
	if [ -f "$dir/.pg_asof-root" ] && [ "$(cat "$dir/.pg_asof-root")" = "$pkgs" ] &&
		[ -x "$dir/usr/lib/postgresql/$v/bin/postgres" ]; then
		return 0
	fi
	if ! command -v debootstrap >/dev/null; then
		chroot_log "installing Debian packages: debootstrap (to build the PostgreSQL $v root)"
		apt-get update -qq >/dev/null &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null || return 1
	fi
	mirror=$(debian_mirror) || true
	if [ -z "$mirror" ]; then
		chroot_log "no Debian archive found in /etc/apt; set ASOF_DEBIAN_MIRROR"
		return 1
	fi
	chroot_log "building the PostgreSQL $v root from Debian $suite into $dir (a few minutes, about 2 GB)"
	safe_rm "$dir.new" || return 1
	safe_rm "$dir" || return 1
	log=$ASOF_ROOTS/pg$v.debootstrap.log
	if ! debootstrap --variant=minbase --include="$pkgs" "$suite" "$dir.new" "$mirror" \
		"/usr/share/debootstrap/scripts/$script" >"$log" 2>&1; then
		if grep -q "Couldn't find these debs" "$log"; then
			chroot_log "Debian $suite no longer carries every package needed for PostgreSQL $v: $(grep "Couldn't find these debs" "$log")"
		else
			chroot_log "debootstrap of $suite failed; last lines of $log:"
			tail -n 5 "$log" >&2
		fi
		safe_rm "$dir.new"
		return 1
	fi
	if [ ! -x "$dir.new/usr/lib/postgresql/$v/bin/postgres" ]; then
		chroot_log "Debian $suite carries PostgreSQL $(ls "$dir.new/usr/lib/postgresql" | tr '\n' ' ')but not $v"
		safe_rm "$dir.new"
		return 1
	fi
	# No server of the root's own runs: the suite starts its throwaway clusters.
	rm -rf "$dir.new/etc/postgresql/$v" "$dir.new/var/lib/postgresql/$v"
	echo "$pkgs" >"$dir.new/.pg_asof-root"
	mv "$dir.new" "$dir"
}

# run_in_root MAJOR DIR command...: copy the tree in, mount, run, unmount.
run_in_root() {
	local v=$1 dir=$2 run rc
	shift 2
	run=$(mktemp -d "$dir/tmp/pg_asof-run.XXXXXX") || return 1
	chmod 755 "$run"
	mkdir -p "$run/src" "$run/shared"
	tar -C "$ASOF_SRC" --exclude=.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
		--exclude=results --exclude=output_iso --exclude=regression.diffs \
		--exclude=regression.out -cf - . | tar -C "$run/src" -xf -
	RUN=$run RUNREL=${run#"$dir"} ROOT=$dir MAJOR=$v SHARED=$(cd "$ASOF_SRC/.." && pwd)/shared \
		unshare --mount --propagation private bash -c '
		cleanup() { umount -R "$RUN/shared" "$ROOT/dev" "$ROOT/proc" 2>/dev/null; }
		trap cleanup EXIT
		mount -t proc proc "$ROOT/proc" &&
			mount --rbind /dev "$ROOT/dev" &&
			mount --make-rslave "$ROOT/dev" || exit 1
		if [ -d "$SHARED" ]; then
			mount --bind "$SHARED" "$RUN/shared" && mount -o remount,bind,ro "$RUN/shared"
		fi
		chroot "$ROOT" /usr/bin/env -i -C "$RUNREL/src" \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 ASOF_PGVER="$MAJOR" CI="${CI:-}" "$@"
	' bash "$@"
	rc=$?
	safe_rm "$run"
	return "$rc"
}

main() {
	local v=${1:-} dir rc
	shift
	if ! root_suite "$v" >/dev/null; then
		chroot_log "PostgreSQL '$v' has no Debian root here: 15 runs on this machine itself (make test), 17 and 18 in roots (make test PG=17, PG=18); 16 is in no Debian suite reachable here"
		echo "0 passed, 1 failed"
		return 1
	fi
	if [ "$(id -u)" -ne 0 ]; then
		chroot_log "make test PG=$v needs root (debootstrap, chroot, mounts)"
		echo "0 passed, 1 failed"
		return 1
	fi
	[ $# -eq 0 ] && set -- bash test/run.sh
	mkdir -p "$ASOF_ROOTS"
	dir=$ASOF_ROOTS/pg$v-$(root_suite "$v" | cut -d' ' -f1)
	(
		flock -x 9
		build_root "$v" "$dir"
	) 9>"$ASOF_ROOTS/pg$v.lock" || { echo "0 passed, 1 failed"; return 1; }
	(
		# Shared while tests run: a rebuild (exclusive) waits for them.
		flock -s 9
		run_in_root "$v" "$dir" "$@"
	) 9>"$ASOF_ROOTS/pg$v.lock"
	rc=$?
	return "$rc"
}

main "$@"
