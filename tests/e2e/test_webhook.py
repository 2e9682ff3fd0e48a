#!/usr/bin/env python3
"""The webhook notifier end to end: the real daemon loads tether-notifier-webhook and
POSTs to a local sink (http.server on 127.0.0.1) for a fake Claude's permission request
and its "done". The sink verifies every HMAC signature the way a receiver would, answers
the first attempts of the permission with 500s and lets the first attempt of the "done"
time out; the host's retries deliver each notification exactly once (one 2xx per
idempotency key, nothing after it). The URL's token and the secret appear nowhere: not in
the event log, the daemon's log, or `tether config check`."""

import hashlib
import hmac
import json
import os
import threading
import time

from http_fake import LoopbackHTTPServer, Reply
from tether_harness import Daemon, FAKE_CLAUDE, KIND, PLUGIN_DIR, check, wait_for

SECRET = "whsec-e2e-5b1f0c9d2a"
PATH_TOKEN = "hook-TOKEN-7f3a9e"


class Sink:
    """A webhook receiver: verifies, then answers by script; records every request."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []  # dicts: key, attempt, kind, status, signature_ok, body
        self.server = LoopbackHTTPServer(lambda method, path, headers, body: Reply(*self.handle(path, headers, body)))
        self.port = self.server.port

    def handle(self, path, headers, body):
        ts = headers.get("X-Tether-Timestamp", "")
        want = "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        sig_ok = hmac.compare_digest(want, headers.get("X-Tether-Signature", "")) and abs(time.time() - int(ts or 0)) < 300
        doc = json.loads(body)
        key = headers.get("Idempotency-Key")
        with self.lock:
            earlier = [r for r in self.requests if r["key"] == key]
            status, delay = 200, 0
            if path != "/hook/" + PATH_TOKEN or not sig_ok:
                status = 401
            elif doc["kind"] == "permission" and len(earlier) < 2:
                status = 500
            elif doc["kind"] == "done" and not earlier:
                status, delay = 503, 10  # answers long after the client's timeout_ms
            self.requests.append({"key": key, "attempt": int(headers.get("X-Tether-Attempt", "0")), "kind": doc["kind"],
                                  "status": status, "signature_ok": sig_ok, "doc": doc,
                                  "tenant": headers.get("X-Tenant")})
        return status, b"ok", (), delay

    def snapshot(self):
        with self.lock:
            return list(self.requests)

    def accepted(self):
        return [r for r in self.snapshot() if r["status"] == 200]


sink = Sink()
with Daemon() as d:
    url_file = os.path.join(d.root, "webhook-url")
    with open(url_file, "w") as f:
        f.write("http://127.0.0.1:%d/hook/%s\n" % (sink.port, PATH_TOKEN))
    os.chmod(url_file, 0o600)
    d.env["TETHER_E2E_WEBHOOK_SECRET"] = SECRET
    config = os.path.join(d.root, "config.yaml")
    with open(config, "w") as f:
        f.write("""
plugin_path: [%s]
notifiers:
  hook:
    plugin: webhook
    options:
      url: {file: %s}
      secret: ${TETHER_E2E_WEBHOOK_SECRET}
      header.X-Tenant: e2e
      timeout_ms: 3000
rules:
  - name: permission
    when: {to: needs_permission}
    notify: [hook]
  - name: done
    when: {from: running, to: idle}
    notify: [hook]
""" % (PLUGIN_DIR, url_file))
    d.extra_args = ["--config", config]
    d.env["TETHER_CONFIG"] = config
    d.start()

    rc, out, err = d.tether("config", "check", config, check_rc=0)
    check("webhook" in out and PATH_TOKEN not in out and SECRET not in out, "config check: %r" % out)

    d.tether("run", "-d", "--name", "cl", "--", FAKE_CLAUDE, check_rc=0)
    wait_for(lambda: d.tether("screen", "cl")[1].rstrip().endswith(">"), what="the fake agent prompt")
    d.tether("send", "cl", "run make deploy", "--enter", check_rc=0)
    d.tether("wait", "cl", "--until", "needs_permission", "--timeout", "20", check_rc=0)
    d.tether("approve", "cl", check_rc=0)
    d.tether("wait", "cl", "--until", "idle", "--timeout", "20", check_rc=0)

    wait_for(lambda: len(sink.accepted()) == 2, timeout=60, what="both notifications to be accepted")
    time.sleep(2)  # a duplicate would arrive within the retry backoff
    reqs = sink.snapshot()
    check(all(r["signature_ok"] for r in reqs), "a request failed signature verification: %r" % reqs)
    check(all(r["tenant"] == "e2e" for r in reqs), "the configured header is missing")
    by_key = {}
    for r in reqs:
        by_key.setdefault(r["key"], []).append(r)
    check(len(by_key) == 2, "expected two idempotency keys, got %r" % list(by_key))
    for key, rs in by_key.items():
        statuses = [r["status"] for r in rs]
        check(statuses.count(200) == 1 and statuses[-1] == 200, "key %s: statuses %r (duplicated or lost)" % (key, statuses))
        check([r["attempt"] for r in rs] == list(range(1, len(rs) + 1)), "key %s: attempts %r" % (key, [r["attempt"] for r in rs]))
        check(all(r["doc"]["idempotency_key"] == key for r in rs), "the body's key differs from the header's")
    perm = next(rs for rs in by_key.values() if rs[0]["kind"] == "permission")
    done = next(rs for rs in by_key.values() if rs[0]["kind"] == "done")
    check([r["status"] for r in perm] == [500, 500, 200], "permission: %r" % [r["status"] for r in perm])
    check([r["status"] for r in done] == [503, 200], "done: %r" % [r["status"] for r in done])
    doc = perm[-1]["doc"]
    check(doc["schema_version"] == 1 and doc["event"] == "notification", "document: %r" % doc)
    check(doc["session"]["name"] == "cl" and doc["session"]["agent"] == "claude", "session: %r" % doc["session"])
    check(doc["transition"] == {"from": "running", "to": "needs_permission"}, "transition: %r" % doc["transition"])
    check(doc["tool"]["name"] == "Bash" and doc["tool"]["input"]["command"] == "make deploy", "tool: %r" % doc["tool"])
    check(done[-1]["doc"]["transition"]["to"] == "idle", "done: %r" % done[-1]["doc"])

    # The host recorded the retries and the final success of each.
    failed = [json.loads(e[4]) for e in d.events("kind = ?", (KIND["NotificationFailed"],))]
    sent = [json.loads(e[4]) for e in d.events("kind = ?", (KIND["NotificationSent"],))]
    check(len(failed) == 3 and not any(f["final"] for f in failed), "failures: %r" % failed)
    check(any("HTTP 500" in f["error"] for f in failed) and any("timeout" in f["error"] for f in failed), "errors: %r" % failed)
    check(sorted(s["attempt"] for s in sent) == [2, 3], "sent: %r" % sent)

    # No secret anywhere the daemon writes.
    with open(os.path.join(d.state_dir, "events.db"), "rb") as f:
        db = f.read()
    for name in os.listdir(d.state_dir):
        if name.startswith("events.db-wal"):
            with open(os.path.join(d.state_dir, name), "rb") as f:
                db += f.read()
    log = d.output().encode()
    for path, data in (("events.db", db), ("tetherd.out", log)):
        check(PATH_TOKEN.encode() not in data and SECRET.encode() not in data, "a secret leaked into " + path)
    for name in os.listdir(d.state_dir):
        p = os.path.join(d.state_dir, name)
        if os.path.isfile(p) and name.endswith(".log"):
            with open(p, "rb") as f:
                data = f.read()
            check(PATH_TOKEN.encode() not in data and SECRET.encode() not in data, "a secret leaked into " + name)
print("ok")
