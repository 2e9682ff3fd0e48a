#!/usr/bin/env python3
"""tether-ui end to end: the real daemon and the real window under Xvfb with openbox.
Always on top (_NET_WM_STATE_ABOVE), screenshots in several states (saved in the build
directory, checked not blank and different), the accent ring on the session that needs
you, Approve and Deny clicked with xdotool and received by the fake agent, one chime per
transition through a notifier plugin (the fake one, which records), none in quiet hours
or for a muted session, Attach running the configured terminal, reconnecting after a
daemon restart, and the window's position remembered."""

import json
import os
import signal
import subprocess
import sys
import time

from tether_harness import BIN_DIR, check, Daemon, fail, FAKE_CLAUDE, KIND, read_json_file, require_tools, run_output, XDisplay
from tether_harness import wait_for as harness_wait_for


def wait_for(pred, timeout=10.0, what="condition"):
    # An X server, a window manager and a software-rendered window share two busy cores
    # with the rest of the suite: the bounds are generous; nothing here measures time.
    return harness_wait_for(pred, timeout=max(timeout, 60.0), what=what)

BUILD = os.path.abspath(os.path.join(BIN_DIR, ".."))
UI = os.path.join(BUILD, "ui", "tether-ui")
FAKE_PLUGIN = os.path.join(BUILD, "tests", "fake_plugin", "tether-notifier-fake.so")
SHOTS = os.path.join(BUILD, "ui-screenshots")
ACCENT = "rgb(255,150,20)"  # the ring (ui/view.cc k_accent)

if not os.path.exists(UI):
    print("SKIP: tether-ui was not built (GLFW/ImGui missing)")
    sys.exit(77)
require_tools("Xvfb", "openbox", "xprop", "xdotool", "xmessage", "import", "compare", "convert")

def run(args):
    return run_output(args)


def shot(name):
    os.makedirs(SHOTS, exist_ok=True)
    path = os.path.join(SHOTS, name)
    subprocess.run(["import", "-window", "root", path], check=True, timeout=30)
    std = float(run(["convert", path, "-colorspace", "gray", "-format", "%[fx:standard_deviation]", "info:"]))
    check(std > 0.02, "screenshot %s is blank (standard deviation %.4f)" % (name, std))
    return path


def differing_pixels(a, b):
    p = subprocess.run(["compare", "-metric", "AE", a, b, "null:"], capture_output=True, timeout=30)
    return float(p.stderr.decode().split()[0])


def accent_pixels(path):
    out = run(["convert", path, "-fill", "black", "+opaque", ACCENT, "-fill", "white", "-opaque", ACCENT,
               "-format", "%[fx:mean*w*h]", "info:"])
    return float(out)


xdisplay = None
try:
    xdisplay = XDisplay()
    spawn = xdisplay.spawn
    with Daemon() as d:
        config = os.path.join(d.root, "config.yaml")
        with open(config, "w") as f:
            f.write("hooks:\n  permission_wait_s: 120\n")
        d.extra_args = ["--config", config]
        d.start()
        for name in ("alpha", "beta", "gamma"):
            d.tether("run", "-d", "--name", name, "--size", "80x16", "--", FAKE_CLAUDE, check_rc=0)
        for name in ("alpha", "beta", "gamma"):
            wait_for(lambda: d.tether("screen", name)[1].rstrip().endswith(">"), what=name + "'s prompt")
            d.tether("send", name, "hello", "--enter", check_rc=0)
            rc, out, err = d.tether("wait", name, "--until", "idle", "--timeout", "20")
            check(rc == 0, "%s did not go idle: %s" % (name, err))

        chimes = os.path.join(d.root, "chimes.jsonl")
        layout_file = os.path.join(d.root, "layout.json")
        attach_log = os.path.join(d.root, "attach.txt")
        terminal = os.path.join(d.root, "fake-terminal")
        with open(terminal, "w") as f:
            f.write("#!/bin/sh\necho \"$@\" > %s\n" % attach_log)
        os.chmod(terminal, 0o755)
        ui_env = dict(d.env, TETHER_UI_STATE=os.path.join(d.root, "ui.json"), TETHER_UI_LAYOUT=layout_file,
                      TETHER_UI_TERMINAL=terminal)
        ui_log = os.path.join(d.root, "ui.log")

        def start_ui():
            return spawn([UI, "--config", config, "--chime-plugin", FAKE_PLUGIN, "--chime-option", "file=" + chimes],
                         env=ui_env, stdout=open(ui_log, "ab"), stderr=subprocess.STDOUT)

        def layout():
            return read_json_file(layout_file)

        def ui_says(text):
            with open(ui_log, errors="replace") as f:
                return text in f.read()

        def window():
            out = run(["xdotool", "search", "--name", "^tether$"]).split()
            return out[0] if out else None

        def settled(key):
            """The button's rectangle once it stops moving (cards reorder as states change)."""
            first = (layout() or {}).get("buttons", {}).get(key)
            time.sleep(0.3)
            return first if first and first == (layout() or {}).get("buttons", {}).get(key) else None

        def click(key):
            x, y, w, h = wait_for(lambda: settled(key), what="button " + key)
            subprocess.run(["xdotool", "mousemove", "--window", wid, str(int(x + w / 2)), str(int(y + h / 2)), "click", "1"],
                           check=True, timeout=10)

        def chime_lines():
            try:
                with open(chimes) as f:
                    return [json.loads(l) for l in f if l.strip()]
            except OSError:
                return []

        def decided(name):
            sid = next(r for r in json.loads(d.tether("ls", "--json")[1]) if r["name"] == name)["id"]
            return [json.loads(e[4]) for e in d.events("kind = ? AND session = ?", (KIND["PermissionDecided"], sid))]

        ui = start_ui()
        wid = wait_for(window, what="the tether-ui window")
        wait_for(lambda: "_NET_WM_STATE_ABOVE" in run(["xprop", "-id", wid, "_NET_WM_STATE"]), what="_NET_WM_STATE_ABOVE")
        wait_for(lambda: (layout() or {}).get("connected") and "attach:gamma" in layout()["buttons"],
                 what="the window to show three sessions")
        time.sleep(0.5)  # the frame after the layout file is on screen
        idle = shot("1-all-idle.png")
        check(accent_pixels(idle) == 0, "an accent ring while nobody needs you")

        # Select alpha: its live screen appears below the cards.
        click("select:alpha")
        wait_for(lambda: (layout() or {}).get("screen_session") == (layout() or {}).get("selected") != 0, what="alpha's screen")

        # Type into alpha's screen: the keys reach the agent.
        click("typing:alpha")
        wait_for(lambda: (layout() or {}).get("typing"), what="Type into it to be ticked")
        click("screen:alpha")
        subprocess.run(["xdotool", "windowfocus", "--sync", wid], check=True, timeout=10)
        subprocess.run(["xdotool", "type", "--delay", "20", "from the window"], check=True, timeout=30)
        subprocess.run(["xdotool", "key", "Return"], check=True, timeout=10)
        deadline = time.monotonic() + 20
        while "> from the window" not in d.tether("screen", "alpha")[1] and time.monotonic() < deadline:
            time.sleep(0.1)
        if "> from the window" not in d.tether("screen", "alpha")[1]:
            shot("typing-failed.png")
            fail("typed keys did not reach alpha; its screen:\n%s\nthe window's log:\n%s" % (
                d.tether("screen", "alpha")[1], open(ui_log, errors="replace").read()))
        d.tether("wait", "alpha", "--until", "idle", "--timeout", "20", check_rc=0)
        click("typing:alpha")  # typing off again
        wait_for(lambda: (layout() or {}).get("typing") is False, what="Type into it to be unticked")

        # alpha asks permission: the ring, one chime, Approve shown.
        d.tether("send", "alpha", "run make deploy", "--enter", check_rc=0)
        deadline = time.monotonic() + 60
        while "approve:alpha" not in (layout() or {}).get("buttons", {}) and time.monotonic() < deadline:
            time.sleep(0.05)
        if "approve:alpha" not in (layout() or {}).get("buttons", {}):
            # Say why: did the hook reach the daemon, did the state change, what does ls say?
            recent = [(e[0], e[2], e[3], e[4][:160]) for e in d.events("kind IN (?, ?, ?, ?)", tuple(KIND[k] for k in ("HookReceived", "StateChanged", "PermissionRequested", "PermissionDecided")))][-8:]
            fail("no Approve button for alpha; its last hook/state events: %r\nls: %s\nscreen:\n%s" % (
                recent, d.tether("ls")[1], d.tether("screen", "alpha")[1]))
        wait_for(lambda: len(chime_lines()) == 1, what="one chime")
        c = chime_lines()[0]
        check(c["session_name"] == "alpha" and c["state_to"] == "needs_permission" and "make deploy" in c["body"], "chime: %r" % c)
        time.sleep(0.5)
        asking = shot("2-needs-permission.png")
        check(accent_pixels(asking) > 200, "no accent ring around the session that needs you (%d px)" % accent_pixels(asking))
        check(differing_pixels(idle, asking) > 1000, "the needs-permission screenshot looks like the idle one")

        # You are working in another window: the one click on Approve must count.
        other = spawn(["xmessage", "-geometry", "+0+0", "another window"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        other_wid = wait_for(lambda: (run(["xdotool", "search", "--class", "Xmessage"]).split() or [None])[-1],
                             what="another window")
        subprocess.run(["xdotool", "windowactivate", "--sync", other_wid], check=True, timeout=10)
        check(run(["xdotool", "getactivewindow"]).strip() == other_wid, "the other window did not take the focus")
        click("approve:alpha")
        wait_for(lambda: decided("alpha"), what="alpha's permission to be decided by one click on an unfocused window")
        other.kill()
        dec = decided("alpha")[-1]
        check(dec["decision"] == "allow" and dec["by"] == "ui", "decision: %r" % dec)
        wait_for(lambda: "(ran)" in d.tether("screen", "alpha")[1], what="the fake agent to receive allow and run")
        d.tether("wait", "alpha", "--until", "idle", "--timeout", "20", check_rc=0)
        wait_for(lambda: "approve:alpha" not in (layout() or {}).get("buttons", {}), what="Approve to go away")
        time.sleep(0.5)
        approved = shot("3-approved.png")
        check(accent_pixels(approved) == 0, "the ring stayed after the answer")

        # Mute gamma: its permission request neither chimes nor rings; Deny from the window.
        click("mute:gamma")
        wait_for(lambda: "unmute:gamma" in (layout() or {}).get("buttons", {}), what="gamma muted")
        d.tether("send", "gamma", "run rm -rf build", "--enter", check_rc=0)
        wait_for(lambda: "deny:gamma" in (layout() or {}).get("buttons", {}), what="the Deny button for gamma")
        wait_for(lambda: ui_says("session gamma is muted"), what="the UI to skip the muted chime")
        click("deny:gamma")
        wait_for(lambda: "denied" in d.tether("screen", "gamma")[1], what="the fake agent to receive deny")
        check(decided("gamma")[-1]["decision"] == "deny", "gamma: %r" % decided("gamma"))
        with open(os.path.join(d.root, "ui.json")) as f:
            check(len(json.load(f)["muted"]) == 1, "the mute is not in the state file")

        # Quiet hours all day: beta's request does not chime.
        with open(config, "w") as f:
            f.write("hooks:\n  permission_wait_s: 120\nquiet_hours:\n  hours: \"00:00-24:00\"\n")
        d.tether("config", "reload", check_rc=0)
        d.tether("send", "beta", "run ls", "--enter", check_rc=0)
        wait_for(lambda: "approve:beta" in (layout() or {}).get("buttons", {}), what="the Approve button for beta")
        wait_for(lambda: ui_says("quiet hours"), what="the UI to keep quiet in quiet hours")
        check(len(chime_lines()) == 1, "chimes: %r" % chime_lines())
        click("ack:beta")
        acks = wait_for(lambda: d.events("kind = ?", (KIND["Acknowledged"],)), what="the Acknowledged event")
        check(json.loads(acks[-1][4]).get("by") == "ui", "ack: %r" % acks)
        d.tether("approve", "beta", check_rc=0)
        d.tether("wait", "beta", "--until", "idle", "--timeout", "20", check_rc=0)

        # Attach runs the configured terminal with `tether attach ID`.
        click("attach:alpha")
        wait_for(lambda: os.path.exists(attach_log), what="the terminal to be started")
        with open(attach_log) as f:
            words = f.read().split()
        check(words[-2:-1] == ["attach"] and words[-3].endswith("tether"), "terminal ran: %r" % words)

        # The daemon goes away: "daemon not running"; it comes back: reconnected.
        d.kill(signal.SIGTERM)
        wait_for(lambda: (layout() or {}).get("connected") is False, what="the UI to notice the daemon left")
        time.sleep(0.5)
        down = shot("4-daemon-down.png")
        check(differing_pixels(approved, down) > 1000, "the daemon-down screenshot looks like the connected one")
        d.start()
        wait_for(lambda: (layout() or {}).get("connected") and "select:alpha" in layout()["buttons"], timeout=30,
                 what="the UI to reconnect")
        # The sessions outlived their daemon (their holders kept them); a new one appears by the stream.
        d.tether("run", "-d", "--name", "delta", "--", "sleep", "300", check_rc=0)
        wait_for(lambda: "attach:delta" in (layout() or {}).get("buttons", {}), what="the new session in the window")

        # Position and size are remembered; closing the window leaves the agents alone.
        subprocess.run(["xdotool", "windowsize", wid, "600", "700"], check=True)
        subprocess.run(["xdotool", "windowmove", wid, "200", "40"], check=True)
        time.sleep(0.5)
        before = run(["xdotool", "getwindowgeometry", wid])
        subprocess.run(["xdotool", "windowclose", wid], check=False)
        try:
            ui.wait(timeout=10)
        except subprocess.TimeoutExpired:
            fail("tether-ui did not exit when its window was closed")
        with open(os.path.join(d.root, "ui.json")) as f:
            saved = json.load(f)
        check(saved["width"] == 600 and saved["height"] == 700, "saved size: %r" % saved)
        live = [r for r in json.loads(d.tether("ls", "--json")[1]) if r["state"] != "exited"]
        check([r["name"] for r in live] == ["alpha", "beta", "gamma", "delta"], "sessions after the window closed: %r" % live)
        ui = start_ui()
        wid = wait_for(window, what="the window again")
        wait_for(lambda: run(["xdotool", "getwindowgeometry", wid]).split("\n")[1:] == before.split("\n")[1:],
                 what="the same position and size (%r)" % before)
        print("screenshots in " + SHOTS)
finally:
    if xdisplay:
        xdisplay.close()
print("ok")
