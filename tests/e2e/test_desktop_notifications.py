#!/usr/bin/env python3
"""The desktop notifier end to end, on the private session bus dbus-run-session gives this
test (ctest runs it so): the real daemon loads tether-notifier-desktop, a fake Claude asks
for permission, tests/fake_notifyd.py records the notification with Approve / Deny /
Open, and a click on Approve (the fake server emits ActionInvoked) answers exactly that
request: the waiting hook gets "allow" and the agent runs the command. The "done" that
follows replaces the same notification; a late click is ignored; Deny reaches the agent
with its message; Open starts the configured command detached, leaving no zombie."""

import json
import os
import subprocess

from tether_harness import Daemon, FAKE_CLAUDE, KIND, check, fail, wait_for

FAKE_NOTIFYD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fake_notifyd.py")

if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
    fail("no session bus: run this under dbus-run-session (ctest does)")


def calls(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def click(nid, key):
    """What the user's click does on a real server: ActionInvoked(id, key)."""
    subprocess.run(["dbus-send", "--session", "--type=method_call", "--print-reply", "--dest=org.freedesktop.Notifications",
                    "/org/freedesktop/Notifications", "org.tether.FakeNotifyd.InvokeAction", "uint32:%d" % nid,
                    "string:" + key], check=True, capture_output=True, timeout=20)


def children_of(pid):
    kids = []
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
            kids += [int(k) for k in f.read().split()]
    return kids


def state_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0]
    except OSError:
        return "gone"


with Daemon() as d:
    record = os.path.join(d.root, "notify.jsonl")
    server = subprocess.Popen([FAKE_NOTIFYD, record], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        check(server.stdout.readline().strip() == b"ready", "fake_notifyd.py did not start (python3-dbus, python3-gi?)")
        opened = os.path.join(d.root, "opened.txt")
        script = os.path.join(d.root, "open.sh")
        with open(script, "w") as f:
            f.write('printf "%%s|%%s|%%s\\n" "$1" "$2" "$(ps -o sid= -p $$ | tr -d " ")=$$" > %s.tmp && mv %s.tmp %s\n'
                    % (opened, opened, opened))
        config = os.path.join(d.root, "config.yaml")
        with open(config, "w") as f:
            f.write("""
hooks:
  permission_wait_s: 120
notifiers:
  desktop:
    plugin: desktop
    options:
      open_command: "sh %s {session} {session_id}"
rules:
  - name: permission
    when: {to: [needs_permission, needs_answer]}
    notify: [desktop]
  - name: done
    when: {from: running, to: idle}
    notify: [desktop]
""" % script)
        d.extra_args = ["--config", config]
        d.start()
        rc, out, err = d.tether("run", "-d", "--json", "--name", "cl", "--", FAKE_CLAUDE, check_rc=0)
        sid = json.loads(out)["session"]
        screen = lambda: d.tether("screen", "cl")[1]
        wait_for(lambda: screen().rstrip().endswith(">"), what="the fake agent prompt")

        # 1. A permission request: a critical notification with Approve / Deny / Open.
        d.tether("send", "cl", "run touch marker", "--enter", check_rc=0)
        d.tether("wait", "cl", "--until", "needs_permission", "--timeout", "20", check_rc=0)
        request = json.loads(d.tether("pending", "--json", check_rc=0)[1])[0]["request"]
        wait_for(lambda: calls(record), timeout=20, what="the permission notification")
        first = calls(record)[0]
        check(first["app"] == "tether" and first["summary"] == "cl needs permission for Bash"
              and first["body"] == "Bash: touch marker" and first["urgency"] == 2, "notification: %r" % first)
        check(first["actions"] == ["approve:%d" % request, "Approve", "deny:%d" % request, "Deny", "open:%d" % sid, "Open"],
              "buttons: %r (pending request %d)" % (first["actions"], request))

        # 2. Approve: the waiting hook gets "allow" and the agent runs the command.
        click(first["id"], "approve:%d" % request)
        wait_for(lambda: "(ran)" in screen(), timeout=20, what="the approved command to run")
        decided = [json.loads(e[4]) for e in d.events("kind = ?", (KIND["PermissionDecided"],))]
        check(len(decided) == 1 and decided[0]["request"] == request and decided[0]["decision"] == "allow"
              and decided[0]["by"] == "notifier:desktop", "decided: %r" % decided)

        # 3. The "done" replaces the same notification, at normal urgency, with Open only.
        d.tether("wait", "cl", "--until", "idle", "--timeout", "20", check_rc=0)
        wait_for(lambda: len(calls(record)) >= 2, timeout=20, what="the done notification")
        done = calls(record)[1]
        check(done["replaces_id"] == first["id"] and done["id"] == first["id"], "done did not replace: %r" % done)
        check(done["summary"] == "cl is done" and done["urgency"] == 1 and done["actions"] == ["open:%d" % sid, "Open"],
              "done: %r" % done)

        # 4. A late click on the request already decided changes nothing and is logged.
        click(first["id"], "approve:%d" % request)
        wait_for(lambda: "approve ignored: request %d is not pending" % request in d.output(), timeout=20,
                 what="the late click to be logged")
        check(len(d.events("kind = ?", (KIND["PermissionDecided"],))) == 1, "a late click decided again")

        # 5. Deny: the agent gets the notifier's message.
        d.tether("send", "cl", "run rm -rf /", "--enter", check_rc=0)
        d.tether("wait", "cl", "--until", "needs_permission", "--timeout", "20", check_rc=0)
        request2 = json.loads(d.tether("pending", "--json", check_rc=0)[1])[0]["request"]
        wait_for(lambda: len(calls(record)) >= 3, timeout=20, what="the second permission notification")
        second = calls(record)[2]
        check(second["replaces_id"] == first["id"] and "deny:%d" % request2 in second["actions"], "second: %r" % second)
        click(second["id"], "deny:%d" % request2)
        wait_for(lambda: "denied: Denied from a desktop notification." in screen(), timeout=20,
                 what="the agent to get the denial")
        last = json.loads(d.events("kind = ?", (KIND["PermissionDecided"],))[-1][4])
        check(last["request"] == request2 and last["decision"] == "deny" and last["by"] == "notifier:desktop", "deny: %r" % last)
        d.tether("wait", "cl", "--until", "idle", "--timeout", "20", check_rc=0)

        # 6. Open: the configured command, with the session's name and id, in a session of
        #    its own; the daemon is left with no zombie to reap.
        click(first["id"], "open:%d" % sid)
        wait_for(lambda: os.path.exists(opened), timeout=20, what="the open command to run")
        with open(opened) as f:
            name, session_id, sid_pid = f.read().strip().split("|")
        check(name == "cl" and session_id == str(sid), "open command got %r %r" % (name, session_id))
        own_sid, pid = sid_pid.split("=")
        check(own_sid == pid, "the open command is not in a session of its own: %s" % sid_pid)
        daemon_pid = d.proc.pid
        zombies = [k for k in children_of(daemon_pid) if state_of(k) == "Z"]
        check(not zombies, "tetherd has zombie children: %r" % zombies)
        check(int(pid) not in children_of(daemon_pid), "the open command is tetherd's child")
        check(d.alive(), "tetherd died")
    finally:
        server.kill()
        server.wait()
print("ok")
