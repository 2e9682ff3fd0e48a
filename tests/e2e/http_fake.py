"""A scripted HTTP server on 127.0.0.1 for e2e tests of the HTTP notifiers (webhook,
Slack): every request goes to one function that says what to answer. Stdlib only."""

import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Reply:
    def __init__(self, status=200, body=b"ok", headers=(), delay=0.0):
        self.status, self.headers, self.delay = status, list(headers), delay
        self.body = body.encode() if isinstance(body, str) else body


class LoopbackHTTPServer:
    """Serves in a thread of its own until close(); handle(method, path, headers, body)
    returns a Reply. `port` is the port it took (chosen by the kernel)."""

    def __init__(self, handle):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                r = handle(self.command, self.path, self.headers, body)
                if r.delay:
                    time.sleep(r.delay)
                self.send_response(r.status)
                for k, v in r.headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(r.body)))
                self.end_headers()
                try:
                    self.wfile.write(r.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout case)

            do_POST = do_GET = answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class FakeService:
    """The base of a test's fake web service: serve(method, path, headers, body) answers
    with a Reply, under self.lock for what it records; `port` is where it listens."""

    def __init__(self):
        self.lock = threading.Lock()
        self.server = LoopbackHTTPServer(self.serve)
        self.port = self.server.port

    def serve(self, method, path, headers, body):
        raise NotImplementedError


class FakeProcess:
    """A fake web service of tests/ (fake_slack.py, fake_telegram.py) as a child process
    that prints "ready PORT", driven through its control API under /_test/. A fake that
    does not start raises RuntimeError with what it printed."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode().split()
        if line[:1] != ["ready"] or len(line) < 2:
            self.close()
            raise RuntimeError("%s did not start: %r" % (argv[0], line))
        self.base = "http://127.0.0.1:%s" % line[1]

    def get(self, path):
        with urllib.request.urlopen(self.base + path, timeout=10) as r:
            return json.loads(r.read())

    def post(self, path, obj):
        """(HTTP status, the JSON answer or {})."""
        req = urllib.request.Request(self.base + path, data=json.dumps(obj).encode(), headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, {}

    def calls(self, method):
        """The arguments of every call of that API method, in order."""
        return [args for m, args in self.get("/_test/calls") if m == method]

    def close(self):
        self.proc.kill()
        self.proc.wait()
