#!/usr/bin/env python3
"""The built plugin through the Patchbay host against the provider stub.

    ./build.sh && python3 test/test_plugin.py

PATCHBAY names the patchbay binary (default: patchbay on PATH).
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mock_server  # noqa: E402

PLUGIN = Path(__file__).resolve().parent.parent
WASM = PLUGIN / "dist" / "@artifact@.wasm"
PROVIDER = "@family@/@name@"
PATCHBAY = os.environ.get("PATCHBAY", "patchbay")
# An operation the new plugin does not implement yet, and input for it.
UNSUPPORTED = "@unsupported_operation@"
UNSUPPORTED_INPUT = '@unsupported_input@'


def patchbay(env, *args):
    return subprocess.run([PATCHBAY, *args], capture_output=True, text=True, env=env)


def check(condition, message):
    if not condition:
        print(f"FAILED: {message}", file=sys.stderr)
        sys.exit(1)


def main():
    check(WASM.is_file(), f"{WASM} is missing: run ./build.sh first")
    _server, url = mock_server.start()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PATCHBAY_DATABASE": f"{tmp}/state.db", "PATCHBAY_VAULT_KEY_FILE": f"{tmp}/vault.key"}
        inspect = patchbay(env, "inspect", str(WASM))
        check(inspect.returncode == 0, f"patchbay inspect failed: {inspect.stderr}")
        check(PROVIDER in inspect.stdout and "@port@" in inspect.stdout, f"unexpected manifest:\n{inspect.stdout}")
        for key, accepted in [(mock_server.API_KEY, True), ("wrong-key", False)]:
            credentials = Path(tmp) / "credentials.json"
            credentials.write_text(json.dumps({"api_key": key}))
            result = patchbay(
                env, "call", PROVIDER, "connector.test-connection", "--plugins", str(WASM.parent),
                "--allow-private-network", "--credentials-file", str(credentials), "--setting", f"base_url={url}",
            )
            check(result.returncode == 0, f"test-connection failed: {result.stderr}")
            outcome = json.loads(result.stdout)
            check(outcome["success"] is accepted, f"with key {key!r}: {outcome}")
        if UNSUPPORTED:
            # An operation nobody wrote yet answers `unsupported`, naming itself.
            result = patchbay(
                env, "call", PROVIDER, UNSUPPORTED, "--json", UNSUPPORTED_INPUT, "--plugins", str(WASM.parent),
                "--allow-private-network", "--credentials-file", str(credentials), "--setting", f"base_url={url}",
            )
            check(result.returncode != 0 and f"{UNSUPPORTED} is not supported" in result.stderr,
                  f"{UNSUPPORTED}: expected unsupported, got {result.returncode}: {result.stdout}{result.stderr}")
    print(f"ok: {PROVIDER} loads, test-connection accepts the right key and refuses a wrong one, "
          f"and what is not written yet is unsupported")


if __name__ == "__main__":
    main()
