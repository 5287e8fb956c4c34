#!/usr/bin/env bash
# Runs a command with a test server from npm listening on loopback: the
# package's `server.mjs` in tests/DIR writes its URL to the file it is given,
# and the URL is exported in VAR.
#   tests/with-npm-server.sh DIR PACKAGE VAR LABEL command...
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="$1" package="$2" var="$3" label="$4"
shift 4
if [ ! -d "$here/$dir/node_modules/$package" ]; then
    echo "==> installing $label (npm ci in tests/$dir)"
    (cd "$here/$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
url_file="$(mktemp)"
node "$here/$dir/server.mjs" "$url_file" >"$url_file.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$url_file" "$url_file.log"' EXIT
for _ in $(seq 1 100); do
    [ -s "$url_file" ] && break
    if ! kill -0 "$server" 2>/dev/null; then
        echo "$label did not start:" >&2
        cat "$url_file.log" >&2
        exit 1
    fi
    sleep 0.1
done
[ -s "$url_file" ] || { echo "$label did not start within 10 s" >&2; cat "$url_file.log" >&2; exit 1; }
export "$var=$(cat "$url_file")"
echo "==> $label ($package) at ${!var}"
"$@"
