#!/usr/bin/env python3
"""bench_fleet: the fleet over a real nats-server -js on 127.0.0.1. Two daemons, hosts a
and b, with their own state directories.

1. Latency from b's state change to a's view: b's session flips between needs_answer and
   running (`notify` requests, one at a time); a watch connection on a times the `fleet`
   notice that shows b's new state, and, as the same-run baseline, a watch connection on
   b times b's own `session` notice. Each latency is the notice's arrival (wall clock)
   minus the time of the StateChanged in b's log.
2. The stream's bytes per session-hour of a typical agent: the fake Claude runs turns
   that each ask for permission once (answered from a) and end idle; the stream's bytes
   (nats-server's own accounting: subject, headers, body) per turn, against the bytes b's
   own log grew by, times 30 turns an hour (one turn every two minutes; our assumption
   for an agent kept busy, stated in bench/README.md).

Stdlib only; the last line printed is the summary bench/run keeps. Everything it starts
is stopped on the way out."""

import json
import os
import statistics
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from bench_support import BenchError, bench_arguments, parse_bench_arguments, percentile, require_executables, run_bench
import tether_harness as h  # the e2e harness (bench_support put it on the path): Daemon, NatsServer

TURNS_PER_HOUR = 30


def main():
    ap = bench_arguments(__doc__.split("\n")[0], "fewer samples")
    ap.add_argument("--changes", type=int, default=400, help="state changes timed")
    ap.add_argument("--turns", type=int, default=20, help="agent turns for the stream's bytes")
    opt = parse_bench_arguments(ap, quick={"changes": 60, "turns": 5})
    require_executables("bench_fleet", [os.path.join(opt.bin_dir, n) for n in ("tether", "tetherd", "tether-holder", "tether-hook")])
    # The harness runs the binaries it names: those of the build under test.
    h.BIN_DIR, h.TETHER, h.TETHERD = opt.bin_dir, os.path.join(opt.bin_dir, "tether"), os.path.join(opt.bin_dir, "tetherd")

    def body(parent):
        with h.Daemon(root=os.path.join(parent, "a")) as a, h.Daemon(root=os.path.join(parent, "b")) as b:
            for d in (a, b):
                os.makedirs(d.root)
            nats = h.NatsServer(a.root).start()
            try:
                for d, host in ((a, "a"), (b, "b")):
                    path = os.path.join(d.root, "config.yaml")
                    with open(path, "w") as f:
                        f.write(h.fleet_config(nats.url, host, ["a", "b"]))
                    d.extra_args = ["--config", path]
                    d.start()
                return measure_latency(a, b, opt.changes), measure_bytes(a, b, nats, opt.turns)
            finally:
                nats.stop()

    result = run_bench("bench_fleet", opt, body)
    (latency_fleet, latency_local), (per_turn, log_per_turn, output_per_turn) = result

    def line(name, xs):
        return "%s p50 %.2f ms, p99 %.2f ms, max %.2f ms" % (name, statistics.median(xs), percentile(xs, 0.99), max(xs))
    print("latency over %d state changes of b:" % len(latency_fleet))
    print("  " + line("b's change -> a's view (fleet notice)", latency_fleet))
    print("  " + line("b's change -> b's own watch (baseline)", latency_local))
    print("stream per turn (one permission asked and answered, then idle): %.0f bytes; b's own log grew %.0f bytes "
          "(%.0f of them output)" % (per_turn, log_per_turn, output_per_turn))
    print("fleet: b->a view p50 %.2f ms p99 %.2f ms (local watch p50 %.2f ms p99 %.2f ms); stream %.1f KiB per "
          "session-hour at %d turns/h (b's log %.1f KiB)" % (
              statistics.median(latency_fleet), percentile(latency_fleet, 0.99), statistics.median(latency_local),
              percentile(latency_local, 0.99), per_turn * TURNS_PER_HOUR / 1024, TURNS_PER_HOUR,
              log_per_turn * TURNS_PER_HOUR / 1024))
    return 0


class Watch(threading.Thread):
    """A watch connection that records (arrival, state) for one session's notices."""

    def __init__(self, daemon, pick):
        super().__init__(daemon=True)
        self.conn = daemon.conn()
        self.conn.sock.settimeout(None)  # a quiet stretch is no error
        r = self.conn.request({"cmd": "watch"})
        if not r or not r.get("ok"):
            raise BenchError("watch refused: %r" % r)
        self.pick = pick
        self.seen = []
        self.start()

    def run(self):
        while True:
            n = self.conn.read_json()
            if n is None:
                return
            state = self.pick(n)
            if state:
                self.seen.append((time.time(), state))


def measure_latency(a, b, changes):
    b.tether("run", "-d", "--name", "s", "--", "sleep", "3600", check_rc=0)
    sid = json.loads(b.tether("ls", "--json")[1])[0]["id"]

    def fleet_pick(n):
        if n.get("event") != "fleet" or n["host"]["host"] != "b":
            return None
        return next((s["state"] for s in n["host"]["sessions"] if s["id"] == sid), None)

    def local_pick(n):
        return n["session"]["state"] if n.get("event") == "session" and n["session"]["id"] == sid else None

    h.wait_for(lambda: any(x["host"] == "b" and x["sessions"] for x in json.loads(a.tether("ls", "--fleet", "--json")[1])["hosts"]),
               timeout=20, what="b's session in a's view")
    on_a, on_b = Watch(a, fleet_pick), Watch(b, local_pick)
    c = b.conn()
    states = []
    for i in range(changes):
        state = "needs_answer" if i % 2 == 0 else "running"
        r = c.request({"cmd": "notify", "session": sid, "state": state})
        if not r.get("ok"):
            raise BenchError("notify: %r" % r)
        states.append(state)
        # One change at a time: each is seen on a before the next.
        h.wait_for(lambda: on_a.seen and on_a.seen[-1][1] == state, timeout=10, what="a's view of change %d" % i)
        h.wait_for(lambda: on_b.seen and on_b.seen[-1][1] == state, timeout=10, what="b's view of change %d" % i)
    changed = [(e[1] / 1e6, json.loads(e[4])["to"]) for e in b.events("kind = 16 AND session = ?", (sid,))]
    changed = [c for c in changed if c[1] in ("needs_answer", "running")][-changes:]

    def latencies(seen):
        out, j = [], 0
        for t, state in changed:
            while j < len(seen) and (seen[j][1] != state or seen[j][0] < t - 0.001):
                j += 1
            if j == len(seen):
                raise BenchError("a change was not seen")
            out.append((seen[j][0] - t) * 1000)
            j += 1
        return out
    return latencies(on_a.seen), latencies(on_b.seen)


def measure_bytes(a, b, nats, turns):
    b.tether("run", "-d", "--name", "cl", "--", h.FAKE_CLAUDE, check_rc=0)
    h.wait_for(lambda: b.tether("screen", "cl")[1].rstrip().endswith(">"), what="the fake agent prompt")
    b.tether("wait", "cl", "--until", "running", "--timeout", "20", check_rc=0)

    def settled_stream_bytes():
        last = None
        for _ in range(100):
            cur = nats.stream_state()["bytes"]
            if cur == last:
                return cur
            last = cur
            time.sleep(0.1)
        return last

    def log_bytes():
        rows = b.events("1=1")
        return sum(len(r[4]) + 24 for r in rows), sum(len(r[4]) for r in rows if r[3] == 5)

    stream0, (log0, out0) = settled_stream_bytes(), log_bytes()
    for i in range(turns):
        b.tether("send", "cl", "run make step-%d" % i, "--enter", check_rc=0)
        b.tether("wait", "cl", "--until", "needs_permission", "--timeout", "20", check_rc=0)
        req = h.wait_for(lambda: json.loads(a.tether("pending", "--fleet", "--json")[1]), timeout=20, what="the request on a")
        a.tether("approve", req[0]["request"], check_rc=0)
        b.tether("wait", "cl", "--until", "idle", "--timeout", "20", check_rc=0)
    stream1, (log1, out1) = settled_stream_bytes(), log_bytes()
    return (stream1 - stream0) / turns, (log1 - log0) / turns, (out1 - out0) / turns


if __name__ == "__main__":
    sys.exit(main())
