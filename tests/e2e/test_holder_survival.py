#!/usr/bin/env python3
"""Agents outlive the daemon. A program writes numbered lines every few milliseconds;
the daemon is killed with SIGKILL in the middle (then stopped with `daemon restart`,
then replaced by another copy of its binary); the program keeps running in its holder,
blocks once the holder's window and the PTY are full, and after each restart the new
daemon adopts it. When it ends, the log holds every line exactly once, in order, and
records each gap."""

import json
import os
import shutil
import signal
import time

from tether_harness import BIN_DIR, Daemon, KIND, check, fail, pid_alive, wait_for

LINES = 4000
WINDOW = 16384  # the holders' window, small so that a stopped daemon leaves the agent blocked
# ~100 bytes a line, one every ms or so: 400 kB over several seconds.
AGENT = (
    "import sys, time\n"
    "for i in range(%d):\n"
    "    sys.stdout.write('line %%06d %%s\\n' %% (i, 'x' * 88))\n"
    "    sys.stdout.flush()\n"
    "    if i %% 4 == 0: time.sleep(0.004)\n" % LINES
)


def output_of(d, session):
    """The session's output as `tether export` gives it (asciicast v2 "o" events)."""
    path = os.path.join(d.root, "session-%d.cast" % session)
    d.tether("export", str(session), "--format", "asciicast", "-o", path, check_rc=0)
    with open(path) as f:
        lines = f.read().splitlines()
    check(json.loads(lines[0]).get("version") == 2, "not an asciicast v2 header: %r" % lines[0])
    return "".join(e[2] for e in map(json.loads, lines[1:]) if e[1] == "o")


def check_lines(d, session):
    text = output_of(d, session)
    lines = [l for l in text.replace("\r\n", "\n").split("\n") if l]
    want = ["line %06d %s" % (i, "x" * 88) for i in range(LINES)]
    if lines != want:
        seen = [l.split()[1] for l in lines if l.startswith("line ")]
        dup = len(seen) - len(set(seen))
        fail("the log does not hold every line once in order: %d lines, %d duplicates, first difference at %s"
             % (len(lines), dup, next((i for i, (a, b) in enumerate(zip(lines, want)) if a != b), min(len(lines), len(want)))))


def session_state(d, session):
    rc, out, _ = d.tether("ls", "--all", "--json", check_rc=0)
    return next(s for s in json.loads(out) if s["id"] == session)


def run_agent(d, name):
    rc, out, err = d.tether("run", "--name", name, "--detach", "--", "python3", "-c", AGENT, check_rc=0)
    session = int(out.split()[1]) if out.startswith("session") else None
    if session is None:
        session = next(s["id"] for s in json.loads(d.tether("ls", "--json", check_rc=0)[1]) if s["name"] == name)
    return session


def scenario(d, name, interrupt, long_gap=False):
    session = run_agent(d, name)
    s = wait_for(lambda: (lambda s: s if s["bytes_out"] > 20000 else None)(session_state(d, session)),
                 timeout=30, what="the agent to write some output")
    holder, agent = s["holder_pid"], s["pid"]
    check(holder and holder != agent, "ls shows no holder pid: %r" % s)
    table = d.tether("ls", check_rc=0)[1]
    check("HOLDER" in table and (" %d " % holder) in table, "tether ls does not show the holder pid: %r" % table)
    interrupt(d, agent, holder)
    wait_for(lambda: session_state(d, session)["state"] == "exited", timeout=60, what="the adopted agent to finish")
    s = session_state(d, session)
    check(s.get("exit_code") == 0, "the agent did not exit cleanly after adoption: %r" % s)
    check_lines(d, session)
    # The adopted session's screen was rebuilt from the log and followed what came after.
    screen = d.tether("screen", str(session), check_rc=0)[1]
    check("line %06d" % (LINES - 1) in screen, "the screen after adoption does not end with the last line: %r" % screen[-300:])
    adopted = [json.loads(e[4]) for e in d.events("session = ? AND kind = ?", (session, KIND["SessionAdopted"]))]
    check(len(adopted) == 1, "want one SessionAdopted, got %r" % adopted)
    a = adopted[0]
    check(a["holder_pid"] == holder and a["pid"] == agent, "adoption names the wrong processes: %r" % a)
    check(0 < a["down_from_us"] <= a["down_to_us"], "the gap is not recorded: %r" % a)
    if long_gap:
        check(a["buffered"] == WINDOW, "the holder did not fill its window while the daemon was away: %r" % a)
    else:
        check(a["buffered"] <= WINDOW, "the holder held more than its window: %r" % a)
    wait_for(lambda: not pid_alive(holder), what="the holder to end once its exit was collected")
    print("%s: %d lines once each; daemon away %.2f s, %d bytes waited in the holder"
          % (name, LINES, (a["down_to_us"] - a["down_from_us"]) / 1e6, a["buffered"]))


def kill9(d, agent, holder):
    d.kill(signal.SIGKILL)
    # The daemon is gone; the agent is not, and its holder keeps the PTY.
    time.sleep(1.0)
    check(pid_alive(agent), "the agent died with the daemon")
    check(pid_alive(holder), "the holder died with the daemon")
    d.start()


def restart(d, agent=None, holder=None):
    rc, out, err = d.tether("daemon", "restart", check_rc=0)
    check("adopted 1 session" in out, "restart said %r" % out)


with Daemon(extra_args=["--holder-window", str(WINDOW)]) as d:
    d.start()
    scenario(d, "kill9", kill9, long_gap=True)
    scenario(d, "restart", restart)

# An upgrade: the binaries are replaced (a new inode at the same path, as a package
# manager does) while a session runs; `daemon restart` runs the new daemon, which adopts.
with Daemon(extra_args=["--holder-window", str(WINDOW)]) as d:
    bindir = os.path.join(d.root, "bin")
    os.makedirs(bindir)
    for b in ("tether", "tetherd", "tether-hook", "tether-holder"):
        shutil.copy2(os.path.join(BIN_DIR, b), os.path.join(bindir, b))
    import tether_harness
    tether_harness.TETHER = os.path.join(bindir, "tether")
    tether_harness.TETHERD = os.path.join(bindir, "tetherd")
    d.start()
    old_pid = d.proc.pid

    def upgrade(d, agent, holder):
        for b in ("tetherd", "tether-holder"):
            tmp = os.path.join(bindir, b + ".new")
            shutil.copy2(os.path.join(BIN_DIR, b), tmp)
            os.rename(tmp, os.path.join(bindir, b))
        restart(d)
        check(pid_alive(agent), "the agent died in the upgrade")
        check(d.lock_pid() != old_pid and not pid_alive(old_pid), "the daemon was not replaced")
        check(not os.readlink("/proc/%d/exe" % d.lock_pid()).endswith("(deleted)"), "the old binary still runs")

    scenario(d, "upgrade", upgrade)

print("ok")
