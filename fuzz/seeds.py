#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/seed-* from the project's own test
fixtures: hook payloads captured from Claude Code (agent_state_test.cc), the example
configuration and the rules tests' YAML, terminal output of the fake Claude Code and of
vim on a real PTY, the settings of claude_settings_test.cc, and requests in the shape
docs/PROTOCOL.md gives. Run it again when the fixtures change; files of fixed findings
(crash-*, finding-*) are left alone. Deterministic but for the captured terminal output."""

import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def raw_strings(path):
    """C++ raw string literals R"tag(...)tag" of a source file, in order."""
    text = open(os.path.join(ROOT, path), encoding="utf-8").read()
    return [m.group(2) for m in re.finditer(r'R"(\w*)\((.*?)\)\1"', text, re.S)]


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def frame(kind, body):
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    return struct.pack(">IB", len(body), kind) + body


def holder_frame(kind, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return struct.pack(">BI", kind, len(payload)) + payload


def fields(**kv):
    out = ""
    for k, v in kv.items():
        for one in v if isinstance(v, list) else [v]:
            out += "%s=%s\n" % (k, str(one).replace("\\", "\\\\").replace("\n", "\\n"))
    return out


def capture(argv, keys, seconds=3.0, env=None):
    """What a program writes to a real PTY while `keys` are typed, one burst each 0.3 s."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, dict(os.environ, TERM="xterm-256color", **(env or {})))
    out, deadline, pending = b"", time.time() + seconds, list(keys)
    next_key = time.time() + 0.5
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        if pending and time.time() >= next_key:
            os.write(fd, pending.pop(0))
            next_key = time.time() + 0.3
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    return out


def hook_payloads():
    return [s for s in raw_strings("daemon/state/agent_state_test.cc") if s.startswith("{")]


def seeds_hook(payloads):
    for i, p in enumerate(payloads):
        write("hook", "%02d" % i, b"\x00" + p.encode())
    # A turn as Claude Code sends it, several hooks in one input; then waiting for an answer.
    write("hook", "turn", b"\x00" + "\n---\n".join(payloads[:8]).encode())
    perm = [p for p in payloads if '"PermissionRequest"' in p]
    if perm:
        write("hook", "permission-waits", b"\x80" + perm[0].encode())
    write("hook", "gemini", b"\x02" + json.dumps({"hook_event_name": "BeforeTool", "session_id": "g1", "cwd": "/p",
                                                   "tool_name": "run_shell_command", "tool_input": {"command": "ls"}}).encode())
    write("hook", "not-json", b"\x01{not json")


def seeds_agent_state(payloads):
    # records: kind selector (0-2 hook, 3 output, 4 input, 5 title, 6 bell, 7 osc, 8 decided,
    # 9 notify, 10 screen prompt, 11 start, 12 exit...), time step, payload; 0x1e between.
    recs = [bytes([0, 4]) + p.encode() for p in payloads[:12]]
    write("agent_state", "claude-turn", b"\x1e".join(recs))
    write("agent_state", "titles", b"\x1e".join([
        bytes([5, 1]) + json.dumps({"title": "\u2733 Claude Code"}).encode(),
        bytes([4, 2]) + b"\r",
        bytes([3, 1]) + b"output",
        bytes([5, 3]) + json.dumps({"title": "\u2810 Working"}).encode(),
        bytes([5, 9]) + json.dumps({"title": "\u2733 Claude Code"}).encode(),
        bytes([6, 1]) + b"{}",
        bytes([7, 2]) + json.dumps({"message": "Claude needs your permission"}).encode(),
        bytes([10, 2]) + json.dumps({"prompt": "permission", "text": "Do you want to proceed?"}).encode(),
        bytes([4, 1]) + b"1",
        bytes([9, 3]) + json.dumps({"state": "needs_answer", "message": "which?"}).encode(),
        bytes([8, 1]) + json.dumps({"request": 3, "decision": "allow", "by": "cli"}).encode(),
        bytes([12, 1]) + json.dumps({"code": 0}).encode(),
    ]))


def seeds_control(payloads):
    hello = {"hello": "tether", "protocol": 1, "version": "0.1.0", "who": "tether"}
    reqs = [
        {"id": 1, "cmd": "status"}, {"id": 2, "cmd": "ls"}, {"id": 3, "cmd": "mark", "text": "note"},
        {"id": 4, "cmd": "verify"}, {"id": 5, "cmd": "holders"}, {"id": 6, "cmd": "pending"},
        {"id": 7, "cmd": "rules_test", "to": "needs_permission", "tool": "Bash", "tool_input": {"command": "rm -rf x"}},
        {"id": 8, "cmd": "config_reload"}, {"id": 9, "cmd": "watch", "screens": [1]},
        {"id": 10, "cmd": "watch_screens", "sessions": [1, "x"]}, {"id": 11, "cmd": "timeline", "session": 1},
        {"id": 12, "cmd": "export", "session": 1, "format": "asciicast"}, {"id": 13, "cmd": "grep", "pattern": "hello"},
        {"id": 14, "cmd": "gc", "dry_run": True, "max_age_s": 1}, {"id": 15, "cmd": "screen", "session": 1, "cells": True},
        {"id": 16, "cmd": "screen", "session": 1, "at_offset_us": 1000}, {"id": 17, "cmd": "attach", "session": 1, "cols": 80, "rows": 24},
        {"id": 18, "cmd": "send", "session": 1, "data": "hi", "enter": True}, {"id": 19, "cmd": "kill", "session": 1, "signal": "TERM"},
        {"id": 20, "cmd": "resize", "session": 1, "cols": 100, "rows": 30}, {"id": 21, "cmd": "detach", "session": 1},
        {"id": 22, "cmd": "approve", "target": 1, "always": True}, {"id": 23, "cmd": "deny", "target": "1", "message": "no"},
        {"id": 24, "cmd": "notify", "session": 1, "state": "needs_answer", "message": "?"},
        {"id": 25, "cmd": "wait", "session": 1, "until": "idle"}, {"id": 26, "cmd": "ack", "session": 1},
    ]
    for r in reqs:
        write("control", r["cmd"] + "-%d" % r["id"], b"\x01" + frame(1, r))
    # An external session from a hook, then requests that name it.
    hook = frame(1, {"id": 1, "cmd": "hook", "agent": "claude", "session": "", "wait_ms": 0}) + frame(2, payloads[0])
    write("control", "hook-then-ls", b"\x01" + hook)
    write("control", "all", b"\x01" + b"".join(frame(1, r) for r in reqs if r["cmd"] not in ("wait", "attach")))
    # Bad input, as tests/e2e/test_bad_input.py sends it.
    write("control", "no-hello", b"\x00" + frame(1, {"id": 1, "cmd": "status"}))
    write("control", "hello-v2", b"\x00" + frame(1, dict(hello, protocol=2)))
    write("control", "not-json", b"\x01" + frame(1, "{nope"))
    write("control", "bytes-unattached", b"\x01" + frame(2, "abc"))
    write("control", "bad-type", b"\x01" + struct.pack(">IB", 3, 9) + b"abc")
    write("control", "too-long", b"\x01" + struct.pack(">IB", (1 << 20) + 1, 1))
    write("control", "partial", b"\x01" + frame(1, {"id": 1, "cmd": "ls"})[:-3])


def seeds_holder():
    # To a holder: resume, input, resize, signal, ack, collect (what a daemon sends).
    off = struct.pack(">Q", 0)
    write("holder", "daemon", b"\x01" + holder_frame(3, "echo hi\r") + holder_frame(4, fields(cols=100, rows=30)) +
          holder_frame(6, struct.pack(">Q", 3)) + holder_frame(3, "x"))
    write("holder", "no-resume", b"\x00" + holder_frame(2, off) + holder_frame(3, "abc"))
    write("holder", "bad-resume", b"\x00" + holder_frame(2, struct.pack(">Q", 999)))
    write("holder", "rebind", b"\x00" + holder_frame(8, fields(session=9, state_dir="/s", socket="/x.sock")) + holder_frame(2, off))
    write("holder", "signal", b"\x01" + holder_frame(5, fields(signal=28)) + holder_frame(7, ""))
    write("holder", "oversized", b"\x01" + struct.pack(">BI", 3, (2 << 20)))
    write("holder", "unknown", b"\x01" + holder_frame(99, "future"))


def seeds_holder_link():
    # From a holder: its hello (as a starting daemon reads it), output with offsets, exit.
    hello = lambda **kw: holder_frame(20, fields(**dict(dict(
        protocol=1, version="0.1.0", session=1, agent_pid=4242, holder_pid=4241, state_dir="(replaced)", produced=11,
        acked=0, started_us=1767225600000000, disconnected_us=1767225601000000, cols=80, rows=24, exited=0, signaled=0,
        code=0, core_dumped=0, cwd="/tmp", arg=["claude", "--x"]), **kw)))
    out = lambda o, b: holder_frame(22, struct.pack(">Q", o) + b)
    exit_ = holder_frame(23, fields(signaled=0, code=3, core_dumped=0))
    write("holder_link", "adopt", hello() + out(0, b"hello ") + out(6, b"world") + holder_frame(24, "") + exit_)
    write("holder_link", "resend", hello() + out(0, b"abc") + out(0, b"abcdef") + out(9, b"gap") + exit_)
    write("holder_link", "titles", hello(produced=40) + out(0, b"\x1b]0;\xe2\x9c\xb3 Claude\x07\x07\x1b]9;hi\x07 text") + exit_)
    write("holder_link", "exited", hello(exited=1, code=0) + holder_frame(24, "") + exit_)
    write("holder_link", "offsets-wrong", hello(acked=5, produced=2))
    write("holder_link", "other-session", hello(session=2))
    write("holder_link", "protocol-2", hello(protocol=2))
    write("holder_link", "refused", holder_frame(25, "another daemon is connected to this holder"))
    write("holder_link", "no-hello", out(0, b"x"))
    write("holder_link", "big-output", hello(produced=5000) + out(0, b"y" * 5000))


def seeds_config():
    write("config", "example", open(os.path.join(ROOT, "config.example.yaml"), "rb").read())
    for i, y in enumerate(s for s in raw_strings("daemon/notify/rules_test.cc")):
        write("config", "rules-%02d" % i, y)
    write("config", "daemon", "daemon:\n  flush_ms: 5\nsessions:\n  history_lines: 1000\n  client_buffer_kib: 128\n"
          "hooks:\n  permission_wait_s: 30\nattach:\n  detach_key: \"^]\"\nui:\n  terminal: xterm -e\n"
          "retention:\n  max_age_days: 30\n  max_total_mib: 512\nplugin_path: [/opt/plugins]\n")
    write("config", "errors", "daemon:\n  flush_ms: lots\n  nope: 1\nsessions: [1]\nattach:\n  detach_key: x\n")
    write("config", "syntax", "daemon: {flush_ms: 5\n")


def seeds_terminal(outputs):
    for name, data in outputs.items():
        write("terminal_signals", name, data)
    write("terminal_signals", "osc", b"a\x1b]0;\xe2\x9c\xb3 Claude Code\x07b\x1b]2;second\x1b\\c\x07"
          b"\x1b]9;Claude needs your permission\x07\x1b]9;4;1;50\x07\x1b]777;notify;Claude Code;Waiting\x1b\\"
          b"\x1bPq\x07\x1b\\\x1b_G\x07\x1b\\\x1b]0;half\x1b[31mred\x1b]2;whole\x07\x1b]0;x\x18")


def seeds_screen(outputs):
    # Size bytes, then operations: feed (selector < 200, length byte, bytes), resize (200-214),
    # snapshot round trip (215-239), read everything (240-255).
    for name, data in outputs.items():
        ops = bytes([78, 23])
        for i in range(0, len(data), 200):
            piece = data[i:i + 200]
            ops += bytes([i % 200, len(piece) - 1]) + piece
            if (i // 200) % 5 == 4:
                ops += bytes([220])
        ops += bytes([201, 40, 10, 230, 245])
        write("screen", name, ops)


def seeds_asciicast(outputs):
    for name, data in outputs.items():
        ops = b"title \xe2\x9c\xb3\x1e"
        for i in range(0, len(data), 97):
            piece = data[i:i + 97]
            ops += bytes([0, 3, len(piece) - 1]) + piece
        ops += bytes([230, 1, 100, 30, 250, 2, 4]) + b"idle"
        write("asciicast", name, ops)
    write("asciicast", "split-utf8", b"t\x1e" + bytes([0, 1, 0]) + b"\xe2" + bytes([0, 1, 1]) + b"\x9c\xb3" +
          bytes([0, 1, 0]) + b"\xf0" + bytes([0, 0, 2]) + b"\x9f\x98\x80" + bytes([0, 0, 0]) + b"\xff")


def seeds_claude_settings():
    user = raw_strings("daemon/agent/claude_settings_test.cc")[0]
    write("claude_settings", "user", user)
    write("claude_settings", "empty", "")
    write("claude_settings", "object", "{}")
    write("claude_settings", "with-tether", json.dumps({"hooks": {"Stop": [{"matcher": "", "hooks": [
        {"type": "command", "command": "/opt/tether/bin/tether-hook --agent claude"},
        {"type": "command", "command": "/home/u/bin/ding.sh"}]}]}, "permissions": {"allow": ["Read"]}}, indent=2))
    write("claude_settings", "hooks-not-object", '{"hooks": []}')
    write("claude_settings", "event-not-array", '{"hooks": {"Stop": {}}}')
    write("claude_settings", "not-json", "{hooks:")
    write("claude_settings", "array", "[1, 2]")


def terminal_outputs():
    fake = os.path.join(ROOT, "tests", "fake_agent", "claude")
    outputs = {
        "fake-claude": capture([sys.executable, fake], [b"hello", b"\r", b"ask", b"\r", b"blue\r", b"/exit\r"], 4.0),
        "fake-claude-trust": capture([sys.executable, fake], [b"1", b"run ls\r", b"2"], 3.0, {"FAKE_TRUST": "1"}),
    }
    if subprocess.run(["sh", "-c", "command -v vim"], capture_output=True).returncode == 0:
        outputs["vim"] = capture(["vim", "-u", "NONE", "-N", "-c", "set nomore", "/etc/services"],
                                 [b"20j", b"ihello \xc3\xa9\xe6\xbc\xa2 world\x1b", b"G", b"gg", b":q!\r"], 3.0)
    return {k: v[:16384] for k, v in outputs.items() if v}


def main():
    payloads = hook_payloads()
    outputs = terminal_outputs()
    seeds_hook(payloads)
    seeds_agent_state(payloads)
    seeds_control(payloads)
    seeds_holder()
    seeds_holder_link()
    seeds_config()
    seeds_terminal(outputs)
    seeds_screen(outputs)
    seeds_asciicast(outputs)
    seeds_claude_settings()
    for t in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, t))
        size = sum(os.path.getsize(os.path.join(CORPUS, t, f)) for f in files)
        print("%-18s %3d files %7d bytes" % (t, len(files), size))


if __name__ == "__main__":
    main()
