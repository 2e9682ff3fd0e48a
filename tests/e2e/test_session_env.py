#!/usr/bin/env python3
"""A program under tether starts as it would in the caller's shell: the caller's
environment, working directory and umask (not the daemon's, whose umask is 077), with
TERM and TETHER_SESSION set by tether."""

import json
import os

from tether_harness import Daemon, check, wait_for


def session_output(d, name):
    rows = json.loads(d.tether("ls", "--all", "--json", check_rc=0)[1])
    sid = next(r["id"] for r in rows if r["name"] == name)
    wait_for(lambda: next(r for r in json.loads(d.tether("ls", "--all", "--json")[1]) if r["id"] == sid)["state"] == "exited",
             what="%s to finish" % name)
    return d.tether("screen", str(sid), check_rc=0)[1]


with Daemon() as d:
    d.start()
    workdir = os.path.join(d.root, "work")
    os.makedirs(workdir)
    for mask in (0o022, 0o027):
        old = os.umask(mask)  # the CLI inherits it, as from a shell
        try:
            name = "env-%o" % mask
            d.env["TETHER_E2E_MARK"] = "from-the-caller"
            d.tether("run", "-d", "--name", name, "--cwd", workdir, "--", "sh", "-c",
                     'printf "umask=%%s\\npwd=%%s\\nmark=%%s\\nterm=%%s\\n" "$(umask)" "$(pwd)" "$TETHER_E2E_MARK" "$TERM"; '
                     'touch made-%o; ls -l made-%o' % (mask, mask), check_rc=0)
        finally:
            os.umask(old)
        out = session_output(d, name)
        check("umask=%04o" % mask in out, "the program did not get the caller's umask %04o: %r" % (mask, out))
        check("pwd=" + workdir in out and "mark=from-the-caller" in out and "term=xterm-256color" in out,
              "environment or cwd: %r" % out)
        mode = os.stat(os.path.join(workdir, "made-%o" % mask)).st_mode & 0o777
        check(mode == 0o666 & ~mask, "a file the program made has mode %o, wanted %o" % (mode, 0o666 & ~mask))

print("ok")
