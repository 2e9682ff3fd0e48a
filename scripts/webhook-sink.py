#!/usr/bin/env python3
"""A local receiver for the webhook notifier, to try it (and for the demo): listens on
127.0.0.1, verifies each request's HMAC-SHA256 signature as plugins/webhook/README.md
describes, drops repeats by Idempotency-Key, and prints one line per notification.
Standard library only.

    TETHER_WEBHOOK_SECRET=$(openssl rand -hex 32) scripts/webhook-sink.py --port 8787
    # config.yaml: url: http://127.0.0.1:8787/tether  secret: ${TETHER_WEBHOOK_SECRET}
"""

import argparse
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify(secret, headers, body, tolerance_s=300):
    ts = headers.get("X-Tether-Timestamp", "")
    if not ts.isdigit() or abs(time.time() - int(ts)) > tolerance_s:
        return False
    want = "sha256=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, headers.get("X-Tether-Signature", ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0, help="0: any free port")
    ap.add_argument("--port-file", help="write the port chosen here once listening")
    ap.add_argument("--secret-env", default="TETHER_WEBHOOK_SECRET", help="the variable holding the secret")
    args = ap.parse_args()
    secret = os.environ.get(args.secret_env, "").encode()
    seen = set()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if secret and not verify(secret, self.headers, body):
                print("rejected: bad or missing signature", flush=True)
                self.send_response(401)
                self.end_headers()
                return
            key = self.headers.get("Idempotency-Key", "")
            doc = json.loads(body)
            if key in seen:
                print("#%s again (attempt %s): already had it" % (key, doc.get("attempt")), flush=True)
            else:
                seen.add(key)
                mark = "signed" if secret else "UNSIGNED"
                text = doc.get("title", "") + (": " + doc["body"] if doc.get("body") else "")
                print("#%s %s %s (%s, attempt %s) %s" % (key, doc.get("kind"), mark, doc["session"]["name"],
                                                         doc.get("attempt"), text.replace("\n", " ")), flush=True)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.replace(args.port_file + ".tmp", args.port_file)
    print("webhook sink on http://127.0.0.1:%d/ (%s)" % (port, "verifying signatures" if secret else "no secret: not verifying"),
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
