#!/usr/bin/env python3
"""Holders the daemon cannot adopt are reported, never silently killed, and `tether
doctor` lists them, adopts them (as new sessions) or ends them on request; a holder that dies takes its session with
it, on the record; `daemon stop --end-sessions` ends every session; doctor works with
no daemon running."""

import json
import os
import shutil
import signal
import time

from tether_harness import Daemon, KIND, check, pid_alive, wait_for


def ls(d):
    return {s["name"]: s for s in json.loads(d.tether("ls", "--all", "--json", check_rc=0)[1])}


def run(d, name, *cmd):
    d.tether("run", "-d", "--name", name, "--", *cmd, check_rc=0)
    return wait_for(lambda: ls(d).get(name, {}).get("holder_pid") and ls(d)[name], what="session %s" % name)


with Daemon() as d:
    d.start()
    s = run(d, "orphan", "sleep", "300")
    holder, agent = s["holder_pid"], s["pid"]

    # With no daemon, doctor reaches the holder directly.
    d.kill(signal.SIGKILL)
    rc, out, err = d.tether("doctor")
    check(rc == 0 and "not running" in out and ("holder pid %d" % holder) in out, "doctor without a daemon: %r %r" % (out, err))

    # The daemon's state is lost: the new daemon cannot adopt the holder, and says so.
    shutil.rmtree(d.state_dir)
    d.start()
    orphaned = [json.loads(e[4]) for e in d.events("kind = ?", (KIND["HolderOrphaned"],))]
    check(len(orphaned) == 1 and orphaned[0]["holder_pid"] == holder and "no session" in orphaned[0]["reason"],
          "HolderOrphaned: %r" % orphaned)
    check(pid_alive(holder) and pid_alive(agent), "an orphaned holder was killed")
    rc, out, err = d.tether("doctor")
    check(rc == 1 and "ORPHANED" in out and "--end 1" in out, "doctor: %r" % out)
    # A new session does not take the orphan's id (and socket).
    s2 = run(d, "newcomer", "sleep", "300")
    check(s2["id"] != 1 and pid_alive(holder), "a new session took the orphan's id: %r" % s2)

    # Adopting the orphan makes its program a session of this log, under a new id.
    rc, out, err = d.tether("doctor", "--adopt", "1", check_rc=0)
    check("is now session" in out, "doctor --adopt: %r" % out)
    adopted = next(r for r in ls(d).values() if r.get("holder_pid") == holder)
    check(adopted["command"] == ["sleep", "300"] and adopted["pid"] == agent and adopted["id"] not in (1, s2["id"]),
          "the adopted orphan: %r" % adopted)
    rc, out, err = d.tether("doctor", check_rc=0)
    check("no problems" in out, "doctor after --adopt: %r" % out)
    # ...and it stays one: the next daemon adopts it like any other session.
    d.kill(signal.SIGKILL)
    d.start()
    check(ls(d)[adopted["name"]].get("holder_pid") == holder, "the adopted orphan was not re-adopted: %r" % ls(d))
    d.tether("kill", str(adopted["id"]), "--signal", "KILL", check_rc=0)
    wait_for(lambda: not pid_alive(holder) and not pid_alive(agent), what="the adopted orphan to end")

    # Another orphan, ended from doctor: SIGHUP to its program, and its holder goes.
    s3 = run(d, "second", "sleep", "300")
    d.kill(signal.SIGKILL)
    shutil.rmtree(d.state_dir)
    d.start()
    rc, out, err = d.tether("doctor")
    check(rc == 1 and "ORPHANED" in out and "--end %d" % s3["id"] in out, "doctor: %r" % out)
    for orphan in (s2, s3):  # the newcomer was orphaned by the same loss
        d.tether("doctor", "--end", str(orphan["id"]), check_rc=0)
        wait_for(lambda: not pid_alive(orphan["holder_pid"]) and not pid_alive(orphan["pid"]), what="the orphan and its program to end")
    rc, out, err = d.tether("doctor")
    check(rc == 0 and "no problems" in out, "doctor after --end: %r %r" % (out, err))

    # A holder that dies under a live daemon: the session ends, lost, at once.
    s = run(d, "fragile", "sleep", "300")
    os.kill(s["holder_pid"], signal.SIGKILL)
    def exits(session):
        return [json.loads(e[4]) for e in d.events("kind = ? AND session = ?", (KIND["SessionExited"], session))]
    ended = wait_for(lambda: exits(s["id"]), what="the session of a dead holder to end")
    check(ended and ended[0].get("lost") and "holder" in ended[0]["reason"], "exit of a dead holder's session: %r" % ended)

    # A holder that dies while the daemon is away: recorded as lost at the next start.
    s = run(d, "away", "sleep", "300")
    d.kill(signal.SIGKILL)
    os.kill(s["holder_pid"], signal.SIGKILL)
    time.sleep(0.2)
    d.start()
    check(ls(d)["away"]["state"] == "exited", "a session whose holder died while the daemon was away is still live")

    # `daemon stop --end-sessions` hangs up every session first.
    s = run(d, "ended", "sleep", "300")
    rc, out, err = d.tether("daemon", "stop", "--end-sessions", check_rc=0)
    check("keep" not in out, "stop --end-sessions kept sessions: %r" % out)
    wait_for(lambda: not pid_alive(s["holder_pid"]) and not pid_alive(s["pid"]), what="the ended session's processes to go")
    d.proc.wait(timeout=10)
    ended = exits(s["id"])
    check(ended and ended[0].get("signal") == signal.SIGHUP, "--end-sessions exit: %r" % ended)

print("ok")
