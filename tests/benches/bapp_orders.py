"""Lists every order of a WooCommerce shop with bapp-connectors' adapter.

    python bapp_orders.py --url URL --key CK --secret CS

After one warm-up listing it prints {"version": "...", "orders": N}; then,
for every line it reads on stdin, it lists every order once more and prints
{"seconds": S, "cpu_seconds": C, "orders": N}: the wall time and this
process's CPU time (user + system) of that listing. One JSON object a line.
Used by `just bench` to compare Patchbay with the Python seed library, run
by run in turn with the other rows (so a slow spell of the machine lands on
all of them alike).
"""

import argparse
import importlib.metadata
import json
import sys
import time

from bapp_connectors.providers.shop.woocommerce.adapter import WooCommerceShopAdapter


def list_all(adapter):
    cursor, count = None, 0
    while True:
        page = adapter.get_orders(cursor=cursor)
        count += len(page.items)
        if not page.has_more or not page.cursor:
            return count
        cursor = page.cursor


def say(answer):
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    adapter = WooCommerceShopAdapter(
        credentials={"consumer_key": args.key, "consumer_secret": args.secret, "domain": args.url}
    )
    count = list_all(adapter)  # warm-up
    say({"version": importlib.metadata.version("bapp-connectors"), "orders": count})
    for _ in sys.stdin:
        started, cpu = time.perf_counter(), time.process_time()
        count = list_all(adapter)
        say(
            {
                "seconds": time.perf_counter() - started,
                "cpu_seconds": time.process_time() - cpu,
                "orders": count,
            }
        )


if __name__ == "__main__":
    main()
