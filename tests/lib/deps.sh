#!/bin/sh
# deps.sh — makes sure `make run`, `make test` and `make bench` have what they need (Debian 12;
# clang and its sanitizer and libFuzzer runtime for the fuzzing smoke run, tests/fuzz.t).
# Checks the Debian packages, installs the missing ones with apt-get when run as root (else
# prints the apt-get line and fails), then installs the Node test clients in tests/node
# (npm ci) when node_modules is missing or older than package-lock.json.
# Prints one line, "deps: ok", when there is nothing to do.
set -u
cd "$(dirname "$0")/../.." || exit 1

missing=""
need() { missing="$missing $1"; }

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

has_pg_ctl() {
	d=$(pg_config --bindir 2>/dev/null) && [ -x "$d/pg_ctl" ] && return 0
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/pg_ctl" ] && return 0
	done
	command -v pg_ctl >/dev/null 2>&1
}

check() {
	missing=""
	if command -v dpkg-query >/dev/null 2>&1; then
		for p in gcc make pkg-config libjson-c-dev libpq-dev libfcgi-dev libssl-dev spawn-fcgi bats curl \
			python3 openssl procps apache2 libapache2-mod-fcgid lighttpd pgbouncer \
			json-schema-test-suite man-db groff-base binutils wrk clang libclang-rt-dev; do
			installed "$p" || need "$p"
		done
		# nginx: the Debian 12 package `nginx` (nginx-light, -core, -full, -extras also do).
		ok=""
		for p in nginx nginx-light nginx-core nginx-full nginx-extras; do
			installed "$p" && ok=1
		done
		[ -n "$ok" ] && [ -f /etc/nginx/fastcgi_params ] || need nginx
	else
		for c in gcc make pkg-config spawn-fcgi bats curl nginx man groff objcopy wrk pgbouncer; do
			command -v "$c" >/dev/null 2>&1 || need "$c"
		done
	fi
	has_pg_ctl || need postgresql
	command -v psql >/dev/null 2>&1 || need postgresql-client
	# Node and npm by command: a Node from another source (with its own npm) does as well.
	command -v node >/dev/null 2>&1 || need nodejs
	command -v npm >/dev/null 2>&1 || need npm
}

check
if [ -n "$missing" ]; then
	line="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$missing"
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		echo "deps: missing:$missing" >&2
		echo "deps: install them (as root) with:" >&2
		echo "  $line" >&2
		exit 1
	fi
	echo "deps: installing:$missing"
	# Installing nginx or postgresql may start their system services (port 80, 5432); the
	# tests never use those, and they are left alone.
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing || {
		echo "deps: apt-get failed" >&2
		exit 1
	}
	check
	if [ -n "$missing" ]; then
		echo "deps: still missing after apt-get:$missing" >&2
		exit 1
	fi
fi

# The Node clients used by the tests (conformance suite, TypeScript SDK, Node 22).
nodedir=tests/node
if [ -f "$nodedir/package.json" ]; then
	stamp=$nodedir/node_modules/.package-lock.json # npm writes it last
	if [ -f "$nodedir/package-lock.json" ]; then
		if [ ! -f "$stamp" ] || [ "$nodedir/package-lock.json" -nt "$stamp" ]; then
			echo "deps: npm ci in $nodedir"
			(cd "$nodedir" && npm ci --no-audit --no-fund) || { echo "deps: npm ci failed" >&2; exit 1; }
		fi
	elif [ ! -d "$nodedir/node_modules" ]; then
		echo "deps: npm install in $nodedir"
		(cd "$nodedir" && npm install --no-audit --no-fund) || { echo "deps: npm install failed" >&2; exit 1; }
	fi
fi

echo "deps: ok"
