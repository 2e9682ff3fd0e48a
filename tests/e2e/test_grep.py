#!/usr/bin/env python3
"""`tether grep` searches the rendered text of every session (not its escape
sequences): lines still on the last screen and lines that scrolled off, with the
session, the time and a --seq where `tether screen --seq` shows the line; --session
narrows it; a pruned session's text goes with it; `admin rebuild` takes it all again."""

import json
import os

from tether_harness import Daemon, KIND, check, wait_for


def ended(d, sid):
    return d.events("session = ? AND kind = ?", (sid, KIND["SessionExited"]))


def grep(d, *args):
    return json.loads(d.tether("grep", "--json", *args, check_rc=0)[1])


with Daemon() as d:
    d.start()
    ids = {}
    # Colours and cursor moves between the words: only the rendered text matches.
    for name, cmd in (("small", "printf 'the \\033[31mquick\\033[0m brown \\033[20Gfox\\r\\nnothing else\\r\\n'"),
                      ("big", "seq 1 30000 | sed 's/^/row number /'; printf 'last words here\\r\\n'"),
                      ("newest", "echo quick brown")):
        rc, out, err = d.tether("run", "-d", "--json", "--name", name, "--", "sh", "-c", cmd, check_rc=0)
        ids[name] = json.loads(out)["session"]
        wait_for(lambda: ended(d, ids[name]), timeout=60, what="%s to end" % name)
    wait_for(lambda: grep(d, "last words here"), timeout=60, what="the big session's end to be indexed")

    hits = grep(d, "the quick")
    check(len(hits) == 1 and hits[0]["name"] == "small", "rendered text matches: %r" % hits)
    check(d.tether("grep", "31mquick", check_rc=0)[1].strip() == "no match", "escape sequences are not text")
    hit = hits[0]
    screen = json.loads(d.tether("screen", "small", "--json", "--seq", str(hit["seq"]), check_rc=0)[1])
    check(hit["line"] in screen["screen"] and hit["on_screen"], "screen --seq shows the hit: %r" % screen["screen"])
    rows = grep(d, "row number 1234")
    check(any(h["line"] == "row number 1234" and not h["on_screen"] for h in rows),
          "a line that scrolled off is found: %r" % rows[:3])
    check({h["name"] for h in grep(d, "quick brown")} == {"small", "newest"}, "every session")
    check({h["name"] for h in grep(d, "quick brown", "--session", "newest")} == {"newest"}, "--session narrows")
    rc, out, err = d.tether("grep", "zebra crossing", check_rc=0)
    check(out.strip() == "no match", "no match: %r" % out)
    rc, out, err = d.tether("grep", "fox", check_rc=0)
    check("small (%d)" % ids["small"] in out and "--seq" in out, "human output: %r" % out)

    # Derived: rebuilt from the log; a pruned session's text goes.
    d.tether("admin", "rebuild", check_rc=0)
    wait_for(lambda: grep(d, "last words here") and grep(d, "the quick"), timeout=120, what="the index to be rebuilt")
    d.tether("gc", "--max-total", "0.00001", check_rc=0)
    wait_for(lambda: not grep(d, "the quick"), what="the pruned session's text to go")
    print("ok: grep on rendered text, scrolled lines, --seq, --session, rebuild, gc")
