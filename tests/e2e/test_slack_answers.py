#!/usr/bin/env python3
"""Answering from Slack, end to end: the real daemon loads tether-notifier-slack with a bot
token and an app-level token against tests/fake_slack.py (the Web API over HTTP and Socket
Mode over a real WebSocket, both on 127.0.0.1), and a fake Claude asks for permission
through its real PermissionRequest hook (tether-hook, waiting for the answer).

1. A click on Approve by an allowed user: the envelope is acknowledged, the waiting hook
   gets allow, the agent runs the command, PermissionDecided says by slack:U0ANN via the
   notifier, `tether timeline` shows it, and the message is revised to say who approved.
   The next message is posted but its answer comes too late: the retry finds it in the
   thread by its key and does not post it again.
2. A click by someone not in allow_users decides nothing: an ephemeral reply, a
   NotifierReported event, the request still pending; `tether approve` then answers it
   and its Slack message is revised to say so.
3. Deny with a reason typed into the message: the agent gets the reason.
4. Always: the agent gets its suggestion back (updatedPermissions).
5. A daemon killed between the post and the click: the new daemon's plugin reconnects, the
   click says clearly that the request is gone and marks the message, the agent's own
   dialog answers it, and the session's next message continues its Slack thread."""

import json
import os
import signal

from http_fake import FakeProcess
from tether_harness import PLUGIN_DIR, Daemon, FAKE_CLAUDE, KIND, check, fail, wait_for

FAKE_SLACK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fake_slack.py")
BOT = "xoxb-e2e-BOT-77aa31"
APP = "xapp-1-A0E2E-APPTOKEN-90bb12"


class Fake(FakeProcess):
    def __init__(self):
        try:
            super().__init__([FAKE_SLACK, BOT, APP])
        except RuntimeError as e:
            check(False, "%s (python3-websockets?)" % e)

    def posts(self):
        """chat.postMessage bodies in order; the n-th (from 1) got ts 1795000000.<n>."""
        return self.calls("chat.postMessage")

    def click(self, ts, user, action, reason=None):
        status, body = self.post("/_test/click", {"ts": ts, "user": user, "action": action, "reason": reason})
        check(status == 200, "click %s on %s: HTTP %d (no such button, or no Socket Mode connection)" % (action, ts, status))
        return body["envelope_id"]


def ts_of(n):
    return "1795000000.%06d" % n


def blocks_text(body):
    return json.dumps(body.get("blocks", []))


def has_buttons(body):
    return "tether_answer" in blocks_text(body)


fake = Fake()
try:
    with Daemon() as d:
        for name, token in (("bot-token", BOT), ("app-token", APP)):
            path = os.path.join(d.root, name)
            with open(path, "w") as f:
                f.write(token + "\n")
            os.chmod(path, 0o600)
        config = os.path.join(d.root, "config.yaml")
        with open(config, "w") as f:
            f.write("""
plugin_path: [%s]
hooks:
  permission_wait_s: 120
notifiers:
  slack:
    plugin: slack
    options:
      token: {file: bot-token}
      app_token: {file: app-token}
      channel: "#agents"
      api_base: %s/api
      allow_users: [U0ANN]
      reconnect_min_ms: 100
      timeout_ms: 1500
      max_retry_wait_ms: 0
rules:
  - name: permission
    when: {to: needs_permission}
    notify: [slack]
  - name: done
    when: {from: running, to: idle}
    notify: [slack]
""" % (PLUGIN_DIR, fake.base))
        d.extra_args = ["--config", config]
        d.env["TETHER_CONFIG"] = config
        d.start()
        wait_for(lambda: fake.get("/_test/state")["connections"] == 1, timeout=20, what="the Socket Mode connection")

        d.tether("run", "-d", "--name", "cl", "--", FAKE_CLAUDE, check_rc=0)
        screen = lambda: d.tether("screen", "cl")[1]
        wait_for(lambda: screen().rstrip().endswith(">"), what="the fake agent prompt")
        decided = lambda: [json.loads(e[4]) for e in d.events("kind = ?", (KIND["PermissionDecided"],))]
        updates_of = lambda ts: [u for u in fake.calls("chat.update") if u["ts"] == ts]

        def ask(command, n):
            """Has the agent ask for command; returns the ts of its Slack message, post n."""
            d.tether("send", "cl", "run " + command, "--enter", check_rc=0)
            d.tether("wait", "cl", "--until", "needs_permission", "--timeout", "20", check_rc=0)
            wait_for(lambda: len(fake.posts()) >= n, timeout=20, what="the permission message for %s" % command)
            body = fake.posts()[n - 1]
            check(has_buttons(body) and command in blocks_text(body), "post %d: %r" % (n, body))
            return ts_of(n)

        def done(n):
            d.tether("wait", "cl", "--until", "idle", "--timeout", "20", check_rc=0)
            wait_for(lambda: len(fake.posts()) >= n, timeout=20, what="the done message")

        # 1. Approve from Slack.
        first = ask("touch marker", 1)
        # The "done" that follows is posted, but Slack's answer is lost to the plugin's timeout.
        fake.post("/_test/slow", {"posts": 1, "seconds": 3.0})
        envelope = fake.click(first, "U0ANN", "approve")
        wait_for(lambda: "Done: ran touch marker" in screen(), timeout=20, what="the approved command to run")
        wait_for(lambda: envelope in fake.get("/_test/state")["acks"], what="the click's acknowledgement")
        got = decided()
        check(len(got) == 1 and got[0]["decision"] == "allow" and got[0]["by"] == "slack:U0ANN" and got[0]["notifier"] == "slack",
              "decided: %r" % got)
        wait_for(lambda: updates_of(first), timeout=20, what="the message to be revised")
        revised = updates_of(first)[-1]
        check("Approved by <@U0ANN> from Slack" in blocks_text(revised) and not has_buttons(revised), "revised: %r" % revised)
        timeline = d.tether("timeline", "cl", check_rc=0)[1]
        check("permission allow by slack:U0ANN via slack" in timeline, "timeline: %s" % timeline)
        done(2)
        check(fake.posts()[1].get("thread_ts") == first, "done is not in the session's thread: %r" % fake.posts()[1])
        key = fake.posts()[1]["metadata"]["event_payload"]["key"]
        sent = lambda: [json.loads(e[4]) for e in d.events("kind = ?", (KIND["NotificationSent"],)) if json.loads(e[4])["queued"] == int(key)]
        wait_for(sent, timeout=30, what="the retry of the message whose answer was lost")
        check(sent()[0]["attempt"] == 2 and json.loads(sent()[0]["receipt"])["ts"] == ts_of(2), "sent: %r" % sent())
        check(len(fake.posts()) == 2 and fake.calls("conversations.replies"), "posted again: %r" % fake.posts()[2:])

        # 2. Someone not allowed: nothing decided; then the CLI answers, and Slack says so.
        second = ask("make test", 3)
        fake.click(second, "U0EVE", "approve")
        wait_for(lambda: fake.calls("chat.postEphemeral"), timeout=20, what="the refusal")
        eph = fake.calls("chat.postEphemeral")[0]
        check(eph["user"] == "U0EVE" and "not in allow_users" in eph["text"], "ephemeral: %r" % eph)
        wait_for(lambda: any(json.loads(e[4])["code"] == "click_refused" for e in d.events("kind = ?", (KIND["NotifierReported"],))),
                 what="the refusal to be recorded")
        check(len(decided()) == 1, "a refused click decided: %r" % decided())
        pending = json.loads(d.tether("pending", "--json", check_rc=0)[1])
        check(len(pending) == 1, "the request is not pending any more: %r" % pending)
        d.tether("approve", "cl", check_rc=0)
        wait_for(lambda: "Done: ran make test" in screen(), timeout=20, what="the CLI-approved command to run")
        wait_for(lambda: updates_of(second), timeout=20, what="the CLI answer to show in Slack")
        check("Approved from the command line" in blocks_text(updates_of(second)[-1]), "revised: %r" % updates_of(second))
        done(4)

        # 3. Deny, with a reason typed into the message.
        third = ask("rm -rf /", 5)
        fake.click(third, "U0ANN", "deny", reason="not this one")
        wait_for(lambda: "denied: not this one" in screen(), timeout=20, what="the agent to get the reason")
        check(decided()[-1]["decision"] == "deny" and decided()[-1]["message"] == "not this one", "deny: %r" % decided()[-1])
        wait_for(lambda: updates_of(third), timeout=20, what="the deny to show in Slack")
        check("Denied by <@U0ANN> from Slack: not this one" in blocks_text(updates_of(third)[-1]), "%r" % updates_of(third))
        done(6)

        # 4. Always: the agent gets its own suggestion back.
        fourth = ask("npm test", 7)
        check("tether_always" in blocks_text(fake.posts()[6]), "no Always button: %r" % fake.posts()[6])
        fake.click(fourth, "U0ANN", "always")
        wait_for(lambda: "(remembered: addDirectories)" in screen(), timeout=20, what="the agent to remember the suggestion")
        check(decided()[-1].get("always") is True, "always: %r" % decided()[-1])
        done(8)

        # 5. The daemon dies between the post and the click.
        fifth = ask("make deploy", 9)
        request = json.loads(d.tether("pending", "--json", check_rc=0)[1])[0]["request"]
        d.kill(signal.SIGKILL)
        # The hook lost its daemon and failed open: the agent shows its own dialog.
        d.start()
        wait_for(lambda: fake.get("/_test/state")["connections"] == 2, timeout=20, what="Socket Mode after the restart")
        wait_for(lambda: "Do you want to proceed?" in screen(), timeout=20, what="the agent's own dialog")
        n_ephemeral = len(fake.calls("chat.postEphemeral"))
        fake.click(fifth, "U0ANN", "approve")
        wait_for(lambda: len(fake.calls("chat.postEphemeral")) > n_ephemeral, timeout=20, what="the stale click's reply")
        said = fake.calls("chat.postEphemeral")[-1]["text"]
        check("Nothing was decided: request %d is gone: it was asked before tether restarted" % request in said, "said: %r" % said)
        wait_for(lambda: updates_of(fifth), timeout=20, what="the gone request's message to be marked")
        marked = updates_of(fifth)[-1]
        check("Not answered here" in blocks_text(marked) and not has_buttons(marked), "marked: %r" % marked)
        check(len(decided()) == 4, "a click after the restart decided: %r" % decided())
        d.tether("send", "cl", "1", check_rc=0)  # the dialog's "Yes", in the terminal
        wait_for(lambda: "Done: ran make deploy" in screen(), timeout=20, what="the terminal answer to run the command")
        d.tether("wait", "cl", "--until", "idle", "--timeout", "20", check_rc=0)
        wait_for(lambda: any("is done" in blocks_text(b) for b in fake.posts()[9:]), timeout=20, what="done after the restart")
        after = [b for b in fake.posts()[9:] if "is done" in blocks_text(b)][-1]
        check(after.get("thread_ts") == first and after["channel"] == "C0E2E", "the thread did not continue: %r" % after)

        # The tokens are nowhere in the log or the daemon's output.
        data = b""
        for name in os.listdir(d.state_dir):
            if name.startswith("events.db") or name.endswith(".log"):
                with open(os.path.join(d.state_dir, name), "rb") as f:
                    data += f.read()
        data += d.output().encode()
        check(b"BOT-77aa31" not in data and b"APPTOKEN-90bb12" not in data, "a token leaked into the daemon's files")
finally:
    fake.close()
print("ok")
