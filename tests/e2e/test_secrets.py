#!/usr/bin/env python3
"""Secrets stay secret. A run that uses every kind of secret a configuration holds, from
the environment or a 0600 file as the configuration takes them (a webhook's signing
secret, a token in its URL path, an Authorization header, a Slack bot token, a Slack
incoming-webhook URL, a URL with a token that refuses connections) against local
fakes that make every error path speak: 500s whose bodies echo the secret, Slack errors
that echo the token, a connection refused, a reload of a broken configuration. Afterwards no secret is in the daemon's log, the event log (every table,
the WAL), the keyframes, or anything the CLI prints (status, ls, timeline, export,
pending, rules test, config check, the reload's error)."""

import json
import os

from http_fake import FakeService, Reply
from tether_harness import BIN_DIR, Daemon, FAKE_CLAUDE, KIND, check, fail, free_port, wait_for

PLUGIN_DIR = os.path.abspath(os.path.join(BIN_DIR, "..", "lib", "tether", "plugins"))
SECRETS = {
    "webhook signing secret": "whsec-SEKRIT-0a1b2c",
    "webhook URL token": "urltok-SEKRIT-3d4e5f",
    "slack bot token": "xoxb-SEKRIT-6a7b8c",
    "slack webhook path": "WHPATH-SEKRIT-9d0e1f",
    "authorization header": "auth-SEKRIT-2a3b4c",
    "refused URL token": "deadtok-SEKRIT-5d6e7f",
}


class Fakes(FakeService):
    """One loopback server for the webhook sink and Slack's API and webhook; each answers
    with an error that quotes the secret it was given, then accepts."""

    def __init__(self):
        self.seen = []
        super().__init__()

    def serve(self, method, path, headers, body):
        with self.lock:
            first = path not in [p for p, _ in self.seen]
            self.seen.append((path, body))
        quoted = " ".join(SECRETS.values()) + " " + headers.get("Authorization", "") + " " + path
        if path.startswith("/api/"):
            if first:
                return Reply(200, json.dumps({"ok": False, "error": "internal_error", "detail": quoted}),
                             [("Content-Type", "application/json")])
            return Reply(200, json.dumps({"ok": True, "channel": "C1", "ts": "1795000000.000100"}),
                         [("Content-Type", "application/json")])
        if first:
            return Reply(500, "server error; you sent " + quoted)
        return Reply(200, "ok")

    def count(self):
        with self.lock:
            return len(self.seen)


fakes = Fakes()
with Daemon() as d:
    token_file = os.path.join(d.root, "slack-token")
    with open(token_file, "w") as f:
        f.write(SECRETS["slack bot token"] + "\n")
    os.chmod(token_file, 0o600)
    daemon_env = dict(d.env)
    daemon_env["E2E_WEBHOOK_SECRET"] = SECRETS["webhook signing secret"]
    url_file = os.path.join(d.root, "webhook-url")
    with open(url_file, "w") as f:
        f.write("http://127.0.0.1:%d/hook/%s\n" % (fakes.port, SECRETS["webhook URL token"]))
    os.chmod(url_file, 0o600)
    daemon_env["E2E_AUTH"] = "Bearer " + SECRETS["authorization header"]
    daemon_env["E2E_DEAD_URL"] = "http://127.0.0.1:%d/never/%s" % (free_port(), SECRETS["refused URL token"])
    daemon_env["E2E_SLACK_WEBHOOK"] = "http://127.0.0.1:%d/services/T1/B1/%s" % (fakes.port, SECRETS["slack webhook path"])
    config = os.path.join(d.root, "config.yaml")
    body = """
plugin_path: [%(plugins)s]
notifiers:
  hook:
    plugin: webhook
    options:
      url: {file: %(url_file)s}
      secret: ${E2E_WEBHOOK_SECRET}
      header.Authorization: ${E2E_AUTH}
      timeout_ms: 3000
  dead:
    plugin: webhook
    options:
      url: ${E2E_DEAD_URL}
      secret: ${E2E_WEBHOOK_SECRET}
      timeout_ms: 1000
  slack-bot:
    plugin: slack
    options:
      token: {file: %(token_file)s}
      channel: "#agents"
      api_base: http://127.0.0.1:%(port)d/api
  slack-hook:
    plugin: slack
    options:
      webhook: ${E2E_SLACK_WEBHOOK}
rules:
  - name: permission
    when: {to: needs_permission}
    notify: [hook, dead, slack-bot, slack-hook]
""" % {"plugins": PLUGIN_DIR, "port": fakes.port, "url_file": url_file, "token_file": token_file}
    with open(config, "w") as f:
        f.write(body)
    d.extra_args = ["--config", config]
    d.env["TETHER_CONFIG"] = config
    cli_env = dict(d.env)  # the CLI never has the environment's secrets
    d.env = daemon_env
    d.env["TETHER_CONFIG"] = config
    d.start()
    d.env = cli_env

    printed = []

    def cli(*args, rc=None):
        r = d.tether(*args, check_rc=rc)
        printed.append(" ".join(args) + "\n" + r[1] + r[2])
        return r

    cli("run", "-d", "--name", "cl", "--", FAKE_CLAUDE, rc=0)
    wait_for(lambda: d.tether("screen", "cl")[1].rstrip().endswith(">"), what="the fake agent prompt")
    cli("send", "cl", "run make deploy", "--enter", rc=0)
    cli("wait", "cl", "--until", "needs_permission", "--timeout", "20", rc=0)
    cli("pending", rc=0)
    # Every notifier fails once (the dead one every time), with the secret in the answer.
    wait_for(lambda: len(d.events("kind = ?", (KIND["NotificationSent"],))) >= 3, timeout=90,
             what="three notifiers to get through their first error")
    wait_for(lambda: len(d.events("kind = ?", (KIND["NotificationFailed"],))) >= 4, timeout=60, what="the failures")
    cli("approve", "cl", rc=0)
    cli("wait", "cl", "--until", "idle", "--timeout", "20", rc=0)
    for args in (("daemon", "status"), ("daemon", "status", "--json"), ("ls", "--all", "--json"), ("timeline", "cl"),
                 ("timeline", "cl", "--json"), ("export", "cl", "--format", "asciicast"), ("doctor",),
                 ("rules", "test", "--to", "needs_permission", "--tool", "Bash"), ("config", "check", config)):
        cli(*args)
    # A broken configuration keeps the secrets; its refusal must not print them.
    with open(config, "w") as f:
        f.write(body.replace("timeout_ms: 3000", "timeout_ms: soon\n      nonsense_key: ${E2E_AUTH}"))
    rc, out, err = cli("config", "reload")
    check(rc != 0 and "timeout_ms" in (out + err), "the broken reload was not refused: %s %s" % (out, err))
    cli("config", "check", config)
    errors = [json.loads(e[4]).get("error", "") for e in d.events("kind = ?", (KIND["NotificationFailed"],))]
    check(any("500" in e for e in errors) and any("internal_error" in e for e in errors) and
          any("127.0.0.1" in e for e in errors), "the failures did not happen as planned: %r" % errors)

    blobs = {"the daemon's log": d.output().encode()}
    for i, text in enumerate(printed):
        blobs["what `tether %s` printed" % text.split("\n", 1)[0]] = text.encode()
    for name in sorted(os.listdir(d.state_dir)):
        path = os.path.join(d.state_dir, name)
        if os.path.isfile(path) and not name.endswith(".lock"):
            with open(path, "rb") as f:
                blobs[name] = f.read()
    check("events.db" in blobs and len(blobs["events.db"]) > 0, "no event log")
    for what, secret in SECRETS.items():
        for where, data in blobs.items():
            if secret.encode() in data:
                at = data.index(secret.encode())
                fail("the %s leaked into %s: ...%r..." % (what, where, data[max(0, at - 300):at + 60]))
    print("checked %d secrets in %s" % (len(SECRETS), ", ".join("%s (%d bytes)" % (k, len(v)) for k, v in blobs.items())))
print("ok")
