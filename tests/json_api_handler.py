"""The HTTP side shared by the fake chat services of tests/ (fake_slack.py,
fake_telegram.py): a quiet request handler that answers JSON and reads a JSON or
form-encoded body. Stdlib only."""

import json
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JsonApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout, or it is stopping)

    def body(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        if "json" in self.headers.get("Content-Type", "json"):
            return json.loads(raw or "{}")
        return {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}


def serve(handler):
    """Listens on 127.0.0.1 (a port the kernel picks), says "ready PORT", serves forever."""
    http = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    http.daemon_threads = True
    print("ready %d" % http.server_address[1], flush=True)
    http.serve_forever()
