#!/usr/bin/env python3
"""bench_answer: how long a click in a chat takes to become the agent's answer. One daemon
runs with two notifiers, Slack (Socket Mode, against tests/fake_slack.py) and Telegram
(long polling, against tests/fake_telegram.py), and one rule sending every permission
request to both. In rounds, the real tether-hook asks with a Claude Code
PermissionRequest and waits; once both chats show the message, the request is answered
in one of three ways, in turn: a click on Slack's Approve, a press on Telegram's Approve,
or `tether approve <request>` (the same-run baseline: a CLI process and one request over
the socket). The latency runs from just before the click (the fake's control call that
sends the click) to the moment the waiting tether-hook's answer ("allow") is read. The
revised messages are waited for, untimed, before the next round, so every click meets an
idle daemon. Stdlib only; the last line printed is the summary bench/run keeps."""

import json
import os
import subprocess
import sys
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from bench_support import (BenchError, TetherDaemon, bench_arguments, now, parse_bench_arguments, percentile,
                           require_executables, run_bench, wait_for)
from http_fake import FakeProcess  # noqa: E402 (bench_support puts tests/e2e on the path)

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE_SLACK = os.path.join(HERE, "..", "tests", "fake_slack.py")
FAKE_TELEGRAM = os.path.join(HERE, "..", "tests", "fake_telegram.py")
BOT, APP, TG = "xoxb-bench-BOT-1", "xapp-1-bench-APP-1", "111222333:AAbench-TOKEN_1"
PERSON = 4242
CLAUDE_SESSION = "f183e74f-41c7-4a96-957e-4256e11bab7c"
COMMON = ('"session_id":"%s","transcript_path":"/home/u/.claude/projects/-home-u-proj/%s.jsonl","cwd":"/home/u/proj",'
          '"permission_mode":"default"' % (CLAUDE_SESSION, CLAUDE_SESSION))
PROMPT = '{' + COMMON + ',"prompt_id":"%s","hook_event_name":"UserPromptSubmit","prompt":"round %d"}'
PERMISSION = ('{' + COMMON + ',"prompt_id":"%s","hook_event_name":"PermissionRequest","tool_name":"Bash",'
              '"tool_input":{"command":"make test %d","description":"Run the tests"},'
              '"permission_suggestions":[{"type":"addDirectories","directories":["/home/u/proj"],"destination":"session"}]}')

CONFIG = """# bench_answer: every permission request goes to Slack and Telegram.
plugin_path: [%s]
hooks: {permission_wait_s: 60}
notifiers:
  slack:
    plugin: slack
    options:
      token: ${BENCH_SLACK_BOT}
      app_token: ${BENCH_SLACK_APP}
      channel: "#agents"
      api_base: %s/api
      allow_users: [U0ANN]
  phone:
    plugin: telegram
    options:
      token: ${BENCH_TELEGRAM}
      chat_id: %d
      api_base: %s
      poll_timeout_s: 20
rules:
  - name: permission
    when: {to: needs_permission}
    notify: [slack, phone]
"""


class Fake(FakeProcess):
    """A fake chat server of tests/, as a child process with its control API."""

    def __init__(self, argv):
        try:
            super().__init__(argv)
        except RuntimeError as e:
            raise BenchError(str(e))

    def count(self, method):
        return len(self.calls(method))


def hook(opt, env, payload, wait):
    """tether-hook, as an agent runs it: the payload on stdin."""
    return subprocess.Popen([os.path.join(opt.bin_dir, "tether-hook"), "--agent", "claude", "--wait", str(wait)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)


def one_round(opt, d, slack, phone, n, how):
    env = dict(d.env)
    p = hook(opt, env, None, 0)
    p.communicate((PROMPT % (uuid.uuid4(), n)).encode(), timeout=30)
    asking = hook(opt, env, None, 60)
    asking.stdin.write((PERMISSION % (uuid.uuid4(), n)).encode())
    asking.stdin.close()
    wait_for(lambda: slack.count("chat.postMessage") >= n and phone.count("sendMessage") >= n, 30,
             "the permission message of round %d in both chats" % n, interval=0.002)
    pending = json.loads(d.run("pending", "--json"))
    if len(pending) != 1:
        raise BenchError("round %d: %d requests pending" % (n, len(pending)))
    start = now()
    if how == "slack":
        slack.post("/_test/click", {"ts": "1795000000.%06d" % n, "user": "U0ANN", "action": "approve"})
    elif how == "telegram":
        phone.post("/_test/press", {"message_id": 100 + n, "user": PERSON, "action": "approve"})
    else:
        subprocess.run(d.cli("approve", str(pending[0]["request"])), env=d.env, capture_output=True, check=True, timeout=30)
    out = asking.stdout.read()
    took = now() - start
    asking.wait(timeout=10)
    if b'"behavior":"allow"' not in out:
        raise BenchError("round %d (%s): the hook printed %r" % (n, how, out[:200]))
    wait_for(lambda: slack.count("chat.update") >= n and phone.count("editMessageText") >= n, 30,
             "round %d's messages to be revised" % n, interval=0.002)
    return took


def measure(opt, parent):
    slack = Fake([FAKE_SLACK, BOT, APP])
    phone = Fake([FAKE_TELEGRAM, TG])
    d = TetherDaemon(opt.bin_dir, parent)
    try:
        config = os.path.join(d.root, "config.yaml")
        plugins = os.path.abspath(os.path.join(opt.bin_dir, "..", "lib", "tether", "plugins"))
        with open(config, "w") as f:
            f.write(CONFIG % (json.dumps(plugins), slack.base, PERSON, phone.base))
        d.env.update(TETHER_CONFIG=config, BENCH_SLACK_BOT=BOT, BENCH_SLACK_APP=APP, BENCH_TELEGRAM=TG)
        with d:
            wait_for(lambda: slack.get("/_test/state")["connections"] == 1 and phone.get("/_test/state")["waiting_polls"] == 1,
                     30, "Socket Mode and the long poll")
            times = {"slack": [], "telegram": [], "cli": []}
            order = ["slack", "telegram", "cli"]
            for n in range(1, opt.clicks * 3 + opt.warmup * 3 + 1):
                how = order[(n - 1) % 3]
                took = one_round(opt, d, slack, phone, n, how)
                if n > opt.warmup * 3:
                    times[how].append(took * 1000)
            return times
    finally:
        slack.close()
        phone.close()


def main():
    ap = bench_arguments(__doc__.split("\n")[0], "20 clicks per way instead of 200")
    ap.add_argument("--clicks", type=int, default=200, help="timed answers per way (default 200)")
    ap.add_argument("--warmup", type=int, default=5, help="untimed rounds per way first (default 5)")
    opt = parse_bench_arguments(ap, quick={"clicks": 20})
    require_executables("bench_answer", [os.path.join(opt.bin_dir, x) for x in ("tether", "tetherd", "tether-hook")])
    times = run_bench("bench_answer", opt, lambda parent: measure(opt, parent))
    if times is None:
        sys.exit(1)
    print("click (or CLI) to the agent's answer, ms, %d each:" % opt.clicks)
    print("  %-26s %8s %8s %8s %8s" % ("", "p50", "p90", "p99", "max"))
    for how, label in (("slack", "Slack (Socket Mode)"), ("telegram", "Telegram (long polling)"),
                       ("cli", "tether approve (baseline)")):
        xs = times[how]
        print("  %-26s %8.2f %8.2f %8.2f %8.2f" % (label, percentile(xs, 0.5), percentile(xs, 0.9), percentile(xs, 0.99), max(xs)))
    s, t, c = (times[k] for k in ("slack", "telegram", "cli"))
    print("bench_answer: click to agent answer p50/p99 ms: slack %.1f/%.1f, telegram %.1f/%.1f, tether approve %.1f/%.1f (%d each)"
          % (percentile(s, .5), percentile(s, .99), percentile(t, .5), percentile(t, .99), percentile(c, .5), percentile(c, .99),
             opt.clicks))


if __name__ == "__main__":
    main()
