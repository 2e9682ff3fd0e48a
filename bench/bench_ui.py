#!/usr/bin/env python3
"""tether-ui's idle cost: CPU (utime+stime from /proc/PID/stat over a window of
seconds) and resident memory of the window, and the CPU its watch stream costs the
daemon, with 3 sessions, under Xvfb + openbox (software OpenGL, llvmpipe).

Phases: idle (3 idle agents, nothing selected: one redraw a second for the times),
selected (one session's live screen shown, nothing printing), output (the selected
session prints a line every 100 ms: screen_changed notices and refetches), minimized
(no times on show: the window sleeps until something happens)."""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from bench_support import BenchError, XDisplay, proc_cpu_seconds, rss_kib, wait_for as bench_wait_for


def fail(msg):
    sys.exit("bench_ui: " + msg)


def wait_for(pred, timeout=20, what="condition"):
    try:
        return bench_wait_for(pred, timeout, what)
    except BenchError as e:
        fail(str(e))




def out(args):
    return subprocess.run(args, capture_output=True, timeout=30).stdout.decode(errors="replace")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="tether-ui idle CPU and memory, 3 sessions, under Xvfb + openbox")
    ap.add_argument("--build", default=os.path.join(here, "..", "build-bench"), help="the build directory (default: build-bench)")
    ap.add_argument("--seconds", type=float, default=10, help="length of each measured phase; default 10")
    ap.add_argument("--quick", action="store_true", help="3 s phases (unless --seconds is given)")
    ap.add_argument("--dir", default=tempfile.gettempdir(), help="where temporary directories go")
    opt = ap.parse_args()
    if opt.quick and "--seconds" not in sys.argv:
        opt.seconds = 3
    ui = os.path.join(opt.build, "ui", "tether-ui")
    tether = os.path.join(opt.build, "daemon", "tether")
    tetherd = os.path.join(opt.build, "daemon", "tetherd")
    fake = os.path.join(here, "..", "tests", "fake_agent", "claude")
    for exe in (ui, tether, tetherd):
        if not os.access(exe, os.X_OK):
            fail("%s is missing; build with bench/run (tether-ui needs GLFW and ImGui: scripts/setup.sh)" % exe)
    for tool in ("Xvfb", "openbox", "xprop", "xdotool"):
        if not shutil.which(tool):
            fail(tool + " is not installed (scripts/setup.sh installs it)")

    root = tempfile.mkdtemp(prefix="tether-bench-ui-", dir=opt.dir)
    env = dict(os.environ, TETHER_STATE_DIR=os.path.join(root, "state"), TETHER_SOCKET=os.path.join(root, "run", "sock"),
               TETHER_UI_STATE=os.path.join(root, "ui.json"), TETHER_UI_LAYOUT=os.path.join(root, "layout.json"))
    env.pop("TETHER_SESSION", None)
    procs = []
    display = None
    try:
        display = XDisplay()  # Xvfb and openbox; DISPLAY set for what follows
        env["DISPLAY"] = os.environ["DISPLAY"]
        daemon = subprocess.Popen([tetherd], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(daemon)
        wait_for(lambda: os.path.exists(env["TETHER_SOCKET"]), what="tetherd")

        def cli(*args):
            return subprocess.run([tether] + list(args), env=env, capture_output=True, timeout=60)

        for name in ("one", "two"):
            cli("run", "-d", "--name", name, "--", fake)
            wait_for(lambda: cli("screen", name).stdout.decode().rstrip().endswith(">"), what=name)
            cli("send", name, "hello", "--enter")
            cli("wait", name, "--until", "idle", "--timeout", "20")
        cli("run", "-d", "--name", "printer", "--", "sh", "-c", "read go; while :; do date; sleep 0.1; done")

        uiproc = subprocess.Popen([ui, "--chime-plugin", ""], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(uiproc)

        def layout():
            try:
                with open(env["TETHER_UI_LAYOUT"]) as f:
                    return json.load(f)
            except (OSError, ValueError):
                return {}

        wid = wait_for(lambda: (subprocess.run(["xdotool", "search", "--name", "^tether$"], env=env, capture_output=True)
                                .stdout.decode().split() or [None])[0], what="the window")
        wait_for(lambda: layout().get("connected") and "select:printer" in layout().get("buttons", {}), what="3 sessions shown")
        time.sleep(1)

        def measure(phase):
            u0, d0 = proc_cpu_seconds(uiproc.pid), proc_cpu_seconds(daemon.pid)
            time.sleep(opt.seconds)
            u1, d1 = proc_cpu_seconds(uiproc.pid), proc_cpu_seconds(daemon.pid)
            row = (phase, 100 * (u1 - u0) / opt.seconds, 100 * (d1 - d0) / opt.seconds, rss_kib(uiproc.pid) / 1024)
            print("%-10s ui cpu %6.2f %%   daemon cpu %6.2f %%   ui rss %6.1f MiB" % row, flush=True)
            return row

        rows = [measure("idle")]
        x, y, w_, h = layout()["buttons"]["select:printer"]
        subprocess.run(["xdotool", "mousemove", "--window", wid, str(int(x + w_ / 2)), str(int(y + h / 2)), "click", "1"],
                       env=env, check=True)
        wait_for(lambda: layout().get("screen_session") and layout().get("screen_session") == layout().get("selected"),
                 what="the screen view")
        subprocess.run(["xdotool", "mousemove", "0", "0"], env=env)  # no hover while measuring
        time.sleep(1)
        rows.append(measure("selected"))
        cli("send", "printer", "go", "--enter")
        time.sleep(1)
        rows.append(measure("output"))
        cli("kill", "printer")
        subprocess.run(["xdotool", "windowminimize", wid], env=env)
        time.sleep(1)
        rows.append(measure("minimized"))
        print("bench_ui: %.0f s phases, 3 sessions: ui cpu idle %.2f %%, selected %.2f %%, output (10 lines/s) %.2f %%, "
              "minimized %.2f %%; ui rss %.1f MiB" % (opt.seconds, rows[0][1], rows[1][1], rows[2][1], rows[3][1], rows[3][3]))
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        if display:
            display.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
