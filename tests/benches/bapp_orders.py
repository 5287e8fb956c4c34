"""Lists every order of a WooCommerce shop with bapp-connectors' adapter.

    python bapp_orders.py --url URL --key CK --secret CS --runs N

Prints {"seconds": [...], "cpu_seconds": [...], "orders": N, "version": "..."}
as JSON: wall time and this process's CPU time (user + system) per run. Used by
`just bench` to compare Patchbay with the Python seed library.
"""

import argparse
import importlib.metadata
import json
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    adapter = WooCommerceShopAdapter(
        credentials={"consumer_key": args.key, "consumer_secret": args.secret, "domain": args.url}
    )
    list_all(adapter)  # warm-up
    seconds, cpu_seconds, count = [], [], 0
    for _ in range(args.runs):
        started, cpu = time.perf_counter(), time.process_time()
        count = list_all(adapter)
        seconds.append(time.perf_counter() - started)
        cpu_seconds.append(time.process_time() - cpu)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "orders": count,
                "version": importlib.metadata.version("bapp-connectors"),
            }
        )
    )


if __name__ == "__main__":
    main()
