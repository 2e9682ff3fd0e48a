#!/usr/bin/env python3
"""`tether hooks install|uninstall|status` on a user's Claude Code settings: merged next to
other hooks, idempotent, a backup kept, an unparsable file refused and left untouched."""

import glob
import json
import os

from tether_harness import Daemon, check

with Daemon() as d:
    home = os.path.join(d.root, "home")
    os.makedirs(os.path.join(home, ".claude"))
    d.env["HOME"] = home
    settings = os.path.join(home, ".claude", "settings.json")
    user = {"model": "opus", "hooks": {"Stop": [{"matcher": "", "hooks": [{"type": "command", "command": "ding.sh"}]}]}}
    with open(settings, "w") as f:
        json.dump(user, f)

    rc, out, err = d.tether("hooks", "status")
    check(rc == 1 and "no tether hooks" in out, "status before: %d %r" % (rc, out))
    rc, out, err = d.tether("hooks", "install", check_rc=0)
    check("installed" in out and "backup" in out, "install: %r" % out)
    with open(settings) as f:
        merged = json.load(f)
    check(merged["model"] == "opus", "install lost a setting")
    check(merged["hooks"]["Stop"][0]["hooks"][0]["command"] == "ding.sh", "install lost the user's Stop hook")
    check(any("tether-hook" in h["command"] for g in merged["hooks"]["PermissionRequest"] for h in g["hooks"]),
          "no PermissionRequest hook installed")
    hook_cmd = merged["hooks"]["Stop"][1]["hooks"][0]["command"].split()[0]
    check(os.access(hook_cmd, os.X_OK), "the installed hook command is not executable: %s" % hook_cmd)
    rc, out, err = d.tether("hooks", "install", check_rc=0)
    check("already" in out, "second install not idempotent: %r" % out)
    rc, out, err = d.tether("hooks", "status", check_rc=0)
    check("PermissionRequest" in out, "status: %r" % out)
    check(len(glob.glob(settings + ".tether-backup-*")) == 1, "no single backup")

    rc, out, err = d.tether("hooks", "uninstall", check_rc=0)
    with open(settings) as f:
        check(json.load(f) == user, "uninstall did not give back the user's settings exactly")

    # --project writes .claude/settings.local.json in the current directory.
    proj = os.path.join(d.root, "proj")
    os.makedirs(proj)
    import subprocess
    from tether_harness import TETHER
    p = subprocess.run([TETHER, "hooks", "install", "--project"], cwd=proj, env=d.env, capture_output=True, timeout=20)
    check(p.returncode == 0 and os.path.exists(os.path.join(proj, ".claude", "settings.local.json")), "project install: %r" % (p,))

    with open(settings, "w") as f:
        f.write('{"hooks": [oops')
    rc, out, err = d.tether("hooks", "install")
    check(rc == 1 and "cannot parse" in err and "settings.json" in err, "unparsable: %d %r" % (rc, err))
    with open(settings) as f:
        check(f.read() == '{"hooks": [oops', "an unparsable file was modified")
print("ok")
