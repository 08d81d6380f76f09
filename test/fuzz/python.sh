#!/usr/bin/env bash
# test/fuzz/python.sh: prints the first python3 that can import psycopg2
# (Debian's python3-psycopg2 is in /usr/bin/python3; another python3 may
# come first on PATH).  Exits 1 when there is none.
for p in /usr/bin/python3 "$(command -v python3)"; do
	[ -x "$p" ] && "$p" -c 'import psycopg2' 2>/dev/null && { echo "$p"; exit 0; }
done
echo "no python3 with psycopg2: apt-get install python3-psycopg2" >&2
exit 1
