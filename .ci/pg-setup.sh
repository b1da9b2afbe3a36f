#!/usr/bin/env bash
# Makes a real PostgreSQL server available to the tests (tests/pg.py).
#
# Usage: eval "$(bash .ci/pg-setup.sh start)"   prints the `export` lines to eval
#        bash .ci/pg-setup.sh stop DIR           stops a cluster `start` created, removes DIR
#
# `start` uses, in order: $SYNDBOT_TEST_POSTGRES when set; the server at
# $SYNDBOT_TEST_POSTGRES_DEFAULT (postgresql://postgres@127.0.0.1:5432/postgres) when it
# answers; else a throwaway cluster: Debian's `postgresql` is installed when initdb is
# missing, initdb runs in a temporary directory as a non-root user (the server refuses
# root), and the server listens on a free loopback port only. It then also exports
# SYNDBOT_PG_CLUSTER=DIR for `stop`. Progress goes to stderr, so stdout is only exports.
set -euo pipefail

say() { echo "pg-setup: $*" >&2; }

answers() {  # URL -> does a server there accept us?
  command -v psql >/dev/null || return 1
  PGCONNECT_TIMEOUT=3 psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1
}

find_bin() {  # newest PostgreSQL bin directory, or nothing
  if command -v initdb >/dev/null; then dirname "$(readlink -f "$(command -v initdb)")"; return; fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

as_owner() {  # run as the cluster's owner (ourselves unless we are root)
  local owner=$1; shift
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$owner" -- "$@"; else "$@"; fi
}

start() {
  if [ -n "${SYNDBOT_TEST_POSTGRES:-}" ]; then
    say "using \$SYNDBOT_TEST_POSTGRES"
    printf 'export SYNDBOT_TEST_POSTGRES=%q\n' "$SYNDBOT_TEST_POSTGRES"
    return
  fi
  local default=${SYNDBOT_TEST_POSTGRES_DEFAULT:-postgresql://postgres@127.0.0.1:5432/postgres}
  if answers "$default"; then
    say "using the server at ${default%%\?*}"
    printf 'export SYNDBOT_TEST_POSTGRES=%q\n' "$default"
    return
  fi
  local bin; bin=$(find_bin)
  if [ -z "$bin" ]; then
    say "installing Debian's postgresql"
    apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
    bin=$(find_bin)
  fi
  [ -n "$bin" ] || { say "no initdb after installing postgresql"; exit 3; }
  local owner; owner=$(id -un)
  if [ "$(id -u)" -eq 0 ]; then
    if getent passwd postgres >/dev/null; then owner=postgres; else owner=nobody; fi
  fi
  local dir; dir=$(mktemp -d "${TMPDIR:-/tmp}/syndbot-pg.XXXXXX")
  chmod 755 "$dir"
  [ "$(id -u)" -ne 0 ] || chown "$owner" "$dir"
  local port; port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  say "starting a throwaway cluster in $dir on 127.0.0.1:$port as $owner"
  as_owner "$owner" "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 3; }
  as_owner "$owner" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >&2 \
    || { cat "$dir/server.log" >&2; exit 3; }
  printf 'export SYNDBOT_TEST_POSTGRES=%q\n' "postgresql://postgres@127.0.0.1:$port/postgres"
  printf 'export SYNDBOT_PG_CLUSTER=%q\n' "$dir"
}

stop() {
  local dir=$1 bin owner
  [ -d "$dir/data" ] || return 0
  bin=$(find_bin)
  owner=$(stat -c %U "$dir/data")
  as_owner "$owner" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:?usage: pg-setup.sh stop DIR}" ;;
  *) echo "usage: pg-setup.sh start | stop DIR" >&2; exit 2 ;;
esac
