#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests and benchmarks of the
# PostgreSQL store:
#   bash scripts/pg.sh start     creates or reuses the cluster, starts it, prints `export` lines
#   bash scripts/pg.sh stop      stops it
#   bash scripts/pg.sh restart   stops and starts it, prints `export` lines
#   bash scripts/pg.sh env       prints the `export` lines: eval "$(bash scripts/pg.sh env)"
#   bash scripts/pg.sh url       prints AGS_PG_URL
# The cluster lives in ${AGS_PG_DIR:-build/pg}. The server listens on a Unix
# socket in that directory (trust) and on 127.0.0.1 at a free port
# (scram-sha-256). Role `ags` (password in $AGS_PG_DIR/password, may create
# databases) owns database `agentsession`. With the namespaces of
# scripts/netns.sh up (AGS_NETNS_SERVER and AGS_NETNS_SUBNET set), `start` also
# listens on AGS_NETNS_SERVER and admits AGS_NETNS_SUBNET (scram-sha-256),
# restarting a server that listens elsewhere. Exported:
#   AGS_PG_URL      socket URL, no password
#   AGS_PG_URL_TCP  postgresql://ags:<password>@127.0.0.1:<port>/agentsession
#   AGS_PG_URL_NETNS  the same on AGS_NETNS_SERVER, when the server listens there
#   AGS_PG_DATA     the data directory
#   AGS_PG_CTL      pg_ctl as the server's user on this cluster and its log,
#                   a shell command line: eval "$AGS_PG_CTL -m fast -w restart"
# Installs PostgreSQL (Debian package `postgresql`) when it is missing. As
# root, the server runs as the `postgres` system user (initdb refuses root).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${AGS_PG_DIR:-$root/build/pg}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data=$dir/data

say() { echo "pg.sh: $*" >&2; }

# The newest installed server's bin directory, installing the package if none.
find_bin() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$bin" ] && command -v initdb >/dev/null 2>&1; then
        bin=$(dirname "$(command -v initdb)")
    fi
    echo "$bin"
}
bin=$(find_bin)
if [ -z "$bin" ]; then
    say "installing PostgreSQL (apt-get install postgresql)"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq postgresql >/dev/null
    bin=$(find_bin)
    [ -n "$bin" ] || { say "no initdb after installing postgresql"; exit 1; }
fi
major=$("$bin/pg_config" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')

# As root, everything touching the cluster runs as `postgres`.
as_server=()
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
    as_server=(runuser -u postgres --)
fi
pg_ctl=("${as_server[@]}" "$bin/pg_ctl")

running() { [ -f "$data/postmaster.pid" ] && "${pg_ctl[@]}" -D "$data" status >/dev/null 2>&1; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_free() {
    python3 -c 'import socket, sys; socket.socket().bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

# A new cluster, replacing whatever an earlier run left that is not one.
init_cluster() {
    say "creating a PostgreSQL $major cluster in $data"
    rm -rf "$data"
    mkdir -p "$data"
    if [ ${#as_server[@]} -gt 0 ]; then
        chown -R postgres: "$dir"
        "${as_server[@]}" test -w "$dir" \
            || { say "user postgres cannot reach $dir; set AGS_PG_DIR to a directory it can"; exit 1; }
    fi
    local locale=C.UTF-8
    locale -a 2>/dev/null | grep -qix 'c.utf-\?8' || locale=C
    # A UTF-8 locale: lower() and pg_trgm must see non-ASCII letters as letters.
    "${as_server[@]}" "$bin/initdb" -D "$data" -U postgres -E UTF8 --locale="$locale" \
        --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log"
    "${as_server[@]}" sh -c "cat >>'$data/postgresql.conf'" <<EOF

# scripts/pg.sh
unix_socket_directories = '$dir'
max_connections = 300
include = 'port.conf'
include = 'listen.conf'
EOF
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$dir/password"
    chmod 600 "$dir/password"
}

# The addresses to listen on, as in listen.conf.
listen_conf() {
    echo "listen_addresses = '127.0.0.1${AGS_NETNS_SERVER:+,$AGS_NETNS_SERVER}'"
}

# The address besides 127.0.0.1 the server listens on, if any.
netns_address() {
    sed -nE "s/^listen_addresses = '127\.0\.0\.1,(.+)'$/\1/p" "$data/listen.conf" 2>/dev/null || true
}

start() {
    if running && [ "$(cat "$data/listen.conf" 2>/dev/null)" = "$(listen_conf)" ]; then
        return
    fi
    stop
    if [ ! -f "$data/PG_VERSION" ] || [ "$(cat "$data/PG_VERSION")" != "$major" ] \
        || [ ! -f "$dir/password" ] || [ ! -f "$data/port.conf" ] || [ ! -f "$data/listen.conf" ]; then
        init_cluster
    fi
    listen_conf | "${as_server[@]}" sh -c "cat >'$data/listen.conf'"
    local hba="host all all ${AGS_NETNS_SUBNET:-} scram-sha-256"
    if [ -n "${AGS_NETNS_SUBNET:-}" ] && ! grep -qxF "$hba" "$data/pg_hba.conf"; then
        echo "$hba" | "${as_server[@]}" sh -c "cat >>'$data/pg_hba.conf'"
    fi
    local port
    port=$(sed -nE 's/^port = ([0-9]+)$/\1/p' "$data/port.conf" 2>/dev/null || true)
    if [ -z "$port" ] || ! port_free "$port"; then
        port=$(free_port)
        echo "port = $port" | "${as_server[@]}" sh -c "cat >'$data/port.conf'"
    fi
    "${pg_ctl[@]}" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null \
        || { tail -n 20 "$dir/server.log" >&2; exit 1; }
    # The role and database, created once; the password follows $dir/password.
    "$bin/psql" -q -X -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres >/dev/null <<EOF
SELECT 'CREATE ROLE ags LOGIN CREATEDB' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ags') \gexec
ALTER ROLE ags PASSWORD '$(cat "$dir/password")';
SELECT 'CREATE DATABASE agentsession OWNER ags' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'agentsession') \gexec
EOF
    say "PostgreSQL $major running on $dir and 127.0.0.1${AGS_NETNS_SERVER:+,$AGS_NETNS_SERVER}:$port"
}

stop() {
    if running; then
        "${pg_ctl[@]}" -D "$data" -m fast -w stop >/dev/null
        say "stopped"
    fi
}

port() {
    running || { say "not running; use: bash scripts/pg.sh start"; exit 1; }
    sed -nE 's/^port = ([0-9]+)$/\1/p' "$data/port.conf"
}

socket_url() { echo "postgresql://ags@/agentsession?host=$dir&port=$(port)"; }

print_env() {
    printf 'export AGS_PG_URL=%q\n' "$(socket_url)"
    printf 'export AGS_PG_URL_TCP=%q\n' "postgresql://ags:$(cat "$dir/password")@127.0.0.1:$(port)/agentsession"
    local netns
    netns=$(netns_address)
    if [ -n "$netns" ]; then
        printf 'export AGS_PG_URL_NETNS=%q\n' "postgresql://ags:$(cat "$dir/password")@$netns:$(port)/agentsession"
    fi
    printf 'export AGS_PG_DATA=%q\n' "$data"
    # A command line (words shell-quoted): eval "$AGS_PG_CTL -m fast -w restart".
    printf 'export AGS_PG_CTL=%q\n' "$(printf '%q ' "${pg_ctl[@]}" -D "$data" -l "$dir/server.log")"
}

case "${1:-}" in
    start) start; print_env ;;
    stop) stop ;;
    restart) stop; start; print_env ;;
    env) print_env ;;
    url) socket_url ;;
    *) say "usage: bash scripts/pg.sh start|stop|restart|env|url"; exit 2 ;;
esac
