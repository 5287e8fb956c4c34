#!/usr/bin/env bash
# Runs a command with an SMTP submission server (PyPI aiosmtpd) on loopback,
# STARTTLS and AUTH required; its URL is in PATCHBAY_SMTP_SERVER, the CA of
# its certificate in PATCHBAY_SMTP_CA, the folder of received messages in
# PATCHBAY_SMTP_INBOX.
#   tests/with-smtp-server.sh cargo nextest run --workspace
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/../target/venv-smtp"
if ! "$venv/bin/python" -c "import aiosmtpd, trustme" 2>/dev/null; then
    echo "==> installing the SMTP test server (pip install aiosmtpd trustme into target/venv-smtp)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r "$here/smtp-requirements.txt"
fi
dir="$(mktemp -d)"
"$venv/bin/python" "$here/smtp-server.py" "$dir/info.json" "$dir/inbox" >"$dir/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 200); do
    [ -s "$dir/info.json" ] && break
    if ! kill -0 "$server" 2>/dev/null; then
        echo "the SMTP test server did not start:" >&2
        cat "$dir/server.log" >&2
        exit 1
    fi
    sleep 0.1
done
[ -s "$dir/info.json" ] || { echo "the SMTP test server did not start within 20 s" >&2; cat "$dir/server.log" >&2; exit 1; }
read_field() { python3 -c "import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$dir/info.json" "$1"; }
export PATCHBAY_SMTP_SERVER="$(read_field url)"
export PATCHBAY_SMTP_CA="$(read_field ca)"
export PATCHBAY_SMTP_INBOX="$(read_field inbox)"
echo "==> SMTP test server (aiosmtpd) at $PATCHBAY_SMTP_SERVER"
"$@"
