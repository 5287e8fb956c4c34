#!/usr/bin/env bash
# Runs a command with an S3 server (PyPI moto in server mode) on loopback; its
# URL is in PATCHBAY_S3_ENDPOINT. Objects larger than 1 MiB are spooled to disk.
#   tests/with-s3-server.sh cargo nextest run --workspace
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/../target/venv-moto"
if ! "$venv/bin/python" -c "import moto.server" 2>/dev/null; then
    echo "==> installing the S3 test server (pip install moto[s3,server] into target/venv-moto)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r "$here/s3-requirements.txt"
fi
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log="$(mktemp)"
MOTO_S3_DEFAULT_KEY_BUFFER_SIZE=1048576 "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -f "$log"' EXIT
ready() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "http://127.0.0.1:$port/moto-api/" 2>/dev/null; }
for _ in $(seq 1 300); do
    ready && break
    if ! kill -0 "$server" 2>/dev/null; then
        echo "the S3 test server did not start:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.1
done
ready || { echo "the S3 test server did not start within 30 s" >&2; cat "$log" >&2; exit 1; }
export PATCHBAY_S3_ENDPOINT="http://127.0.0.1:$port"
echo "==> S3 test server (moto) at $PATCHBAY_S3_ENDPOINT"
"$@"
