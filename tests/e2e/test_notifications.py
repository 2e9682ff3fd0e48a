#!/usr/bin/env python3
"""Rules and notifications end to end, through a real plugin (tests/fake_plugin, loaded
through the ABI like any third-party plugin) that writes what it receives to a file:
a fake Claude goes to needs_permission, nobody answers, the escalation fires; an ack
cancels the next one; the plugin receives exactly the expected notifications in order.
Then kill -9 the daemon while a delivery is in flight: after the restart it is
delivered exactly once. Reload keeps the old config when the new one is invalid."""

import json
import os
import signal
import time

from tether_harness import BIN_DIR, Daemon, FAKE_CLAUDE, KIND, check, fail, wait_for

PLUGIN_DIR = os.path.join(BIN_DIR, "..", "tests", "fake_plugin")


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


with Daemon() as d:
    first, escalated, slow = (os.path.join(d.root, n) for n in ("first.jsonl", "escalated.jsonl", "slow.jsonl"))
    config = os.path.join(d.root, "config.yaml")
    good = """
plugin_path: [%s]
hooks:
  permission_wait_s: 1
notifiers:
  first: {plugin: fake, options: {file: %s}}
  second: {plugin: fake, options: {file: %s}}
  slow: {plugin: fake, options: {file: %s, sleep_ms: 3000}}
rules:
  - name: allow-reads
    when: {to: needs_permission, tool: [Read, Grep, Glob]}
    answer: allow
  - name: no-rm-rf
    when: {to: needs_permission, tool: Bash, tool_input: "rm -rf *"}
    answer: {decision: deny, message: "rm -rf is not allowed here"}
  - name: slow-one
    when: {to: needs_answer, session: "slow-*"}
    notify: [slow]
  - name: permission
    when: {to: [needs_permission, needs_answer]}
    notify: [first]
    escalate: {after: 2s, notify: [second]}
  - name: done
    when: {from: running, to: idle}
    notify: [first]
""" % (os.path.abspath(PLUGIN_DIR), first, escalated, slow)
    with open(config, "w") as f:
        f.write(good)
    d.extra_args = ["--config", config]
    d.env["TETHER_CONFIG"] = config
    d.start()

    rc, out, err = d.tether("config", "check", config, check_rc=0)
    check("3 notifiers, 5 rules" in out, "config check: %r" % out)

    # A dry run sends nothing.
    rc, out, err = d.tether("rules", "test", "--to", "needs_permission", "--tool", "Bash", "--input", "make", check_rc=0)
    check("permission" in out and "DECIDES" in out and "would notify" in out, "rules test: %r" % out)
    check(lines(first) == [], "the dry run sent something")

    d.tether("run", "-d", "--name", "cl", "--", FAKE_CLAUDE, check_rc=0)
    screen = lambda: d.tether("screen", "cl")[1]
    wait_for(lambda: screen().rstrip().endswith(">"), what="the fake agent prompt")

    # Round 1: nobody answers; the escalation fires after 2 s.
    d.tether("send", "cl", "run make deploy", "--enter", check_rc=0)
    d.tether("wait", "cl", "--until", "needs_permission", "--timeout", "20", check_rc=0)
    wait_for(lambda: len(lines(escalated)) == 1, timeout=20, what="the escalation to fire")
    d.tether("ack", "cl", check_rc=0)
    d.tether("send", "cl", "1", check_rc=0)  # answered in the agent's own dialog
    d.tether("wait", "cl", "--until", "idle", "--timeout", "20", check_rc=0)

    # Round 2: an ack (here: an attach-free `tether ack`) cancels the escalation.
    d.tether("send", "cl", "run make test", "--enter", check_rc=0)
    d.tether("wait", "cl", "--until", "needs_permission", "--timeout", "20", check_rc=0)
    d.tether("ack", "cl", check_rc=0)
    time.sleep(3)
    check(len(lines(escalated)) == 1, "an acknowledged escalation still fired: %r" % lines(escalated))
    d.tether("send", "cl", "1", check_rc=0)
    d.tether("wait", "cl", "--until", "idle", "--timeout", "20", check_rc=0)
    wait_for(lambda: len(lines(first)) == 4, timeout=20, what="four notifications to the first notifier")
    got = [(m["kind"], m["state_to"], m["rule"]) for m in lines(first)]
    want = [("permission", "needs_permission", "permission"), ("done", "idle", "done"),
            ("permission", "needs_permission", "permission"), ("done", "idle", "done")]
    check(got == want, "notifications: %r" % got)
    keys = [m["idempotency_key"] for m in lines(first) + lines(escalated)]
    check(len(set(keys)) == len(keys), "an idempotency key repeats: %r" % keys)
    esc = lines(escalated)[0]
    check(esc["kind"] == "permission" and "make deploy" in esc["tool_input_json"], "escalation: %r" % esc)
    cancelled = [json.loads(e[4]) for e in d.events("kind = ?", (KIND["EscalationCancelled"],))]
    check(any("acknowledged" in c["reason"] for c in cancelled), "no escalation cancelled by the ack: %r" % cancelled)

    # Rules answer permissions at once: a PermissionRequest, and a PreToolUse for a tool a
    # rule names; a tool no answering rule names gets no answer (the agent decides).
    cl = next(r for r in json.loads(d.tether("ls", "--json")[1]) if r["name"] == "cl")
    env = dict(d.env, TETHER_SESSION=str(cl["id"]))
    import subprocess
    from tether_harness import TETHER_HOOK

    def hook(event, tool, tool_input):
        payload = {"session_id": "s", "transcript_path": "/t", "cwd": "/tmp", "hook_event_name": event,
                   "tool_name": tool, "tool_input": tool_input, "prompt_id": "p"}
        p = subprocess.run([TETHER_HOOK, "--wait", "5"], input=json.dumps(payload).encode(), capture_output=True, env=env, timeout=20)
        check(p.returncode == 0, "hook exit %d" % p.returncode)
        return json.loads(p.stdout) if p.stdout.strip() else None

    a = hook("PreToolUse", "Read", {"file_path": "/etc/hosts"})
    check(a and a["hookSpecificOutput"]["permissionDecision"] == "allow", "PreToolUse Read: %r" % a)
    a = hook("PreToolUse", "Bash", {"command": "rm -rf /tmp/build"})
    check(a and a["hookSpecificOutput"]["permissionDecision"] == "deny" and "not allowed" in a["hookSpecificOutput"]["permissionDecisionReason"],
          "PreToolUse rm -rf: %r" % a)
    check(hook("PreToolUse", "Bash", {"command": "make"}) is None, "a PreToolUse no answering rule names was answered")
    a = hook("PermissionRequest", "Bash", {"command": "rm -rf /"})
    check(a and a["hookSpecificOutput"]["decision"]["behavior"] == "deny", "PermissionRequest rm -rf: %r" % a)
    # The hook's answer leaves before its decision is committed: wait for the record.
    def decided_by():
        return [json.loads(e[4])["by"] for e in d.events("kind = ?", (KIND["PermissionDecided"],))]
    wait_for(lambda: decided_by().count("rule:no-rm-rf") >= 2, what="the rules' decisions to be recorded")
    by = decided_by()
    check(by.count("rule:allow-reads") == 1 and by.count("rule:no-rm-rf") == 2, "decisions: %r" % by)

    # Reload: an invalid file is refused and the old configuration stays.
    with open(config, "w") as f:
        f.write(good.replace("escalate: {after: 2s", "escalate: {after: soon"))
    rc, out, err = d.tether("config", "reload")
    check(rc == 1 and "config.yaml:" in err and "after" in err, "bad reload: %d %r" % (rc, err))
    with open(config, "w") as f:
        f.write(good)
    d.tether("config", "reload", check_rc=0)
    loads = [json.loads(e[4]) for e in d.events("kind = ?", (KIND["ConfigLoaded"],))]
    check([l["ok"] for l in loads] == [True, False, True], "config loads: %r" % loads)

    # kill -9 while a delivery is in flight (the slow notifier takes 3 s): after a restart
    # it is delivered exactly once.
    d.tether("run", "-d", "--name", "slow-1", "--", "sleep", "60", check_rc=0)
    d.tether("notify", "--session", "slow-1", "--state", "needs_answer", "--message", "which branch?", check_rc=0)
    wait_for(lambda: d.events("kind = ?", (KIND["NotificationQueued"],)) and
             any(b"slow" in e[4] for e in d.events("kind = ?", (KIND["NotificationQueued"],))), what="the slow delivery to be queued")
    time.sleep(0.5)
    d.kill(signal.SIGKILL)
    check(lines(slow) == [], "the slow delivery finished before the kill")
    d.start()
    wait_for(lambda: len(lines(slow)) >= 1, timeout=30, what="the slow delivery after the restart")
    time.sleep(1)
    check(len(lines(slow)) == 1 and lines(slow)[0]["message"] == "which branch?", "slow deliveries: %r" % lines(slow))
    sent = [json.loads(e[4]) for e in d.events("kind = ?", (KIND["NotificationSent"],))]
    queued = d.events("kind = ?", (KIND["NotificationQueued"],))
    check(len(sent) == len(queued) and len(queued) >= 6, "queued %d, sent %d" % (len(queued), len(sent)))
print("ok")
