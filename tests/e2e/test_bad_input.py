#!/usr/bin/env python3
"""Bad input on the control socket: each gets an error reply and a closed connection,
the daemon stays up, and nothing already logged is lost."""

import os
import socket
import struct
import time

from tether_harness import Daemon, Conn, KIND, check, fail, frame, json_frame, JSON, BYTES

with Daemon(extra_args=["--frame-timeout-ms", "300"]) as d:
    d.start()
    c = d.conn()
    before = [c.request({"cmd": "mark", "text": "before-%d" % i})["seq"] for i in range(20)]
    c.close()

    def expect_error_and_close(name, payload, want, hello=True, close_write=False):
        c = d.conn(hello=hello)
        c.send(payload)
        r = c.read_json()
        check(r is not None, "%s: no error reply before close" % name)
        check(r.get("ok") is False and want in r.get("error", ""), "%s: got %r, wanted an error with %r" % (name, r, want))
        check(c.closed_by_peer(), "%s: the connection stayed open" % name)
        c.close()
        check(d.alive(), "%s: the daemon died" % name)

    expect_error_and_close("garbage", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "unknown frame type")
    expect_error_and_close("garbage before hello", b"\x00\x00\x00\x02\x07hi", "unknown frame type", hello=False)
    expect_error_and_close("oversized frame", struct.pack(">IB", 1 << 30, JSON) + b"{", "exceeds the limit")
    expect_error_and_close("truncated frame", struct.pack(">IB", 100, JSON) + b'{"cmd":', "timed out")
    expect_error_and_close("no hello", json_frame({"cmd": "ls"}), "expected a tether hello", hello=False)
    expect_error_and_close("silent client", b"", "timed out waiting for the hello", hello=False)
    expect_error_and_close("bad json", frame(JSON, b"{nope"), "not valid JSON")
    expect_error_and_close("json array", frame(JSON, b"[1,2]"), "not a JSON object")
    expect_error_and_close("no cmd", json_frame({"id": 1}), "no \"cmd\"")
    expect_error_and_close("unknown command", json_frame({"id": 1, "cmd": "frobnicate"}), "unknown command \"frobnicate\"")
    expect_error_and_close("terminal bytes without attach", frame(BYTES, b"ls\r"), "outside an attached stream")

    # A client that vanishes mid-frame.
    for _ in range(20):
        c = d.conn()
        c.send(struct.pack(">IB", 50, JSON) + b'{"cmd":"m')
        c.close()
    # A client that sends requests but never reads its replies is cut off, not buffered forever.
    c = d.conn()
    c.sock.settimeout(120)  # generous: a sanitizer build answers slowly
    req = json_frame({"id": 1, "cmd": "status"})
    sent, cut = 0, False
    try:
        for _ in range(400000):
            c.sock.sendall(req * 100)
            sent += 100
    except (BrokenPipeError, ConnectionResetError):
        cut = True
    except socket.timeout:
        fail("the daemon stopped reading a slow client instead of cutting it off")
    check(cut, "a client that never reads was not cut off after %d requests" % sent)
    c.close()
    check(d.alive(), "the daemon died with a slow client")

    # A different uid is refused by SO_PEERCRED (needs root to become another uid).
    if os.getuid() == 0:
        os.chmod(d.root, 0o711)
        os.chmod(os.path.dirname(d.socket), 0o711)
        os.chmod(d.socket, 0o666)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                os.setgid(65534)
                os.setuid(65534)
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(5)
                s.connect(d.socket)
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                os.write(w, data)
            finally:
                os._exit(0)
        os.close(w)
        data = b""
        while True:
            chunk = os.read(r, 4096)
            if not chunk:
                break
            data += chunk
        os.waitpid(pid, 0)
        os.chmod(os.path.dirname(d.socket), 0o700)
        os.chmod(d.socket, 0o600)
        os.chmod(d.root, 0o700)
        check(b"permission denied" in data and b"65534" in data, "another uid was not refused: %r" % data)
    else:
        print("note: not root, skipping the other-uid check")

    check(d.alive(), "daemon died")
    c = d.conn()
    after = c.request({"cmd": "mark", "text": "after"})
    check(after and after.get("ok"), "daemon does not answer after the bad input")
    marks = {e[0]: e[4] for e in d.events("kind = ?", (KIND["MarkerAdded"],))}
    for i, seq in enumerate(before):
        check(seq in marks and ("before-%d" % i).encode() in marks[seq], "event %d lost" % seq)
    rc, out, err = d.tether("admin", "verify", check_rc=0)

print("ok")
