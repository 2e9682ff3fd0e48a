#!/usr/bin/env python3
"""Many hosts, one view, over a real nats-server with JetStream (127.0.0.1, a random
port, its own store). Two daemons with their own state directories, hosts a and b:
a session of b that needs permission shows in `tether pending --fleet` on a, is approved
from a, and b's fake Claude gets the answer (recorded by fleet:a); a decided request and
a host that is down give clear errors; the server is stopped mid-run while b goes on
working and restarted, and nothing is missing or doubled (the stream holds exactly the
facts both logs say travel, once each); b is killed -9 while the server is down and
restarted, and republishes only what the stream lacks. a is the fleet's notifier: one
webhook notification per transition of b, exactly once, across restarts of a."""

import json
import os
import signal
import time

from http_fake import FakeService, Reply

from tether_harness import (PLUGIN_DIR, Daemon, FAKE_CLAUDE, FLEET_KINDS, KIND, NatsServer, check, fleet_config, nats_publish,
                            wait_for)



class Sink(FakeService):
    """A webhook receiver on 127.0.0.1 that records every notification."""

    def __init__(self):
        self.docs = []
        super().__init__()

    def serve(self, method, path, headers, body):
        with self.lock:
            self.docs.append((headers.get("Idempotency-Key"), json.loads(body)))
        return Reply(200)

    def snapshot(self):
        with self.lock:
            return list(self.docs)


def fleet_facts(d):
    return [e for e in d.events("kind IN (%s)" % ",".join(map(str, FLEET_KINDS)))]


sink = Sink()
with Daemon() as a, Daemon() as b:
    nats = NatsServer(a.root).start()
    hosts = ["a", "b", "c"]  # c is in the fleet but never runs
    for d, host in ((a, "a"), (b, "b")):
        extra = ""
        if host == "a":
            extra = """  notify: true
plugin_path: [%s]
notifiers:
  hook: {plugin: webhook, options: {url: "http://127.0.0.1:%d/hook", timeout_ms: 3000}}
rules:
  - name: permission
    when: {to: needs_permission}
    notify: [hook]
""" % (PLUGIN_DIR, sink.port)
        path = os.path.join(d.root, "config.yaml")
        with open(path, "w") as f:
            f.write(fleet_config(nats.url, host, hosts, extra))
        d.extra_args = ["--config", path]
        d.env["TETHER_CONFIG"] = path
        d.start()

    def fleet_ls(d):
        return json.loads(d.tether("ls", "--fleet", "--json", check_rc=0)[1])

    def host_view(d, host):
        return next((h for h in fleet_ls(d)["hosts"] if h["host"] == host), None)

    def remote_session(d, host, name):
        h = host_view(d, host)
        return next((s for s in h["sessions"] if s["name"] == name), None) if h else None

    def remote_state(host, name):
        s = remote_session(a, host, name)
        return s and s["state"]

    def notifications():
        return [doc for key, doc in sink.snapshot() if doc.get("session", {}).get("id", "").startswith("b:")]

    # 1. b's agent asks; a sees the request and answers it; b's agent gets the answer.
    b.tether("run", "-d", "--name", "cl", "--", FAKE_CLAUDE, check_rc=0)
    wait_for(lambda: b.tether("screen", "cl")[1].rstrip().endswith(">"), what="the fake agent prompt on b")
    b.tether("send", "cl", "run touch fleet-marker", "--enter", check_rc=0)
    b.tether("wait", "cl", "--until", "needs_permission", "--timeout", "20", check_rc=0)
    wait_for(lambda: remote_state("b", "cl") == "needs_permission", timeout=20, what="b's session to need permission in a's view")
    pending = json.loads(a.tether("pending", "--fleet", "--json", check_rc=0)[1])
    check(len(pending) == 1 and pending[0]["host"] == "b" and pending[0]["tool"] == "Bash" and
          pending[0]["tool_input"]["command"] == "touch fleet-marker", "pending --fleet on a: %r" % pending)
    request = pending[0]["request"]
    check(request.startswith("b:"), "a remote request is named host:REQ: %r" % request)
    rc, out, err = a.tether("pending", "--fleet", check_rc=0)
    check(request in out and "touch fleet-marker" in out, "pending --fleet table: %r" % out)
    rc, out, err = a.tether("ls", "--fleet", check_rc=0)
    check("b:" in out and "needs_permission" in out and "Bash: touch fleet-marker" in out, "ls --fleet: %r" % out)
    rc, out, err = a.tether("approve", request, check_rc=0)
    check(request in out, "approve output: %r" % out)
    wait_for(lambda: "(ran)" in b.tether("screen", "cl")[1], timeout=20, what="b's agent to get a's answer")
    decided = [json.loads(e[4]) for e in b.events("kind = ?", (KIND["PermissionDecided"],))]
    check(len(decided) == 1 and decided[0]["decision"] == "allow" and decided[0]["by"] == "fleet:a", "decided on b: %r" % decided)
    wait_for(lambda: json.loads(a.tether("pending", "--fleet", "--json")[1]) == [], timeout=20, what="the request to leave a's view")

    # A request already decided, and a host that is down: clear errors.
    rc, out, err = a.tether("approve", request)
    check(rc == 1 and "not pending" in err, "approving twice: rc %d %r" % (rc, err))
    rc, out, err = a.tether("deny", "c:7")
    check(rc == 1 and "host c did not answer" in err and "nobody answers" in err, "a host that is down: rc %d %r" % (rc, err))
    rc, out, err = a.tether("approve", "x:7")
    check(rc == 1 and "not in fleet.hosts" in err, "a host outside the fleet: rc %d %r" % (rc, err))

    # a, the notifier, sent one webhook notification for b's transition.
    wait_for(lambda: len(notifications()) == 1, timeout=30, what="a's notification of b's transition")
    doc = notifications()[0]
    check(doc["session"]["id"] == "b:1" and doc["session"]["name"] == "cl" and doc["transition"]["to"] == "needs_permission",
          "notification: %r" % doc)

    # 2. The server goes away mid-run; b keeps working and records locally.
    b.tether("wait", "cl", "--until", "idle", "--timeout", "20", check_rc=0)
    nats.stop()
    b.tether("mark", "--session", "cl", "while the server is down", check_rc=0)
    b.tether("send", "cl", "run make offline", "--enter", check_rc=0)
    b.tether("wait", "cl", "--until", "needs_permission", "--timeout", "20", check_rc=0)
    b.tether("deny", "cl", "--message", "not now", check_rc=0)
    b.tether("wait", "cl", "--until", "idle", "--timeout", "20", check_rc=0)
    nats.start()

    def consistent():
        """The stream holds each fact of both logs exactly once, and a's view of b is b's log."""
        state = nats.stream_state()
        want = len(fleet_facts(a)) + len(fleet_facts(b))
        if not state or state["messages"] != want:
            return False
        hb = host_view(a, "b")
        return hb is not None and hb["last_seq"] == fleet_facts(b)[-1][0]

    wait_for(consistent, timeout=30, what="the stream to hold both logs' facts once each after the server's restart")
    check(remote_state("b", "cl") == "idle", "b's session in a's view after the restart: %r" % remote_state("b", "cl"))
    f = fleet_ls(a)["fleet"]
    check(f["skipped"]["repeated"] == 0 and f["skipped"]["malformed"] == 0, "a skipped messages: %r" % f["skipped"])
    wait_for(lambda: len(notifications()) == 2, timeout=30, what="the notification of b's transition while the server was down")

    # 3. b is killed -9 while the server is down, works on, and comes back: it republishes
    #    exactly what the stream lacks.
    nats.stop()
    b.tether("send", "cl", "run make again", "--enter", check_rc=0)
    b.tether("wait", "cl", "--until", "needs_permission", "--timeout", "20", check_rc=0)
    b.tether("deny", "cl", check_rc=0)
    b.tether("wait", "cl", "--until", "idle", "--timeout", "20", check_rc=0)
    b.kill(signal.SIGKILL)
    nats.start()
    before = nats.stream_state()["messages"]
    b.start()
    wait_for(consistent, timeout=30, what="b's republish after kill -9 to fill exactly what the stream lacked")
    published = json.loads(b.tether("ls", "--fleet", "--json", check_rc=0)[1])["fleet"]["published"]
    check(published["duplicates"] == 0, "b republished what the stream had: %r" % published)
    check(published["count"] == nats.stream_state()["messages"] - before, "b published %r, the stream grew by %d" %
          (published, nats.stream_state()["messages"] - before))
    wait_for(lambda: len(notifications()) == 3, timeout=30, what="the notification of b's transition while b was away")

    # 4. The notifier restarts (SIGTERM, then kill -9): nothing is notified twice, and a
    #    transition that happens while it is away is notified once when it is back.
    a.kill(signal.SIGTERM)
    b.tether("send", "cl", "run make while-a-is-away", "--enter", check_rc=0)
    b.tether("wait", "cl", "--until", "needs_permission", "--timeout", "20", check_rc=0)
    a.start()
    wait_for(lambda: len(notifications()) == 4, timeout=30, what="the notification of b's transition while a was away")
    # The outbox's promise: once NotificationSent is durable, never again. (A crash between
    # the send and that commit repeats the delivery with the same idempotency key.)
    wait_for(lambda: len(a.events("kind = ?", (KIND["NotificationSent"],))) == 4, what="a's delivery to be recorded")
    a.kill(signal.SIGKILL)
    a.start()
    wait_for(lambda: remote_state("b", "cl") == "needs_permission", timeout=20, what="a's view rebuilt from the stream")
    time.sleep(1.5)  # a repeat would go out within this
    docs = notifications()
    check(len(docs) == 4, "notifications of b's transitions: %d, wanted 4: %r" % (len(docs), [(d["tool"], d["idempotency_key"]) for d in docs]))
    keys = [key for key, doc in sink.snapshot()]
    check(len(keys) == len(set(keys)), "an idempotency key came twice: %r" % keys)
    commands = [d["tool"]["input"]["command"] for d in docs]
    check(commands == ["touch fleet-marker", "make offline", "make again", "make while-a-is-away"], "notified: %r" % commands)
    taken = [json.loads(e[4]) for e in a.events("kind = ?", (KIND["FleetStateChanged"],))]
    check(len({(t["host"], t["seq"]) for t in taken}) == len(taken), "a took a transition twice: %r" % taken)

    # 5. Bad input on the stream: reported and skipped, never applied; the view is unchanged.
    view_before = host_view(a, "b")
    last = view_before["last_seq"]

    def headers(host, seq, session=1):
        return {"Nats-Msg-Id": "%s:%d" % (host, seq), "Tether-Host": host, "Tether-Seq": seq, "Tether-Epoch": view_before["epoch"],
                "Tether-Time": int(time.time() * 1e6), "Tether-Session": session}
    nats_publish(nats.port, "tether.b.StateChanged", headers("b", last + 100), "{not json")       # does not parse
    nats_publish(nats.port, "tether.mallory.SessionStarted", headers("mallory", 1), '{"name": "x"}')  # not in fleet.hosts
    nats_publish(nats.port, "tether.b.StateChanged", headers("b", 2), '{"from": "idle", "to": "exited"}')  # out of order
    nats_publish(nats.port, "tether.b.StateChanged", dict(headers("b", last + 101), **{"Tether-Host": "a"}), "{}")  # lies
    wait_for(lambda: sum(v for k, v in fleet_ls(a)["fleet"]["skipped"].items() if k != "last_reason") == 4, timeout=20,
             what="a to report the four bad messages")
    skipped = fleet_ls(a)["fleet"]["skipped"]
    check(skipped["malformed"] == 2 and skipped["unknown_host"] == 1 and skipped["repeated"] == 1, "skipped: %r" % skipped)
    check(host_view(a, "b")["sessions"] == view_before["sessions"] and host_view(a, "mallory") is None, "bad input changed the view")
    check("skipped stream message" in a.output(), "the daemon's log does not report the skipped messages")

    # b's local product never depended on any of it; its request is answered from a once more.
    pending = json.loads(a.tether("pending", "--fleet", "--json", check_rc=0)[1])
    check(len(pending) == 1, "pending after the restarts: %r" % pending)
    a.tether("deny", pending[0]["request"], "--message", "from a", check_rc=0)
    wait_for(lambda: "denied: from a" in b.tether("screen", "cl")[1], timeout=20, what="b's agent to get a's denial")
    nats.stop()
print("ok")
