//! What every new plugin gets whatever its language: the provider stub, the
//! test that runs the built plugin through the host against it, a README.

use super::Plan;

const MOCK_SERVER: &str = r#"#!/usr/bin/env python3
"""A stub of the provider's API for the plugin's test: extend it with what
the real API serves (paths, auth, pagination, error bodies, rate-limit
headers) as the plugin grows.

    python3 test/mock_server.py [PORT]     serves until interrupted
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_KEY = "test-key"


class Provider(BaseHTTPRequestHandler):
    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.headers.get("authorization") != f"Bearer {API_KEY}":
            return self._send(401, {"message": "invalid API key"})
        if self.path == "/health":
            return self._send(200, {"status": "ok", "account": "test-account"})
        return self._send(404, {"message": f"no route {self.path}"})

    def log_message(self, *args):
        pass


def start(port=0):
    """Serves on 127.0.0.1 in a background thread; returns (server, base URL)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


if __name__ == "__main__":
    server, url = start(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(f"serving the provider stub on {url}", flush=True)
    threading.Event().wait()
"#;

const TEST: &str = r#"#!/usr/bin/env python3
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
    print(f"ok: {PROVIDER} loads, and test-connection accepts the right key and refuses a wrong one")


if __name__ == "__main__":
    main()
"#;

const README: &str = r#"# @display@ (@family@)

A Patchbay @family@ plugin, written in @language@ (created by `patchbay new`).
It exports `connector` and the `@port@` port (world `@world@`); each
operation answers `unsupported` until it is written.

- Build: `./build.sh` writes `dist/@artifact@.wasm` (`@build@`).
- Test: `python3 test/test_plugin.py` runs the built plugin through the host
  (`patchbay inspect`, then `connector.test-connection` against the provider
  stub in `test/mock_server.py`, with the right key and with a wrong one).
  Set `PATCHBAY` to the `patchbay` binary if it is not on PATH.
- Try it by hand: `python3 test/mock_server.py 8088`, then
  `patchbay call @family@/@name@ connector.test-connection --plugins dist
  --allow-private-network --credential api_key=test-key --setting
  base_url=http://127.0.0.1:8088`.

The manifest declares one secret credential (`api_key`, sent by the host as a
bearer token: the plugin never sees it) and one setting (`base_url`, the only
host the plugin may reach). The SDK is documented in `@sdk_doc@` of the
Patchbay checkout.
"#;

pub(crate) fn render(template: &str, plan: &Plan, extra: &[(&str, &str)]) -> String {
    let mut out = template
        .replace("@artifact@", &plan.artifact)
        .replace("@family@", plan.family)
        .replace("@name@", plan.name)
        .replace("@port@", &plan.port.interface)
        .replace("@world@", &plan.port.world)
        .replace("@display@", &plan.display_name())
        .replace("@root@", &plan.root);
    for (key, value) in extra {
        out = out.replace(&format!("@{key}@"), value);
    }
    out
}

pub(crate) fn files(plan: &Plan, build: &str, language: &str, sdk_doc: &str) -> Vec<(String, String)> {
    let extra = [("build", build), ("language", language), ("sdk_doc", sdk_doc)];
    vec![
        ("README.md".into(), render(README, plan, &extra)),
        ("test/mock_server.py".into(), render(MOCK_SERVER, plan, &[])),
        ("test/test_plugin.py".into(), render(TEST, plan, &[])),
        (
            "build.sh".into(),
            format!(
                "#!/usr/bin/env bash\n# Builds dist/{}.wasm.\nset -euo pipefail\ncd \"$(dirname \"$0\")\"\n{build}\n",
                plan.artifact
            ),
        ),
    ]
}
