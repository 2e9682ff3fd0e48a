#!/usr/bin/env python3
"""A session's log read back: `tether timeline` lists what happened in order; `tether
export --format asciicast` is accepted by Debian's asciinema, whose `cat` prints exactly
the bytes the program wrote (UTF-8 split across chunks included), with "m" markers at
state changes; a large export streams while the daemon's memory stays bounded."""

import json
import os
import pty
import subprocess
import sys

from tether_harness import check, Daemon, KIND, require_tools, rss_kib, TETHER, wait_for

MB = 6 if os.environ.get("TETHER_SANITIZE") == "ON" else 40


def recorded_output(d, sid):
    return b"".join(bytes(r[4]) for r in d.events("session = ? AND kind = ?", (sid, KIND["OutputChunk"])))


def asciinema_cat(path, out_path):
    """`asciinema cat` reads /dev/tty: run it on a PTY, its stdout into a file."""
    pid, master = pty.fork()
    if pid == 0:
        fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        env = dict(os.environ, PYTHONIOENCODING="utf-8", LANG="C.UTF-8")
        os.execvpe("asciinema", ["asciinema", "cat", path], env)
    err = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        err += chunk
    _, status = os.waitpid(pid, 0)
    check(os.waitstatus_to_exitcode(status) == 0, "asciinema cat failed: %r" % err[-500:])
    with open(out_path, "rb") as f:
        return f.read()


require_tools("asciinema")

with Daemon() as d:
    d.start()
    script = os.path.join(d.root, "talk.py")
    with open(script, "w") as f:
        f.write(r'''
import os, sys, time
out = sys.stdout.buffer
os.system("stty raw -echo")
for i in range(3000):
    out.write(("\x1b[3%dmline %05d ✓ ünïcödé 漢字 🙂\x1b[0m\r\n" % (i % 7 + 1, i)).encode())
out.flush()
time.sleep(0.3)
out.write("\x1b]0;a title\x07done ✓\r\n".encode())
out.flush()
while not os.path.exists(sys.argv[1]):
    time.sleep(0.05)
''')
    go = os.path.join(d.root, "go")
    rc, out, err = d.tether("run", "-d", "--json", "--name", "talk", "--size", "100x30", "--",
                            sys.executable, script, go, check_rc=0)
    sid = json.loads(out)["session"]
    wait_for(lambda: b"done" in recorded_output(d, sid), what="the program's output in the log")
    d.tether("mark", "-s", "talk", "checkpoint", check_rc=0)
    open(go, "w").close()
    wait_for(lambda: d.events("session = ? AND kind = ?", (sid, KIND["SessionExited"])), what="the session's end")

    # Timeline: one line per fact, in order, with offsets from the start.
    rc, out, err = d.tether("timeline", "talk", check_rc=0)
    lines = out.splitlines()
    kinds = [l.split()[4] for l in lines]
    check(kinds[0] == "SessionStarted", "the timeline starts with the start: %r" % lines[:2])
    for k in ("StateChanged", "TitleChanged", "MarkerAdded", "SessionExited"):
        check(k in kinds, "%s is on the timeline:\n%s" % (k, out))
    check("OutputChunk" not in out, "terminal data stays off the timeline")
    check(lines[0].split()[2] == "+0.000s", "offsets count from the start: %r" % lines[0])
    check(any("marker: checkpoint" in l for l in lines), "the marker text is shown")
    rc, out, err = d.tether("timeline", str(sid), "--json", check_rc=0)
    entries = [json.loads(l) for l in out.splitlines()]
    check([e["kind"] for e in entries] == kinds, "--json lists the same facts")
    seqs = [e["seq"] for e in entries]
    check(seqs == sorted(seqs), "in log order")

    # Export: asciinema accepts it and reproduces the bytes exactly.
    cast = os.path.join(d.root, "talk.cast")
    d.tether("export", "talk", "--format", "asciicast", "-o", cast, check_rc=0)
    with open(cast, encoding="utf-8") as f:
        header = json.loads(f.readline())
        events = [json.loads(l) for l in f]
    check(header["version"] == 2 and header["width"] == 100 and header["height"] == 30, "header: %r" % header)
    check(header["title"] == "talk" and isinstance(header["timestamp"], int), "header: %r" % header)
    times = [e[0] for e in events]
    check(times == sorted(times), "event times never go back")
    markers = [e[2] for e in events if e[1] == "m"]
    check("checkpoint" in markers and "running" in markers and "exited" in markers, "markers: %r" % markers)
    recorded = recorded_output(d, sid)
    check(len(d.events("session = ? AND kind = ?", (sid, KIND["OutputChunk"]))) > 1, "the output spans several chunks")
    played = asciinema_cat(cast, os.path.join(d.root, "played"))
    check(played == recorded, "asciinema cat reproduces the recorded bytes (%d vs %d bytes)" % (len(played), len(recorded)))
    rc, out, err = d.tether("export", "talk", "--format", "mp4")
    check(rc == 2 and "mp4" in err, "an unknown format is a usage error: %d %r" % (rc, err))
    rc, out, err = d.tether("export", "nosuch", "-o", os.path.join(d.root, "x.cast"))
    check(rc == 1 and "no such session" in err and not os.path.exists(os.path.join(d.root, "x.cast")),
          "a missing session leaves no file: %r" % err)

    # A large export streams: the daemon's memory does not grow with the recording.
    data = os.path.join(d.root, "big.bin")
    with open(data, "wb") as f:
        block = b"".join(b"\x1b[3%dmrow %07d \xe2\x9c\x93 " % (i % 7 + 1, i) + bytes(range(32, 127)) + b"\x1b[0m\r\n"
                         for i in range(1000))
        for _ in range(MB * 1024 * 1024 // len(block) + 1):
            f.write(block)
    rc, out, err = d.tether("run", "-d", "--json", "--name", "big", "--", "sh", "-c", "stty raw -echo; cat %s" % data,
                            check_rc=0)
    big = json.loads(out)["session"]
    wait_for(lambda: d.events("session = ? AND kind = ?", (big, KIND["SessionExited"])), timeout=120,
             what="the big session's end")
    base = rss_kib(d.proc.pid)
    proc = subprocess.Popen([TETHER,
                             "export", "big"], stdout=subprocess.PIPE, env=d.env)
    peak, size = base, 0
    while True:
        chunk = proc.stdout.read(16384)  # slowly: the daemon must wait, not buffer
        if not chunk:
            break
        size += len(chunk)
        peak = max(peak, rss_kib(d.proc.pid))
    check(proc.wait() == 0, "the big export succeeded")
    check(size > MB * 1024 * 1024, "the export holds the whole recording (%d bytes)" % size)
    check(peak - base < 24 * 1024, "the daemon's memory stayed bounded: %d KiB -> %d KiB" % (base, peak))
    print("ok: timeline, asciicast export (asciinema cat exact), %d MB export streamed, daemon RSS +%d KiB"
          % (MB, peak - base))
