#!/usr/bin/env python3
"""`tether replay` in a real terminal (tmux plays the user's terminal): the screen at the
end of a replay equals the session's own final screen, also from a moment in the middle
(--from); --max-idle shortens a long pause;
n jumps over a pause to the next marked moment; q quits at once and leaves the terminal
in a sane state."""

import json
import os
import sys

from tether_harness import check, Daemon, KIND, require_tools, TETHER, Tmux, wait_for

IDLE_S = 15  # the recorded pause; the bounds below are well under it

require_tools("tmux")

with Daemon() as d:
    d.start()
    t = None
    try:
        script = os.path.join(d.root, "show.py")
        with open(script, "w") as f:
            f.write(r'''
import os, subprocess, sys, time
out = sys.stdout
out.write("\x1b[1;32mphase 1\x1b[0m\r\n")
for i in range(30):
    out.write("\x1b[3%dmline %02d\x1b[0m \u2713\r\n" % (i % 7 + 1, i))
for p in range(0, 101, 20):
    out.write("\rprogress [%-20s] %3d%%" % ("#" * (p // 5), p))
    out.flush()
    time.sleep(0.05)
out.write("\r\n")
out.flush()
time.sleep(%IDLE%)
subprocess.run([sys.argv[1], "mark", "phase 2"], check=True, stdout=subprocess.DEVNULL)
out.write("\x1b[7mphase 2\x1b[0m\r\n\x1b[5;10Hoverwritten\x1b[22;1H")
out.flush()
'''.replace("%IDLE%", str(IDLE_S)))
        rc, out, err = d.tether("run", "-d", "--json", "--name", "show", "--size", "80x24", "--",
                                sys.executable, script, TETHER, check_rc=0)
        sid = json.loads(out)["session"]
        wait_for(lambda: d.events("session = ? AND kind = ?", (sid, KIND["SessionExited"])), timeout=IDLE_S + 30,
                 what="the recorded session to end")
        final = json.loads(d.tether("screen", "show", "--json", check_rc=0)[1])
        check("phase 2" in final["screen"] and "overwritten" in final["screen"], "final screen: %r" % final["screen"])

        t = Tmux(d, cols=80, rows=24)
        # (1) The whole recording, its long pause cut to 0.3 s: done well within the pause.
        t.type_line("tether replay show --max-idle 0.3; echo done-$((41+0))")
        t.wait_screen("done-41", timeout=IDLE_S * 2 // 3)
        rows = [l.rstrip() for l in t.capture().split("\n")]
        want = final["screen"].split("\n")
        cursor = final["cursor_row"]
        check(rows[:cursor] == (want + [""] * 24)[:cursor],
              "the replayed screen differs from the session's:\n%s\n---\n%s" % ("\n".join(rows[:cursor]), final["screen"]))
        check(t.display("#{cursor_flag}") == "1", "the cursor is visible after the replay")

        # (1b) From a moment in the pause: the screen as it was then (from a keyframe or the
        # start, not replayed), then the rest; the same final screen.
        t.type_line("clear; tether replay show --from 5s --max-idle 0.3; echo done-$((44+0))")
        t.wait_screen("done-44", timeout=IDLE_S * 2 // 3)
        rows = [l.rstrip() for l in t.capture().split("\n")]
        check(rows[:cursor] == (want + [""] * 24)[:cursor],
              "replay --from: the screen differs:\n%s\n---\n%s" % ("\n".join(rows[:cursor]), final["screen"]))

        # (2) n skips the pause: phase 2 appears long before the pause would end.
        t.type_line("clear; tether replay show; echo done-$((42+0))")
        t.wait_screen("progress [####################] 100%")
        t.keys("n")
        t.wait_screen("done-42", timeout=IDLE_S * 2 // 3)
        check("overwritten" in t.capture(), "the output after the pause was played")

        # (3) q quits in the pause: nothing after it is shown, the shell is back.
        t.type_line("clear; tether replay show --speed 2; echo done-$((43+0))")
        t.wait_screen("progress [####################] 100%")
        t.keys("q")
        t.wait_screen("done-43", timeout=IDLE_S * 2 // 3)
        check("overwritten" not in t.capture(), "q stopped the replay before the pause ended")
        check(t.display("#{alternate_on}") == "0", "the terminal is on its normal screen")

        rc, out, err = d.tether("replay", "show", "--from", "soon")
        check(rc == 1 and "--from" in err and "soon" in err, "a bad moment is named: %r" % err)
        print("ok: replay final screen, --max-idle, n, q")
    finally:
        if t:
            t.kill()
