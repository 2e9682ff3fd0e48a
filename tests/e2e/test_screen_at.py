#!/usr/bin/env python3
"""`tether screen --seq N / --at T` rebuilds a past screen from keyframes: for a
full-screen program (a scripted curses-like TUI writing megabytes: alternate screen,
scroll regions, colours, titles, a resize; and vim), the screen at several moments
equals the screen captured live at those moments, text and exact redraw alike. The
seek starts from a keyframe (a short tail, not the whole session); `admin rebuild`
retakes the keyframes; after a daemon restart the ended sessions' screens are still
there, now or at any moment."""

import datetime
import json
import os
import sqlite3
import sys

from tether_harness import check, Daemon, fail, KIND, require_tools, wait_for

TUI = r'''
import os, random, sys, time
rnd = random.Random(7)
out = sys.stdout.buffer
sync = sys.argv[1]
def w(s):
    out.write(s.encode())
    out.flush()
def checkpoint(n):
    w("\x1b[%d;1H\x1b[1;33mcheckpoint %d\x1b[0m" % (rnd.randint(3, 10), n))
    open(os.path.join(sync, "%d.ready" % n), "w").close()
    while not os.path.exists(os.path.join(sync, "%d.go" % n)):
        time.sleep(0.02)
words = ["alpha", "beta", "gamma", "delta", "\u2713 done", "\u6f22\u5b57", "e\u0301t\u00e9", "\U0001f642"]
def frame(f, rows):
    w("\x1b]2;tui frame %d\x07" % f)
    w("\x1b[1;1H\x1b[7m %-40s \x1b[0m" % ("frame %d" % f))
    w("\x1b[2;%dr\x1b[%d;1H" % (rows - 1, rows - 1))
    for i in range(rnd.randint(5, 40)):
        colour = rnd.randint(0, 255)
        w("\n\x1b[38;5;%dm%s\x1b[0m %s" % (colour, " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 8))), "x" * rnd.randint(0, 30)))
    w("\x1b[r\x1b[%d;1H\x1b[44m status %d \x1b[K\x1b[0m" % (rows, f))
    w("\x1b[%d;%dH" % (rnd.randint(2, rows - 2), rnd.randint(1, 60)))
rows = 24
w("\x1b[?1049h\x1b[?25l")
n = 0
for f in range(3000):
    if os.path.exists(os.path.join(sync, "resized")):
        rows = 30
    frame(f, rows)
    if f in (700, 1500, 2999):
        n += 1
        checkpoint(n)
    if f == 1000:
        w("\x1b[?1049l\x1b[?25hback on the primary screen\r\n\x1b[?1049h")
w("\x1b[?1049l\x1b[?25h")
'''

require_tools("vim")


def live(d, name):
    return json.loads(d.tether("screen", name, "--json", check_rc=0)[1])


def ansi(d, name, *args):
    return d.tether("screen", name, "--ansi", *args, check_rc=0)[1]


def past(d, name, *args):
    return json.loads(d.tether("screen", name, "--json", *args, check_rc=0)[1])


def same(a, b, what):
    for k in ("screen", "cursor_row", "cursor_col", "alt_screen", "title", "cols", "rows"):
        if a[k] != b[k]:
            fail("%s: %s differs:\n%r\n---\n%r" % (what, k, a[k], b[k]))


def iso_utc(us):
    t = datetime.datetime.fromtimestamp(us / 1e6, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


with Daemon() as d:
    d.start()
    sync = os.path.join(d.root, "sync")
    os.mkdir(sync)
    script = os.path.join(d.root, "tui.py")
    with open(script, "w") as f:
        f.write(TUI)
    rc, out, err = d.tether("run", "-d", "--json", "--name", "tui", "--size", "80x24", "--",
                            sys.executable, script, sync, check_rc=0)
    tui = json.loads(out)["session"]

    # Live captures at three checkpoints of the TUI, with a resize in between.
    captured = []
    for n in (1, 2, 3):
        wait_for(lambda: os.path.exists(os.path.join(sync, "%d.ready" % n)), timeout=120, what="checkpoint %d" % n)
        wait_for(lambda: "checkpoint %d" % n in live(d, "tui")["screen"], timeout=60, what="checkpoint %d on screen" % n)
        shot = live(d, "tui")
        shot["ansi"] = ansi(d, "tui")
        captured.append(shot)
        if n == 1:
            c = d.conn()
            r = c.request({"cmd": "resize", "session": tui, "cols": 100, "rows": 30})
            check(r.get("ok"), "resize: %r" % r)
            c.close()
            open(os.path.join(sync, "resized"), "w").close()
        open(os.path.join(sync, "%d.go" % n), "w").close()
    wait_for(lambda: d.events("session = ? AND kind = ?", (tui, KIND["SessionExited"])), timeout=60, what="the TUI's end")
    final_tui = live(d, "tui")

    # vim: a real full-screen program, driven by keystrokes.
    text = os.path.join(d.root, "poem.txt")
    with open(text, "w") as f:
        f.write("".join("line %d of the poem, with words \u2713\n" % i for i in range(200)))
    rc, out, err = d.tether("run", "-d", "--json", "--name", "vim", "--size", "80x24", "--", "vim", "-u", "NONE", "-N",
                            "-i", "NONE", text, check_rc=0)
    vim = json.loads(out)["session"]
    vim_shots = []
    for keys, needle in ((None, "line 0 of"), (":set number\r", "  1 line 0"), ("50G", " 50 line 49"),
                         ("ddOinserted here\x1b", "inserted here"), (":set nonumber\r120G", "line 119 of")):
        if keys:
            d.tether("send", "vim", keys, check_rc=0)
        wait_for(lambda: needle in live(d, "vim")["screen"], timeout=30, what="%r in vim" % needle)
        shot = wait_for(lambda: (lambda a, b: a if a["seq"] == b["seq"] else None)(live(d, "vim"), live(d, "vim")),
                        what="vim to settle")
        shot["ansi"] = ansi(d, "vim")
        vim_shots.append(shot)
    d.tether("send", "vim", ":qa!\r", check_rc=0)
    wait_for(lambda: d.events("session = ? AND kind = ?", (vim, KIND["SessionExited"])), what="vim's end")

    def check_all(label):
        for i, shot in enumerate(captured + vim_shots):
            name = "tui" if i < len(captured) else "vim"
            got = past(d, name, "--seq", str(shot["seq"]))
            same(got, shot, "%s: %s at seq %d" % (label, name, shot["seq"]))
            check(got["seq"] == shot["seq"], "the reply names the moment")
            got_ansi = ansi(d, name, "--seq", str(shot["seq"]))
            check(got_ansi == shot["ansi"], "%s: the redraw of %s at seq %d differs" % (label, name, shot["seq"]))
            at = past(d, name, "--at", iso_utc(got["time_us"]))
            same(at, shot, "%s: %s --at its time" % (label, name))

    check_all("live keyframes")
    # The TUI wrote megabytes: its seeks start from a keyframe and replay a short tail.
    for shot in captured:
        got = past(d, "tui", "--seq", str(shot["seq"]))
        check(got["keyframe_seq"] > 0 and got["replayed_bytes"] < 1024 * 1024,
              "a seek replays from a keyframe: %r" % {k: got[k] for k in ("seq", "keyframe_seq", "replayed_bytes")})
    db = sqlite3.connect(os.path.join(d.state_dir, "keyframes.db"))
    frames = db.execute("SELECT count(*) FROM keyframes WHERE session = ?", (tui,)).fetchone()[0]
    db.close()
    out_bytes = sum(len(r[4]) for r in d.events("session = ? AND kind = ?", (tui, KIND["OutputChunk"])))
    check(frames >= out_bytes // (256 * 1024), "keyframes every 128 KiB or so: %d for %d bytes" % (frames, out_bytes))
    check(past(d, "tui", "--at", "0")["screen"] == "", "the screen at the start is empty")
    rc, out, err = d.tether("screen", "tui", "--at", "yesterday")
    check(rc == 2 and "--at" in err, "a bad moment is a usage error: %r" % err)

    # admin rebuild drops and retakes the keyframes; seeks stay exact.
    d.tether("admin", "rebuild", check_rc=0)
    check_all("after rebuild")

    # A restarted daemon holds no screen of these sessions: they come from the log.
    d.kill()
    d.start()
    same(past(d, "tui"), final_tui, "the ended TUI's last screen after a restart")
    check_all("after a restart")
    print("ok: %d moments of a TUI (%d bytes, %d keyframes) and vim equal their live screens"
          % (len(captured) + len(vim_shots), out_bytes, frames))
