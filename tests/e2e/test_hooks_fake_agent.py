#!/usr/bin/env python3
"""Claude Code's hooks end to end, with a scripted fake Claude (tests/fake_agent/claude)
that calls tether-hook with payloads shaped like the captured ones: every transition,
approve and deny round trips, no answer in time (the agent's own prompt), the late
permission_prompt and duplicate Stop quirks, AskUserQuestion, external sessions, and
tether-hook failing open with the daemon stopped or the input malformed."""

import json
import os
import signal
import subprocess
import time

from tether_harness import Daemon, FAKE_CLAUDE, KIND, TETHER_HOOK, check, fail, wait_for

with Daemon() as d:
    with open(os.path.join(d.root, "config.yaml"), "w") as f:
        f.write("hooks:\n  permission_wait_s: 3\n")
    d.extra_args = ["--config", os.path.join(d.root, "config.yaml")]
    d.start()
    # A directory whose basename is `claude`'s: tether recognises the agent by the command.
    rc, out, err = d.tether("run", "-d", "--json", "--name", "cl", "--size", "100x30", "--", FAKE_CLAUDE, check_rc=0)
    sid = json.loads(out)["session"]

    def state():
        rows = json.loads(d.tether("ls", "--all", "--json")[1])
        return next(r for r in rows if r["id"] == sid)

    def wait_state(s, timeout=20):
        rc, out, err = d.tether("wait", "cl", "--until", s, "--timeout", str(timeout))
        check(rc == 0, "wait --until %s: rc %d %s (now %s)" % (s, rc, err, state()["state"]))

    def transitions():
        return [(json.loads(e[4])["from"], json.loads(e[4])["to"]) for e in d.events("session = ? AND kind = ?", (sid, KIND["StateChanged"]))]

    def screen():
        return d.tether("screen", "cl")[1]

    wait_for(lambda: screen().rstrip().endswith(">"), what="the fake agent prompt")
    wait_state("running")  # SessionStart

    # 1. Approve from outside the terminal.
    d.tether("send", "cl", "run touch marker", "--enter", check_rc=0)
    wait_state("needs_permission")
    st = state()
    check(st["waiting_tool"] == "Bash" and st["waiting_input"]["command"] == "touch marker", "waiting for: %r" % st)
    rc, out, err = d.tether("pending", "--json", check_rc=0)
    pend = json.loads(out)
    check(len(pend) == 1 and pend[0]["tool"] == "Bash" and pend[0]["session"] == sid, "pending: %r" % pend)
    rc, out, err = d.tether("ls", check_rc=0)
    check("needs_permission" in out and "Bash: touch marker" in out, "ls does not show what it waits for: %r" % out)
    d.tether("approve", "cl", check_rc=0)
    wait_for(lambda: "(ran)" in screen(), what="the approved command to run")
    wait_state("idle")
    check("Done: ran touch marker" in state().get("message", ""), "idle message: %r" % state())
    decided = [json.loads(e[4]) for e in d.events("session = ? AND kind = ?", (sid, KIND["PermissionDecided"]))]
    check(len(decided) == 1 and decided[0]["decision"] == "allow" and decided[0]["by"] == "cli", "decided: %r" % decided)
    check(d.tether("pending", "--json")[1].strip() == "[]", "a request is still pending after approve")

    # 2. Deny with a message: the agent receives it.
    d.tether("send", "cl", "run rm -rf /", "--enter", check_rc=0)
    wait_state("needs_permission")
    req = json.loads(d.tether("pending", "--json")[1])[0]["request"]
    d.tether("deny", str(req), "--message", "not on my machine", check_rc=0)
    wait_for(lambda: "denied: not on my machine" in screen(), what="the agent to get the denial")
    wait_state("idle")

    # 3. Nobody answers in time: the agent shows its own prompt; the late Notification
    #    (permission_prompt) must not make a second transition; answered in the terminal.
    d.tether("send", "cl", "run make test", "--enter", check_rc=0)
    wait_state("needs_permission")
    wait_for(lambda: "Do you want to proceed?" in screen(), timeout=20, what="the agent's own dialog after the wait")
    time.sleep(0.8)  # the permission_prompt Notification arrives meanwhile
    before = transitions()
    check(before[-1] == ("running", "needs_permission"), "after the late notification: %r" % before[-3:])
    d.tether("send", "cl", "1", check_rc=0)
    wait_for(lambda: "(ran)" in screen().split("Do you want to proceed?")[-1], what="the agent to run after the terminal answer")
    wait_state("idle")
    timeout_decision = [json.loads(e[4]) for e in d.events("session = ? AND kind = ?", (sid, KIND["PermissionDecided"]))][-1]
    check(timeout_decision["decision"] == "ask" and timeout_decision["by"] == "timeout", "no-answer decision: %r" % timeout_decision)

    # 4. AskUserQuestion is a question, not a permission.
    d.tether("send", "cl", "ask", "--enter", check_rc=0)
    wait_state("needs_answer")
    check("Which database" in state().get("message", ""), "question not shown: %r" % state())
    d.tether("send", "cl", "SQLite", "--enter", check_rc=0)
    wait_state("idle")
    check("You chose SQLite" in state().get("message", ""), "answer: %r" % state())

    # Each turn is running -> ... -> idle exactly once, duplicate Stops and the 60 s
    # idle_prompt notwithstanding; no transition ever goes from a state to itself.
    t = transitions()
    check(all(a != b for a, b in t), "a transition to the same state: %r" % t)
    check(t.count(("running", "idle")) == 4, "turns ended: %r" % t)
    check(t[:2] == [("starting", "running"), ("running", "needs_permission")], "first transitions: %r" % t[:2])

    # 5. /exit: SessionEnd, then the child's exit is the end.
    d.tether("send", "cl", "/exit", "--enter", check_rc=0)
    wait_state("exited")
    check(state().get("exit_code") == 0, "exit: %r" % state())
    hooks = [json.loads(e[4])["payload"]["hook_event_name"] for e in d.events("session = ? AND kind = ?", (sid, KIND["HookReceived"]))]
    check(hooks.count("Stop") == 8 and "SessionEnd" in hooks, "hooks seen: %r" % hooks)

    # 6. An agent tether did not start: an external session keyed by its session id and cwd.
    payload = {"session_id": "ext-123", "transcript_path": "/x.jsonl", "cwd": "/home/u/other", "hook_event_name": "UserPromptSubmit",
               "prompt_id": "p1", "prompt": "hi"}
    env = dict(d.env)
    env.pop("TETHER_SESSION", None)
    for event in ("UserPromptSubmit", "Stop"):
        payload["hook_event_name"] = event
        p = subprocess.run([TETHER_HOOK], input=json.dumps(payload).encode(), capture_output=True, env=env, timeout=10)
        check(p.returncode == 0 and p.stdout == b"", "external hook: %r" % (p,))
    wait_for(lambda: any(r.get("external") and r["state"] == "idle" for r in json.loads(d.tether("ls", "--json")[1])),
             what="an external session that went idle")
    ext = [r for r in json.loads(d.tether("ls", "--json")[1]) if r.get("external")]
    check(len(ext) == 1 and ext[0]["cwd"] == "/home/u/other" and ext[0]["agent"] == "claude", "external: %r" % ext)
    # A daemon restart does not end an external session: its agent runs elsewhere.
    d.kill(signal.SIGTERM)
    d.start()
    ext = [r for r in json.loads(d.tether("ls", "--json")[1]) if r.get("external")]
    check(len(ext) == 1 and ext[0]["state"] == "idle", "external session after a restart: %r" % ext)

    # 7. The workspace-trust dialog comes before any hook: seen on the screen.
    d.tether("run", "-d", "--name", "trusty", "--env", "FAKE_TRUST=1", "--", FAKE_CLAUDE, check_rc=0)
    rc, out, err = d.tether("wait", "trusty", "--until", "needs_answer", "--timeout", "20")
    check(rc == 0, "the trust dialog did not make the session need an answer: %s" % err)
    trusty = next(r for r in json.loads(d.tether("ls", "--json")[1]) if r["name"] == "trusty")
    seen = [json.loads(e[4]) for e in d.events("kind = ? AND session = ?", (KIND["ScreenPromptSeen"], trusty["id"]))]
    check(len(seen) == 1 and seen[0]["prompt"] == "trust", "screen prompts: %r" % seen)
    # The first session's own permission dialog was seen on its screen too.
    check(any(json.loads(e[4])["prompt"] == "permission" for e in d.events("kind = ? AND session = ?", (KIND["ScreenPromptSeen"], sid))),
          "the permission dialog was not recognised on the screen")
    d.tether("send", "trusty", "1", check_rc=0)
    rc, out, err = d.tether("wait", "trusty", "--until", "running", "--timeout", "20")
    check(rc == 0, "accepting trust did not make the session run: %s" % err)

    # 8. Codex's notify program passes its JSON as an argument, with no stdin.
    d.tether("run", "-d", "--name", "cx", "--", "sleep", "30", check_rc=0)
    cx = next(r for r in json.loads(d.tether("ls", "--json")[1]) if r["name"] == "cx")
    codex_env = dict(env, TETHER_SESSION=str(cx["id"]))
    note = {"type": "agent-turn-complete", "thread-id": "b5f6c1c2-1111-2222-3333-444455556666", "turn-id": "12345",
            "cwd": "/tmp", "input-messages": ["Rename foo"], "last-assistant-message": "Rename complete."}
    p = subprocess.run([TETHER_HOOK, "--agent", "codex", json.dumps(note)], stdin=subprocess.DEVNULL, capture_output=True,
                       env=codex_env, timeout=10)
    check(p.returncode == 0 and p.stdout == b"", "codex notify: %r" % (p,))
    rc, out, err = d.tether("wait", "cx", "--until", "idle", "--timeout", "10")
    check(rc == 0, "codex's turn-complete did not make the session idle: %s" % err)

    # 9. Malformed input fails open and is kept.
    p = subprocess.run([TETHER_HOOK], input=b"{not json", capture_output=True, env=env, timeout=10)
    check(p.returncode == 0 and p.stdout == b"", "malformed: %r" % (p,))
    wait_for(lambda: any(b'"malformed":true' in e[4] for e in d.events("kind = ?", (KIND["HookReceived"],))),
             what="the malformed hook to be recorded")

    # 10. Daemon stopped: tether-hook exits 0 at once with no output, even for a permission.
    d.tether("daemon", "stop", check_rc=0)
    d.proc.wait(timeout=10)
    payload["hook_event_name"] = "PermissionRequest"
    start = time.monotonic()
    p = subprocess.run([TETHER_HOOK, "--wait", "60"], input=json.dumps(payload).encode(), capture_output=True, env=env, timeout=10)
    elapsed = time.monotonic() - start
    check(p.returncode == 0 and p.stdout == b"" and p.stderr == b"", "fail open: %r" % (p,))
    # A generous bound (the benchmark measures the real figure): it must not wait for anything.
    check(elapsed < 2.0, "tether-hook took %.2f s with the daemon down" % elapsed)
    p = subprocess.run([os.path.join(os.path.dirname(TETHER_HOOK), "tether"), "hook"], input=b"{}", capture_output=True, env=env, timeout=10)
    check(p.returncode == 0 and p.stdout == b"", "tether hook fail open: %r" % (p,))
print("ok")
