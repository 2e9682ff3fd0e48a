#!/usr/bin/env python3
"""A session's output lands in the log byte for byte, 50 MB of it, while a slow client is
attached; the daemon's memory stays bounded (the agent is paused, not buffered); the
terminal signals (title, bell, OSC 9/777) become events; input and resizes are logged."""

import hashlib
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

from tether_harness import Daemon, KIND, TETHER, check, fail, rss_kib, wait_for

# A sanitizer build is an order of magnitude slower: the same test on less output.
MB = 8 if os.environ.get("TETHER_SANITIZE") == "ON" else 50


def session_row(d, name):
    rc, out, err = d.tether("ls", "--all", "--json")
    if rc != 0:
        fail("tether ls failed (%d): %s; daemon output: %s" % (rc, err, d.output()[-2000:]))
    rows = json.loads(out)
    return next(r for r in rows if r["name"] == name)


with Daemon() as d:
    d.start()
    data = os.path.join(d.root, "data.bin")
    # Deterministic, terminal-like, with every byte value that survives a raw PTY.
    with open(data, "wb") as f:
        block = b"".join(b"\x1b[3%dmline %07d \xe2\x9c\x93 " % (i % 7 + 1, i) + bytes(range(32, 127)) + b"\x1b[0m\n"
                         for i in range(1000))
        for _ in range(MB * 1024 * 1024 // len(block) + 1):
            f.write(block)
    # Raw mode on the session's terminal: no ONLCR, so the log must equal the file exactly.
    rc, out, err = d.tether("run", "-d", "--json", "--name", "big", "--size", "200x50", "--", "sh", "-c",
                            "stty raw -echo; while [ ! -e %s.go ]; do sleep 0.05; done; cat %s; sleep 0.2" % (data, data), check_rc=0)
    sid = json.loads(out)["session"]

    # A slow client: attached through a PTY we read only a little at a time.
    pid, master = pty.fork()
    if pid == 0:
        os.execve(TETHER, [TETHER, "attach", "--read-only", "big"], d.env)
    # Output starts only once the client is attached (its redraw has arrived).
    wait_for(lambda: select.select([master], [], [], 0.1)[0], what="the attach redraw")
    open(data + ".go", "w").close()
    base_rss = rss_kib(d.proc.pid)
    peak_rss = base_rss
    half_rss = None
    received = 0
    first_bytes = b""
    start = time.monotonic()
    while True:
        row = session_row(d, "big")
        peak_rss = max(peak_rss, rss_kib(d.proc.pid))
        if half_rss is None and row["bytes_out"] >= MB * 1024 * 1024 // 2:
            half_rss = peak_rss
        if row["state"] == "exited":
            break
        # Read slowly: about 2 MB/s, far below what the program writes.
        r, _, _ = select.select([master], [], [], 0.05)
        if r:
            try:
                chunk = os.read(master, 4096)
                received += len(chunk)
                if len(first_bytes) < 300:
                    first_bytes += chunk[:300]
            except OSError:
                break
        if time.monotonic() - start > 240:
            fail("the 50 MB session did not finish in 240 s")
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(master)
    # The client must have been attached and throttled, not refused or cut off.
    check(received > 1000 and b"tether:" not in first_bytes[:200],
          "the slow client was not attached: %r" % first_bytes[:300])

    size = os.path.getsize(data)
    digest = hashlib.sha256()
    logged = 0
    wait_for(lambda: d.events("session = ? AND kind = ?", (sid, KIND["SessionExited"])), what="the big session's exit")
    for seq, _, session, kind, payload in d.events("session = ? AND kind = ?", (sid, KIND["OutputChunk"])):
        logged += len(payload)
        digest.update(payload)
    check(logged == size, "the log holds %d output bytes, the program wrote %d" % (logged, size))
    with open(data, "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    check(digest.hexdigest() == want, "the logged output differs from what the program wrote")
    growth = peak_rss - base_rss
    print("daemon RSS: %d KiB before, %d KiB at half, %d KiB peak (growth %d KiB) for %d MB of output; "
          "slow client read %d bytes" % (base_rss, half_rss or 0, peak_rss, growth, MB, received))
    # A generous bound: the screen history (16 MiB at most), one commit group, the client's
    # 4 MiB, the screen follower's 1 MiB queue and the allocator's slack; what must not
    # happen is growth with the output (50 MB here, or a buffered client).
    check(growth < 128 * 1024, "daemon memory grew by %d KiB for %d MB of output: not bounded\n%s" % (growth, MB, d.output()[-3000:]))
    check(session_row(d, "big")["bytes_out"] == size, "the projection's bytes_out disagrees with the log")

    # Terminal signals, input and resize become events.
    rc, out, err = d.tether("run", "-d", "--json", "--name", "sig", "--", "sh", "-c",
                            "printf '\\033]0;first title\\007'; printf 'ding\\007'; "
                            "printf '\\033]9;Claude needs your permission\\007'; "
                            "printf '\\033]777;notify;Claude Code;Waiting for input\\033\\\\'; "
                            "printf '\\033]2;second title\\033\\\\'; read line; echo got:$line; sleep 0.2", check_rc=0)
    sid = json.loads(out)["session"]
    wait_for(lambda: len(d.events("session = ? AND kind = ?", (sid, KIND["TitleChanged"]))) == 2, what="two titles")
    d.tether("send", "sig", "hello", "--enter", check_rc=0)
    # `ls` folds staged events at once; the log has them a few ms later, at the commit.
    wait_for(lambda: d.events("session = ? AND kind = ?", (sid, KIND["SessionExited"])), what="the signals session's exit")
    ev = d.events("session = ?", (sid,))
    titles = [json.loads(e[4])["title"] for e in ev if e[3] == KIND["TitleChanged"]]
    check(titles == ["first title", "second title"], "titles: %r" % titles)
    check(sum(1 for e in ev if e[3] == KIND["BellRang"]) == 1, "bells: want exactly one (BELs ending OSCs are not bells)")
    notes = [json.loads(e[4])["message"] for e in ev if e[3] == KIND["TerminalNotified"]]
    check(notes == ["Claude needs your permission", "Claude Code: Waiting for input"], "notifications: %r" % notes)
    inputs = b"".join(e[4] for e in ev if e[3] == KIND["InputSent"])
    check(inputs == b"hello\r", "input log: %r" % inputs)
    out_bytes = b"".join(e[4] for e in ev if e[3] == KIND["OutputChunk"])
    check(b"got:hello" in out_bytes, "the program did not receive the input")
    exits = [json.loads(e[4]) for e in ev if e[3] == KIND["SessionExited"]]
    check(exits == [{"code": 0}], "exit: %r" % exits)
    check(ev[-1][3] == KIND["SessionExited"] or all(e[3] != KIND["OutputChunk"] for e in ev[ev.index(next(e for e in ev if e[3] == KIND["SessionExited"])):]),
          "output logged after the exit event")

    # A resize is logged and reaches the program.
    d.tether("run", "-d", "--name", "rs", "--size", "80x24", "--", "sh", "-c", "read x; stty size; sleep 0.2", check_rc=0)
    c = d.conn()
    r = c.request({"cmd": "resize", "session": "rs", "cols": 132, "rows": 43})
    check(r.get("ok"), "resize: %r" % r)
    d.tether("send", "rs", "", "--enter", check_rc=0)
    rs = session_row(d, "rs")
    wait_for(lambda: d.events("session = ? AND kind = ?", (rs["id"], KIND["SessionExited"])), what="the resize session's exit")
    ev = d.events("session = ?", (rs["id"],))
    check(any(e[3] == KIND["Resized"] and json.loads(e[4]) == {"cols": 132, "rows": 43} for e in ev), "no Resized event")
    check(b"43 132" in b"".join(e[4] for e in ev if e[3] == KIND["OutputChunk"]), "the program did not see the new size")

    # The program's environment: TERM, TETHER_SESSION, TETHER_SOCKET; nothing of the daemon's
    # (other sessions' PTY masters, the log, sockets) leaks into it.
    d.tether("run", "-d", "--name", "holder", "--", "sleep", "30", check_rc=0)
    d.tether("run", "-d", "--name", "envcheck", "--env", "EXTRA=yes", "--", "sh", "-c",
             "echo TERM=$TERM SESSION=$TETHER_SESSION SOCKET=$TETHER_SOCKET EXTRA=$EXTRA; "
             "for f in /proc/$$/fd/*; do echo \"fd $f -> $(readlink $f)\"; done; sleep 0.2",
             check_rc=0)
    row = session_row(d, "envcheck")
    wait_for(lambda: d.events("session = ? AND kind = ?", (row["id"], KIND["SessionExited"])), what="envcheck's exit")
    text = b"".join(e[4] for e in d.events("session = ? AND kind = ?", (row["id"], KIND["OutputChunk"]))).decode()
    check("TERM=xterm-256color SESSION=%d SOCKET=%s EXTRA=yes" % (row["id"], d.socket) in text, "env: %r" % text)
    targets = [l.split(" -> ", 1)[1] for l in text.replace("\r", "").split("\n") if l.startswith("fd ") and " -> " in l]
    check(len(targets) >= 3, "no fd listing: %r" % text)
    leaked = [t for t in targets if "ptmx" in t or "events.db" in t or "socket:" in t or "tetherd" in t]
    check(not leaked, "the program inherited daemon fds: %r" % leaked)
    rc, out, err = d.tether("admin", "verify", check_rc=0)
print("ok")
