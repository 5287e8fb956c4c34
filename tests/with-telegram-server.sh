#!/usr/bin/env bash
# Runs a command with telegram-test-api (a Telegram Bot API emulator from
# npm) listening on loopback; its URL is in PATCHBAY_TELEGRAM_SERVER.
#   tests/with-telegram-server.sh cargo nextest run --workspace
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -d "$here/telegram/node_modules/telegram-test-api" ]; then
    echo "==> installing the Telegram Bot API emulator (npm ci in tests/telegram)"
    (cd "$here/telegram" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
url_file="$(mktemp)"
node "$here/telegram/server.mjs" "$url_file" >"$url_file.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$url_file" "$url_file.log"' EXIT
for _ in $(seq 1 100); do
    [ -s "$url_file" ] && break
    if ! kill -0 "$server" 2>/dev/null; then
        echo "the Telegram Bot API emulator did not start:" >&2
        cat "$url_file.log" >&2
        exit 1
    fi
    sleep 0.1
done
[ -s "$url_file" ] || { echo "the Telegram Bot API emulator did not start within 10 s" >&2; cat "$url_file.log" >&2; exit 1; }
export PATCHBAY_TELEGRAM_SERVER="$(cat "$url_file")"
echo "==> Telegram Bot API emulator (telegram-test-api) at $PATCHBAY_TELEGRAM_SERVER"
"$@"
