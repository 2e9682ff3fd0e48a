#!/usr/bin/env python3
"""tether-ui with a fleet: the window on host a shows host b's sessions under b's name,
with the same accent ring for the one that needs you, and its Approve button answers b's
agent through a's daemon (recorded on b by fleet:a). The real nats-server, two daemons,
the real window under Xvfb + openbox, clicks with xdotool."""

import json
import os
import subprocess
import sys
import time

from tether_harness import (BIN_DIR, Daemon, FAKE_CLAUDE, KIND, NatsServer, XDisplay, check, fleet_config, read_json_file,
                            require_tools, run_output, wait_for)

UI = os.path.join(os.path.abspath(os.path.join(BIN_DIR, "..")), "ui", "tether-ui")
SHOTS = os.path.join(os.path.abspath(os.path.join(BIN_DIR, "..")), "ui-screenshots")
ACCENT = "rgb(255,150,20)"  # the ring (ui/view.cc k_accent)

require_tools("Xvfb", "openbox", "xprop", "xdotool", "import", "convert")
if not os.path.exists(UI):
    print("SKIP: tether-ui was not built")
    sys.exit(77)
run = run_output


def accent_pixels(path):
    return float(run(["convert", path, "-fill", "black", "+opaque", ACCENT, "-fill", "white", "-opaque", ACCENT,
                      "-format", "%[fx:mean*w*h]", "info:"]))


xdisplay = None
try:
    xdisplay = XDisplay()
    spawn = xdisplay.spawn
    with Daemon() as a, Daemon() as b:
        nats = NatsServer(a.root).start()
        for d, host in ((a, "a"), (b, "b")):
            path = os.path.join(d.root, "config.yaml")
            with open(path, "w") as f:
                f.write(fleet_config(nats.url, host, ["a", "b"]))
            d.extra_args = ["--config", path]
            d.start()
        b.tether("run", "-d", "--name", "cl", "--size", "80x16", "--", FAKE_CLAUDE, check_rc=0)
        wait_for(lambda: b.tether("screen", "cl")[1].rstrip().endswith(">"), what="the fake agent prompt on b")

        layout_file = os.path.join(a.root, "layout.json")
        ui_log = os.path.join(a.root, "ui.log")
        ui_env = dict(a.env, TETHER_UI_STATE=os.path.join(a.root, "ui.json"), TETHER_UI_LAYOUT=layout_file)
        spawn([UI, "--config", os.path.join(a.root, "config.yaml")], env=ui_env, stdout=open(ui_log, "ab"), stderr=subprocess.STDOUT)

        def layout():
            return read_json_file(layout_file)

        def settled(key):
            first = (layout() or {}).get("buttons", {}).get(key)
            time.sleep(0.3)
            return first if first and first == (layout() or {}).get("buttons", {}).get(key) else None

        wid = wait_for(lambda: (run(["xdotool", "search", "--name", "^tether$"]).split() or [None])[0], what="the tether-ui window")
        wait_for(lambda: (layout() or {}).get("connected"), what="the window to connect")
        time.sleep(0.5)
        os.makedirs(SHOTS, exist_ok=True)
        quiet = os.path.join(SHOTS, "fleet-1-quiet.png")
        subprocess.run(["import", "-window", "root", quiet], check=True, timeout=30)
        check(accent_pixels(quiet) == 0, "an accent ring while nobody needs you")

        b.tether("send", "cl", "run make deploy", "--enter", check_rc=0)
        b.tether("wait", "cl", "--until", "needs_permission", "--timeout", "20", check_rc=0)
        x, y, w, h = wait_for(lambda: settled("approve:b:cl"), timeout=20, what="b's Approve button in a's window")
        time.sleep(0.3)
        asks = os.path.join(SHOTS, "fleet-2-b-needs-you.png")
        subprocess.run(["import", "-window", "root", asks], check=True, timeout=30)
        check(accent_pixels(asks) > 200, "no accent ring around b's session")
        subprocess.run(["xdotool", "mousemove", "--window", wid, str(int(x + w / 2)), str(int(y + h / 2)), "click", "1"],
                       check=True, timeout=10)
        wait_for(lambda: "(ran)" in b.tether("screen", "cl")[1], timeout=20, what="b's agent to get the window's answer")
        decided = [json.loads(e[4]) for e in b.events("kind = ?", (KIND["PermissionDecided"],))]
        check([(x["decision"], x["by"]) for x in decided] == [("allow", "fleet:a")], "decided on b: %r" % decided)
        wait_for(lambda: "approve:b:cl" not in (layout() or {}).get("buttons", {}), timeout=20, what="the Approve button to go")
        nats.stop()
finally:
    if xdisplay:
        xdisplay.close()
print("ok")
