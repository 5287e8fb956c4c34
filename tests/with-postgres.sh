#!/usr/bin/env bash
# Runs a command with a private PostgreSQL server (Debian's `postgresql`,
# installed with apt when missing) on a loopback port, its cluster in a
# temporary directory, run as the `postgres` user (PostgreSQL refuses to run
# as root). Password login over TCP only. Its URL is in
# PATCHBAY_POSTGRES_URL; the server is stopped (by its own PID) afterwards.
#   tests/with-postgres.sh cargo nextest run --workspace
set -euo pipefail
sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "==> installing the PostgreSQL test server (apt: postgresql)"
    $sudo apt-get update -qq
    # The package's own service is not started: this script runs a private
    # server and stops what it starts.
    no_start=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
        $sudo chmod +x /usr/sbin/policy-rc.d
        no_start=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    if [ -n "$no_start" ]; then $sudo rm -f /usr/sbin/policy-rc.d; fi
    bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
fi
user="postgres"
as_user() { if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"; else sudo -u "$user" -- "$@"; fi; }
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
password="patchbay-test-$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
dir="$(mktemp -d)"
chmod 755 "$dir"
$sudo chown "$user" "$dir"
echo "$password" > "$dir/pwfile.tmp"
$sudo chown "$user" "$dir/pwfile.tmp"
as_user "$bin/initdb" -D "$dir/data" -U patchbay --pwfile="$dir/pwfile.tmp" --auth-host=scram-sha-256 \
    --auth-local=reject -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
$sudo rm -f "$dir/pwfile.tmp"
# Three replicas and the tests' pools: room for a few hundred connections.
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 64MB
fsync = on
CONF
as_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
pid="$(head -n1 "$dir/data/postmaster.pid")"
stop() {
    $sudo kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do $sudo kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    $sudo rm -rf "$dir"
}
trap stop EXIT
export PATCHBAY_POSTGRES_URL="postgres://patchbay:$password@127.0.0.1:$port/postgres"
echo "==> PostgreSQL test server ($("$bin/postgres" --version | awk "{print \$3}")) at 127.0.0.1:$port"
"$@"
