#!/usr/bin/env python3
"""bench_holder: what a session's tether-holder costs. Part 1 reads the resident memory
(VmRSS, and Pss, since the static binary's pages are shared) of N idle holders, and of
one holder whose window filled up (daemon stopped) and then drained. Part 2 floods a
session with output through daemon + holder at several holder windows, beside a raw PTY
reader and the pre-holder daemon (built once from --baseline-commit in a temporary git
worktree), in rotating rounds, and reports throughput ratios within each round and the
holder's CPU per MB relayed. Stdlib only. The last line printed is the summary bench/run
keeps. Every daemon, holder, agent and temporary directory it starts is removed on the
way out, by pid."""

import json
import os
import shlex
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

from bench_session_output import COLS, ROWS, run_raw, write_test_file
from bench_support import logged_output as bench_logged_output
from bench_support import (KIND, BenchError, TetherDaemon, bench_arguments, median_range, now, parse_bench_arguments,
                           proc_cpu_seconds, require_executables, run_bench, run_checked, wait_for)

CLAUDE_PTY_HOST = "Claude Code's PTY host: 66-68 MB RSS, 28 MB Pss (research/claude-bg.md)"


def kib(n):
    return "%d KiB" % n


def window_label(nbytes):
    return "%d KiB" % (nbytes >> 10) if nbytes < 1 << 20 else "%d MiB" % (nbytes >> 20)


# ---- /proc ------------------------------------------------------------------------------

def proc_alive(pid):
    """Running and not a zombie (an orphaned holder is re-parented to a pid 1 that may
    never reap it)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def proc_memory(pid):
    """KiB: VmRSS and VmHWM from /proc/PID/status, Pss and Private_* from smaps_rollup."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[k] = int(v.split()[0])
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Pss", "Private_Clean", "Private_Dirty"):
                out[k] = int(v.split()[0])
    out["Private"] = out.get("Private_Clean", 0) + out.get("Private_Dirty", 0)
    return out


def kill_by_pid(pids, grace=5.0):
    """SIGTERM, then SIGKILL after grace, for each pid still alive (pids we started)."""
    live = [p for p in pids if p and proc_alive(p)]
    for p in live:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = now() + grace
    while any(proc_alive(p) for p in live) and now() < deadline:
        time.sleep(0.05)
    for p in live:
        if proc_alive(p):
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass


# ---- daemons ----------------------------------------------------------------------------

class Daemon(TetherDaemon):
    """tetherd (this build's or the baseline's) started by running `tetherd --daemonize`
    itself, so that it takes tetherd options (--holder-window). close() ends the
    sessions (`daemon stop --end-sessions` when the daemon has holders, since a plain stop
    leaves them running), then kills by pid any agent or holder still alive."""

    def __init__(self, bin_dir, parent, tetherd_args=(), holders=True):
        super().__init__(bin_dir, parent)
        self.tetherd = os.path.join(bin_dir, "tetherd")
        self.tetherd_args = list(tetherd_args)
        self.holders = holders
        self.pids = []  # agents and holders seen in ls

    def open(self):
        run_checked([self.tetherd, "--daemonize", "--state-dir", self.state_dir, "--socket", self.socket] +
                    self.tetherd_args, self.env)
        self.pid = self.lock_pid()
        if not self.pid:
            raise BenchError("%s started, but its lock file names no pid" % self.tetherd)

    def start(self, command, size=(COLS, ROWS)):
        """Runs command (argv) in a new detached session; returns (id, agent pid, holder pid)."""
        sid = json.loads(self.run("run", "-d", "--json", "--size", "%dx%d" % size, "--", *command))["session"]
        s = self.session(sid)
        agent, holder = int(s.get("pid") or 0), int(s.get("holder_pid") or 0)
        self.pids += [agent, holder]
        if self.holders and not holder:
            raise BenchError("tether ls shows no holder_pid for session %d" % sid)
        return sid, agent, holder

    def close(self):
        try:
            pid = self.pid or self.lock_pid()
            if self.holders and pid and proc_alive(pid):
                try:
                    os.kill(pid, signal.SIGCONT)  # in case part 1 stopped it
                    subprocess.run(self.cli("daemon", "stop", "--end-sessions"), env=self.env, capture_output=True,
                                   timeout=30)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            try:
                super().close()
            finally:
                kill_by_pid(self.pids)


def logged_output(state_dir, sid):
    """(bytes, wall-clock time in s of the last OutputChunk append) from the log itself."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(state_dir, "events.db"), uri=True)
    try:
        nbytes, last = bench_logged_output(db, sid)
    finally:
        db.close()
    return nbytes, (last or 0) / 1e6


def wait_bytes_out(d, sid, expected, poll_ms, timeout=600):
    """Polls ls (every 100 ms, every poll_ms near the end) until the session shows every
    byte; returns the monotonic time it did."""
    deadline = now() + timeout
    while now() < deadline:
        got = d.session(sid)["bytes_out"]
        if got == expected:
            return now()
        if got > expected:
            raise BenchError("session %d shows %d output bytes, expected %d" % (sid, got, expected))
        time.sleep(poll_ms / 1000 if got >= 0.9 * expected else 0.1)
    raise BenchError("session %d: not all %d bytes within %d s" % (sid, expected, timeout))


def wait_logged(d, sid, expected):
    """Until the log holds every byte (ls can be a group commit ahead of the disk)."""
    return wait_for(lambda: (lambda r: r if r[0] == expected else None)(logged_output(d.state_dir, sid)), 30,
                    "the log of session %d to hold %d bytes" % (sid, expected))


# ---- the baseline: the daemon before holders ---------------------------------------------

def build_baseline(opt):
    """bin dir with tether and tetherd of opt.baseline_commit (Release), built once into
    BUILD/baseline-<sha> from a temporary detached git worktree under --dir, which is
    removed afterwards. Later runs reuse the binaries."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    commit = run_checked(["git", "-C", repo, "rev-parse", "--verify", opt.baseline_commit + "^{commit}"]).strip()
    bin_dir = os.path.join(os.path.abspath(opt.build), "baseline-" + commit[:12])
    if all(os.access(os.path.join(bin_dir, x), os.X_OK) for x in ("tether", "tetherd")):
        return bin_dir, commit
    tmp = tempfile.mkdtemp(prefix="tether-bench-baseline-", dir=opt.dir)
    src, build, log = (os.path.join(tmp, x) for x in ("src", "build", "build.log"))
    t = now()
    print("building the baseline %s (tether, tetherd; Release) in a temporary worktree, once ..." % commit[:12])
    sys.stdout.flush()
    try:
        run_checked(["git", "-C", repo, "worktree", "add", "--detach", src, commit])
        try:
            launcher = ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache", "-DCMAKE_C_COMPILER_LAUNCHER=ccache"] \
                if shutil.which("ccache") else []
            with open(log, "wb") as out:
                ok = subprocess.run(["cmake", "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=Release"] + launcher,
                                    stdout=out, stderr=subprocess.STDOUT).returncode == 0 and \
                     subprocess.run(["cmake", "--build", build, "-j2", "--target", "tether", "tetherd"],
                                    stdout=out, stderr=subprocess.STDOUT).returncode == 0
            if not ok:
                with open(log, errors="replace") as f:
                    sys.stderr.write("".join(f.readlines()[-40:]))
                raise BenchError("building %s failed (see above)" % commit[:12])
            staging = bin_dir + ".part"
            shutil.rmtree(staging, ignore_errors=True)
            os.makedirs(staging)
            for x in ("tether", "tetherd"):
                shutil.copy2(os.path.join(build, "daemon", x), staging)
            shutil.rmtree(bin_dir, ignore_errors=True)
            os.rename(staging, bin_dir)
        finally:
            subprocess.run(["git", "-C", repo, "worktree", "remove", "--force", src], capture_output=True)
            subprocess.run(["git", "-C", repo, "worktree", "prune"], capture_output=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("  built in %.0f s, kept in %s\n" % (now() - t, bin_dir))
    return bin_dir, commit


# ---- part 1: resident memory -------------------------------------------------------------

def part_memory(opt, parent, path, expected):
    n = opt.sessions
    print("holder part 1: resident memory of %d holders, each running `sleep 3600` at %dx%d, window %s (default)" %
          (n, COLS, ROWS, window_label(1 << 20)))
    res = {}
    with Daemon(opt.bin_dir, parent) as d:
        holders = [d.start(["sleep", "3600"])[2] for _ in range(n)]
        time.sleep(0.5)
        mems = [proc_memory(h) for h in holders]
        daemon_mem = proc_memory(d.pid)
        print("\n%-26s %10s %10s %10s %10s" % ("per holder (KiB)", "VmRSS", "Pss", "Private", "RssFile"))
        for label, f in (("median", statistics.median), ("min", min), ("max", max)):
            print("%-26s %10d %10d %10d %10d" % (label, f(m["VmRSS"] for m in mems), f(m["Pss"] for m in mems),
                                                 f(m["Private"] for m in mems), f(m["RssFile"] for m in mems)))
        pss_sum = sum(m["Pss"] for m in mems)
        print("all %d holders: Pss %d KiB in total; tetherd beside them: VmRSS %d KiB, Pss %d KiB" %
              (n, pss_sum, daemon_mem["VmRSS"], daemon_mem["Pss"]))
        res.update(rss=statistics.median(m["VmRSS"] for m in mems), pss=statistics.median(m["Pss"] for m in mems),
                   rss_max=max(m["VmRSS"] for m in mems), pss_sum=pss_sum, daemon_rss=daemon_mem["VmRSS"])

        # One session's window filled while the daemon is stopped, then drained. The agent
        # waits on a fifo, so the flood starts only once the daemon is stopped.
        fifo = os.path.join(parent, "go")
        os.mkfifo(fifo)
        script = "read x < %s; cat %s; exec sleep 3600" % (shlex.quote(fifo), shlex.quote(path))
        sid, _, holder = d.start(["sh", "-c", script])
        idle = proc_memory(holder)
        os.kill(d.pid, signal.SIGSTOP)
        try:
            with open(fifo, "w") as f:
                f.write("go\n")
            last = [-1, now()]

            def settled():  # the holder's RSS unchanged for a second: window full, agent blocked
                rss = proc_memory(holder)["VmRSS"]
                if rss != last[0]:
                    last[:] = [rss, now()]
                return now() - last[1] >= 1.0

            wait_for(settled, 60, "the holder's window to fill", interval=0.1)
            full = proc_memory(holder)
        finally:
            os.kill(d.pid, signal.SIGCONT)
        wait_bytes_out(d, sid, expected, 10)
        wait_logged(d, sid, expected)
        time.sleep(1.0)  # the last acknowledgements
        drained = proc_memory(holder)
        print("\none holder through a %.0f MB flood, window %s; the daemon stopped (SIGSTOP) until the holder's RSS "
              "settled, then resumed:" % (expected / 1e6, window_label(1 << 20)))
        print("%-26s %10s %10s %10s %10s" % ("state (KiB)", "VmRSS", "Pss", "Private", "VmHWM"))
        for label, m in (("idle, before", idle), ("window full", full), ("drained, all logged", drained)):
            print("%-26s %10d %10d %10d %10d" % (label, m["VmRSS"], m["Pss"], m["Private"], m["VmHWM"]))
        res.update(full_rss=full["VmRSS"], drained_rss=drained["VmRSS"], drained_pss=drained["Pss"])

    if opt.baseline_bin:
        with Daemon(opt.baseline_bin, parent, holders=False) as b:
            for _ in range(n):
                b.start(["sleep", "3600"])
            time.sleep(0.5)
            bm = proc_memory(b.pid)
        print("\nthe pre-holder tetherd (%s) with the same %d sessions: VmRSS %d KiB, Pss %d KiB" %
              (opt.baseline_commit[:12], n, bm["VmRSS"], bm["Pss"]))
        res["baseline_daemon_rss"] = bm["VmRSS"]
    print("goal: < 1 MB (1024 KiB) per holder; %s\n" % CLAUDE_PTY_HOST)
    return res


# ---- part 2: the output path ---------------------------------------------------------------

def flood_tether(bin_dir, parent, path, expected, tetherd_args, holders, poll_ms):
    """One fresh daemon; `sh -c 'cat FILE; exec sleep 3600'` in a session. Timed from
    `tether run` to the last OutputChunk's append (the log's own wall clock) and until ls
    shows every byte. The agent then sleeps, so that its holder can still be read."""
    with Daemon(bin_dir, parent, tetherd_args, holders) as d:
        cpu0 = proc_cpu_seconds(d.pid)
        wall0, t0 = time.time(), now()
        sid, agent, holder = d.start(["sh", "-c", "cat %s; exec sleep 3600" % shlex.quote(path)])
        t_ls = wait_bytes_out(d, sid, expected, poll_ms)
        r = {"ls": t_ls - t0}
        if holder:
            r["holder_cpu"] = proc_cpu_seconds(holder)
            r["holder_hwm"] = proc_memory(holder)["VmHWM"]
        nbytes, last = wait_logged(d, sid, expected)
        r["seconds"] = last - wall0
        d.run("screen", str(sid), timeout=900)  # the screen has caught up: the daemon's CPU is all in
        r["daemon_cpu"] = proc_cpu_seconds(d.pid) - cpu0
        return r


def part_output(opt, parent, path, size, expected):
    configs = [("raw", None)]
    for w in opt.windows:
        configs.append(("holder " + window_label(w), w))
    if opt.baseline_bin:
        configs.append(("in-daemon", None))
    print("holder part 2: `cat` of %s bytes (%s PTY bytes) of bench_session_output's coloured source-like output "
          "at %dx%d, %d rounds, the order rotated each round" % (f"{size:,}", f"{expected:,}", COLS, ROWS, opt.rounds))
    print("  raw: raw_pty_reader; holder W: this build's daemon + holder, tetherd --holder-window W; in-daemon: "
          "tetherd of %s (the PTY read by the daemon). Fresh daemon per run; timed from `tether run` to the "
          "append of the last OutputChunk (the log's clock)\n" %
          (opt.baseline_commit[:12] if opt.baseline_bin else "-"))
    print("%-5s %-16s %8s %8s %10s %10s %10s" % ("round", "path", "seconds", "MB/s", "daemon s", "holder s",
                                                  "holder HWM"))
    sys.stdout.flush()
    runs = {name: [] for name, _ in configs}
    for rnd in range(opt.rounds):
        order = configs[rnd % len(configs):] + configs[:rnd % len(configs)]
        for name, w in order:
            if name == "raw":
                r = run_raw(opt.raw_reader, path, expected)
                r["daemon_cpu"] = r["cpu"]
            elif name == "in-daemon":
                r = flood_tether(opt.baseline_bin, parent, path, expected, [], False, opt.poll_ms)
            else:
                r = flood_tether(opt.bin_dir, parent, path, expected, ["--holder-window", str(w)], True, opt.poll_ms)
            runs[name].append(r)
            print("%-5d %-16s %8.3f %8.1f %10.2f %10s %10s" % (
                rnd + 1, name, r["seconds"], size / r["seconds"] / 1e6, r["daemon_cpu"],
                "%.2f" % r["holder_cpu"] if "holder_cpu" in r else "-",
                kib(r["holder_hwm"]) if "holder_hwm" in r else "-"))
            sys.stdout.flush()

    def ratios(name, base):
        return [b["seconds"] / x["seconds"] for x, b in zip(runs[name], runs[base])]

    print("\n%-16s %8s %8s %18s %10s %12s %10s %18s %18s" % (
        "path", "seconds", "MB/s", "(min - max)", "daemon s", "holder ms/MB", "holder HWM", "/ raw, per round",
        "/ in-daemon"))
    summary = {}
    for name, _ in configs:
        rs = runs[name]
        secs = statistics.median(r["seconds"] for r in rs)
        mbs = [size / r["seconds"] / 1e6 for r in rs]
        hold = [r["holder_cpu"] * 1000 / (expected / 1e6) for r in rs if "holder_cpu" in r]
        hwm = [r["holder_hwm"] for r in rs if "holder_hwm" in r]
        vs_raw = "%.2f (%.2f-%.2f)" % median_range(ratios(name, "raw")) if name != "raw" else "1"
        vs_base = ("%.2f (%.2f-%.2f)" % median_range(ratios(name, "in-daemon"))
                   if opt.baseline_bin and name not in ("raw", "in-daemon") else "")
        print("%-16s %8.3f %8.1f %18s %10.2f %12s %10s %18s %18s" % (
            name, secs, size / secs / 1e6, "(%.1f - %.1f)" % (min(mbs), max(mbs)),
            statistics.median(r["daemon_cpu"] for r in rs), "%.2f" % statistics.median(hold) if hold else "-",
            kib(statistics.median(hwm)) if hwm else "-", vs_raw, vs_base or ("1" if name == "in-daemon" else "")))
        summary[name] = {"mbs": size / secs / 1e6, "raw": statistics.median(ratios(name, "raw")) if name != "raw" else 1,
                         "base": statistics.median(ratios(name, "in-daemon")) if vs_base else None,
                         "holder_ms_mb": statistics.median(hold) if hold else None}
    print("(MB/s: file bytes / wall time, medians over rounds; ratios are throughput ratios taken within each round, "
          "median (min-max). daemon s: tetherd's utime+stime for the run, screen caught up (raw: reader + cat). "
          "holder ms/MB: the holder's utime+stime per 10^6 PTY bytes relayed. holder HWM: its peak VmRSS)\n")
    return summary


# ---- main ------------------------------------------------------------------------------------

def main():
    ap = bench_arguments("tether-holder's memory, and its cost on the output path beside the raw PTY and the "
                         "pre-holder in-daemon path", "20 MB, 3 rounds (unless --mb / --rounds are given)")
    ap.add_argument("--raw-reader", help="the raw_pty_reader binary (default: BUILD/bench/raw_pty_reader)")
    ap.add_argument("--mb", type=int, default=50, help="flood size in MB (10^6 bytes); default 50")
    ap.add_argument("--rounds", type=int, default=5, help="rounds of part 2; default 5")
    ap.add_argument("--sessions", type=int, default=20, help="idle sessions in part 1; default 20")
    ap.add_argument("--windows", default="65536,1048576,4194304",
                    help="holder windows to compare in part 2, bytes, comma-separated; default 64 KiB, 1 MiB, 4 MiB")
    ap.add_argument("--baseline-commit", default="d8b49e8", help="the pre-holder daemon to compare; default d8b49e8")
    ap.add_argument("--no-baseline", action="store_true", help="do not build or run the pre-holder daemon")
    ap.add_argument("--poll-ms", type=int, default=10, help="tether ls interval near the end of a flood; default 10")
    ap.add_argument("--only", choices=["memory", "output"], help="run only one part")
    opt = parse_bench_arguments(ap, quick={"mb": 20, "rounds": 3})
    opt.windows = [int(w) for w in opt.windows.split(",") if w]
    opt.raw_reader = opt.raw_reader or os.path.join(opt.build, "bench", "raw_pty_reader")
    require_executables("bench_holder", [os.path.join(opt.bin_dir, exe) for exe in ("tether", "tetherd", "tether-holder")]
                        + [opt.raw_reader])

    def body(parent):
        opt.baseline_bin = None
        if not opt.no_baseline:
            opt.baseline_bin, opt.baseline_commit = build_baseline(opt)
        path = os.path.join(parent, "mixed.txt")
        size, newlines = write_test_file(path, opt.mb * 1_000_000)
        expected = size + newlines
        return (part_memory(opt, parent, path, expected) if opt.only != "output" else None,
                part_output(opt, parent, path, size, expected) if opt.only != "memory" else None)

    result = run_bench("bench_holder", opt, body)
    mem, out = result
    parts = []
    if mem:
        parts.append("holder RSS %d KiB, Pss %d KiB idle (goal < 1 MB), %d KiB RSS with a full 1 MiB window, "
                     "%d KiB drained" % (mem["rss"], mem["pss"], mem["full_rss"], mem["drained_rss"]))
    if out:
        w = "holder " + window_label(1 << 20)
        if w in out:
            s = out[w]
            text = "%s %.1f MB/s, %.2fx raw" % (w, s["mbs"], s["raw"])
            if s["base"] is not None:
                text += ", %.2fx in-daemon (%.1f MB/s)" % (s["base"], out["in-daemon"]["mbs"])
            text += ", holder CPU %.2f ms/MB" % s["holder_ms_mb"]
            parts.append(text)
    print("holder: " + "; ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
