#!/usr/bin/env bash
# A throwaway PostgreSQL server on this machine, for the test suite and the benchmarks.
#
#   scripts/postgres-local.sh start DIR [PORT]   initialise DIR (once), start the server on
#                                                127.0.0.1:PORT (default 55432) with its socket in
#                                                DIR, create the database "forum", print its URL
#   scripts/postgres-local.sh stop DIR           stop it (DIR stays; `rm -rf DIR` to forget it)
#
# Installs Debian's postgresql package when no server is found and we run as root. PostgreSQL
# refuses to run as root: the server then runs as the "postgres" system user (which the package
# creates). Trust authentication on loopback only: never use this for a real deployment (see README).
set -euo pipefail

action=${1:-}
dir=${2:-}
port=${3:-55432}
if [[ -z "$action" || -z "$dir" ]]; then
  echo "usage: $0 start|stop DIR [PORT]" >&2
  exit 2
fi

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
bin=$(find_bin)
if [[ -z "$bin" ]]; then
  if [[ "$(id -u)" == "0" ]]; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin=$(find_bin)
  fi
  if [[ -z "$bin" ]]; then
    echo "PostgreSQL server not found: install it (sudo apt-get install postgresql)" >&2
    exit 1
  fi
fi

as_owner() {
  if [[ "$(id -u)" == "0" ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$action" in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [[ "$(id -u)" == "0" ]]; then chown postgres: "$dir"; fi
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
      as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c max_connections=200" start >/dev/null
    fi
    if ! as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -Atc "select 1 from pg_database where datname='forum'" postgres | grep -q 1; then
      as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres forum
    fi
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/forum"
    ;;
  stop)
    dir=$(cd "$dir" && pwd)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  *)
    echo "usage: $0 start|stop DIR [PORT]" >&2
    exit 2
    ;;
esac
