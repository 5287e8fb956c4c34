#!/usr/bin/env bash
# Runs a command with localstripe (a stateful fake Stripe, from PyPI)
# listening on loopback only; its URL is in PATCHBAY_LOCALSTRIPE. Its state
# lives in memory: the pickle it would write to /tmp after every request is
# turned off, so runs never see each other's objects.
#   tests/with-localstripe.sh cargo nextest run --workspace
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/../target/venv-localstripe"
if ! "$venv/bin/python" -c 'import localstripe' 2>/dev/null; then
    echo "==> installing localstripe (PyPI) in target/venv-localstripe"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r "$here/localstripe-requirements.txt"
fi
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log="$(mktemp)"
"$venv/bin/python" -c "
from aiohttp import web
from localstripe.resources import store
from localstripe.server import app
store.dump_to_disk = lambda: None
web.run_app(app, host='127.0.0.1', port=$port, print=None)
" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$server" 2>/dev/null; then
        echo "localstripe did not start:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.1
done
export PATCHBAY_LOCALSTRIPE="http://127.0.0.1:$port"
echo "==> localstripe at $PATCHBAY_LOCALSTRIPE"
"$@"
