#!/usr/bin/env python3
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
