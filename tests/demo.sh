#!/usr/bin/env bash
# The demo: a mock WooCommerce shop on loopback, and the `patchbay` CLI
# listing its orders through the sandboxed WooCommerce plugin, with the
# connection stored in the vault (credentials sealed) and state in an
# embedded SQLite file.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/debug
demo=target/demo
mkdir -p "$demo"
rm -f "$demo/shop-url"

echo "==> starting the mock WooCommerce shop (250 orders)"
"$bin/mock-woocommerce" --orders 250 --consumer-key ck_demo --consumer-secret cs_demo --url-file "$demo/shop-url" >"$demo/mock.log" 2>&1 &
mock=$!
trap 'kill $mock 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$demo/shop-url" ] && break; sleep 0.1; done
[ -s "$demo/shop-url" ] || { echo "the mock shop did not start:"; cat "$demo/mock.log"; exit 1; }
shop=$(cat "$demo/shop-url")
echo "    $shop"

echo "==> providers in $demo/plugins"
"$bin/patchbay" providers --plugins "$demo/plugins"

state=(--plugins "$demo/plugins" --database "$demo/patchbay.db" --vault-key-file "$demo/vault.key" --allow-private-network)
printf '{"consumer_key": "ck_demo", "consumer_secret": "cs_demo"}' > "$demo/credentials.json"
echo "==> storing the connection in the vault (credentials sealed with $demo/vault.key)"
"$bin/patchbay" connections remove demo-shop "${state[@]}" >/dev/null 2>&1 || true
"$bin/patchbay" connections add shop/woocommerce --id demo-shop --name "Demo shop" \
    --setting "domain=$shop" --credentials-file "$demo/credentials.json" "${state[@]}"
rm -f "$demo/credentials.json"
"$bin/patchbay" connections list "${state[@]}"
call() {
    "$bin/patchbay" call --connection demo-shop "$1" --json "$2" "${state[@]}"
}

echo "==> checking the connection"
call connector.test-connection '{}' | python3 -c 'import json,sys; r=json.load(sys.stdin); print("    success:", r["success"], "-", r["message"])'

echo "==> listing every order, page by page, through the sandboxed plugin"
cursor=null
page=0
: > "$demo/orders.jsonl"
while :; do
    page=$((page + 1))
    call shop.get-orders "{\"query\": {\"limit\": 100, \"cursor\": $cursor}}" > "$demo/page.json"
    python3 - "$demo/page.json" "$demo/orders.jsonl" "$page" <<'PY'
import json, sys
page = json.load(open(sys.argv[1]))
with open(sys.argv[2], "a") as out:
    for order in page["items"]:
        out.write(json.dumps(order) + "\n")
print(f"    page {sys.argv[3]}: {len(page['items'])} orders (total {page['total']}, next cursor {page['next-cursor']})")
PY
    next=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["next-cursor"]))' "$demo/page.json")
    [ "$next" = "null" ] && break
    cursor=$next
done

python3 - "$demo/orders.jsonl" <<'PY'
import json, sys, collections
orders = [json.loads(line) for line in open(sys.argv[1])]
print(f"==> {len(orders)} orders; the newest ten:")
print(f"    {'order':>6}  {'status':<11} {'payment':<8} {'total':>9}  created              customer")
for o in orders[:10]:
    name = (o.get("billing") or {}).get("name", "")
    print(f"    {o['order-id']:>6}  {o['status']:<11} {o['payment-status']:<8} {o['total']:>6} {o['currency']}  {o['created-at']}  {name}")
by_status = collections.Counter(o["status"] for o in orders)
print("    by status: " + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())))
PY
if grep -q -e ck_demo -e cs_demo "$demo"/patchbay.db*; then
    echo "!! a credential is readable in $demo/patchbay.db"; exit 1
fi
echo "==> state kept in $demo/patchbay.db; no credential in it is readable without $demo/vault.key"
