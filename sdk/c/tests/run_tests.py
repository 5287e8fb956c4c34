#!/usr/bin/env python3
"""The C SDK against the shared status cases (sdk/status-cases.json), run
natively: the cases become a C program (one check per case) compiled with
zig against the generated bindings, the SDK and yyjson.

    python sdk/c/tests/run_tests.py     (zig from sdk/c/requirements.txt; PATCHBAY: the patchbay binary)
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

C_SDK = Path(__file__).resolve().parents[1]
SDK = C_SDK.parent
sys.path.insert(0, str(C_SDK))

import build  # noqa: E402  (yyjson, the same pinned sources as plugin builds)

HTTP_ERRORS = {
    "denied": ("DENIED", "denied", "string"),
    "timeout": ("TIMEOUT", "timeout", "string"),
    "connection": ("CONNECTION", "connection", "string"),
    "too-large": ("TOO_LARGE", "too_large", "u64"),
    "rate-limited": ("RATE_LIMITED", "rate_limited", "option"),
    "circuit-open": ("CIRCUIT_OPEN", "circuit_open", "string"),
    "invalid-request": ("INVALID_REQUEST", "invalid_request", "string"),
}


def expectation(expect: dict, retryable: list) -> str:
    kind = expect["kind"].upper().replace("-", "_")
    status = expect.get("status", -2)
    status = -1 if status is None else status
    retry = expect.get("retry_after", -2)
    retry = -1 if retry is None else retry
    return (f"PATCHBAY_CONNECTOR_TYPES_CONNECTOR_ERROR_{kind}, {status}, {retry}, "
            f"{'true' if expect['kind'] in retryable else 'false'}")


def program(cases: dict) -> str:
    lines = [
        '#include <stdio.h>',
        '#include <stdlib.h>',
        '#include "patchbay.h"',
        "",
        "static int failures = 0;",
        "",
        "// status: -2 not checked, -1 none; retry: the same.",
        "static void check(const char *what, pb_error_t *err, uint8_t tag, int status, int retry, bool retryable) {",
        "  bool ok = err->tag == tag && pb_is_retryable(err) == retryable;",
        "  if (ok && status != -2 && (err->tag == PATCHBAY_CONNECTOR_TYPES_CONNECTOR_ERROR_PROVIDER ||",
        "                             err->tag == PATCHBAY_CONNECTOR_TYPES_CONNECTOR_ERROR_PERMANENT)) {",
        "    patchbay_connector_types_provider_failure_t *f = err->tag == PATCHBAY_CONNECTOR_TYPES_CONNECTOR_ERROR_PROVIDER",
        "                                                        ? &err->val.provider : &err->val.permanent;",
        "    ok = status == -1 ? !f->status.is_some : (f->status.is_some && f->status.val == status);",
        "  }",
        "  if (ok && retry != -2 && err->tag == PATCHBAY_CONNECTOR_TYPES_CONNECTOR_ERROR_RATE_LIMITED) {",
        "    ok = retry == -1 ? !err->val.rate_limited.is_some",
        "                     : (err->val.rate_limited.is_some && err->val.rate_limited.val == (uint32_t)retry);",
        "  }",
        '  printf("%s %s\\n", ok ? "ok" : "FAILED", what);',
        "  if (!ok) failures++;",
        "}",
        "",
        "int main(void) {",
        "  pb_error_t err;",
        "  patchbay_connector_http_http_error_t http;",
    ]
    retryable = cases["retryable"]
    for case in cases["statuses"]:
        after = case["retry_after"] if case["retry_after"] is not None else -1
        lines += [
            "  memset(&err, 0, sizeof err);",
            f'  pb_from_status(&err, {case["status"]}, "message", {after});',
            f'  check("status {case["status"]} (retry-after {after})", &err, {expectation(case["expect"], retryable)});',
        ]
    for i, case in enumerate(cases["http_errors"]):
        tag, field, kind = HTTP_ERRORS[case["error"]]
        lines += ["  memset(&http, 0, sizeof http);", f"  http.tag = PATCHBAY_CONNECTOR_HTTP_HTTP_ERROR_{tag};"]
        if kind == "string":
            lines.append(f'  http.val.{field} = pb_str({json.dumps(case["value"])});')
        elif kind == "u64":
            lines.append(f"  http.val.{field} = {case['value']};")
        elif case["value"] is not None:
            lines += [f"  http.val.{field}.is_some = true;", f"  http.val.{field}.val = {case['value']};"]
        lines += [
            "  memset(&err, 0, sizeof err);",
            "  pb_from_http_error(&http, &err);",
            f'  check("http error {i}: {case["error"]}", &err, {expectation(case["expect"], retryable)});',
        ]
    lines += ["  return failures == 0 ? 0 : 1;", "}", ""]
    return "\n".join(lines)


def main() -> None:
    cases = json.loads((SDK / "status-cases.json").read_text())
    tool = build.patchbay()
    json_dir = build.yyjson()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run([tool, "c", "bindings", "--wit", str(build.contract.WIT), "--world", "llm-provider",
                        "--out", str(work / "generated")], check=True, stdout=subprocess.DEVNULL)
        (work / "status_cases.c").write_text(program(cases).replace("#include <stdlib.h>",
                                                                     "#include <stdlib.h>\n#include <string.h>"))
        binary = work / "status_cases"
        # Host imports and plugin exports are never called: with each function
        # in its own section, the linker drops the code that refers to them.
        subprocess.run([
            sys.executable, "-m", "ziglang", "cc", "-std=c11", "-w", "-O1", "-ffunction-sections", "-fdata-sections",
            "-I", str(work / "generated"), "-I", str(C_SDK / "include"), "-I", str(json_dir),
            str(work / "status_cases.c"), str(C_SDK / "src" / "patchbay.c"), str(work / "generated" / "plugin.c"),
            str(json_dir / "yyjson.c"), "-lm", "-Wl,--gc-sections", "-o", str(binary),
        ], check=True)
        result = subprocess.run([str(binary)], capture_output=True, text=True)
        if result.returncode != 0:
            print(result.stdout, end="")
            sys.exit(f"the C SDK fails {result.stdout.count('FAILED')} of the shared status cases")
        print(f"ok: the C SDK maps all {result.stdout.count(chr(10))} shared status cases")


if __name__ == "__main__":
    main()
