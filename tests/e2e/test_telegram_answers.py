#!/usr/bin/env python3
"""Answering from Telegram, end to end: the real daemon loads tether-notifier-telegram
against tests/fake_telegram.py (the Bot API on 127.0.0.1, getUpdates as long polling), and
a fake Claude asks for permission through its real PermissionRequest hook.

1. A press on Approve by the chat's person: the waiting hook gets allow, PermissionDecided
   says by telegram:<id> via the notifier, the press is answered, and the message is
   edited with the outcome, its keyboard gone.
2. A press by someone else decides nothing (an alert, a NotifierReported event, still
   pending); `tether approve` then answers, and the Telegram message says so.
3. The daemon killed between the message and the press: the new daemon's poller says
   clearly that the request is gone, edits the message, and the agent's own dialog
   answers it. The bot token is nowhere in the log or the daemon's output."""

import json
import os
import signal

from http_fake import FakeProcess
from tether_harness import PLUGIN_DIR, Daemon, FAKE_CLAUDE, KIND, check, wait_for

FAKE_TELEGRAM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fake_telegram.py")
TOKEN = "987654321:AAE2E-telegram-TOKEN_55c1"
PERSON = 4242


class Fake(FakeProcess):
    def __init__(self):
        try:
            super().__init__([FAKE_TELEGRAM, TOKEN])
        except RuntimeError as e:
            check(False, str(e))

    def press(self, message_id, user, action):
        status, _ = self.post("/_test/press", {"message_id": message_id, "user": user, "action": action})
        check(status == 200, "press %s on %d" % (action, message_id))


fake = Fake()
try:
    with Daemon() as d:
        d.env["TETHER_E2E_TELEGRAM_TOKEN"] = TOKEN
        config = os.path.join(d.root, "config.yaml")
        with open(config, "w") as f:
            f.write("""
plugin_path: [%s]
hooks:
  permission_wait_s: 120
notifiers:
  phone:
    plugin: telegram
    options:
      token: ${TETHER_E2E_TELEGRAM_TOKEN}
      chat_id: %d
      api_base: %s
      poll_timeout_s: 20
      retry_min_ms: 100
rules:
  - name: permission
    when: {to: needs_permission}
    notify: [phone]
""" % (PLUGIN_DIR, PERSON, fake.base))
        d.extra_args = ["--config", config]
        d.env["TETHER_CONFIG"] = config
        d.start()
        wait_for(lambda: fake.get("/_test/state")["waiting_polls"] == 1, timeout=20, what="the long poll")

        d.tether("run", "-d", "--name", "cl", "--", FAKE_CLAUDE, check_rc=0)
        screen = lambda: d.tether("screen", "cl")[1]
        wait_for(lambda: screen().rstrip().endswith(">"), what="the fake agent prompt")
        decided = lambda: [json.loads(e[4]) for e in d.events("kind = ?", (KIND["PermissionDecided"],))]
        edits_of = lambda mid: [e for e in fake.calls("editMessageText") if e["message_id"] == mid]
        answers = lambda: fake.calls("answerCallbackQuery")

        def ask(command, n):
            """Has the agent ask for command; returns the message_id of sendMessage number n."""
            d.tether("send", "cl", "run " + command, "--enter", check_rc=0)
            d.tether("wait", "cl", "--until", "needs_permission", "--timeout", "20", check_rc=0)
            wait_for(lambda: len(fake.calls("sendMessage")) >= n, timeout=20, what="the message for %s" % command)
            sent = fake.calls("sendMessage")[n - 1]
            check("reply_markup" in sent and command in sent["text"], "message %d: %r" % (n, sent))
            return 100 + n

        # 1. Approve from the phone.
        first = ask("touch marker", 1)
        fake.press(first, PERSON, "approve")
        wait_for(lambda: "Done: ran touch marker" in screen(), timeout=20, what="the approved command to run")
        got = decided()
        check(len(got) == 1 and got[0]["by"] == "telegram:%d" % PERSON and got[0]["notifier"] == "phone", "decided: %r" % got)
        wait_for(lambda: answers(), what="the press to be answered")
        check(answers()[0]["text"] == "Approved", "answered: %r" % answers())
        wait_for(lambda: edits_of(first), timeout=20, what="the message to be edited")
        edit = edits_of(first)[-1]
        check("Approved by Ann (@ann) from Telegram" in edit["text"] and "reply_markup" not in edit, "edited: %r" % edit)
        d.tether("wait", "cl", "--until", "idle", "--timeout", "20", check_rc=0)

        # 2. Someone else presses: nothing; then the CLI, and the phone hears of it.
        second = ask("make test", 2)
        fake.press(second, 666, "approve")
        wait_for(lambda: len(answers()) == 2, what="the refusal")
        check(answers()[1]["show_alert"] is True and "may not answer" in answers()[1]["text"], "refusal: %r" % answers()[1])
        wait_for(lambda: any(json.loads(e[4])["code"] == "click_refused" for e in d.events("kind = ?", (KIND["NotifierReported"],))),
                 what="the refusal to be recorded")
        check(len(decided()) == 1, "a refused press decided: %r" % decided())
        check(len(json.loads(d.tether("pending", "--json", check_rc=0)[1])) == 1, "the request is not pending any more")
        d.tether("approve", "cl", check_rc=0)
        wait_for(lambda: "Done: ran make test" in screen(), timeout=20, what="the CLI-approved command to run")
        wait_for(lambda: edits_of(second), timeout=20, what="the CLI answer to show in Telegram")
        check("Approved from the command line" in edits_of(second)[-1]["text"], "edited: %r" % edits_of(second))
        d.tether("wait", "cl", "--until", "idle", "--timeout", "20", check_rc=0)

        # 3. The daemon dies between the message and the press.
        third = ask("make deploy", 3)
        request = json.loads(d.tether("pending", "--json", check_rc=0)[1])[0]["request"]
        d.kill(signal.SIGKILL)
        d.start()
        wait_for(lambda: "Do you want to proceed?" in screen(), timeout=20, what="the agent's own dialog")
        fake.press(third, PERSON, "approve")
        wait_for(lambda: len(answers()) == 3, timeout=30, what="the stale press's answer")
        said = answers()[2]["text"]
        check("Nothing was decided: request %d is gone: it was asked before tether restarted" % request in said, "said: %r" % said)
        wait_for(lambda: edits_of(third), timeout=20, what="the gone request's message to be marked")
        check("Not answered here" in edits_of(third)[-1]["text"] and "reply_markup" not in edits_of(third)[-1], "marked")
        check(len(decided()) == 2, "a press after the restart decided: %r" % decided())
        d.tether("send", "cl", "1", check_rc=0)
        wait_for(lambda: "Done: ran make deploy" in screen(), timeout=20, what="the terminal answer to run the command")

        data = b""
        for name in os.listdir(d.state_dir):
            if name.startswith("events.db") or name.endswith(".log"):
                with open(os.path.join(d.state_dir, name), "rb") as f:
                    data += f.read()
        data += d.output().encode()
        check(b"telegram-TOKEN_55c1" not in data, "the bot token leaked into the daemon's files")
finally:
    fake.close()
print("ok")
