"""The Python SDK against the shared cases (sdk/status-cases.json,
sdk/manifest-cases/) and the export runtime, run natively on bindings that
componentize-py generates for the test.

    python -m unittest discover sdk/python/tests   (with componentize-py installed)
"""

import json
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

PYTHON_SDK = Path(__file__).resolve().parents[1]
SDK = PYTHON_SDK.parent
WIT = SDK.parent / "wit"

_bindings = tempfile.mkdtemp(prefix="patchbay-py-bindings-")
_tool = shutil.which("componentize-py", path=str(Path(sys.executable).parent)) or shutil.which("componentize-py")
if _tool is None:
    raise SystemExit("componentize-py is not installed: pip install -r sdk/python/requirements.txt")
subprocess.run([_tool, "-d", str(WIT), "-w", "everything", "bindings", _bindings], check=True,
               stdout=subprocess.DEVNULL)
sys.path[:0] = [_bindings, str(PYTHON_SDK)]

from componentize_py_types import Err  # noqa: E402
from patchbay_build.manifest import Mistake, parse  # noqa: E402
from patchbay_sdk import errors, exports, http, paging  # noqa: E402
from wit_world.imports import http as host  # noqa: E402
from wit_world.imports import shop_types  # noqa: E402


def described(error: Err) -> dict:
    kind = errors.kind(error)
    value = error.value.value
    out = {"kind": kind}
    if kind in ("provider", "permanent"):
        out["status"] = value.status
    if kind == "rate-limited":
        out["retry_after"] = value
    return out


def same(a, b) -> bool:
    """Numbers compare by value (5 == 5.0)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


class SharedCases(unittest.TestCase):
    def test_status_cases(self):
        cases = json.loads((SDK / "status-cases.json").read_text())
        for case in cases["statuses"]:
            error = errors.from_status(case["status"], "message", case["retry_after"])
            self.check(error, case["expect"], cases["retryable"], f"status {case['status']}")
        variants = {
            "denied": host.HttpError_Denied, "timeout": host.HttpError_Timeout,
            "connection": host.HttpError_Connection, "too-large": host.HttpError_TooLarge,
            "rate-limited": host.HttpError_RateLimited, "circuit-open": host.HttpError_CircuitOpen,
            "invalid-request": host.HttpError_InvalidRequest,
        }
        for case in cases["http_errors"]:
            error = http.from_http_error(variants[case["error"]](case["value"]))
            self.check(error, case["expect"], cases["retryable"], f"{case}")

    def check(self, error, expect, retryable, what):
        got = described(error)
        for key, value in expect.items():
            self.assertEqual(got.get(key), value, f"{what}: got {got}")
        self.assertEqual(errors.is_retryable(error), got["kind"] in retryable, f"{what}: retryable")

    def test_manifest_cases(self):
        directory = SDK / "manifest-cases"
        files = sorted(directory.glob("*.toml"))
        self.assertGreaterEqual(len(files), 10)
        for path in files:
            text = path.read_text()
            if path.name.startswith("ok-"):
                expected = json.loads(path.with_suffix(".json").read_text())
                got = parse(text)
                self.assertTrue(same(got, expected), f"{path.name}: got {json.dumps(got, indent=1)}")
            else:
                key = text.splitlines()[0].removeprefix("# key: ")
                with self.assertRaises(Mistake, msg=path.name) as caught:
                    parse(text)
                self.assertEqual(caught.exception.key, key, f"{path.name}: {caught.exception.problem}")


class ExportRuntime(unittest.TestCase):
    def setUp(self):
        exports._instances.clear()

    def test_a_missing_operation_is_unsupported_by_name(self):
        class Plugin:
            pass

        with self.assertRaises(Err) as caught:
            exports.call(Plugin, "Shop", "get_orders", "shop.get-orders", "result", (None,))
        self.assertEqual(errors.kind(caught.exception), "unsupported")
        self.assertIn("shop.get-orders", caught.exception.value.value)
        self.assertEqual(exports.call(Plugin, "Actions", "list_actions", "actions.list-actions", "list", ()), [])

    def test_an_exception_is_permanent_and_a_connector_error_passes(self):
        class Shop:
            def get_order(self, order_id):
                raise KeyError(order_id)

            def get_orders(self, query):
                raise errors.rate_limited(3)

        class Plugin:
            pass

        Plugin.Shop = Shop
        with self.assertRaises(Err) as caught:
            exports.call(Plugin, "Shop", "get_order", "shop.get-order", "result", ("42",))
        self.assertEqual(errors.kind(caught.exception), "permanent")
        self.assertIn("KeyError", caught.exception.value.value.message)
        with self.assertRaises(Err) as caught:
            exports.call(Plugin, "Shop", "get_orders", "shop.get-orders", "result", (None,))
        self.assertEqual(described(caught.exception), {"kind": "rate-limited", "retry_after": 3})


class Paging(unittest.TestCase):
    def test_page_numbers_offsets_and_links(self):
        page = paging.PageNumber("2", 500, 100)
        self.assertEqual((page.number, page.size), (2, 100))
        orders = page.page(shop_types.OrderPage, [], total=250, total_pages=3)
        self.assertEqual((orders.next_cursor, orders.has_more, orders.total), ("3", True, 250))
        self.assertIsNone(paging.PageNumber("3", None, 100).page(shop_types.OrderPage, [], total_pages=3).next_cursor)
        with self.assertRaises(Err):
            paging.PageNumber("zero", None, 10)
        offset = paging.Offset("50", 25, 100).page(shop_types.OrderPage, [], total=100)
        self.assertEqual(offset.next_cursor, "75")
        link = '<https://s.example/orders.json?limit=50&page_info=abc>; rel="next", <https://s.example/x>; rel="previous"'
        self.assertEqual(paging.link_page(shop_types.OrderPage, [], link, "page_info").next_cursor, "abc")
        self.assertFalse(paging.link_page(shop_types.OrderPage, [], None, "page_info").has_more)


if __name__ == "__main__":
    unittest.main()
