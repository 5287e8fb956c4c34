#!/usr/bin/env bash
# Runs a command with the OAuth2 test server (oauth2-mock-server, from npm)
# listening on loopback; its URL is in PATCHBAY_OAUTH_SERVER.
#   tests/with-oauth-server.sh cargo nextest run --workspace
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -d "$here/oauth/node_modules/oauth2-mock-server" ]; then
    echo "==> installing the OAuth2 test server (npm ci in tests/oauth)"
    (cd "$here/oauth" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
url_file="$(mktemp)"
node "$here/oauth/server.mjs" "$url_file" >"$url_file.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$url_file" "$url_file.log"' EXIT
for _ in $(seq 1 100); do
    [ -s "$url_file" ] && break
    if ! kill -0 "$server" 2>/dev/null; then
        echo "the OAuth2 test server did not start:" >&2
        cat "$url_file.log" >&2
        exit 1
    fi
    sleep 0.1
done
[ -s "$url_file" ] || { echo "the OAuth2 test server did not start within 10 s" >&2; cat "$url_file.log" >&2; exit 1; }
export PATCHBAY_OAUTH_SERVER="$(cat "$url_file")"
echo "==> OAuth2 test server (oauth2-mock-server) at $PATCHBAY_OAUTH_SERVER"
"$@"
