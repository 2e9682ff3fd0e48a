"""What the Python benchmarks share: the e2e harness's pieces (frames, process checks,
resident memory), a daemon in a temporary directory, the common flags, statistics and
errors. A benchmark fails by raising BenchError; run_bench reports it and cleans up."""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from tether_harness import KIND, XDisplay, daemon_lock_pid, frame, pid_alive, rss_kib, stored_size  # noqa: E402,F401  (re-exported)

HERE = os.path.dirname(os.path.abspath(__file__))


class BenchError(Exception):
    pass


def now():
    return time.monotonic()


def median_range(xs):
    return statistics.median(xs), min(xs), max(xs)


def percentile(xs, q):
    """Linear interpolation between closest ranks (numpy's default)."""
    s = sorted(xs)
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def proc_cpu_seconds(pid):
    """utime + stime of one process (not its children), from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for(pred, timeout, what, interval=0.05):
    deadline = now() + timeout
    while now() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise BenchError("timed out after %d s waiting for %s" % (timeout, what))


def run_checked(argv, env=None, timeout=120):
    try:
        p = subprocess.run(argv, env=env, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError("%s: no exit after %d s (killed)" % (" ".join(argv), timeout))
    if p.returncode != 0:
        raise BenchError("%s: exit %d: %s" % (" ".join(argv), p.returncode,
                                              (p.stderr or p.stdout).decode(errors="replace").strip()))
    return p.stdout.decode(errors="replace")


# ---- the flags every benchmark takes, and its run ------------------------------------------

def bench_arguments(description, quick_help):
    """An ArgumentParser with --build, --bin-dir, --dir and --quick."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build-bench"),
                    help="the build directory (default: build-bench beside bench/)")
    ap.add_argument("--bin-dir", help="where tether, tetherd and the helpers are (default: BUILD/daemon)")
    ap.add_argument("--dir", default=tempfile.gettempdir(), help="where temporary directories go ($TMPDIR or /tmp)")
    ap.add_argument("--quick", action="store_true", help=quick_help)
    return ap


def parse_bench_arguments(ap, quick=None):
    """Parses; --quick sets each flag of quick ({"mb": 20}) that was not given itself."""
    opt = ap.parse_args()
    for key, value in (quick or {}).items():
        if opt.quick and "--" + key.replace("_", "-") not in sys.argv:
            setattr(opt, key, value)
    opt.bin_dir = opt.bin_dir or os.path.join(opt.build, "daemon")
    return opt


def logged_output(db, sid):
    """(bytes, time of the last append) of a session's OutputChunk events, from the log
    itself; a payload stored compressed counts as the bytes it holds."""
    nbytes, last = 0, None
    for payload, codec, t in db.execute("SELECT payload, codec, time FROM events WHERE session=? AND kind=?",
                                        (sid, KIND["OutputChunk"])):
        nbytes += stored_size(payload, codec)
        last = t if last is None else max(last, t)
    return nbytes, last


def require_executables(name, paths):
    for exe in paths:
        if not os.access(exe, os.X_OK):
            sys.exit("%s: %s is missing; build with bench/run or cmake --build" % (name, exe))


def run_bench(name, opt, body):
    """Runs body(parent) in a fresh temporary directory that is removed afterwards, SIGTERM
    unwinding like ^C so that every finally runs. Returns body's value; a BenchError is
    printed and the benchmark exits 1."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parent = tempfile.mkdtemp(prefix="tether-%s-" % name.replace("_", "-"), dir=opt.dir)
    try:
        return body(parent)
    except BenchError as e:
        print("%s: %s" % (name, e), file=sys.stderr)
        sys.exit(1)
    finally:
        shutil.rmtree(parent, ignore_errors=True)


# ---- a daemon of the build under test ---------------------------------------------------------

class Closing:
    """A context manager over open() and close(): a failed open() closes what it began."""

    def __enter__(self):
        try:
            self.open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()


class TetherDaemon(Closing):
    """tetherd in a fresh temporary directory, started with `tether daemon start`.
    close() stops it (SIGKILL by its pid if stop fails) and removes the directory."""

    def __init__(self, bin_dir, parent):
        self.tether = os.path.join(bin_dir, "tether")
        self.root = tempfile.mkdtemp(prefix="tether-bench-", dir=parent)
        self.state_dir = os.path.join(self.root, "state")
        self.socket = os.path.join(self.root, "tetherd.sock")
        self.env = dict(os.environ, TETHER_STATE_DIR=self.state_dir, TETHER_SOCKET=self.socket)
        for k in ("TETHER_SESSION", "TMUX"):
            self.env.pop(k, None)
        self.pid = 0

    def open(self):
        out = run_checked(self.cli("daemon", "start"), self.env)
        m = re.search(r"pid (\d+)", out)
        self.pid = int(m.group(1)) if m else self.lock_pid()
        if not self.pid:
            raise BenchError("tether daemon start: no pid in %r" % out)

    def cli(self, *args):
        return [self.tether, "--state-dir", self.state_dir, "--socket", self.socket] + list(args)

    def run(self, *args, timeout=120):
        return run_checked(self.cli(*args), self.env, timeout)

    def lock_pid(self):
        return daemon_lock_pid(self.state_dir)

    def session(self, sid):
        for s in json.loads(self.run("ls", "--json", "--all")):
            if s["id"] == sid:
                return s
        raise BenchError("session %d is not in tether ls" % sid)

    def close(self):
        self.pid = self.pid or self.lock_pid()
        try:
            if self.pid and pid_alive(self.pid):
                try:
                    subprocess.run(self.cli("daemon", "stop"), env=self.env, capture_output=True, timeout=30)
                except subprocess.TimeoutExpired:
                    pass
                deadline = now() + 10
                while pid_alive(self.pid) and now() < deadline:
                    time.sleep(0.02)
                if pid_alive(self.pid):
                    os.kill(self.pid, signal.SIGKILL)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
