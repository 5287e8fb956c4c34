#!/usr/bin/env bash
# Runs a command with an FTP server (PyPI pyftpdlib, FTPS by pyOpenSSL) on
# loopback: a user whose password is only taken over TLS, and an anonymous
# user. Its URL is in PATCHBAY_FTP_URL, the CA of its certificate in
# PATCHBAY_FTP_CA, the user's folder in PATCHBAY_FTP_ROOT and the anonymous
# one in PATCHBAY_FTP_ANONYMOUS_ROOT, the login in PATCHBAY_FTP_USER and
# PATCHBAY_FTP_PASSWORD.
#   tests/with-ftp-server.sh cargo nextest run --workspace
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/../target/venv-ftp"
if ! "$venv/bin/python" -c "import pyftpdlib, OpenSSL, trustme" 2>/dev/null; then
    echo "==> installing the FTP test server (pip install pyftpdlib pyOpenSSL trustme into target/venv-ftp)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r "$here/ftp-requirements.txt"
fi
dir="$(mktemp -d)"
"$venv/bin/python" "$here/ftp-server.py" "$dir/info.json" "$dir" >"$dir/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 300); do
    [ -s "$dir/info.json" ] && break
    if ! kill -0 "$server" 2>/dev/null; then
        echo "the FTP test server did not start:" >&2
        cat "$dir/server.log" >&2
        exit 1
    fi
    sleep 0.1
done
[ -s "$dir/info.json" ] || { echo "the FTP test server did not start within 30 s" >&2; cat "$dir/server.log" >&2; exit 1; }
read_field() { python3 -c "import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$dir/info.json" "$1"; }
export PATCHBAY_FTP_URL="$(read_field url)"
export PATCHBAY_FTP_CA="$(read_field ca)"
export PATCHBAY_FTP_ROOT="$(read_field root)"
export PATCHBAY_FTP_ANONYMOUS_ROOT="$(read_field anonymous_root)"
export PATCHBAY_FTP_USER="$(read_field user)"
export PATCHBAY_FTP_PASSWORD="$(read_field password)"
echo "==> FTP test server (pyftpdlib, FTPS) at $PATCHBAY_FTP_URL"
"$@"
