#!/usr/bin/env python3
"""Faults of the state directory. Needs root (it mounts a small tmpfs as the state
directory); skipped otherwise.

1. The disk fills during a burst of output: the daemon says so (its log, `tether daemon
   status`, `tether ls`), stops acknowledging output so the holder keeps it and the
   program blocks, refuses new sessions, and once space is back logs every byte exactly
   once, with a LogStalled fact for the stretch.
2. A state directory that is read-only at start: tetherd refuses to start, naming it.
   (One that turns read-only under a running daemon fails its commits the way a full
   one does, through the same path; a mounted filesystem with open writers cannot be
   remounted read-only to show it.)
3. A truncated, then a corrupted events.db at start: the error names the file and says
   `tether admin recover`; recovery keeps every readable event and the daemon starts."""

import json
import os
import random
import subprocess
import sys
import time

from tether_harness import KIND, Daemon, check, fail, wait_for

if os.getuid() != 0:
    print("SKIP: needs root to mount a small filesystem as the state directory")
    sys.exit(77)

LINES = 60000
# Numbered lines, written as fast as the terminal takes them, with how far it got in a
# file outside the state directory; then it waits for a key.
AGENT = r"""
import random, sys, time
ALPHABET = "".join(chr(c) for c in range(33, 123))
def line(i):  # does not compress much: the log (zstd) must really fill the disk
    return "".join(random.Random(i).choices(ALPHABET, k=90))
out, progress, pace = sys.stdout, sys.argv[1], int(sys.argv[2])
for i in range(%d):
    out.write("%%06d %%s\n" %% (i, line(i)))
    if pace and i %% pace == 0:
        out.flush()
        time.sleep(0.01)
    if i %% 500 == 0:
        out.flush()
        open(progress, "w").write(str(i))
out.write("DONE\n")
out.flush()
open(progress, "w").write("done")
sys.stdin.read(1)
""" % LINES
ALPHABET = "".join(chr(c) for c in range(33, 123))
EXPECTED = b"".join(b"%06d %s\r\n" % (i, "".join(random.Random(i).choices(ALPHABET, k=90)).encode()) for i in range(LINES)) + b"DONE\r\n"


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", path], capture_output=True)
    if p.returncode != 0:
        print("SKIP: cannot mount a tmpfs here: %s" % p.stderr.decode(errors="replace").strip())
        sys.exit(77)


def umount(path):
    subprocess.run(["umount", "-l", path], capture_output=True)


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(path, leave):
    """A ballast file that leaves about `leave` bytes free."""
    ballast = os.path.join(path, "ballast")
    with open(ballast, "wb") as f:
        while free_bytes(path) > leave + (1 << 20):
            f.write(b"\0" * (1 << 20))
            f.flush()
            os.fsync(f.fileno())
        while free_bytes(path) > leave:
            try:
                f.write(b"\0" * 4096)
                f.flush()
            except OSError:
                break
    return ballast


def session_output(d, sid):
    return b"".join(e[4] for e in d.events("session = ? AND kind = ?", (sid, KIND["OutputChunk"])))


def status(d):
    return json.loads(d.tether("daemon", "status", "--json", check_rc=0)[1])


def progress_file(d, name):
    return os.path.join(d.root, name + ".progress")


def run_agent(d, name, pace=0):
    """pace: a 10 ms pause after every `pace` lines (0: none)."""
    d.tether("run", "-d", "--name", name, "--", "python3", "-c", AGENT, progress_file(d, name), str(pace), check_rc=0)
    return [s["id"] for s in json.loads(d.tether("ls", "--json")[1]) if s["name"] == name][0]


def program_blocked(d, name):
    """The program is stuck writing to its terminal: no progress for a second, not done."""
    def read():
        try:
            return open(progress_file(d, name)).read()
        except OSError:
            return ""
    a = read()
    time.sleep(1.0)
    return a == read() and a != "done"


def wait_logged_whole(d, sid, what):
    wait_for(lambda: session_output(d, sid) == EXPECTED or (len(session_output(d, sid)) > len(EXPECTED) and fail(
        "%s: more bytes logged than written: duplicates" % what)), timeout=60, what=what)


def phase_disk_full(d):
    ballast = fill(d.state_dir, 2 << 20)
    sid = run_agent(d, "burst")
    wait_for(lambda: "log_error" in status(d), timeout=60, what="the daemon to report that the log cannot be written")
    st = status(d)
    check("full" in st["log_error"], "status: %r" % st)
    rc, out, err = d.tether("daemon", "status")
    check("event log cannot be written" in out and "full" in out, "daemon status does not say it: %s" % out)
    rc, out, err = d.tether("ls")
    check("event log cannot be written" in err, "tether ls does not say it: %s" % err)
    rc, out, err = d.tether("run", "-d", "--", "true")
    check(rc != 0 and "event log cannot be written" in err, "a new session was not refused: %d %s" % (rc, err))
    check("event log: cannot write" in d.output(), "the daemon's log does not say it")
    wait_for(lambda: program_blocked(d, "burst"), timeout=30, what="the program to block on its terminal")
    logged = len(session_output(d, sid))
    check(logged < len(EXPECTED), "all output was logged on a full disk?")
    os.remove(ballast)
    wait_logged_whole(d, sid, "the burst to be logged whole once space is back")
    wait_for(lambda: "log_error" not in status(d), what="the daemon to report the log writable again")
    stalls = [json.loads(e[4]) for e in d.events("kind = ?", (KIND["LogStalled"],))]
    check(stalls and "full" in stalls[0]["error"] and stalls[0]["to_us"] > stalls[0]["from_us"], "LogStalled: %r" % stalls)
    check("event log: writing again" in d.output(), "the daemon's log does not say it recovered")
    d.tether("send", str(sid), "q", check_rc=0)
    return sid


def phase_read_only_at_start(root):
    from tether_harness import TETHERD
    state = os.path.join(root, "ro-state")
    mount_tmpfs(state, "1m")
    try:
        subprocess.run(["mount", "-o", "remount,ro", state], check=True)
        p = subprocess.run([TETHERD, "--state-dir", state, "--socket", os.path.join(root, "ro.sock")], capture_output=True,
                           timeout=20)
        err = p.stderr.decode(errors="replace")
        check(p.returncode != 0 and state in err, "a read-only state directory at start: %d %s" % (p.returncode, err))
    finally:
        umount(state)


def stop(d):
    d.tether("daemon", "stop", check_rc=0)
    d.kill()


def recover(d, before, how):
    rc, out, err = d.tether("admin", "recover")
    check(rc == 0 and "recovered" in out and "unreadable" in out and "damaged file is kept" in out,
          "recover: %d %s %s" % (rc, out, err))
    kept = len(d.events())
    check(0 < kept <= before + 8, "recover kept %d of about %d events" % (kept, before))
    d.tether("daemon", "start", check_rc=0)
    d.tether("ls", "--all", check_rc=0)
    d.tether("admin", "verify", check_rc=0)
    print("%s log: recover kept %d of %d events" % (how, kept, before))


def phase_truncated(d):
    """Cut short: the daemon refuses to start, naming the file and the way out."""
    stop(d)
    log = os.path.join(d.state_dir, "events.db")
    before = len(d.events())
    with open(log, "r+b") as f:
        f.truncate(os.path.getsize(log) * 2 // 3)
    rc, out, err = d.tether("daemon", "start")
    check(rc != 0 and log in err and "tether admin recover" in err, "a truncated log at start: %d %s %s" % (rc, out, err))
    rc, out, err = d.tether("ls")
    check(rc != 0 and "tether admin recover" in err, "tether ls on a truncated log: %d %s" % (rc, err))
    recover(d, before, "truncated")


def phase_corrupted(d):
    """Pages destroyed in the middle: found when read (a verify folds the whole log)."""
    stop(d)
    log = os.path.join(d.state_dir, "events.db")
    before = len(d.events())
    with open(log, "r+b") as f:
        f.seek(os.path.getsize(log) // 2 // 4096 * 4096)
        f.write(b"\xa5" * 8192)
    rc, out, err = d.tether("daemon", "start")
    if rc == 0:
        rc, out, err = d.tether("admin", "verify")
        check(rc != 0 and log in err and "tether admin recover" in err, "verify of a corrupted log: %d %s %s" % (rc, out, err))
        stop(d)
    else:
        check(log in err and "tether admin recover" in err, "a corrupted log at start: %s" % err)
    recover(d, before, "corrupted")


def main():
    with Daemon() as d:
        mount_tmpfs(d.state_dir, "48m")
        try:
            d.start()
            phase_disk_full(d)
            for i in range(200):
                d.tether("mark", "note %d %s" % (i, "y" * 2000), check_rc=0)
            d.kill_holders()
            phase_truncated(d)
            for i in range(200):
                d.tether("mark", "note %d %s" % (i, "z" * 2000), check_rc=0)
            phase_corrupted(d)
        finally:
            d.kill()
            d.kill_holders()
            umount(d.state_dir)
        phase_read_only_at_start(d.root)
    print("ok")


main()
