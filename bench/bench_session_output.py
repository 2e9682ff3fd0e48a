#!/usr/bin/env python3
"""bench_session_output: what a session costs end to end, against the baselines of
perf-baselines §1. Part 1 cats a large file of terminal output inside a tether session,
a raw forkpty reader and a detached tmux, in alternating rounds, and reports throughput
ratios per round (median, min-max) and how far the screen lags the log at exit. Part 2
times `tether attach` (and `tmux attach`) to a session holding 100k lines until the
screen is fully drawn. Stdlib only. The last line printed is the summary bench/run keeps.
Every daemon, tmux server and temporary directory it starts is removed on the way out."""

import fcntl
import json
import os
import random
import resource
import select
import shlex
import shutil
import signal
import sqlite3
import statistics
import struct
import subprocess
import sys
import termios
import time

from bench_support import (KIND, BenchError, Closing, TetherDaemon, bench_arguments, logged_output, median_range, now,
                           parse_bench_arguments, pid_alive, proc_cpu_seconds, require_executables, run_bench, run_checked)

COLS, ROWS = 200, 50
DETACH_KEY = b"\x1c"  # tether's default, ^\
TMUX_DETACH = b"\x02d"  # tmux's default prefix C-b, then d


# ---- test data -----------------------------------------------------------------------

# Source-like text, in the mix of perf-baselines "Test data" (mixed.txt): plain source,
# bat-style coloured lines, diffs, logs, UTF-8 symbols, long wrapping lines, box panels
# and Ink-style spinner redraws. Generated from a fixed seed, so every run cats the same
# bytes; no tabs, so the PTY changes nothing but \n -> \r\n (ONLCR).
KEYWORDS = ["if", "else", "for", "while", "return", "static", "const", "struct", "def", "class", "import",
            "from", "int", "char", "void", "unsigned", "switch", "case", "break", "self", "None", "True"]
IDENTS = ["buf", "len", "ctx", "node", "value", "result", "offset", "flags", "path", "entry", "items", "size",
          "count", "handler", "state", "config", "session", "event", "stream", "token", "parser", "cursor",
          "payload", "index", "request", "response", "timeout", "errno", "fd", "name", "key", "data"]
FUNCS = ["memcpy", "strlen", "read_chunk", "append", "parse_header", "encode", "decode", "flush", "open_file",
         "get", "update", "resolve", "format", "wait_for", "commit", "render", "split", "join", "lookup"]
TEMPLATES = [
    "{k} ({a} > {b}) {{",
    "    {a} = {f}({b}, {c});",
    "    {k} {a};",
    "}}",
    "#include <{a}.h>",
    "#define {A}_MAX {n}",
    "static int {f}_{a}(struct {b} *{c}, size_t {a}_len)",
    "    for (size_t i = 0; i < {a}->{b}; ++i) {{",
    "        {a}[i] = {b}[i] ^ {n};",
    "def {f}(self, {a}, {b}={n}):",
    "        return self.{a}.{f}({b})",
    "    {a}: dict[str, int] = {{}}",
    "        if {a} is None or not {b}:",
    "            raise ValueError(\"{a} must not be empty: %r\" % ({b},))",
    "/* {a} {b} {c}: {f} keeps the {a} until the {b} is {c} */",
    "    # {f} the {a} before {b}, or the {c} is lost",
    "    {a} = [{b} for {b} in {c} if {b}.{a}]",
    "    assert({a} != NULL && \"{b} must be set\");",
]
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
SYMBOLS = ["✓", "✗", "●", "⏺", "⎿", "→", "•", "…", "⚠", "★"]
KW_256 = "\x1b[38;5;204m"
STR_24 = "\x1b[38;2;230;219;116m"
FN_24 = "\x1b[38;2;166;226;46m"
RESET = "\x1b[0m"


def make_source_pool(rng, n=4000):
    pool = []
    for _ in range(n):
        t = rng.choice(TEMPLATES)
        a, b, c = rng.choice(IDENTS), rng.choice(IDENTS), rng.choice(IDENTS)
        pool.append(" " * (4 * rng.randrange(3)) + t.format(k=rng.choice(KEYWORDS), a=a, b=b, c=c, A=a.upper(),
                                                            f=rng.choice(FUNCS), n=rng.randrange(4096)))
    return pool


def bat_colour(line):
    out = []
    for word in line.split(" "):
        bare = word.strip("(){}[];:,")
        if bare in KEYWORDS:
            out.append(word.replace(bare, KW_256 + bare + RESET, 1))
        elif bare in FUNCS:
            out.append(word.replace(bare, FN_24 + bare + RESET, 1))
        elif word.startswith('"'):
            out.append(STR_24 + word + RESET)
        else:
            out.append(word)
    return " ".join(out)


def generate_lines(rng, pool, coloured):
    """Yields items of text (one or more \\n-terminated lines) in the baseline's mix."""
    lineno = 1
    while True:
        r = rng.random()
        if r < 0.35:
            yield pool[rng.randrange(len(pool))] + "\n"
        elif r < 0.65:
            i = rng.randrange(len(pool))
            yield "\x1b[2m%5d\x1b[22m \x1b[38;5;238m│\x1b[0m %s\n" % (lineno, coloured[i])
            lineno += 1
        elif r < 0.75:
            plus = rng.random() < 0.5
            yield ("\x1b[32m+" if plus else "\x1b[31m-") + pool[rng.randrange(len(pool))] + RESET + "\n"
        elif r < 0.83:
            level = rng.choice(["\x1b[32mINFO ", "\x1b[32mINFO ", "\x1b[33mWARN ", "\x1b[31mERROR"])
            yield "\x1b[2m[%02d:%02d:%02d]\x1b[0m %s\x1b[0m %s %s: %s\n" % (
                rng.randrange(24), rng.randrange(60), rng.randrange(60), level, rng.choice(FUNCS),
                rng.choice(IDENTS), " ".join(rng.choice(IDENTS) for _ in range(rng.randrange(3, 12))))
        elif r < 0.90:
            yield "%s %s(%s) %s %s … %d ms\n" % (rng.choice(SYMBOLS), rng.choice(FUNCS), rng.choice(IDENTS),
                                                rng.choice(SYMBOLS), rng.choice(IDENTS), rng.randrange(2000))
        elif r < 0.94:
            parts, n = [], 0
            target = rng.randrange(250, 900)
            while n < target:
                s = pool[rng.randrange(len(pool))].strip()
                parts.append(s)
                n += len(s) + 1
            yield " ".join(parts) + "\n"
        elif r < 0.97:
            w = rng.randrange(40, 120)
            body = [rng.choice(SYMBOLS) + " " + pool[rng.randrange(len(pool))].strip() for _ in range(rng.randrange(1, 4))]
            rows = ["│ " + b[:w - 4].ljust(w - 4) + " │\n" for b in body]
            yield "\x1b[38;5;244m╭" + "─" * (w - 2) + "╮\n" + "".join(rows) + "╰" + "─" * (w - 2) + "╯\x1b[0m\n"
        else:
            frames = []
            for _ in range(rng.randrange(2, 6)):
                frames.append("\r\x1b[2K\x1b[1A\x1b[2K\x1b[38;5;174m%s\x1b[39m %s… (%ds · esc to interrupt)\n" % (
                    rng.choice(SPINNER), rng.choice(FUNCS), rng.randrange(300)))
            yield "".join(frames)


def write_test_file(path, size):
    """Writes about size bytes (whole items, stopping at the first that crosses size).
    Returns (bytes, newlines)."""
    rng = random.Random(42)
    pool = make_source_pool(rng)
    coloured = [bat_colour(line) for line in pool]
    written = newlines = 0
    block = []
    block_bytes = 0
    with open(path, "wb") as f:
        for item in generate_lines(rng, pool, coloured):
            b = item.encode()
            block.append(b)
            block_bytes += len(b)
            newlines += b.count(b"\n")
            if written + block_bytes >= size or block_bytes >= 1 << 20:
                f.write(b"".join(block))
                written += block_bytes
                block, block_bytes = [], 0
                if written >= size:
                    break
    return written, newlines


# ---- processes we start, and their cleanup --------------------------------------------

class TmuxServer(Closing):
    """A tmux server on a dedicated -L socket with -f /dev/null and an idle session that
    keeps it alive. close() runs kill-server, then SIGKILLs the server's pid if needed."""

    def __init__(self, history_limit=None):
        self.name = "tether-bench-%d" % os.getpid()
        self.env = dict(os.environ, TERM="xterm-256color")
        self.env.pop("TMUX", None)
        self.pid = 0
        self.socket_path = None
        self.history_limit = history_limit

    def open(self):
        self.run("new-session", "-d", "-s", "idle", "-x", str(COLS), "-y", str(ROWS))
        pid, self.socket_path = self.run("display-message", "-p", "-t", "idle", "#{pid} #{socket_path}").split()
        self.pid = int(pid)
        if self.history_limit:
            self.run("set-option", "-g", "history-limit", str(self.history_limit))

    def cmd(self, *args):
        return ["tmux", "-L", self.name, "-f", "/dev/null"] + list(args)

    def run(self, *args, timeout=600):
        return run_checked(self.cmd(*args), self.env, timeout)

    def close(self):
        subprocess.run(self.cmd("kill-server"), env=self.env, capture_output=True, timeout=30)
        if self.pid:
            deadline = now() + 10
            while pid_alive(self.pid) and now() < deadline:
                time.sleep(0.02)
            if pid_alive(self.pid):
                os.kill(self.pid, signal.SIGKILL)
        if self.socket_path:  # tmux 3.3 leaves its socket behind
            try:
                os.unlink(self.socket_path)
            except FileNotFoundError:
                pass


# ---- part 1: output throughput ---------------------------------------------------------

def run_raw(reader, path, expected):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = now()
    out = run_checked([reader, str(COLS), str(ROWS), "cat", path], timeout=600)
    seconds = now() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    got = dict(kv.split("=") for kv in out.split())
    if int(got["bytes"]) != expected:
        raise BenchError("raw reader got %s bytes, expected %d" % (got["bytes"], expected))
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"seconds": seconds, "cpu": cpu, "reads": int(got["reads"])}


def log_facts(state_dir, sid):
    """From the log itself: output bytes, and the daemon's append times (wall clock, s)
    of SessionStarted, the last OutputChunk and SessionExited."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(state_dir, "events.db"), uri=True)
    try:
        nbytes, last_out = logged_output(db, sid)
        started = db.execute("SELECT min(time) FROM events WHERE session=? AND kind=?", (sid, KIND["SessionStarted"])).fetchone()[0]
        exited = db.execute("SELECT min(time) FROM events WHERE session=? AND kind=?", (sid, KIND["SessionExited"])).fetchone()[0]
    finally:
        db.close()
    if started is None or last_out is None or exited is None:
        raise BenchError("tether session %d: the log lacks its start, output or exit" % sid)
    return nbytes, started / 1e6, last_out / 1e6, exited / 1e6


def run_tether(bin_dir, parent, path, expected, poll_ms):
    """Time from `tether run` until tether ls shows the session exited with every byte.
    ls folds staged events, so it can be up to one group commit (5 ms) ahead of the
    disk; the log itself is checked afterwards, untimed. The log's own timestamps
    (wall clock at append) split that time into logging, exit and screen catch-up."""
    with TetherDaemon(bin_dir, parent) as d:
        cpu0 = proc_cpu_seconds(d.pid)
        wall0, t0 = time.time(), now()
        sid = json.loads(d.run("run", "-d", "--json", "--size", "%dx%d" % (COLS, ROWS), "--", "cat", path))["session"]
        t_exit = None
        worst_ls = 0.0
        while t_exit is None:
            ta = now()
            s = d.session(sid)
            tb = now()
            worst_ls = max(worst_ls, tb - ta)
            if s["state"] == "exited" and s["bytes_out"] == expected:
                t_exit = tb
                break
            # Output is flushed before SessionExited is appended, so an exited count is final.
            if s["bytes_out"] > expected or s["state"] == "exited":
                raise BenchError("tether session %d: bytes_out %d, expected %d (state %s)" %
                                 (sid, s["bytes_out"], expected, s["state"]))
            if tb - t0 > 600:
                raise BenchError("tether session %d did not finish in 600 s" % sid)
            # Poll slowly until the end is near: each ls is a process on a 2-core machine.
            near = s["bytes_out"] >= 0.9 * expected
            time.sleep(poll_ms / 1000 if near else 0.1)
        screen = d.run("screen", str(sid), timeout=900)  # waits for the whole catch-up
        t_screen, wall_screen = now(), time.time()
        d.run("screen", str(sid))
        screen_floor = now() - t_screen
        cpu = proc_cpu_seconds(d.pid) - cpu0
        logged, started, last_out, exited = log_facts(d.state_dir, sid)
        if logged != expected:
            raise BenchError("tether session %d: the log holds %d output bytes, expected %d" % (sid, logged, expected))
        if not screen.strip():
            raise BenchError("tether screen %d is empty" % sid)
        return {"seconds": t_exit - t0, "cpu": cpu, "worst_ls": worst_ls, "started": started - wall0,
                "logged": last_out - wall0, "exit_logged": exited - wall0,
                "screen_lag": wall_screen - exited, "screen_after_seen": t_screen - t_exit, "screen_floor": screen_floor}


def run_tmux(tmux, path):
    cpu0 = proc_cpu_seconds(tmux.pid)
    t0 = now()
    tmux.run("new-session", "-d", "-x", str(COLS), "-y", str(ROWS), "cat %s; tmux wait-for -S done" % shlex.quote(path))
    tmux.run("wait-for", "done")
    seconds = now() - t0
    return {"seconds": seconds, "cpu": proc_cpu_seconds(tmux.pid) - cpu0}


def part_output(opt, parent):
    path = os.path.join(parent, "mixed.txt")
    t = now()
    size, newlines = write_test_file(path, opt.mb * 1_000_000)
    expected = size + newlines
    print("session_output part 1: cat of %s bytes (%s lines) of coloured source-like output at %dx%d, "
          "%d rounds alternating raw, tether, tmux" % (f"{size:,}", f"{newlines:,}", COLS, ROWS, opt.rounds))
    print("  PTY bytes expected: %s (file + one \\r per \\n, ONLCR); generated in %.1f s" %
          (f"{expected:,}", now() - t))
    print("  raw: %s; tether: fresh daemon per round, ls polled every %d ms near the end; "
          "tmux %s: -L socket, -f /dev/null, idle session kept\n" %
          (opt.raw_reader, opt.poll_ms, run_checked(["tmux", "-V"]).strip().split()[-1]))
    print("%-5s %-7s %8s %8s %8s  %s" % ("round", "path", "seconds", "MB/s", "CPU s", "notes"))
    sys.stdout.flush()

    runs = {"raw": [], "tether": [], "tmux": []}
    ratio_raw, ratio_tmux = [], []
    with TmuxServer() as tmux:
        for rnd in range(1, opt.rounds + 1):
            raw = run_raw(opt.raw_reader, path, expected)
            teth = run_tether(opt.bin_dir, parent, path, expected, opt.poll_ms)
            tm = run_tmux(tmux, path)
            for name, r in (("raw", raw), ("tether", teth), ("tmux", tm)):
                runs[name].append(r)
                if name == "raw":
                    note = "%d reads, %.0f B/read" % (r["reads"], expected / r["reads"])
                elif name == "tether":
                    note = ("log: last output %.3f s, exit %.3f s; screen ready %.3f s after exit; "
                            "slowest ls %.0f ms" % (r["logged"], r["exit_logged"], r["screen_lag"],
                                                    r["worst_ls"] * 1000))
                else:
                    note = "server CPU"
                print("%-5d %-7s %8.3f %8.1f %8.2f  %s" % (rnd, name, r["seconds"], size / r["seconds"] / 1e6,
                                                          r["cpu"], note))
                sys.stdout.flush()
            ratio_raw.append(raw["seconds"] / teth["seconds"])
            ratio_tmux.append(tm["seconds"] / teth["seconds"])

    print("\n%-12s %9s %9s %20s %8s" % ("path", "seconds", "MB/s", "(min - max MB/s)", "CPU s"))
    rows = [("raw", "raw", "seconds"), ("tether", "tether", "seconds"), ("tether log", "tether", "logged"),
            ("tmux", "tmux", "seconds")]
    mbs_med = {}
    for label, name, key in rows:
        secs = [r[key] for r in runs[name]]
        mbs = [size / x / 1e6 for x in secs]
        mbs_med[label] = size / statistics.median(secs) / 1e6
        cpu = "%8.2f" % statistics.median(r["cpu"] for r in runs[name]) if key == "seconds" else "%8s" % "-"
        print("%-12s %9.3f %9.1f %20s %s" % (label, statistics.median(secs), mbs_med[label],
                                             "(%.1f - %.1f)" % (min(mbs), max(mbs)), cpu))
    print("(MB/s is file bytes / wall time, medians over rounds. tether: from `tether run` until ls shows it exited "
          "with every byte; tether log: until the last OutputChunk was appended, by the log's own clock. CPU: the "
          "reader and cat; the daemon's own; the tmux server's own)")
    ratio_log = [raw["seconds"] / t["logged"] for raw, t in zip(runs["raw"], runs["tether"])]
    print("\nthroughput ratio, per round, median (min - max) of %d:" % opt.rounds)
    print("  tether / raw       %s   goal >= 0.8" % ("%.2f (%.2f - %.2f)" % median_range(ratio_raw)))
    print("  tether / tmux      %s   goal >= 3.5" % ("%.2f (%.2f - %.2f)" % median_range(ratio_tmux)))
    print("  tether log / raw   %s   (logging alone, before the exit)" % ("%.2f (%.2f - %.2f)" % median_range(ratio_log)))
    lag = [r["screen_lag"] for r in runs["tether"]]
    seen = [r["seconds"] - r["exit_logged"] for r in runs["tether"]]
    after_seen = [r["screen_after_seen"] for r in runs["tether"]]
    floor = [r["screen_floor"] for r in runs["tether"]]
    print("\nscreen catch-up, after SessionExited was appended: `tether screen` returned %.3f s (%.3f - %.3f) later; "
          "ls showed the exit %.3f s later, and `tether screen` then took %.3f s (%.3f s on a caught-up screen)\n" %
          (*median_range(lag), statistics.median(seen), statistics.median(after_seen), statistics.median(floor)))
    return {"tether_mbs": mbs_med["tether"], "log_mbs": mbs_med["tether log"], "raw_mbs": mbs_med["raw"],
            "tmux_mbs": mbs_med["tmux"], "ratio_raw": statistics.median(ratio_raw),
            "ratio_tmux": statistics.median(ratio_tmux), "ratio_log": statistics.median(ratio_log),
            "screen_lag": statistics.median(lag)}


# ---- part 2: attach to 100k lines of history ------------------------------------------

def spawn_on_pty(argv, env):
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))

    def controlling_tty():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    try:
        p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, preexec_fn=controlling_tty)
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    return p, master


def read_pty(master, timeout):
    r, _, _ = select.select([master], [], [], timeout)
    if not r:
        return b""
    try:
        return os.read(master, 65536) or None
    except OSError:  # EIO: the client has gone
        return None


def attach_once(argv, env, marker, detach, timeout=60):
    """Seconds from spawning the attach client until marker (the last screen line) has
    arrived, and the bytes it wrote until it was quiet; then detaches and reaps it."""
    t0 = now()
    p, master = spawn_on_pty(argv, env)
    try:
        buf = bytearray()
        seen = None
        while seen is None:
            if now() - t0 > timeout:
                raise BenchError("%s: no %r after %d s (%d bytes)" % (" ".join(argv), marker, timeout, len(buf)))
            chunk = read_pty(master, 1.0)
            if chunk is None:
                raise BenchError("%s ended before drawing the screen: %r" % (" ".join(argv), bytes(buf[-300:])))
            scan = max(0, len(buf) - len(marker))
            buf += chunk
            if buf.find(marker, scan) >= 0:
                seen = now() - t0
        while True:  # untimed: the rest of the redraw (cursor, modes)
            chunk = read_pty(master, 0.2)
            if not chunk:
                break
            buf += chunk
        os.write(master, detach)
        deadline = now() + 20
        while p.poll() is None and now() < deadline:
            if read_pty(master, 0.05) is None:
                break
        p.wait(timeout=max(1, deadline - now()))
        return seen, len(buf)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)


def wait_until(pred, timeout, what):
    deadline = now() + timeout
    while now() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise BenchError("timed out after %d s waiting for %s" % (timeout, what))


def part_attach(opt, parent):
    lines = opt.attach_lines
    last = str(lines).encode()
    cmd = "seq 1 %d; sleep 600" % lines
    expected = sum(len(str(i)) + 2 for i in range(1, lines + 1))
    env = dict(os.environ, TERM="xterm-256color")
    print("session_output part 2: attach at %dx%d to a session that ran `%s` (%s PTY bytes); time from spawning the "
          "client on a PTY until the last screen line %r has arrived, %d rounds alternating tether, tmux" %
          (COLS, ROWS, cmd, f"{expected:,}", last.decode(), opt.rounds))
    with TetherDaemon(opt.bin_dir, parent) as d, TmuxServer(history_limit=lines) as tmux:
        sid = json.loads(d.run("run", "-d", "--json", "--size", "%dx%d" % (COLS, ROWS), "--", "sh", "-c", cmd))["session"]
        tmux.run("new-session", "-d", "-s", "hist", "-x", str(COLS), "-y", str(ROWS), cmd)
        wait_until(lambda: d.session(sid)["bytes_out"] == expected, 120, "tether session %d's output" % sid)
        wait_until(lambda: last.decode() in d.run("screen", str(sid)).split(), 120, "tether screen to show %s" % last)
        wait_until(lambda: last.decode() in tmux.run("capture-pane", "-p", "-t", "hist").split(), 120,
                   "tmux to show %s" % last)
        tmux_history = int(tmux.run("display-message", "-p", "-t", "hist", "#{history_size}").strip())
        print("  tether: daemon sends its history (attach_history_lines, 50,000 by default) then a redraw; "
              "tmux %s: history-limit %d, %s lines in history, sends only the visible screen\n" %
              (run_checked(["tmux", "-V"]).strip().split()[-1], lines, f"{tmux_history:,}"))
        print("%-5s %-14s %10s %12s" % ("round", "client", "ms", "bytes"))
        res = {"tether": [], "tmux": []}
        ratios = []
        for rnd in range(1, opt.rounds + 1):
            for name, argv, key in (("tether", d.cli("attach", str(sid)), DETACH_KEY),
                                    ("tmux", tmux.cmd("attach-session", "-t", "hist"), TMUX_DETACH)):
                e = dict(env, **(d.env if name == "tether" else tmux.env))
                seconds, nbytes = attach_once(argv, e, last, key)
                res[name].append((seconds, nbytes))
                print("%-5d %-14s %10.1f %12s" % (rnd, name + " attach", seconds * 1000, f"{nbytes:,}"))
                sys.stdout.flush()
            ratios.append(res["tether"][-1][0] / res["tmux"][-1][0])
        d.run("kill", str(sid))
    print("\n%-14s %10s %20s %12s %26s" % ("client", "ms", "(min - max)", "bytes", "time / tmux attach"))
    med = {}
    for name in ("tether", "tmux"):
        ms = [s * 1000 for s, _ in res[name]]
        med[name] = statistics.median(ms)
        rtext = "%.2f (%.2f - %.2f)" % median_range(ratios) if name == "tether" else "1"
        print("%-14s %10.1f %20s %12s %26s" % (name + " attach", med[name], "(%.1f - %.1f)" % (min(ms), max(ms)),
                                              f"{int(statistics.median(b for _, b in res[name])):,}", rtext))
    print("(tmux does not replay its history into the outer terminal, tether does: the two move different amounts; "
          "medians over %d rounds, ratio per round)\n" % opt.rounds)
    return {"tether_ms": med["tether"], "tmux_ms": med["tmux"],
            "tether_bytes": statistics.median(b for _, b in res["tether"])}


# ---- main ----------------------------------------------------------------------------

def main():
    ap = bench_arguments("Session output throughput (tether vs raw PTY vs tmux) and attach time",
                         "20 MB, 3 rounds (unless --mb / --rounds are given)")
    ap.add_argument("--raw-reader", help="the raw_pty_reader binary (default: BUILD/bench/raw_pty_reader)")
    ap.add_argument("--mb", type=int, default=200, help="test file size in MB (10^6 bytes); default 200")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds; default 5")
    ap.add_argument("--attach-lines", type=int, default=100000, help="lines of output before attach; default 100000")
    ap.add_argument("--poll-ms", type=int, default=10, help="tether ls interval near the end of a run; default 10")
    ap.add_argument("--only", choices=["output", "attach"], help="run only one part")
    opt = parse_bench_arguments(ap, quick={"mb": 20, "rounds": 3})
    opt.raw_reader = opt.raw_reader or os.path.join(opt.build, "bench", "raw_pty_reader")
    require_executables("bench_session_output", [os.path.join(opt.bin_dir, "tether"),
                                                 os.path.join(opt.bin_dir, "tetherd"), opt.raw_reader])
    if not shutil.which("tmux"):
        sys.exit("bench_session_output: tmux is not installed")

    def body(parent):
        return (part_output(opt, parent) if opt.only != "attach" else None,
                part_attach(opt, parent) if opt.only != "output" else None)

    result = run_bench("bench_session_output", opt, body)
    out, att = result
    parts = []
    if out:
        parts.append("tether %.1f MB/s, %.2fx raw (goal 0.8), %.2fx tmux (goal 3.5), screen +%.2f s after exit" %
                     (out["tether_mbs"], out["ratio_raw"], out["ratio_tmux"], out["screen_lag"]))
    if att:
        parts.append("attach %dk lines %.0f ms (tmux %.0f ms, no history)" %
                     (opt.attach_lines // 1000, att["tether_ms"], att["tmux_ms"]))
    print("session_output: " + "; ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
