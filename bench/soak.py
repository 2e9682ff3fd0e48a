#!/usr/bin/env python3
"""soak: tether under a long, busy, faulty life. N sessions (16) of agent-like output
(coloured lines, a spinner in the title, a redrawn status line, in bursts and pauses)
with hook traffic through the real tether-hook (a Claude-like turn every few seconds),
clients attaching and detaching, the configuration reloaded every minute, and the
daemon killed (SIGKILL) and restarted now and then; then a quiet stretch without kills.
Afterwards, for every session, the bytes in the log are exactly the bytes its program
wrote (the same count and SHA-256: nothing lost, nothing twice); the daemon's RSS and
open descriptors are flat over the stretch without kills; no holder, agent or zombie is
left. Prints samples as it goes and a summary (the last line). Stdlib only.

  python3 bench/soak.py --minutes 30       (bench/README.md: "soak")
  python3 bench/soak.py --quick            (3 minutes, 4 sessions)"""

import hashlib
import json
import os
import random
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time

from bench_support import (KIND, BenchError, TetherDaemon, bench_arguments, frame, now, parse_bench_arguments,
                           require_executables, rss_kib, run_bench, run_checked, wait_for)

# The agent: raw terminal (so the log must hold exactly the bytes written), a running
# SHA-256 of everything written, hooks now and then; ends when its stop file appears.
AGENT = r'''
import hashlib, json, os, random, subprocess, sys, time, tty
sid, stats, stop, hook = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
tty.setraw(1)
rng = random.Random(int(sid) * 7919)
h, total, lines, hooks = hashlib.sha256(), 0, 0, 0
spin = "\u280b\u2819\u2839\u2838\u283c\u2834\u2826\u2827\u2807\u280f"
def out(b):
    global total
    os.write(1, b)
    h.update(b)
    total += len(b)
def hook_call(event, **kw):
    global hooks
    p = dict(session_id="soak-" + sid, cwd="/tmp/soak", hook_event_name=event, prompt_id="p%d" % hooks, **kw)
    subprocess.run([hook, "--agent", "claude"], input=json.dumps(p).encode(), stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=10)
    hooks += 1
turn = 0
while not os.path.exists(stop):
    hook_call("UserPromptSubmit", prompt="step %d" % turn)
    for burst in range(rng.randint(3, 12)):
        out(("\x1b]0;%s Working\x07" % spin[burst % 10]).encode())
        for _ in range(rng.randint(5, 60)):
            lines += 1
            colour = 31 + lines % 6
            out(("\x1b[%dm%s-%08d\x1b[0m %s\r\n" % (colour, sid, lines, "lorem ipsum dolor " * rng.randint(1, 6))).encode())
        out(("\x1b[s\x1b[999;1H\x1b[7m status: %d lines, %d bytes \x1b[0m\x1b[u" % (lines, total)).encode())
        if burst == 2:
            hook_call("PreToolUse", tool_name="Bash", tool_input={"command": "make test %d" % turn})
            hook_call("PostToolUse", tool_name="Bash", tool_input={"command": "make test %d" % turn})
        time.sleep(rng.uniform(0.01, 0.25))
    out("\x1b]0;\u2733 Claude Code\x07".encode())
    hook_call("Stop")
    turn += 1
    time.sleep(rng.uniform(0.5, 3.0))
with open(stats + ".tmp", "w") as f:
    json.dump({"bytes": total, "sha256": h.hexdigest(), "lines": lines, "hooks": hooks}, f)
os.rename(stats + ".tmp", stats)
time.sleep(3600)
'''

CONFIG = """
plugin_path: [%(plugins)s]
notifiers:
  fake:
    plugin: fake
    options:
      file: %(record)s
rules:
  - name: done
    when: {from: running, to: idle}
    notify: [fake]
    cooldown: %(cooldown)s
"""


def session_bytes(db_path, sid):
    db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
    try:
        h, n = hashlib.sha256(), 0
        for (payload,) in db.execute("SELECT payload FROM events WHERE session = ? AND kind = ? ORDER BY seq",
                                     (sid, KIND["OutputChunk"])):
            h.update(payload)
            n += len(payload)
        return n, h.hexdigest()
    finally:
        db.close()


def count_events(db_path, kind):
    db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
    try:
        return db.execute("SELECT count(*) FROM events WHERE kind = ?", (kind,)).fetchone()[0]
    finally:
        db.close()


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return 0


def processes():
    """(pid, state, argv0) of every process."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        out.append((int(entry), state, argv))
    return out


class Attacher(threading.Thread):
    """Attaches to random sessions (read-only or not) for a few seconds each, reading
    the stream, then detaches or just hangs up."""

    def __init__(self, socket_path, sessions, stop):
        super().__init__(daemon=True)
        self.socket_path, self.sessions, self.stop = socket_path, sessions, stop
        self.attaches, self.failures = 0, 0

    def run(self):
        rng = random.Random(1)
        while not self.stop.is_set():
            try:
                self.one(rng)
                self.attaches += 1
            except OSError:
                self.failures += 1  # the daemon is being restarted
            self.stop.wait(rng.uniform(0.2, 2.0))

    def one(self, rng):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(self.socket_path)
            s.sendall(frame(1, json.dumps({"hello": "tether", "protocol": 1, "version": "soak"})))
            s.sendall(frame(1, json.dumps({"id": 1, "cmd": "attach", "session": rng.choice(self.sessions),
                                           "cols": 100, "rows": 30, "read_only": rng.random() < 0.7, "history": 200})))
            deadline = now() + rng.uniform(0.5, 4.0)
            while now() < deadline:
                try:
                    if not s.recv(65536):
                        return
                except socket.timeout:
                    return
            if rng.random() < 0.5:
                s.sendall(frame(1, json.dumps({"cmd": "detach"})))
                s.settimeout(2)
                while s.recv(65536):
                    pass
        finally:
            s.close()


def soak(opt, parent):
    require_executables("soak", [os.path.join(opt.bin_dir, x) for x in ("tether", "tetherd", "tether-holder", "tether-hook")])
    plugins = os.path.abspath(os.path.join(opt.bin_dir, "..", "lib", "tether", "plugins"))
    hook = os.path.join(opt.bin_dir, "tether-hook")
    work = os.path.join(parent, "work")
    os.makedirs(work)
    record = os.path.join(work, "notified.jsonl")
    config = os.path.join(work, "config.yaml")

    def write_config(cooldown):
        with open(config, "w") as f:
            f.write(CONFIG % {"plugins": plugins, "record": record, "cooldown": cooldown})

    write_config("1s")
    d = TetherDaemon(opt.bin_dir, parent)
    d.env["TETHER_CONFIG"] = config
    stop_file = os.path.join(work, "stop")
    samples, restarts, reloads = [], 0, 0
    started = now()
    end_at = started + opt.minutes * 60
    quiet_from = started + opt.minutes * 60 * 2 / 3  # no kills in the last third
    stop = threading.Event()
    with d:
        db = os.path.join(d.state_dir, "events.db")
        sids = []
        for i in range(opt.sessions):
            out = d.run("run", "-d", "--json", "--name", "agent-%d" % i, "--", sys.executable, "-c", AGENT, str(i),
                        os.path.join(work, "stats-%d.json" % i), stop_file, hook)
            sids.append(json.loads(out)["session"])
        attacher = Attacher(d.socket, sids, stop)
        attacher.start()
        rng = random.Random(42)
        kill_every = (opt.minutes * 6, opt.minutes * 12)  # seconds: 3 to 6 min in a 30 min run
        next_kill = started + rng.uniform(*kill_every)
        next_reload = started + 60
        next_sample = started + 15
        try:
            while now() < end_at:
                t = now()
                if t >= next_sample:
                    pid = d.lock_pid()
                    sample = {"min": round((t - started) / 60, 2), "pid": pid, "rss_kib": rss_kib(pid) if pid else 0,
                              "fds": fd_count(pid), "quiet": t >= quiet_from,
                              "holders": sum(1 for p, s, a in processes() if a[0].endswith(b"tether-holder") and s != "Z")}
                    samples.append(sample)
                    print("  t=%5.1f min  pid %d  RSS %6d KiB  fds %3d  holders %d%s" % (
                        sample["min"], pid, sample["rss_kib"], sample["fds"], sample["holders"],
                        "  (quiet)" if sample["quiet"] else ""), flush=True)
                    next_sample = t + 30
                if t >= next_reload:
                    write_config(rng.choice(["1s", "5s", "30s"]))
                    d.run("config", "reload")
                    reloads += 1
                    next_reload = t + 60
                if t >= next_kill and t < quiet_from:
                    pid = d.lock_pid()
                    os.kill(pid, signal.SIGKILL)
                    wait_for(lambda: not os.path.exists("/proc/%d" % pid) or open("/proc/%d/stat" % pid).read().split(") ")[1][0] == "Z",
                             10, "the killed daemon to go")
                    time.sleep(rng.uniform(0.5, 5.0))  # agents block once their holder's window is full
                    d.run("daemon", "start")
                    d.pid = d.lock_pid()
                    restarts += 1
                    print("  t=%5.1f min  killed tetherd %d (SIGKILL), restarted as %d" % ((now() - started) / 60, pid, d.pid),
                          flush=True)
                    next_kill = now() + rng.uniform(*kill_every)
                time.sleep(0.5)
        finally:
            stop.set()
            open(stop_file, "w").close()
        attacher.join(10)
        stats = {}
        for i, sid in enumerate(sids):
            path = os.path.join(work, "stats-%d.json" % i)
            wait_for(lambda: os.path.exists(path), 60, "agent %d to finish" % i)
            stats[sid] = json.load(open(path))
        # Every byte written is in the log before we compare (the agents idle now).
        for sid in sids:
            wait_for(lambda: session_bytes(db, sid)[0] >= stats[sid]["bytes"], 60, "session %d's output in the log" % sid)
        bad = []
        for sid in sids:
            n, digest = session_bytes(db, sid)
            if n != stats[sid]["bytes"] or digest != stats[sid]["sha256"]:
                bad.append("session %d: log %d bytes %s, program wrote %d bytes %s" % (
                    sid, n, digest[:12], stats[sid]["bytes"], stats[sid]["sha256"][:12]))
        hooks_sent = sum(s["hooks"] for s in stats.values())
        hooks_logged = count_events(db, KIND["HookReceived"])
        verify = d.run("admin", "verify").strip()
        for sid in sids:
            d.run("kill", str(sid), "--signal", "KILL")
        wait_for(lambda: all(s["state"] == "exited" for s in json.loads(d.run("ls", "--json", "--all"))), 60,
                 "every session to end")
        daemon_pid = d.lock_pid()
        quiet = [s for s in samples if s["quiet"] and s["pid"] == daemon_pid]
    time.sleep(2)
    left = [(p, s, a[0].decode(errors="replace")) for p, s, a in processes()
            if any(work.encode() in x or d.state_dir.encode() in x for x in a) or
            (s == "Z" and a[0].endswith((b"tether-holder", b"tetherd")))]
    total = sum(s["bytes"] for s in stats.values())
    rss = [s["rss_kib"] for s in quiet]
    fds = [s["fds"] for s in quiet]
    print("sessions %d, %.0f min, %.1f MB of output, %d lines, %d daemon kills, %d reloads, %d attaches (%d refused "
          "while restarting)" % (len(sids), opt.minutes, total / 1e6, sum(s["lines"] for s in stats.values()), restarts,
                                reloads, attacher.attaches, attacher.failures))
    print("hooks: %d called, %d logged (the rest fell while the daemon was down: tether-hook fails open)" % (hooks_sent, hooks_logged))
    print("admin verify: %s" % verify)
    if rss:
        print("quiet stretch (%d samples, no kills): RSS %d..%d KiB, fds %d..%d" % (len(rss), min(rss), max(rss), min(fds), max(fds)))
    for line in bad:
        print("LOST OR DUPLICATED: " + line)
    for p, s, a in left:
        print("LEFT BEHIND: pid %d state %s %s" % (p, s, a))
    flat = len(rss) >= 2 and max(rss) - min(rss) <= max(4096, min(rss) // 10) and max(fds) - min(fds) <= 2
    ok = not bad and not left and "ok" in verify and (flat or not rss)
    print("soak: %s: %d sessions, %.0f min, %.0f MB, %d kills; every byte once: %s; RSS %s..%s KiB and fds %s..%s over the "
          "quiet stretch; left behind: %d" % ("PASS" if ok else "FAIL", len(sids), opt.minutes, total / 1e6, restarts,
                                               "yes" if not bad else "NO", min(rss) if rss else "?", max(rss) if rss else "?",
                                               min(fds) if fds else "?", max(fds) if fds else "?", len(left)))
    return ok


def main():
    ap = bench_arguments("soak: a long, busy, faulty run; every byte logged once, memory flat",
                         "3 minutes with 4 sessions")
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--sessions", type=int, default=16)
    opt = parse_bench_arguments(ap, quick={"minutes": 3, "sessions": 4})
    ok = run_bench("soak", opt, lambda parent: soak(opt, parent))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
