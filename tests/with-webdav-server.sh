#!/usr/bin/env bash
# Runs a command with a WebDAV server (PyPI wsgidav on cheroot) on loopback,
# HTTP Basic authentication required; its URL is in PATCHBAY_WEBDAV_URL, the
# folder it serves in PATCHBAY_WEBDAV_ROOT, the login in PATCHBAY_WEBDAV_USER
# and PATCHBAY_WEBDAV_PASSWORD.
#   tests/with-webdav-server.sh cargo nextest run --workspace
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/../target/venv-webdav"
if ! "$venv/bin/python" -c "import wsgidav, cheroot" 2>/dev/null; then
    echo "==> installing the WebDAV test server (pip install wsgidav cheroot into target/venv-webdav)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r "$here/webdav-requirements.txt"
fi
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
dir="$(mktemp -d)"
mkdir "$dir/root"
user="patchbay"
password="dav-password-0123"
cat >"$dir/wsgidav.json" <<JSON
{
  "host": "127.0.0.1",
  "port": $port,
  "provider_mapping": { "/": "$dir/root" },
  "http_authenticator": { "domain_controller": null, "accept_basic": true, "accept_digest": false, "default_to_digest": false },
  "simple_dc": { "user_mapping": { "*": { "$user": { "password": "$password" } } } },
  "dir_browser": { "enable": false },
  "logging": { "enable_loggers": [] },
  "verbose": 1
}
JSON
"$venv/bin/wsgidav" --config "$dir/wsgidav.json" >"$dir/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$dir"' EXIT
ready() { python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$port" 2>/dev/null; }
for _ in $(seq 1 300); do
    ready && break
    if ! kill -0 "$server" 2>/dev/null; then
        echo "the WebDAV test server did not start:" >&2
        cat "$dir/server.log" >&2
        exit 1
    fi
    sleep 0.1
done
ready || { echo "the WebDAV test server did not start within 30 s" >&2; cat "$dir/server.log" >&2; exit 1; }
export PATCHBAY_WEBDAV_URL="http://127.0.0.1:$port"
export PATCHBAY_WEBDAV_ROOT="$dir/root"
export PATCHBAY_WEBDAV_USER="$user"
export PATCHBAY_WEBDAV_PASSWORD="$password"
echo "==> WebDAV test server (wsgidav) at $PATCHBAY_WEBDAV_URL"
"$@"
