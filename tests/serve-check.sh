#!/usr/bin/env bash
# `patchbay serve` as an operator runs it, end to end: a config file, keys
# from `patchbay keys`, a WooCommerce connection and a call over HTTP
# against the mock shop, a plugin hot-reloaded from the directory, the dashboard in headless Chromium (Debian's,
# driven by playwright-core), schemathesis against /openapi.json (no server
# error, no response outside the schema), then SIGTERM: it must exit 0.
#
# Needs: target/debug/patchbay and mock-woocommerce (`just build`),
# target/plugins (`just build-plugins`), SCHEMATHESIS (a schemathesis
# binary), node with tests/dashboard's packages, /usr/bin/chromium.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/target/debug"
work="$(mktemp -d)"
serve_pid=""
shop_pid=""
cleanup() {
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true
    [ -n "$shop_pid" ] && kill "$shop_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAILED: $*" >&2; [ -f "$work/serve.log" ] && tail -20 "$work/serve.log" >&2; exit 1; }

mkdir -p "$work/plugins"
cp "$root/target/plugins/shop-woocommerce.wasm" "$work/plugins/"
export PATCHBAY_DATABASE="$work/state.db" PATCHBAY_VAULT_KEY_FILE="$work/vault.key"
export PATCHBAY_CACHE="$root/target/test-compile-cache"

"$bin/mock-woocommerce" --orders 30 --consumer-key ck_check --consumer-secret cs_check --url-file "$work/shop-url" \
    >"$work/shop.log" 2>&1 &
shop_pid=$!
for _ in $(seq 50); do [ -s "$work/shop-url" ] && break; sleep 0.1; done
shop="$(cat "$work/shop-url")"

cat >"$work/serve.toml" <<TOML
listen = "127.0.0.1:0"
plugins = "$work/plugins"
allow-private-network = true
call-timeout = 30
shutdown-grace = 10
events-max-wait = 1
TOML

key="$("$bin/patchbay" keys create --tenant acme --label check 2>/dev/null)"
admin="$("$bin/patchbay" keys create --tenant ops --admin 2>/dev/null)"

"$bin/patchbay" serve --config "$work/serve.toml" >"$work/serve.log" 2>&1 &
serve_pid=$!
url=""
for _ in $(seq 300); do
    url="$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/serve.log" | head -1)"
    [ -n "$url" ] && break
    kill -0 "$serve_pid" 2>/dev/null || fail "patchbay serve exited"
    sleep 0.1
done
[ -n "$url" ] || fail "patchbay serve did not start"
echo "    patchbay serve at $url (config file, keys from patchbay keys)"

auth=(-H "Authorization: Bearer $key")
created="$(curl -sf "${auth[@]}" -H 'content-type: application/json' "$url/v1/connections" \
    -d "{\"provider\": \"shop/woocommerce\", \"credentials\": {\"consumer_key\": \"ck_check\", \"consumer_secret\": \"cs_check\"}, \"settings\": {\"domain\": \"$shop\"}}")" \
    || fail "creating a connection"
connection="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$created")"
orders="$(curl -sf "${auth[@]}" -H 'content-type: application/json' "$url/v1/connections/$connection/call/shop.get-orders" \
    -d '{"query": {"limit": 10}}' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')" \
    || fail "listing orders"
[ "$orders" = 10 ] || fail "expected 10 orders, got $orders"
echo "    a WooCommerce connection lists orders over HTTP"

# Hot reload: a plugin dropped into the directory is served without a restart.
cp "$root/target/test-plugins/probe.wasm" "$work/plugins/"
reloaded=""
for _ in $(seq 150); do
    if curl -sf "${auth[@]}" "$url/v1/providers" | grep -q '"other/probe"'; then reloaded=yes; break; fi
    sleep 0.2
done
[ -n "$reloaded" ] || fail "a plugin copied into the directory was not loaded"
echo "    a plugin dropped into the directory is served without a restart"

echo "    the dashboard in headless Chromium (playwright-core)"
SERVE_URL="$url" ADMIN_KEY="$admin" TENANT=acme CONNECTION="$connection" \
    SCREENSHOT="$root/target/dashboard.png" node "$root/tests/dashboard/check.mjs" || fail "the dashboard check"

echo "    schemathesis against $url/openapi.json"
# (from the scratch directory: schemathesis keeps a cache where it runs)
schemathesis="$(realpath "$(command -v "${SCHEMATHESIS:-schemathesis}")")"
(cd "$work" && "$schemathesis" run "$url/openapi.json" \
    --header "Authorization: Bearer $key" \
    --checks not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance \
    --max-examples 25 --no-color >"$work/schemathesis.log" 2>&1) \
    || { cat "$work/schemathesis.log" >&2; fail "schemathesis found problems"; }
tail -3 "$work/schemathesis.log" | sed 's/^/    /'

kill -TERM "$serve_pid"
status=0
wait "$serve_pid" || status=$?
serve_pid=""
[ "$status" = 0 ] || fail "patchbay serve exited $status after SIGTERM"
grep -q "patchbay serve: stopped" "$work/serve.log" || fail "no orderly stop in the log"
echo "ok: patchbay serve ran from a config file, served a tenant, passed the browser and schemathesis checks, and stopped on SIGTERM"
