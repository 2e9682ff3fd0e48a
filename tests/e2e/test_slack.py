#!/usr/bin/env python3
"""The Slack notifier end to end: the real daemon loads tether-notifier-slack twice, once
with a bot token against a fake Slack Web API (chat.postMessage on 127.0.0.1) and once
with an incoming-webhook URL. The fake checks the token and the Block Kit shape, answers
the first message with a 429 (Retry-After) and then an internal_error; the host's
retries deliver it. Every later notification of the session is threaded under the first
message; each notification is posted exactly once per notifier; each permission message
is revised (chat.update) once `tether approve` answered it; the token and the webhook URL
appear nowhere in the event log or the daemon's log."""

import json
import os
import time

from http_fake import FakeService, Reply
from tether_harness import Daemon, FAKE_CLAUDE, KIND, PLUGIN_DIR, check, wait_for

TOKEN = "xoxb-e2e-TOKEN-41c7d2"
WEBHOOK_PATH = "/services/T0E2E/B0E2E/WEBHOOKSECRET93"


class FakeSlack(FakeService):
    def __init__(self):
        self.api = []       # every chat.postMessage: (status, error, body, problems)
        self.webhook = []   # every webhook POST: (status, body)
        self.updates = []   # every chat.update body
        super().__init__()

    def serve(self, method, path, headers, body):
        status, extra, answer = self.handle(path, headers, json.loads(body))
        return Reply(status, answer, extra)

    @staticmethod
    def shape_problems(body):
        """What is wrong with a message's Block Kit, as Slack would see it."""
        problems = []
        blocks = body.get("blocks", [])
        types = [b.get("type") for b in blocks]
        if types[:1] != ["header"] or types[-1:] != ["context"]:
            problems.append("blocks %r" % types)
        if blocks and blocks[0].get("text", {}).get("type") != "plain_text":
            problems.append("the header is not plain_text")
        fields = [f["text"] for b in blocks for f in b.get("fields", [])]
        for want in ("*Session*", "*Agent*", "*State*"):
            if not any(f.startswith(want) for f in fields):
                problems.append("no %s field" % want)
        if not body.get("text"):
            problems.append("no fallback text")
        return problems

    def handle(self, path, headers, body):
        with self.lock:
            if path == WEBHOOK_PATH:
                status = 500 if not self.webhook else 200
                self.webhook.append((status, body))
                return status, [], "ok" if status == 200 else "rollup_error"
            if path == "/api/chat.update" and headers.get("Authorization") == "Bearer " + TOKEN:
                self.updates.append(body)
                return 200, [("Content-Type", "application/json")], json.dumps({"ok": True, "channel": body["channel"]})
            if path != "/api/chat.postMessage":
                return 404, [], "unknown_method"
            problems = self.shape_problems(body)
            if headers.get("Authorization") != "Bearer " + TOKEN:
                reply, status, extra = {"ok": False, "error": "invalid_auth"}, 200, []
            elif problems or body.get("channel") not in ("#agents", "C0E2E"):
                reply, status, extra = {"ok": False, "error": "invalid_blocks"}, 200, []
            elif len(self.api) == 0:
                reply, status, extra = {"ok": False, "error": "ratelimited"}, 429, [("Retry-After", "1")]
            elif len(self.api) == 1:
                reply, status, extra = {"ok": False, "error": "internal_error"}, 200, []
            else:
                ts = "1795000000.%06d" % len(self.api)
                reply, status, extra = {"ok": True, "channel": "C0E2E", "ts": ts}, 200, []
            self.api.append((status, reply, body, problems))
            return status, extra + [("Content-Type", "application/json")], json.dumps(reply)

    def posted(self):
        """The messages chat.postMessage accepted, with the ts each got."""
        with self.lock:
            return [(r["ts"], b) for s, r, b, p in self.api if r.get("ok")]

    def webhook_accepted(self):
        with self.lock:
            return [b for s, b in self.webhook if s == 200]


slack = FakeSlack()
with Daemon() as d:
    token_file = os.path.join(d.root, "slack-token")
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(token_file, 0o600)
    d.env["TETHER_E2E_SLACK_WEBHOOK"] = "http://127.0.0.1:%d%s" % (slack.port, WEBHOOK_PATH)
    config = os.path.join(d.root, "config.yaml")
    with open(config, "w") as f:
        f.write("""
plugin_path: [%s]
notifiers:
  slack-bot:
    plugin: slack
    options:
      token: {file: %s}
      channel: "#agents"
      api_base: http://127.0.0.1:%d/api
      max_retry_wait_ms: 2000
  slack-hook:
    plugin: slack
    options:
      webhook: ${TETHER_E2E_SLACK_WEBHOOK}
rules:
  - name: permission
    when: {to: needs_permission}
    notify: [slack-bot, slack-hook]
  - name: done
    when: {from: running, to: idle}
    notify: [slack-bot, slack-hook]
""" % (PLUGIN_DIR, token_file, slack.port))
    d.extra_args = ["--config", config]
    d.env["TETHER_CONFIG"] = config
    d.start()

    d.tether("run", "-d", "--name", "cl", "--", FAKE_CLAUDE, check_rc=0)
    wait_for(lambda: d.tether("screen", "cl")[1].rstrip().endswith(">"), what="the fake agent prompt")
    for round, command in enumerate(["make deploy", "make test"]):
        d.tether("send", "cl", "run " + command, "--enter", check_rc=0)
        d.tether("wait", "cl", "--until", "needs_permission", "--timeout", "20", check_rc=0)
        # The first message starts the thread: let it through its 429 and internal_error.
        wait_for(lambda: len(slack.posted()) == 2 * round + 1, timeout=60, what="permission %d on Slack" % (round + 1))
        d.tether("approve", "cl", check_rc=0)
        d.tether("wait", "cl", "--until", "idle", "--timeout", "20", check_rc=0)
        wait_for(lambda: len(slack.posted()) == 2 * round + 2, timeout=60, what="done %d on Slack" % (round + 1))
    wait_for(lambda: len(slack.webhook_accepted()) == 4, timeout=60, what="four messages through the incoming webhook")
    wait_for(lambda: len(slack.updates) == 2, timeout=60, what="both permission messages revised")
    time.sleep(2)  # a duplicate would arrive within the retry backoff

    problems = [p for s, r, b, p in slack.api if p]
    check(not problems, "Block Kit problems: %r" % problems)
    statuses = [(s, r.get("error")) for s, r, b, p in slack.api]
    check(statuses[:2] == [(429, "ratelimited"), (200, "internal_error")], "first answers: %r" % statuses)
    posted = slack.posted()
    check(len(posted) == 4, "chat.postMessage accepted %d messages: %r" % (len(posted), statuses))
    first_ts, first = posted[0]
    check("thread_ts" not in first and first["channel"] == "#agents", "the first message: %r" % first)
    check("needs permission" in first["text"] and "make deploy" in json.dumps(first["blocks"]), "first: %r" % first["text"])
    for ts, body in posted[1:]:
        check(body.get("thread_ts") == first_ts and body["channel"] == "C0E2E", "not in the session's thread: %r" % body)
    headers = [b["blocks"][0]["text"]["text"] for ts, b in posted]
    check(headers == ["cl needs permission", "cl is done", "cl needs permission", "cl is done"], "headers: %r" % headers)

    # Each answered permission message says who answered, in place of nothing (no buttons
    # without an app token); a webhook's messages cannot be changed.
    permission_ts = [ts for ts, b in posted if b["blocks"][0]["text"]["text"] == "cl needs permission"]
    check(sorted(u["ts"] for u in slack.updates) == sorted(permission_ts), "revised: %r" % slack.updates)
    for u in slack.updates:
        check(u["channel"] == "C0E2E" and "Approved from the command line" in json.dumps(u["blocks"]), "revision: %r" % u)

    hooked = slack.webhook_accepted()
    check(sorted(b["blocks"][0]["text"]["text"] for b in hooked) == sorted(headers), "webhook messages: %r" % hooked)
    check(all("channel" not in b and "thread_ts" not in b for b in hooked), "a webhook message names a channel or thread")

    sent = d.events("kind = ?", (KIND["NotificationSent"],))
    queued = d.events("kind = ?", (KIND["NotificationQueued"],))
    check(len(sent) == len(queued) == 10, "queued %d, sent %d" % (len(queued), len(sent)))
    updates = [json.loads(e[4]) for e in queued if "update_of" in json.loads(e[4])]
    check(len(updates) == 2 and all(u["notifier"] == "slack-bot" for u in updates), "updates queued: %r" % updates)
    failed = [json.loads(e[4]) for e in d.events("kind = ?", (KIND["NotificationFailed"],))]
    errors = " | ".join(f["error"] for f in failed)
    check("HTTP 429, Retry-After 1 s" in errors and "internal_error" in errors and "HTTP 500" in errors, "failures: " + errors)

    with open(os.path.join(d.state_dir, "events.db"), "rb") as f:
        data = f.read()
    for name in os.listdir(d.state_dir):
        if name.startswith("events.db-wal") or name.endswith(".log"):
            with open(os.path.join(d.state_dir, name), "rb") as f:
                data += f.read()
    data += d.output().encode()
    check(b"TOKEN-41c7d2" not in data, "the bot token leaked into the daemon's files")
    check(b"WEBHOOKSECRET93" not in data, "the webhook URL leaked into the daemon's files")
print("ok")
