#!/usr/bin/env python3
"""Bad input to the session commands: each gets a clear error and a non-zero exit, and
the daemon carries on."""

import json

from tether_harness import Daemon, check, wait_for


def expect(d, args, rc_want, *needles):
    rc, out, err = d.tether(*args)
    check(rc == rc_want, "tether %s: exit %d, wanted %d (%r)" % (" ".join(args), rc, rc_want, err))
    for n in needles:
        check(n in err, "tether %s: stderr %r lacks %r" % (" ".join(args), err, n))


with Daemon() as d:
    d.start()
    expect(d, ["run", "-d", "--", "/no/such/program"], 1, "/no/such/program", "No such file or directory")
    expect(d, ["run", "-d", "--", "nosuchcommand-xyz"], 1, "nosuchcommand-xyz", "No such file or directory")
    plain = d.root + "/not-executable"
    open(plain, "w").write("echo hi\n")
    expect(d, ["run", "-d", "--", plain], 1, "Permission denied")
    expect(d, ["run", "-d", "--cwd", "/no/such/dir", "--", "true"], 1, "/no/such/dir")
    expect(d, ["run", "-d", "--size", "0x10", "--", "true"], 2, "invalid size")
    expect(d, ["run", "-d", "--size", "80", "--", "true"], 2, "invalid size")
    expect(d, ["run", "-d", "--size", "5000x10", "--", "true"], 2, "invalid size")
    expect(d, ["run", "-d", "--env", "NOEQUALS", "--", "true"], 2, "K=V")
    expect(d, ["run", "-d"], 2)
    expect(d, ["attach", "nosuch"], 1, "no such session: nosuch")
    expect(d, ["send", "nosuch", "x"], 1, "no such session")
    expect(d, ["kill", "nosuch"], 1, "no such session")
    expect(d, ["screen", "nosuch"], 1, "no such session")
    expect(d, ["detach", "nosuch"], 1, "no such session")

    d.tether("run", "-d", "--name", "short", "--", "sh", "-c", "exit 7", check_rc=0)
    wait_for(lambda: any(r["name"] == "short" and r["state"] == "exited"
                         for r in json.loads(d.tether("ls", "--all", "--json")[1])), what="short to exit")
    expect(d, ["attach", "short"], 1, "exited with code 7")
    expect(d, ["send", "short", "x"], 1, "exited with code 7")
    expect(d, ["kill", "short"], 1, "exited with code 7")

    d.tether("run", "-d", "--name", "live", "--", "sleep", "30", check_rc=0)
    expect(d, ["run", "-d", "--name", "live", "--", "true"], 1, "already named \"live\"")
    expect(d, ["kill", "live", "--signal", "NOPE"], 1, "unknown signal")
    expect(d, ["attach", "live", "--detach-key", "xyz"], 2, "invalid detach key")
    d.tether("kill", "live", "--signal", "KILL", check_rc=0)
    wait_for(lambda: any(r["name"] == "live" and r.get("exit_signal") == 9
                         for r in json.loads(d.tether("ls", "--all", "--json")[1])), what="live to die by SIGKILL")

    # A failed spawn is recorded as a failed session, with its reason, not left silent.
    rows = json.loads(d.tether("ls", "--all", "--json")[1])
    failed = [r for r in rows if r["state"] == "failed"]
    check(len(failed) == 3, "failed sessions: %r" % [r["name"] for r in failed])
    check(all("error" in r for r in failed), "a failed session without its error")
    check(d.alive(), "the daemon died")
    rc, out, err = d.tether("ls", check_rc=0)
    d.tether("admin", "verify", check_rc=0)
print("ok")
