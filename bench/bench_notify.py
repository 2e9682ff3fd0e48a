#!/usr/bin/env python3
"""bench_notify: how long a hook event takes to become a notification. A daemon runs with a
config whose one rule notifies the fake notifier plugin (tests/fake_plugin) on every
transition to running or idle; Claude Code UserPromptSubmit and Stop hooks for a live
session then flip its state, one at a time. The latency of each event is the plugin's
called_us (wall clock when send() was entered) minus the log time of the HookReceived
that caused it, linked through the log: NotificationQueued.cause -> StateChanged.cause
-> HookReceived, and NotificationQueued's seq is the plugin's idempotency key. Checks
that every hook gave exactly one notification. Stdlib only; the last line printed is the
summary bench/run keeps. The daemon and temporary directory it starts are removed on
the way out, and it only ever kills pids it started."""

import json
import os
import socket
import sqlite3
import statistics
import struct
import sys
import time
import uuid
from collections import Counter

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from bench_hook import stop_daemon
from bench_support import (KIND, BenchError, TetherDaemon, bench_arguments, frame, parse_bench_arguments, percentile,
                           require_executables, run_bench)

HOOK_RECEIVED, STATE_CHANGED, NOTIFICATION_QUEUED = KIND["HookReceived"], KIND["StateChanged"], KIND["NotificationQueued"]
GOAL_P99_MS = 5.0

# Claude Code 2.1.330's payloads, shaped as in agent-hooks.md §1.8 (run 4): one Claude
# session; each turn gets a new prompt_id, prompt and reply.
CLAUDE_SESSION = "f183e74f-41c7-4a96-957e-4256e11bab7c"
COMMON = ('"session_id":"%s","transcript_path":"/home/u/.claude/projects/-home-u-proj/%s.jsonl",'
          '"cwd":"/home/u/proj","prompt_id":"%%s","permission_mode":"default"' % (CLAUDE_SESSION, CLAUDE_SESSION))
PROMPT = '{' + COMMON + ',"hook_event_name":"UserPromptSubmit","prompt":"please create the marker file (turn %d)"}\n'
STOP = ('{' + COMMON + ',"effort":{"level":"medium"},"hook_event_name":"Stop","stop_hook_active":false,'
        '"last_assistant_message":"Done. This is a mock reply (turn %d).","background_tasks":[],"session_crons":[]}\n')
EXPECT = {"UserPromptSubmit": "running", "Stop": "idle"}

CONFIG = """# bench_notify: every transition to running or idle notifies the fake plugin.
plugin_path: [%s]
notifiers:
  fake: {plugin: fake, options: {file: %s}}
rules:
  - name: all
    when: {to: [running, idle]}
    notify: [fake]
"""


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def send_hook(sock_path, sid, payload):
    """One hook as tether-hook sends it: hello, the hook request and the payload as Bytes,
    one connection. Reads until the Bytes answer or the daemon closes. Returns whether
    an answer frame came."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(10)
        s.connect(sock_path)
        hello = b'{"hello":"tether","protocol":1,"version":"bench","who":"bench-notify"}'
        req = ('{"id":1,"cmd":"hook","agent":"claude","session":"%d","wait_ms":0}' % sid).encode()
        s.sendall(frame(1, hello) + frame(1, req) + frame(2, payload))
        while True:
            head = read_exact(s, 5)
            if head is None:
                return False
            n, kind = struct.unpack(">IB", head)
            body = read_exact(s, n)
            if body is None:
                raise BenchError("the daemon closed the connection in the middle of a frame")
            if kind == 2:
                return True
            if kind == 1 and json.loads(body).get("ok") is False:
                raise BenchError("hook refused: %s" % body.decode(errors="replace"))
    finally:
        s.close()


class Records:
    """The fake plugin's file, read as it grows."""

    def __init__(self, path):
        self.path, self.fd, self.buf, self.lines = path, -1, b"", []

    def poll(self):
        if self.fd < 0:
            try:
                self.fd = os.open(self.path, os.O_RDONLY)
            except FileNotFoundError:
                return len(self.lines)
        while True:
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                break
            self.buf += chunk
        *done, self.buf = self.buf.split(b"\n")
        self.lines += [json.loads(l) for l in done if l.strip()]
        return len(self.lines)

    def wait_for(self, n, timeout, poll_s):
        deadline = time.monotonic() + timeout
        while self.poll() < n:
            if time.monotonic() > deadline:
                return False
            time.sleep(poll_s)
        return True

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)


def read_log(state_dir):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(state_dir, "events.db"), uri=True)
    try:
        return [(seq, t, sess, kind, json.loads(p)) for seq, t, sess, kind, p in db.execute(
            "SELECT seq, time, session, kind, payload FROM events WHERE kind IN (?, ?, ?) ORDER BY seq",
            (HOOK_RECEIVED, STATE_CHANGED, NOTIFICATION_QUEUED))]
    finally:
        db.close()


def link(events, records, sid, total):
    """Per hook, in log order: (event name, hook time, state time, queued time, called_us),
    or None where the chain breaks; plus the list of problems found."""
    issues = []
    hooks = [(seq, t, p) for seq, t, sess, kind, p in events if kind == HOOK_RECEIVED and sess == sid]
    states, queued = {}, {}
    for seq, t, sess, kind, p in events:
        if kind == STATE_CHANGED:
            states.setdefault(p.get("cause"), []).append((seq, t, p))
        elif kind == NOTIFICATION_QUEUED:
            queued.setdefault(p.get("cause"), []).append((seq, t, p))
    by_key = {}
    for r in records:
        by_key.setdefault(str(r.get("idempotency_key")), []).append(r)
    dup = sum(1 for v in by_key.values() if len(v) > 1)
    if dup:
        issues.append("%d idempotency keys were sent more than once" % dup)
    if len(hooks) != total:
        issues.append("the log holds %d HookReceived events for session %d, %d hooks were sent" % (len(hooks), sid, total))
    chains, counts = [], Counter()
    used = set()
    for hseq, ht, hp in hooks:
        name = hp.get("payload", {}).get("hook_event_name")
        sc = states.get(hseq, [])
        if len(sc) != 1:
            counts["hooks with %d StateChanged" % len(sc)] += 1
            chains.append(None)
            continue
        sseq, st, sp = sc[0]
        if sp.get("to") != EXPECT.get(name):
            counts["%s went to %r, not %r" % (name, sp.get("to"), EXPECT.get(name))] += 1
        nq = queued.get(sseq, [])
        if len(nq) != 1:
            counts["transitions with %d NotificationQueued" % len(nq)] += 1
            chains.append(None)
            continue
        qseq, qt, qp = nq[0]
        rs = by_key.get(str(qseq), [])
        if len(rs) != 1:
            counts["notifications with %d plugin records" % len(rs)] += 1
            chains.append(None)
            continue
        r = rs[0]
        used.add(str(qseq))
        if r.get("state_to") != sp.get("to") or str(r.get("session_id")) != str(sid):
            counts["plugin records that do not match their transition"] += 1
        chains.append((name, ht, st, qt, int(r["called_us"])))
    issues += ["%d %s" % (n, what) for what, n in sorted(counts.items())]
    stray = len(set(by_key) - used)
    if stray:
        issues.append("%d plugin records belong to no hook" % stray)
    return chains, issues


def measure(opt, parent):
    d = TetherDaemon(opt.bin_dir, parent)
    records_path = os.path.join(d.root, "sent.jsonl")
    config = os.path.join(d.root, "config.yaml")
    with open(config, "w") as f:
        f.write(CONFIG % (json.dumps(os.path.abspath(opt.plugin_dir)), json.dumps(records_path)))
        if opt.flush_ms is not None:  # for diagnosis only; the benchmark runs the default
            f.write("daemon:\n  flush_ms: %d\n" % opt.flush_ms)
    d.env["TETHER_CONFIG"] = config
    d.env["XDG_CONFIG_HOME"] = os.path.join(d.root, "config")
    total = opt.warmup + opt.events
    recs = Records(records_path)
    answers = Counter()
    rtt_ms = []
    with d:
        started = json.loads(d.run("run", "-d", "--json", "--", "sleep", "3600"))
        sid, sleep_pid = started["session"], started["pid"]
        print("notify: %d hook events (+%d untimed warm-up) into session %d (`sleep 3600`), alternately Claude Code "
              "UserPromptSubmit (-> running) and Stop (-> idle), new prompt_id per turn; one rule notifies the fake "
              "plugin on every transition to running or idle" % (opt.events, opt.warmup, sid))
        print("  each hook is sent over the socket as tether-hook does (hello, hook request, payload), and the next "
              "one only after the plugin has recorded the previous notification (poll every %.1f ms)" % (opt.poll_ms))
        if opt.flush_ms is not None:
            print("  config: daemon.flush_ms = %d (not the default)" % opt.flush_ms)
        print("  latency = plugin called_us - HookReceived time (log), linked by cause and idempotency key\n")
        sys.stdout.flush()
        missed = 0
        t_start = time.monotonic()
        try:
            for i in range(total):
                turn = i // 2
                if i % 2 == 0:
                    prompt_id = str(uuid.uuid4())
                    payload = (PROMPT % (prompt_id, turn)).encode()
                else:
                    payload = (STOP % (prompt_id, turn)).encode()
                t0 = time.perf_counter()
                answers[send_hook(d.socket, sid, payload)] += 1
                rtt_ms.append((time.perf_counter() - t0) * 1e3)
                want = recs.poll() + 1 if missed else i + 1
                if not recs.wait_for(want, opt.timeout, opt.poll_ms / 1e3):
                    missed += 1
                    if i < opt.warmup and missed == 1 and recs.poll() == 0:
                        raise BenchError("no notification %.0f s after the first hook (is the fake plugin in %s?)" %
                                         (opt.timeout, opt.plugin_dir))
            elapsed = time.monotonic() - t_start
            # Late or duplicate deliveries would show up here.
            time.sleep(1.0)
            recs.poll()
        finally:
            recs.close()
        stop_daemon(d, sid, sleep_pid)
        events = read_log(d.state_dir)
    chains, issues = link(events, recs.lines, sid, total)
    if missed:
        issues.append("%d hooks had no plugin record within %.0f s" % (missed, opt.timeout))
    return chains[opt.warmup:], issues, {"answers": answers, "rtt_ms": rtt_ms[opt.warmup:], "elapsed": elapsed,
                                         "records": len(recs.lines), "sent": total}


def row(label, xs):
    return "%-22s %7d %8.3f %8.3f %8.3f %8.3f" % (label, len(xs), statistics.median(xs), percentile(xs, 0.9),
                                                   percentile(xs, 0.99), max(xs))


def report(opt, chains, issues, facts):
    good = [c for c in chains if c]
    if not good:
        raise BenchError("no hook could be linked to a notification")
    total = [(c[4] - c[1]) / 1e3 for c in good]
    phases = [
        ("hook -> StateChanged", [(c[2] - c[1]) / 1e3 for c in good]),
        ("StateChanged -> Queued", [(c[3] - c[2]) / 1e3 for c in good]),
        ("Queued -> send()", [(c[4] - c[3]) / 1e3 for c in good]),
    ]
    head = "%-22s %7s %8s %8s %8s %8s" % ("", "count", "p50 ms", "p90 ms", "p99 ms", "max ms")
    print("per round (%d rounds of consecutive events):" % opt.rounds)
    print(head.replace("%-22s" % "", "%-22s" % "round"))
    n = len(chains)
    for r in range(opt.rounds):
        part = [(c[4] - c[1]) / 1e3 for c in chains[r * n // opt.rounds:(r + 1) * n // opt.rounds] if c]
        if part:
            print(row("%d" % (r + 1), part))
    print("\nall events:")
    print(head)
    print(row("hook -> send()", total))
    for label, xs in phases:
        print(row("  " + label, xs))
    by_kind = {}
    for c, ms in zip(good, total):
        by_kind.setdefault(c[0], []).append(ms)
    for name in ("UserPromptSubmit", "Stop"):
        if name in by_kind:
            print(row("  (%s)" % name, by_kind[name]))
    print("\nphases from the log's time column: HookReceived append -> StateChanged append (the hook's commit, "
          "then AgentTracker) -> NotificationQueued append (its commit, then the rules) -> plugin send() entered "
          "(its commit, then the outbox and a worker thread)")
    ans = facts["answers"]
    print("hook client round trip: median %.3f ms, p99 %.3f ms; %d answer frames, %d closed without one" % (
        statistics.median(facts["rtt_ms"]), percentile(facts["rtt_ms"], 0.99), ans[True], ans[False]))
    print("%d hooks sent in %.1f s, %d plugin records, %d hooks linked to exactly one notification" % (
        facts["sent"], facts["elapsed"], facts["records"], len(good)))
    for issue in issues:
        print("FAILED: %s" % issue)
    sys.stdout.flush()
    return total


def main():
    ap = bench_arguments("Notification latency: hook event in the daemon to the plugin's send()",
                         "1,000 events (unless --events is given)")
    ap.add_argument("--plugin-dir", help="where tether-notifier-fake.so is (default: BUILD/tests/fake_plugin)")
    ap.add_argument("--events", type=int, default=10000, help="timed hook events; default 10,000")
    ap.add_argument("--warmup", type=int, default=20, help="untimed hook events first; default 20")
    ap.add_argument("--rounds", type=int, default=5, help="rows of the per-round table (consecutive slices); default 5")
    ap.add_argument("--poll-ms", type=float, default=0.2, help="how often to look for the plugin's record; default 0.2")
    ap.add_argument("--timeout", type=float, default=10, help="seconds to wait for one notification; default 10")
    ap.add_argument("--flush-ms", type=int, help="set daemon.flush_ms in the config (diagnosis; default: the "
                    "daemon's own, 5)")
    opt = parse_bench_arguments(ap, quick={"events": 1000})
    opt.rounds = max(1, opt.rounds)
    opt.plugin_dir = opt.plugin_dir or os.path.join(opt.build, "tests", "fake_plugin")
    require_executables("bench_notify", [os.path.join(opt.bin_dir, "tether"), os.path.join(opt.bin_dir, "tetherd")])
    if not os.path.exists(os.path.join(opt.plugin_dir, "tether-notifier-fake.so")):
        sys.exit("bench_notify: %s/tether-notifier-fake.so is missing; build the target tether-notifier-fake" %
                 opt.plugin_dir)

    def body(parent):
        chains, issues, facts = measure(opt, parent)
        return chains, issues, report(opt, chains, issues, facts)

    result = run_bench("bench_notify", opt, body)
    chains, issues, total = result
    p99 = percentile(total, 0.99)
    print("notify: hook -> send() p50 %.2f ms, p90 %.2f, p99 %.2f (goal %.0f), max %.1f ms over %d events; "
          "%d/%d hooks gave exactly one notification%s" % (
              statistics.median(total), percentile(total, 0.9), p99, GOAL_P99_MS, max(total), len(total),
              len(total), len(chains), "; FAILED" if issues else ""))
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
