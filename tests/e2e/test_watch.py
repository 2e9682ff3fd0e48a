#!/usr/bin/env python3
"""The watch stream (what tether-ui reads): a snapshot, then pushed notices as events
become durable: sessions added, changed and ended; permission requests appearing and
being decided; screen_changed only for subscribed sessions; and `screen` with cells.
Last, `ui_settings`: the window's part of the daemon's configuration."""

import json
import os
import socket
import time

from tether_harness import Daemon, FAKE_CLAUDE, check, fail, wait_for


class Watch:
    """A watch connection that collects notices while requests go through it."""

    def __init__(self, d, **args):
        self.c = d.conn()
        self.notices = []
        self.snapshot = self.request(dict({"cmd": "watch"}, **args))
        check(self.snapshot.get("ok") is True, "watch: %r" % self.snapshot)

    def request(self, obj):
        obj = dict(obj, id=self.c.next_id)
        self.c.next_id += 1
        self.c.send(__import__("tether_harness").json_frame(obj))
        while True:
            r = self.c.read_json()
            check(r is not None, "the daemon closed the watch connection")
            if "event" in r and "id" not in r:
                self.notices.append(r)
                continue
            if r.get("id") == obj["id"]:
                return r

    def pump(self, timeout=0.05):
        self.c.sock.settimeout(timeout)
        try:
            while True:
                f = self.c.read_frame()
                if f is None:
                    fail("the daemon closed the watch connection")
                self.notices.append(json.loads(f[1]))
        except socket.timeout:
            pass
        finally:
            self.c.sock.settimeout(10)

    def wait(self, pred, what, timeout=20):
        def seen():
            self.pump()
            return next((n for n in self.notices if pred(n)), None)
        return wait_for(seen, timeout=timeout, what=what)


with Daemon() as d:
    with open(os.path.join(d.root, "config.yaml"), "w") as f:
        f.write("hooks:\n  permission_wait_s: 30\n")
    d.extra_args = ["--config", os.path.join(d.root, "config.yaml")]
    d.start()
    d.tether("run", "-d", "--name", "quiet", "--", "sleep", "300", check_rc=0)

    # watch_screens needs a watch first; a bad session is named.
    c = d.conn()
    r = c.request({"cmd": "watch_screens", "sessions": [1]})
    check(r["ok"] is False and "watch" in r["error"], "watch_screens without watch: %r" % r)
    r = c.request({"cmd": "watch", "screens": ["nope"]})
    check(r["ok"] is False and "nope" in r["error"], "watch with a bad session: %r" % r)
    c.close()

    w = Watch(d)
    snap = w.snapshot
    check([s["name"] for s in snap["sessions"]] == ["quiet"] and snap["pending"] == [], "snapshot: %r" % snap)
    check(snap["sessions"][0]["state"] and "bytes_out" in snap["sessions"][0], "snapshot rows are ls rows: %r" % snap)

    rc, out, err = d.tether("run", "-d", "--json", "--name", "cl", "--size", "90x20", "--", FAKE_CLAUDE, check_rc=0)
    sid = json.loads(out)["session"]
    added = w.wait(lambda n: n["event"] == "session" and n["session"]["id"] == sid, "the new session's notice")
    check(added["change"] == "added" and added["session"]["name"] == "cl", "added: %r" % added)
    w.wait(lambda n: n["event"] == "session" and n["session"]["id"] == sid and n["session"]["state"] == "running",
           "the session running")

    # Subscribed screens only: output of "cl" is announced, a session not subscribed is not.
    check(not any(n["event"] == "screen_changed" for n in w.notices), "screen notices before subscribing: %r" % w.notices)
    r = w.request({"cmd": "watch_screens", "sessions": ["cl"]})
    check(r["ok"] and r["sessions"] == [sid], "watch_screens: %r" % r)
    d.tether("send", "cl", "run make deploy", "--enter", check_rc=0)
    sc = w.wait(lambda n: n["event"] == "screen_changed", "a screen_changed notice")
    check(sc["session"] == sid and sc["seq"] > 0, "screen_changed: %r" % sc)

    # The permission request: a row change (what it waits for) and a pending notice.
    pend = w.wait(lambda n: n["event"] == "pending" and n["change"] == "added", "the pending request notice")
    check(pend["pending"]["tool"] == "Bash" and pend["pending"]["tool_input"]["command"] == "make deploy"
          and pend["pending"]["session"] == sid, "pending notice: %r" % pend)
    row = w.wait(lambda n: n["event"] == "session" and n["session"]["state"] == "needs_permission", "needs_permission")
    check(row["session"]["waiting_tool"] == "Bash", "row: %r" % row)

    # The screen as cells: runs with colours, the welcome box in palette colour 174.
    r = w.request({"cmd": "screen", "session": sid, "cells": True})
    check(r["ok"] and r["cols"] == 90 and len(r["cells"]) == 20, "screen cells: %r" % {k: r.get(k) for k in ("ok", "cols", "error")})
    check(any(run.get("fg") == 174 and "╭" in run["t"] for row in r["cells"] for run in row), "no coloured box in %r" % r["cells"][:3])
    text = "\n".join("".join(run["t"] for run in row) for row in r["cells"])
    check("make deploy" in text, "cells text: %r" % text)

    # Approve on the same connection: the decided notice follows.
    r = w.request({"cmd": "approve", "target": pend["pending"]["request"], "by": "ui"})
    check(r["ok"], "approve: %r" % r)
    dec = w.wait(lambda n: n["event"] == "pending" and n["change"] == "decided", "the decided notice")
    check(dec["request"] == pend["pending"]["request"] and dec["decision"] == "allow" and dec["by"] == "ui", "decided: %r" % dec)
    w.wait(lambda n: n["event"] == "session" and n["session"]["id"] == sid and n["session"]["state"] == "idle", "idle")

    # Counters alone (output) do not make a notice: "quiet" produces none after the snapshot.
    check(not any(n["event"] == "session" and n["session"]["name"] == "quiet" for n in w.notices),
          "a notice for a session whose row did not change: %r" % [n for n in w.notices if n.get("session", {}) == "quiet"])

    # A second watcher sees the end; the first one that left is forgotten without harm.
    w2 = Watch(d)
    w.c.close()
    d.tether("kill", "quiet", check_rc=0)
    ended = w2.wait(lambda n: n["event"] == "session" and n["session"]["name"] == "quiet" and n["change"] == "ended", "quiet to end")
    check(ended["session"]["state"] == "exited", "ended: %r" % ended)
    check(d.alive(), "the daemon died")

# What the window takes from the daemon's configuration, which it does not read itself.
with Daemon() as d:
    config = os.path.join(d.root, "config.yaml")
    with open(config, "w") as f:
        f.write("ui:\n  terminal: \"xterm -T tether -e\"\nplugin_path: [%s]\n" % os.path.join(d.root, "plugins"))
    d.extra_args = ["--config", config]
    d.start()
    r = d.conn().request({"cmd": "ui_settings"})
    check(r.get("ok") and r["terminal"] == ["xterm", "-T", "tether", "-e"]
          and r["plugin_path"] == [os.path.join(d.root, "plugins")], "ui_settings: %r" % r)
print("ok")
