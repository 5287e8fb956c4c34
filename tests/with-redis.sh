#!/usr/bin/env bash
# Runs a command with a private Redis server (Debian's `redis-server`,
# installed with apt when missing) on a loopback port, with a password, no
# persistence, its working directory temporary. Its URL is in
# PATCHBAY_REDIS_URL; the server is stopped (by its own PID) afterwards.
#   tests/with-redis.sh cargo nextest run --workspace
set -euo pipefail
sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
if ! command -v redis-server >/dev/null; then
    echo "==> installing the Redis test server (apt: redis-server)"
    $sudo apt-get update -qq
    # The package's own service is not started: this script runs a private
    # server and stops what it starts.
    no_start=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
        $sudo chmod +x /usr/sbin/policy-rc.d
        no_start=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null
    if [ -n "$no_start" ]; then $sudo rm -f /usr/sbin/policy-rc.d; fi
fi
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
password="patchbay-test-$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
dir="$(mktemp -d)"
cat >"$dir/redis.conf" <<CONF
bind 127.0.0.1
port $port
requirepass $password
dir $dir
pidfile $dir/redis.pid
logfile $dir/redis.log
save ""
appendonly no
daemonize yes
CONF
redis-server "$dir/redis.conf"
for _ in $(seq 1 100); do [ -s "$dir/redis.pid" ] && break; sleep 0.1; done
pid="$(cat "$dir/redis.pid" 2>/dev/null || true)"
stop() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -rf "$dir"
}
trap stop EXIT
ready() { redis-cli -h 127.0.0.1 -p "$port" -a "$password" --no-auth-warning ping 2>/dev/null | grep -q PONG; }
for _ in $(seq 1 100); do
    ready && break
    sleep 0.1
done
ready || { echo "the Redis test server did not start within 10 s" >&2; cat "$dir/redis.log" >&2; exit 1; }
export PATCHBAY_REDIS_URL="redis://default:$password@127.0.0.1:$port/0"
echo "==> Redis test server ($(redis-server --version | awk "{print \$3}" | sed "s/^v=//")) at 127.0.0.1:$port"
"$@"
