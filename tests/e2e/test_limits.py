#!/usr/bin/env python3
"""Every size limit, tried at the limit and just over it: a control frame (1 MiB of body),
a hook payload (1 MiB, through the real tether-hook), terminal input on an attached
stream (1 MiB frames), a configuration file (1 MiB), and JSON nesting (128 levels). At the
limit the input is taken whole; over it, it is refused with an error naming the limit
(or, for a hook, dropped by tether-hook at once, the agent unaffected), the daemon and the
session carry on, and nothing logged before is lost."""

import json
import os
import struct
import subprocess
import time

from tether_harness import BYTES, JSON, KIND, TETHER, TETHER_HOOK, Daemon, check, frame, json_frame, wait_for

MAX_BODY = 1 << 20


def body_of_size(obj, pad_key, size):
    """obj as JSON with obj[pad_key] padded so the whole text is exactly size bytes."""
    obj = dict(obj)
    obj[pad_key] = ""
    base = len(json.dumps(obj, separators=(",", ":")))
    obj[pad_key] = "x" * (size - base)
    text = json.dumps(obj, separators=(",", ":")).encode()
    assert len(text) == size, (len(text), size)
    return text


def send_over(c, data):
    """Sends what the daemon may refuse half-way: it closes as soon as the header is read."""
    try:
        c.send(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def expect_fatal(c, want, what):
    r = c.read_json()
    check(r is not None and r.get("ok") is False and r.get("fatal") and want in r.get("error", ""),
          "%s: wanted a fatal error with %r, got %r" % (what, want, r))
    check(c.closed_by_peer(), "%s: the connection stayed open" % what)


with Daemon() as d:
    d.start()
    c = d.conn()
    first = c.request({"cmd": "mark", "text": "before the limits"})["seq"]

    # 1. Control frames: exactly 1 MiB of body is a request; one byte more is refused.
    c.send(frame(JSON, body_of_size({"id": 7, "cmd": "mark"}, "text", MAX_BODY)))
    r = c.read_json()
    check(r and r.get("ok") and r.get("id") == 7, "a 1 MiB request was not served: %r" % (r and {k: r[k] for k in r if k != "text"}))
    text = json.loads(d.events("seq = ?", (r["seq"],))[0][4])["text"]
    check(len(text) == MAX_BODY - len('{"id":7,"cmd":"mark","text":""}'), "the 1 MiB mark was not logged whole")
    send_over(c, frame(JSON, body_of_size({"id": 8, "cmd": "mark"}, "text", MAX_BODY + 1)))
    expect_fatal(c, "exceeds the limit of 1048576 bytes", "a frame of 1 MiB + 1")
    check(d.alive(), "the daemon died of a large frame")

    # 2. JSON nesting: 128 levels are a request, 129 are refused before anything recurses.
    c = d.conn()
    nested = lambda n: '{"id":1,"cmd":"mark","text":"n","x":' + "[" * (n - 1) + "]" * (n - 1) + "}"
    c.send(frame(JSON, nested(128)))
    r = c.read_json()
    check(r and r.get("ok"), "128 levels of nesting were refused: %r" % r)
    c.send(frame(JSON, nested(129)))
    expect_fatal(c, "nests deeper than 128 levels", "129 levels of nesting")
    c = d.conn()
    send_over(c, frame(JSON, nested(400000)[:MAX_BODY - 10]))
    expect_fatal(c, "nests deeper", "a 1 MiB frame of brackets")
    check(d.alive(), "the daemon died of deep nesting")

    # 3. Hook payloads through tether-hook: 1 MiB is recorded whole; more is dropped by
    # tether-hook at once (exit 0, no output: the agent is never slowed); deep nesting
    # is kept as a malformed payload.
    env = dict(d.env)
    env.pop("TETHER_SESSION", None)
    def hook(payload):
        p = subprocess.run([TETHER_HOOK, "--agent", "claude"], input=payload, capture_output=True, env=env, timeout=20)
        check(p.returncode == 0 and p.stdout == b"", "tether-hook: %r" % ((p.returncode, p.stdout[:200], p.stderr[:200]),))
    base = {"session_id": "limits", "cwd": "/tmp/limits", "hook_event_name": "PostToolUse", "tool_name": "Read"}
    hook(body_of_size(base, "tool_response", MAX_BODY))
    def hooks_seen():
        return [json.loads(e[4]) for e in d.events("kind = ?", (KIND["HookReceived"],))]
    wait_for(lambda: any(len(h.get("payload", {}).get("tool_response", "")) > MAX_BODY - 200 for h in hooks_seen()),
             what="the 1 MiB hook payload in the log")
    n = len(hooks_seen())
    hook(body_of_size(base, "tool_response", MAX_BODY + 1))
    hook(b'{"hook_event_name":"Stop","x":' + b"[" * 200000 + b"]" * 200000 + b"}")
    wait_for(lambda: len(hooks_seen()) == n + 1, what="the deeply nested hook, kept as malformed")
    time.sleep(0.3)
    seen = hooks_seen()
    check(len(seen) == n + 1 and seen[-1].get("malformed") is True, "hooks after the limit: %r" % [list(h) for h in seen[n:]])
    check(d.alive(), "the daemon died of a hook payload")

    # 4. Terminal input on an attached stream: a 1 MiB Bytes frame reaches the program
    # whole; a frame one byte over closes that client, and the session carries on.
    # Raw mode first (a canonical terminal drops what does not fit in a line), then ready.
    reader = ("import os,sys,tty\ntty.setraw(0)\nprint('ready',flush=True)\nn=0\nwant=int(sys.argv[1])\n"
              "while n<want:\n    n+=len(os.read(0,65536))\nprint('got',n,flush=True)\nos.read(0,1)\n")
    d.tether("run", "-d", "--name", "reader", "--", "python3", "-c", reader, str(MAX_BODY), check_rc=0)
    sid = wait_for(lambda: [s["id"] for s in json.loads(d.tether("ls", "--json")[1]) if s["name"] == "reader"],
                   what="the reader session")[0]
    wait_for(lambda: "ready" in d.tether("screen", str(sid))[1], what="the reader to be ready")
    a = d.conn()
    a.send(json_frame({"id": 1, "cmd": "attach", "session": sid, "cols": 80, "rows": 24}))
    r = a.read_json()
    check(r and r.get("ok"), "attach: %r" % r)
    a.send(frame(BYTES, b"k" * MAX_BODY))
    def screen():
        return d.tether("screen", str(sid))[1]
    wait_for(lambda: "got %d" % MAX_BODY in screen(), timeout=30, what="the program to read 1 MiB of input")
    sent = sum(len(e[4]) for e in d.events("session = ? AND kind = ?", (sid, KIND["InputSent"])))
    check(sent == MAX_BODY, "InputSent holds %d bytes, not 1 MiB" % sent)
    send_over(a, frame(BYTES, b"k" * (MAX_BODY + 1)))
    r = a.read_frame()
    while r is not None and r[0] == BYTES:
        r = a.read_frame()
    check(r is not None and b"exceeds the limit" in r[1], "an input frame over the limit: %r" % (r,))
    check(a.closed_by_peer(), "the attached client over the limit stayed connected")
    check(any(s["id"] == sid and s["state"] not in ("exited", "failed") for s in json.loads(d.tether("ls", "--json")[1])),
          "the session did not survive its client's oversized input")
    d.tether("send", str(sid), "q", check_rc=0)

    # 5. Configuration files: 1 MiB loads; one byte more is refused, naming the file and the limit.
    cfg = os.path.join(d.root, "config.yaml")
    head = b"daemon:\n  flush_ms: 5\n#"
    with open(cfg, "wb") as f:
        f.write(head + b"x" * (MAX_BODY - len(head) - 1) + b"\n")
    check(os.path.getsize(cfg) == MAX_BODY, "config size")
    d.tether("config", "check", cfg, check_rc=0)
    with open(cfg, "ab") as f:
        f.write(b"\n")
    rc, out, err = d.tether("config", "check", cfg)
    check(rc != 0 and cfg in err and "1048577 bytes, more than a configuration may be (1048576)" in err,
          "a config over the limit: rc %d, %s%s" % (rc, out, err))

    # Nothing logged before is lost, and the projections agree with the log.
    check(d.events("seq = ?", (first,)), "the first mark is gone")
    d.tether("admin", "verify", check_rc=0)

print("ok")
