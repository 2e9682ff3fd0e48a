#!/usr/bin/env python3
"""bench_hook: what one hook event costs the agent, as whole processes (spawn to reap),
against the baselines of perf-baselines §4. In alternating rounds it runs tether-hook
with a real Claude Code Stop payload against a live daemon and session, a bare static C
client sending the same frames (the floor), a Python hook script doing the same, and
tether-hook with the daemon down. It checks every exit status and output, and that the
daemon logged one HookReceived per hook sent. Stdlib only; the last line printed is the
summary bench/run keeps. The daemon and temporary directory it starts are removed on
the way out, and it only ever kills pids it started."""

import gc
import json
import os
import random
import shlex
import shutil
import signal
import sqlite3
import statistics
import sys
import time
from collections import Counter

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from bench_support import (KIND, BenchError, TetherDaemon, bench_arguments, median_range, parse_bench_arguments, percentile,
                           pid_alive, proc_cpu_seconds, require_executables, run_bench)

# Claude Code 2.1.330's Stop payload, verbatim from agent-hooks.md §1.8 (run 4), plus
# the newline a hook's stdin ends with.
STOP_PAYLOAD = (
    b'{"session_id":"f183e74f-41c7-4a96-957e-4256e11bab7c","transcript_path":"/home/u/.claude/projects/'
    b'-home-u-proj/f183e74f-41c7-4a96-957e-4256e11bab7c.jsonl","cwd":"/home/u/proj","prompt_id":'
    b'"9168b273-f868-4143-bd22-040a20852ed7","permission_mode":"default","effort":{"level":"medium"},'
    b'"hook_event_name":"Stop","stop_hook_active":false,"last_assistant_message":"Done. This is a mock reply.",'
    b'"background_tasks":[],"session_crons":[]}\n')

# The Python hook people write today, reduced to what tether-hook does: no json module
# (the request is formatted), so this baseline is as cheap as Python gets. Exit codes
# as bare_hook_client: 0 an answer frame came, 3 the daemon closed without one.
PYTHON_HOOK = r'''import os, socket, struct, sys

def frame(kind, body):
    return struct.pack(">IB", len(body), kind) + body

def main():
    payload = sys.stdin.buffer.read()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.environ["TETHER_SOCKET"])
    hello = b'{"hello":"tether","protocol":1,"version":"py","who":"python-hook"}'
    req = ('{"id":1,"cmd":"hook","agent":"claude","session":"%s","wait_ms":0}' % os.environ["TETHER_SESSION"]).encode()
    s.sendall(frame(1, hello) + frame(1, req) + frame(2, payload))
    f = s.makefile("rb")
    while True:
        head = f.read(5)
        if not head:
            return 3
        n, kind = struct.unpack(">IB", head)
        body = f.read(n)
        if len(body) < n:
            return 1
        if kind == 2:
            sys.stdout.buffer.write(body)
            return 0

sys.exit(main())
'''

ANSWER_CODES = {0: "answer frame", 3: "closed, no answer frame"}


class Client:
    """One way of running a hook: a command, its environment, the exit codes that count as
    success, and whether the daemon should log it. Collects per-run figures."""

    def __init__(self, key, label, argv, env, ok_codes, logged):
        self.key, self.label, self.argv, self.env = key, label, argv, env
        self.ok_codes, self.logged = ok_codes, logged
        self.ms, self.cpu_ms = [], []
        self.round_ms = []      # per round: the list of that round's ms
        self.codes = Counter()  # every exit code seen, warm-up included
        self.spawned = 0
        self.bad_stdout = self.bad_stderr = 0
        self.stderr_sample = b""


def run_once(c, in_fd, out_fd, err_fd):
    """Spawns c with the payload on stdin and stdout/stderr into files; returns wall ms
    from before posix_spawn to after wait4, and the child's CPU ms. (Not its peak RSS:
    posix_spawn's vfork child counts the parent's pages until exec.)"""
    os.lseek(in_fd, 0, os.SEEK_SET)
    actions = [(os.POSIX_SPAWN_DUP2, in_fd, 0), (os.POSIX_SPAWN_DUP2, out_fd, 1), (os.POSIX_SPAWN_DUP2, err_fd, 2)]
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(c.argv[0], c.argv, c.env, file_actions=actions)
    _, status, ru = os.wait4(pid, 0)
    t1 = time.perf_counter_ns()
    c.spawned += 1
    c.codes[os.waitstatus_to_exitcode(status)] += 1
    # out_fd and err_fd are O_APPEND, so truncating is enough to reuse them.
    if os.fstat(out_fd).st_size:
        c.bad_stdout += 1
        os.ftruncate(out_fd, 0)
    if os.fstat(err_fd).st_size:
        c.bad_stderr += 1
        if not c.stderr_sample:
            os.lseek(err_fd, 0, os.SEEK_SET)
            c.stderr_sample = os.read(err_fd, 300)
        os.ftruncate(err_fd, 0)
    return (t1 - t0) / 1e6, (ru.ru_utime + ru.ru_stime) * 1000


def problems(c):
    out = []
    bad = {code: n for code, n in c.codes.items() if code not in c.ok_codes}
    if bad:
        out.append("%s: unexpected exit codes %s" % (c.label, dict(sorted(bad.items()))))
    if c.bad_stdout:
        out.append("%s: printed something on stdout in %d runs" % (c.label, c.bad_stdout))
    if c.bad_stderr:
        out.append("%s: wrote to stderr in %d runs, e.g. %r" % (c.label, c.bad_stderr, c.stderr_sample))
    return out


def log_hooks(state_dir):
    """Every HookReceived (kind 15) in the log: (session, payload JSON)."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(state_dir, "events.db"), uri=True)
    try:
        return [(s, json.loads(p)) for s, p in db.execute("SELECT session, payload FROM events WHERE kind=?", (KIND["HookReceived"],))]
    finally:
        db.close()


def stop_daemon(d, sid, sleep_pid):
    """Kills the session, stops the daemon (which commits what is staged) and waits for
    its pid to go, so the log is complete and closed before it is read."""
    d.run("kill", str(sid))
    d.run("daemon", "stop", timeout=30)
    deadline = time.monotonic() + 10
    while (pid_alive(d.pid) or pid_alive(sleep_pid)) and time.monotonic() < deadline:
        time.sleep(0.02)
    if pid_alive(sleep_pid):
        os.kill(sleep_pid, signal.SIGKILL)
    if pid_alive(d.pid):
        raise BenchError("tetherd (pid %d) is still running 10 s after daemon stop" % d.pid)


def measure(opt, parent):
    d = TetherDaemon(opt.bin_dir, parent)
    # Defaults only: no configuration from the environment or ~/.config.
    d.env.pop("TETHER_CONFIG", None)
    d.env["XDG_CONFIG_HOME"] = os.path.join(d.root, "config")
    payload_path = os.path.join(parent, "stop.json")
    with open(payload_path, "wb") as f:
        f.write(STOP_PAYLOAD)
    script = os.path.join(parent, "hook.py")
    with open(script, "w") as f:
        f.write(PYTHON_HOOK)

    with d:
        started = json.loads(d.run("run", "-d", "--json", "--", "sleep", "600"))
        sid, sleep_pid = started["session"], started["pid"]
        env = dict(os.environ, TETHER_SOCKET=d.socket, TETHER_SESSION=str(sid))
        for k in ("TETHER_HOOK_WAIT", "PYTHONSTARTUP", "PYTHONPATH", "PYTHONHOME"):
            env.pop(k, None)
        down_env = dict(env, TETHER_SOCKET=os.path.join(parent, "absent", "tetherd.sock"))
        clients = [
            Client("a", "tether-hook", [opt.hook, "--agent", "claude"], env, {0}, True),
            Client("b", "bare C", [opt.bare], env, set(ANSWER_CODES), True),
            Client("c", "python", opt.python + [script], env, set(ANSWER_CODES), True),
            Client("d", "daemon down", [opt.hook, "--agent", "claude"], down_env, {0}, False),
        ]
        print("hook: one Claude Code Stop payload (%d bytes) per run, session %d (`sleep 600`), %d rounds of %d runs, "
              "clients interleaved in a new shuffled order every run, %d untimed warm-up runs each" %
              (len(STOP_PAYLOAD), sid, opt.rounds, opt.runs, opt.warmup))
        print("  tether-hook: %s --agent claude" % opt.hook)
        print("  bare C:      %s (same frames, wait_ms 0, no timeouts)" % opt.bare)
        print("  python:      %s hook.py (socket + struct)" % " ".join(opt.python))
        print("  daemon down: tether-hook with TETHER_SOCKET pointing at a path that does not exist")
        print("  wall time: posix_spawn to wait4, stdin from a file, stdout and stderr to files; no `sh -c`\n")
        print("%-5s %-12s %9s %9s %9s" % ("round", "client", "median ms", "p90 ms", "max ms"))
        sys.stdout.flush()

        in_fd = os.open(payload_path, os.O_RDONLY)
        out_fd = os.open(os.path.join(parent, "stdout"), os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        err_fd = os.open(os.path.join(parent, "stderr"), os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        ratio_ab, ratio_ca = [], []
        # A fresh order every run, so that no client always follows the Python one (which
        # leaves the caches cold) or itself.
        rng = random.Random(1)
        order = list(clients)
        gc.disable()
        try:
            for c in clients:
                for _ in range(opt.warmup):
                    run_once(c, in_fd, out_fd, err_fd)
            cpu0, timed_hooks = proc_cpu_seconds(d.pid), 0
            for rnd in range(1, opt.rounds + 1):
                this = {c.key: [] for c in clients}
                for _ in range(opt.runs):
                    rng.shuffle(order)
                    for c in order:
                        ms, cpu = run_once(c, in_fd, out_fd, err_fd)
                        this[c.key].append(ms)
                        c.ms.append(ms)
                        c.cpu_ms.append(cpu)
                        timed_hooks += c.logged
                for c in clients:
                    c.round_ms.append(this[c.key])
                    print("%-5d %-12s %9.3f %9.3f %9.3f" % (rnd, c.label, statistics.median(this[c.key]),
                                                             percentile(this[c.key], 0.9), max(this[c.key])))
                med = {k: statistics.median(v) for k, v in this.items()}
                ratio_ab.append(med["a"] / med["b"])
                ratio_ca.append(med["c"] / med["a"])
                sys.stdout.flush()
            daemon_cpu = proc_cpu_seconds(d.pid) - cpu0
        finally:
            gc.enable()
            for fd in (in_fd, out_fd, err_fd):
                os.close(fd)

        stop_daemon(d, sid, sleep_pid)
        hooks = log_hooks(d.state_dir)

    sent = sum(c.spawned for c in clients if c.logged)
    issues = [p for c in clients for p in problems(c)]
    if len(hooks) != sent:
        issues.append("the log holds %d HookReceived events, %d hooks were sent (tether-hook, bare C, python)" %
                      (len(hooks), sent))
    wrong = sum(1 for s, p in hooks if s != sid or p.get("agent") != "claude" or
                p.get("payload", {}).get("hook_event_name") != "Stop")
    if wrong:
        issues.append("%d HookReceived events are not a Stop of session %d from claude" % (wrong, sid))
    return clients, ratio_ab, ratio_ca, {"hooks": len(hooks), "sent": sent, "daemon_cpu": daemon_cpu,
                                         "timed_hooks": timed_hooks, "issues": issues}


def report(opt, clients, ratio_ab, ratio_ca, facts):
    by = {c.key: c for c in clients}
    print("\n%-12s %9s %9s %9s %24s %8s" % ("client", "median ms", "p90 ms", "max ms", "(round medians min-max)",
                                          "CPU ms"))
    for c in clients:
        rmed = [statistics.median(r) for r in c.round_ms]
        print("%-12s %9.3f %9.3f %9.3f %24s %8.3f" % (
            c.label, statistics.median(c.ms), percentile(c.ms, 0.9), max(c.ms),
            "(%.3f - %.3f)" % (min(rmed), max(rmed)), statistics.median(c.cpu_ms)))
    print("(all %d timed runs per client pooled; CPU: the child's user+sys from wait4, median)" %
          (opt.rounds * opt.runs))
    print("\nratio of round medians, median (min - max) of %d rounds:" % opt.rounds)
    print("  tether-hook / bare C      %.2f (%.2f - %.2f)   goal <= 1.3" % median_range(ratio_ab))
    print("  python / tether-hook      %.2f (%.2f - %.2f)" % median_range(ratio_ca))
    down = by["d"].ms
    print("\ndaemon down: every run exited 0 with nothing on stdout: %s; %d of %d runs within 50 ms (max %.3f ms)" %
          ("yes" if not problems(by["d"]) else "NO", sum(1 for x in down if x <= 50), len(down), max(down)))
    for key in ("b", "c"):
        c = by[key]
        print("%s: %s" % (c.label, ", ".join("%d %s" % (c.codes[k], v) for k, v in ANSWER_CODES.items())))
    print("tether-hook: %d runs, exit 0 and empty stdout every time: %s" %
          (by["a"].spawned, "yes" if not problems(by["a"]) else "NO"))
    print("daemon: %d HookReceived events logged for %d hooks sent (warm-up included); %.0f us of daemon CPU per hook" %
          (facts["hooks"], facts["sent"], facts["daemon_cpu"] / max(1, facts["timed_hooks"]) * 1e6))
    for issue in facts["issues"]:
        print("FAILED: %s" % issue)
    sys.stdout.flush()


def main():
    ap = bench_arguments("Hook cost: tether-hook vs a bare static C client vs a Python hook",
                         "3 rounds of 50 runs (unless --rounds / --runs are given)")
    ap.add_argument("--bare", help="the bare_hook_client binary (default: BUILD/bench/bare_hook_client)")
    ap.add_argument("--python", default=None,
                    help="interpreter and flags for the Python hook (default: '/usr/bin/python3 -S', "
                         "Debian's interpreter, as in the baselines; else this interpreter with -S)")
    ap.add_argument("--rounds", type=int, default=7, help="alternating rounds; default 7")
    ap.add_argument("--runs", type=int, default=200, help="runs of each client per round; default 200")
    ap.add_argument("--warmup", type=int, default=5, help="untimed runs of each client first; default 5")
    opt = parse_bench_arguments(ap, quick={"rounds": 3, "runs": 50})
    opt.hook = os.path.join(opt.bin_dir, "tether-hook")
    opt.bare = opt.bare or os.path.join(opt.build, "bench", "bare_hook_client")
    if opt.python is None:
        opt.python = "/usr/bin/python3 -S" if os.access("/usr/bin/python3", os.X_OK) else sys.executable + " -S"
    opt.python = shlex.split(opt.python)
    if not os.path.isabs(opt.python[0]):
        opt.python[0] = shutil.which(opt.python[0]) or opt.python[0]
    require_executables("bench_hook", [os.path.join(opt.bin_dir, "tether"), os.path.join(opt.bin_dir, "tetherd"),
                                       opt.hook, opt.bare, opt.python[0]])
    result = run_bench("bench_hook", opt, lambda parent: measure(opt, parent))
    clients, ratio_ab, ratio_ca, facts = result
    report(opt, clients, ratio_ab, ratio_ca, facts)
    by = {c.key: c for c in clients}
    print("hook: tether-hook %.2f ms (p90 %.2f), %.2fx bare C (goal 1.3), python %.1fx slower (%.1f ms); "
          "daemon down %.2f ms (max %.1f, limit 50); %d/%d hooks logged%s" % (
              statistics.median(by["a"].ms), percentile(by["a"].ms, 0.9), statistics.median(ratio_ab),
              statistics.median(ratio_ca), statistics.median(by["c"].ms), statistics.median(by["d"].ms),
              max(by["d"].ms), facts["hooks"], facts["sent"], "; FAILED" if facts["issues"] else ""))
    return 1 if facts["issues"] else 0


if __name__ == "__main__":
    sys.exit(main())
