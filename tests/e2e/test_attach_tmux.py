#!/usr/bin/env python3
"""Attach and re-attach inside a real terminal (tmux plays the user's terminal): the
history lands in the outer terminal's scrollback, the screen after a re-attach equals
the screen before the detach, colours and cursor included, for a shell and for a
full-screen program (vim), and detaching restores the outer terminal's modes."""

import json
import sys

from tether_harness import check, Daemon, require_tools, Tmux, wait_for

require_tools("tmux", "vim")

with Daemon() as d:
    d.start()
    t = None
    try:
        d.tether("run", "-d", "--name", "sh", "--size", "80x24", "--env", "PS1=$ ", "--", "bash", "--norc", "--noprofile",
                 check_rc=0)
        d.tether("send", "sh", 'for i in $(seq 1 200); do printf "\\033[3%dmline %03d\\033[0m\\n" $((i%7+1)) $i; done',
                 "--enter", check_rc=0)
        wait_for(lambda: "line 200" in d.tether("screen", "sh")[1], what="the session to print 200 lines")

        t = Tmux(d)
        t.type_line("tether attach sh")
        t.wait_screen("line 200")

        # (1) History: everything printed before the attach is in the outer scrollback, in order.
        full = t.capture(history=True)
        pos = [full.find("line %03d" % i) for i in range(1, 201)]
        check(all(p >= 0 for p in pos), "history missing from the outer scrollback: %s" %
              [i + 1 for i, p in enumerate(pos) if p < 0][:10])
        check(pos == sorted(pos), "history out of order in the outer scrollback")
        check(full.count("line 150") == 1, "a history line appears twice in the outer terminal")

        # (2) What the outer terminal shows equals the session's own screen.
        session_text = json.loads(d.tether("screen", "sh", "--json")[1])["screen"]
        outer = "\n".join(l.rstrip() for l in t.capture().split("\n")).rstrip("\n")
        check(outer == session_text, "outer screen differs from the session's screen:\n%s\n---\n%s" % (outer, session_text))

        # (3) Typing while attached, then detach, change nothing, re-attach: identical screen.
        t.type_line("printf '\\033[1;44mbold on blue\\033[0m plain \\033[38;5;208m256\\033[38;2;1;2;3m rgb\\033[0m\\n'")
        t.wait_screen("plain 256 rgb")
        before = t.stable_capture()
        check("\x1b[" in before and "44" in before, "no colours in the capture: %r" % before[-300:])
        t.keys("C-\\")
        t.wait_screen("[detached from session")
        check(t.display("#{alternate_on}") == "0", "alternate screen still on after detach")
        t.type_line("clear; tether attach sh")
        t.wait_screen("bold on blue")
        after = t.stable_capture()
        check(after == before, "screen after re-attach differs:\n%r\n---\n%r" % (before, after))

        # (4) Output while detached shows up on re-attach, and the screen still matches.
        t.keys("C-\\")
        t.wait_screen("[detached from session")
        d.tether("send", "sh", "echo while-detached", "--enter", check_rc=0)
        wait_for(lambda: "while-detached\n" in d.tether("screen", "sh")[1], what="output while detached")
        t.type_line("clear; tether attach sh")
        t.wait_screen("while-detached")
        session_text = json.loads(d.tether("screen", "sh", "--json")[1])["screen"]
        outer = "\n".join(l.rstrip() for l in t.capture().split("\n")).rstrip("\n")
        check(outer == session_text, "after output while detached:\n%s\n---\n%s" % (outer, session_text))

        # (5) A full-screen program: vim with syntax colours in the alternate screen.
        with open(d.root + "/demo.c", "w") as f:
            f.write("#include <stdio.h>\n/* a comment */\nint main(void) {\n    printf(\"hello %d\\n\", 42);\n"
                    "    return 0;\n}\n" + "".join("// filler %d\n" % i for i in range(40)))
        t.type_line("vim -u NONE -N -i NONE -c 'syntax on' -c 'set number' %s/demo.c" % d.root)
        t.wait_screen("a comment")
        check(t.display("#{alternate_on}") == "1", "vim did not switch the outer terminal to the alternate screen")
        t.keys("j", "j", "w")  # move the cursor somewhere particular
        vim_before = t.stable_capture()
        t.keys("C-\\")
        t.wait_screen("[detached from session")
        check(t.display("#{alternate_on}") == "0", "alternate screen left on after detaching from vim")
        check(t.display("#{cursor_flag}") == "1", "cursor hidden after detaching from vim")
        check(t.display("#{keypad_cursor_flag}") == "0", "application cursor keys left on after detach")
        full = t.capture(history=True)
        check("line 001" in full, "the outer scrollback lost the history after detaching from vim")
        t.type_line("clear; tether attach sh")
        t.wait_screen("a comment")
        vim_after = t.stable_capture()
        if "-v" in sys.argv: print(vim_after)
        check(vim_after == vim_before, "vim screen after re-attach differs:\n%r\n---\n%r" % (vim_before, vim_after))
        t.type_line(":q!")
        t.wait_screen("$ ")

        # (6) The newest attach sets the size; resizing the outer terminal resizes the session.
        t.tmux("resize-window", "-x", "100", "-y", "30")
        wait_for(lambda: json.loads(d.tether("screen", "sh", "--json")[1])["cols"] == 100, what="the session to resize")
        check(json.loads(d.tether("screen", "sh", "--json")[1])["rows"] == 30, "rows not resized")

        # (7) `tether detach` from elsewhere ends the attach cleanly.
        rc, out, err = d.tether("detach", "sh", check_rc=0)
        check("detached 1" in out, "tether detach: %r" % out)
        t.wait_screen("[detached from session")
        t.wait_screen("outer$")
    finally:
        if t:
            t.kill()
print("ok")
