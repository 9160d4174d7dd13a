#!/bin/sh
# dmcp.sh — starts dmcp's FastCGI program with spawn-fcgi on a unix socket, for a web server
# that connects to a socket (nginx: deploy/nginx/dmcp-location.conf; Apache:
# deploy/apache/dmcp-proxy-fcgi.conf).
#
#   dmcp.sh            one process with DMCP_THREADS worker threads, in the foreground:
#                      spawn-fcgi -n creates the socket and then *becomes* the program, so a
#                      supervisor (systemd, runit, daemontools, s6) sees the program itself,
#                      restarts it when it dies and stops it with SIGTERM. This is the mode to
#                      use: spawn-fcgi never restarts a program that died.
#   dmcp.sh N          N single-threaded processes sharing the socket (spawn-fcgi -F N), forked
#                      into the background; their PIDs go to PIDFILE (SOCKET.pids). Nothing
#                      restarts them: only for systems without a supervisor. Stop them with
#                      kill $(cat PIDFILE) (SIGTERM: each ends its streams with retry: and exits).
#                      spawn-fcgi points their stderr at /dev/null: set DMCP_LOG_FILE in the
#                      environment file to keep their log (a file DMCP_USER may append to).
#
# Placeholders to replace (every @...@ in this file), e.g.
#     sed -e 's|@DMCP_BIN@|/usr/local/bin/mytools.fcgi|' -e 's|@FCGI_SOCKET@|/run/dmcp/fcgi.sock|' \
#         -e 's|@DMCP_USER@|dmcp|' -e 's|@DMCP_GROUP@|dmcp|' \
#         -e 's|@WEB_USER@|www-data|' -e 's|@WEB_GROUP@|www-data|' \
#         dmcp.sh > /usr/local/sbin/dmcp-spawn && chmod 755 /usr/local/sbin/dmcp-spawn
#   @DMCP_BIN@     absolute path of the program: yours, built with dmcp (mytools.fcgi here)
#   @FCGI_SOCKET@  absolute path of the unix socket to create (its directory must exist)
#   @DMCP_USER@, @DMCP_GROUP@
#                  the unprivileged user and group the program runs as (e.g. a system user
#                  made with: useradd --system --no-create-home dmcp); never root
#   @WEB_USER@, @WEB_GROUP@
#                  owner and group of the socket: the web server's user (www-data on Debian),
#                  which must be able to connect to it
#
# Environment:
#   DMCP_ENV_FILE  file of NAME=VALUE lines read first, default /etc/dmcp/dmcp.env (see
#                  deploy/systemd/dmcp.env.example; quote values holding spaces with "...").
#                  Its variables — DMCP_DATABASE_URL first of all — reach the program through
#                  spawn-fcgi, which passes its environment on. A missing file is skipped.
#   Any DMCP_* variable already set is passed on too (the file's values win).
#
# Run `mytools.fcgi migrate` (as a user that may create tables) before the first start and after
# each upgrade; see deploy/README.md.
#
# The spawn-fcgi options, one by one:
#   -s SOCKET      listen on this unix socket (spawn-fcgi removes a stale one first). Never use
#                  -p without -a 127.0.0.1: spawn-fcgi binds TCP ports on 0.0.0.0 by default,
#                  which puts the program on the network with no web server in front.
#   -M 0660        socket mode: read and write for owner and group (the web server), nobody
#                  else.
#   -U, -G         socket owner and group (root only; as another user the socket is yours).
#   -u, -g         drop to this user and group before starting the program (root only).
#   -n             no fork: exec the program in place (see above).
#   -F N, -P FILE  fork N processes, write their PIDs to FILE.
#   -- PROGRAM     the program, with no arguments: it finds the listening socket on fd 0.
set -eu

DMCP_BIN='@DMCP_BIN@'
SOCKET='@FCGI_SOCKET@'
DMCP_USER='@DMCP_USER@'
DMCP_GROUP='@DMCP_GROUP@'
WEB_USER='@WEB_USER@'
WEB_GROUP='@WEB_GROUP@'
PIDFILE="$SOCKET.pids"
ENV_FILE=${DMCP_ENV_FILE:-/etc/dmcp/dmcp.env}

processes=${1:-1}
case $processes in
'' | *[!0-9]* | 0) echo "usage: $0 [PROCESSES]" >&2; exit 2 ;;
esac

if [ -f "$ENV_FILE" ]; then
	set -a # export every variable the file assigns
	# shellcheck disable=SC1090
	. "$ENV_FILE"
	set +a
fi

# Only root may change users; run as another user, the program and the socket are that user's.
set -- -s "$SOCKET" -M 0660
if [ "$(id -u)" -eq 0 ]; then
	set -- "$@" -u "$DMCP_USER" -g "$DMCP_GROUP" -U "$WEB_USER" -G "$WEB_GROUP"
fi

# Start from / so the program holds no directory busy (and can enter it as DMCP_USER).
cd /
if [ "$processes" -eq 1 ]; then
	exec spawn-fcgi "$@" -n -- "$DMCP_BIN"
fi
# Forked processes: one thread each (one database connection each), N of them.
DMCP_THREADS=1
export DMCP_THREADS
exec spawn-fcgi "$@" -F "$processes" -P "$PIDFILE" -- "$DMCP_BIN"
