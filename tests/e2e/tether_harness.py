"""End-to-end harness: runs the real tetherd and tether binaries in a temporary
state directory, speaks the framed protocol directly for bad-input tests, and waits
with bounded timeouts. Stdlib only, so any python3 runs it."""

import ctypes
import ctypes.util
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time

BIN_DIR = os.environ.get("TETHER_BIN_DIR") or os.path.join(os.path.dirname(__file__), "..", "..", "build", "daemon")
TETHER = os.path.join(BIN_DIR, "tether")
# Where the build puts the shipped notifier plugins (as an install would).
PLUGIN_DIR = os.path.abspath(os.path.join(BIN_DIR, "..", "lib", "tether", "plugins"))
TETHERD = os.path.join(BIN_DIR, "tetherd")
PROTOCOL = 1
JSON, BYTES = 1, 2


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def require_tools(*tools):
    """Skips the scenario (ctest's SKIP_RETURN_CODE 77) when a program it drives is missing."""
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        print("SKIP: %s not installed (scripts/setup.sh installs it)" % ", ".join(missing))
        sys.exit(77)


def wait_for(pred, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    fail("timed out after %.1fs waiting for %s" % (timeout, what))


def frame(kind, body):
    if isinstance(body, str):
        body = body.encode()
    return struct.pack(">IB", len(body), kind) + body


def json_frame(obj):
    return frame(JSON, json.dumps(obj))


class Conn:
    """A raw protocol connection, for tests that must send what the CLI never would."""

    def __init__(self, path, hello=True, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 1
        if hello:
            self.send(json_frame({"hello": "tether", "protocol": PROTOCOL, "version": "test"}))
            reply = self.read_json()
            check(reply.get("ok") is True, "hello refused: %r" % reply)

    def send(self, data):
        self.sock.sendall(data)

    def read_frame(self):
        """Returns (type, body) or None when the daemon closed the connection."""
        while True:
            if len(self.buf) >= 5:
                n, kind = struct.unpack(">IB", self.buf[:5])
                if len(self.buf) >= 5 + n:
                    body = self.buf[5:5 + n]
                    self.buf = self.buf[5 + n:]
                    return kind, body
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            self.buf += chunk

    def read_json(self):
        f = self.read_frame()
        if f is None:
            return None
        check(f[0] == JSON, "expected a JSON frame, got type %d" % f[0])
        return json.loads(f[1])

    def request(self, obj):
        obj = dict(obj)
        obj["id"] = self.next_id
        self.next_id += 1
        self.send(json_frame(obj))
        while True:
            r = self.read_json()
            if r is None or r.get("id") == obj["id"] or r.get("fatal"):
                return r

    def closed_by_peer(self):
        """True once the daemon has closed its end (reads EOF)."""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


class Daemon:
    """A tetherd in its own temporary directories. Use as a context manager."""

    def __init__(self, extra_args=(), root=None):
        self.root = root or tempfile.mkdtemp(prefix="tether-e2e-")
        self.state_dir = os.path.join(self.root, "state")
        self.socket = os.path.join(self.root, "run", "tetherd.sock")
        self.extra_args = list(extra_args)
        self.proc = None
        self.env = dict(os.environ)
        self.env["TETHER_STATE_DIR"] = self.state_dir
        self.env["TETHER_SOCKET"] = self.socket
        self.env.pop("TETHER_SESSION", None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        self.kill_holders()
        shutil.rmtree(self.root, ignore_errors=True)

    def holder_pids(self):
        """The holder processes of this daemon's sessions (they outlive the daemon)."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"tether-holder") and (self.state_dir.encode() in argv):
                pids.append(int(entry))
        return pids

    def kill_holders(self):
        """A test's sessions end with it: SIGKILL closes each PTY, hanging up its program."""
        for pid in self.holder_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def start(self):
        """Starts tetherd in the foreground (as a child of the test) and waits for its socket."""
        log = open(os.path.join(self.root, "tetherd.out"), "ab")
        self.proc = subprocess.Popen([TETHERD, "--state-dir", self.state_dir, "--socket", self.socket] + self.extra_args,
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=self.env)
        wait_for(self.ready, what="tetherd to listen")
        return self

    def ready(self):
        if self.proc and self.proc.poll() is not None:
            fail("tetherd exited with %s: %s" % (self.proc.returncode, self.output()))
        try:
            c = Conn(self.socket, timeout=2)
            c.close()
            return True
        except OSError:
            return False

    def output(self):
        try:
            with open(os.path.join(self.root, "tetherd.out"), "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=15)
        # A daemon started by the CLI (daemon start) is not our child: find it by its lock.
        pid = self.lock_pid()
        if pid and pid_alive(pid):
            os.kill(pid, sig)
            wait_for(lambda: not pid_alive(pid), what="tetherd %d to die" % pid)

    def lock_pid(self):
        return daemon_lock_pid(self.state_dir)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def conn(self, **kw):
        return Conn(self.socket, **kw)

    def tether(self, *args, input=None, timeout=30, check_rc=None):
        """Runs the CLI; returns (rc, stdout, stderr)."""
        p = subprocess.run([TETHER] + list(args), input=input, capture_output=True, env=self.env, timeout=timeout)
        out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        if check_rc is not None and p.returncode != check_rc:
            fail("tether %s: exit %d, wanted %d\nstdout: %s\nstderr: %s" % (" ".join(args), p.returncode, check_rc, out, err))
        return p.returncode, out, err

    def events(self, where="1=1", params=()):
        """Reads the event log directly (read-only, beside a live daemon: WAL allows it):
        (seq, time, session, kind, payload) rows, payloads as appended (decompressed)."""
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.state_dir, "events.db"), uri=True)
        try:
            rows = db.execute("SELECT seq, time, session, kind, payload, codec FROM events WHERE %s ORDER BY seq" % where,
                              params).fetchall()
        finally:
            db.close()
        return [(seq, t, session, kind, stored_payload(payload, codec)) for seq, t, session, kind, payload, codec in rows]


_zstd = None


def _libzstd():
    global _zstd
    if _zstd is None:
        lib = ctypes.CDLL(ctypes.util.find_library("zstd") or "libzstd.so.1")
        lib.ZSTD_getFrameContentSize.restype = ctypes.c_ulonglong
        lib.ZSTD_getFrameContentSize.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
        lib.ZSTD_decompress.restype = ctypes.c_size_t
        lib.ZSTD_decompress.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
        lib.ZSTD_isError.restype = ctypes.c_uint
        lib.ZSTD_isError.argtypes = [ctypes.c_size_t]
        _zstd = lib
    return _zstd


def stored_size(payload, codec):
    """The size of a stored payload once decoded (events.codec: 0 as is, 1 a zstd frame)."""
    if codec == 0:
        return len(payload)
    size = _libzstd().ZSTD_getFrameContentSize(bytes(payload), len(payload))
    if codec != 1 or size >= 2**64 - 2:
        raise ValueError("an event payload with codec %d that is not a zstd frame with its size" % codec)
    return size


def stored_payload(payload, codec):
    """A payload as the daemon appended it, through libzstd as the daemon reads it."""
    if codec == 0:
        return payload
    frame = bytes(payload)
    size = stored_size(frame, codec)
    out = ctypes.create_string_buffer(size)
    n = _libzstd().ZSTD_decompress(out, size, frame, len(frame))
    if _libzstd().ZSTD_isError(n) or n != size:
        raise ValueError("a damaged zstd payload in the event log")
    return out.raw[:n]


def daemon_lock_pid(state_dir):
    """The pid in a state directory's tetherd.lock (the daemon holding it), else 0."""
    try:
        with open(os.path.join(state_dir, "tetherd.lock")) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def rss_kib(pid):
    """A process's resident memory (VmRSS), in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


TETHER_HOOK = os.path.join(BIN_DIR, "tether-hook")
FAKE_CLAUDE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fake_agent", "claude")



def _event_kinds():
    """EventKind's names and frozen numbers, read from daemon/log/events.h (said once)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "daemon", "log", "events.h")
    with open(path) as f:
        text = f.read()
    body = text[text.index("enum class EventKind"):]
    body = body[:body.index("};")]
    return {name: int(n) for name, n in re.findall(r"^\s+([A-Z]\w*) = (\d+),", body, re.M)}


KIND = _event_kinds()


class Tmux:
    """An outer terminal: a private tmux server whose one pane plays the user's terminal."""

    def __init__(self, daemon, cols=80, rows=24):
        self.name = "tether-e2e-%d" % os.getpid()
        self.daemon = daemon
        env = ["TETHER_STATE_DIR=" + daemon.state_dir, "TETHER_SOCKET=" + daemon.socket, "PS1=outer$ ",
               "PATH=" + BIN_DIR + ":" + os.environ.get("PATH", "/usr/bin:/bin"), "TERM=xterm-256color"]
        args = ["new-session", "-d", "-x", str(cols), "-y", str(rows)]
        cmd = "env -i HOME=%s %s bash --norc --noprofile" % (daemon.root, " ".join("'%s'" % e for e in env))
        self.tmux(*args, cmd)
        self.tmux("set-option", "-g", "history-limit", "100000")
        wait_for(lambda: "outer$" in self.capture(), what="the outer shell prompt")

    def tmux(self, *args):
        p = subprocess.run(["tmux", "-L", self.name, "-f", "/dev/null"] + list(args), capture_output=True, timeout=20)
        if p.returncode != 0:
            fail("tmux %s: %s" % (" ".join(args), p.stderr.decode(errors="replace")))
        return p.stdout.decode(errors="replace")

    def capture(self, colours=False, history=False):
        args = ["capture-pane", "-p"]
        if colours:
            args.append("-e")
        if history:
            args += ["-S", "-"]
        return self.tmux(*args)

    def keys(self, *keys):
        self.tmux("send-keys", *keys)

    def type_line(self, text):
        self.tmux("send-keys", "-l", text)
        self.tmux("send-keys", "Enter")

    def display(self, fmt):
        return self.tmux("display-message", "-p", fmt).strip()

    def wait_screen(self, needle, timeout=10):
        return wait_for(lambda: needle in self.capture(), timeout=timeout, what="%r on the outer screen" % needle)

    def stable_capture(self, colours=True):
        """A capture that did not change over a short while: output has settled."""
        last = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            cur = self.capture(colours=colours) + "|" + self.display("#{cursor_x},#{cursor_y},#{cursor_flag}")
            if cur == last:
                return cur
            last = cur
            time.sleep(0.15)
        fail("the outer screen did not settle")

    def kill(self):
        subprocess.run(["tmux", "-L", self.name, "kill-server"], capture_output=True)


# The kinds a daemon publishes to its fleet (daemon/fleet/fleet_fact.cc, without output).
FLEET_KINDS = (1, 2, 3, 4, 7, 8, 12, 13, 14, 16, 17, 18, 30)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class NatsServer:
    """A real nats-server with JetStream on 127.0.0.1: a random port, its own store
    directory, the monitoring port for looking at the stream. Skips (77) without one."""

    def __init__(self, root):
        self.bin = shutil.which("nats-server")
        if not self.bin:
            print("SKIP: nats-server is not installed (scripts/setup.sh installs it)")
            sys.exit(77)
        self.root = root
        self.store = os.path.join(root, "nats-store")
        self.port = free_port()
        self.http_port = free_port()
        self.url = "nats://127.0.0.1:%d" % self.port
        self.args = ["-js", "-sd", self.store]  # or ["-c", CONFIG] (with its own jetstream store)
        self.proc = None

    def start(self):
        log = open(os.path.join(self.root, "nats-server.out"), "ab")
        self.proc = subprocess.Popen([self.bin] + self.args + ["-a", "127.0.0.1", "-p", str(self.port), "-m", str(self.http_port)],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        wait_for(self.ready, what="nats-server to listen")
        return self

    def ready(self):
        if self.proc.poll() is not None:
            fail("nats-server exited with %s" % self.proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return self.jsz() is not None
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)

    def jsz(self):
        import urllib.request
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/jsz?streams=true" % self.http_port, timeout=2) as r:
                return json.loads(r.read())
        except OSError:
            return None

    def stream_state(self, name="TETHER"):
        """The stream's state (messages, bytes, first_seq, last_seq), or None."""
        doc = self.jsz() or {}
        for account in doc.get("account_details") or []:
            for s in account.get("stream_detail") or []:
                if s.get("name") == name:
                    return s.get("state")
        return None


def fleet_config(url, host, hosts, extra=""):
    return "fleet:\n  url: %s\n  host: %s\n  hosts: [%s]\n%s" % (url, host, ", ".join(hosts), extra)


class NatsClient:
    """A bare client of the NATS text protocol (for what the daemons never send): connects,
    upgrades to TLS when the server asks (verifying with ca), authenticates with
    user/password; every request ends with a PING, and answer() returns what the server
    said up to its PONG (an -ERR for a permission violation comes before it)."""

    def __init__(self, port, user=None, password=None, ca=None):
        import ssl
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        f = raw.makefile("rb")
        info = json.loads(f.readline().split(b" ", 1)[1])
        self.sock = raw
        if info.get("tls_required"):
            ctx = ssl.create_default_context(cafile=ca)
            self.sock = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        self.f = self.sock.makefile("rb")
        connect = {"verbose": False, "headers": True, "protocol": 1, "pedantic": False}
        if user:
            connect.update(user=user, **{"pass": password})
        self.sock.sendall(b"CONNECT " + json.dumps(connect).encode() + b"\r\n")
        self.greeting = self.answer(b"")  # empty, or why the server refused us

    def answer(self, data):
        self.sock.sendall(data + b"PING\r\n")
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                lines.append(b"(closed)")
                return lines
            if line.startswith(b"PONG"):
                return lines
            if not line.startswith(b"PING"):
                lines.append(line.strip())

    def publish(self, subject, headers, body):
        hdr = ("NATS/1.0\r\n" + "".join("%s: %s\r\n" % kv for kv in headers.items()) + "\r\n").encode()
        body = body if isinstance(body, bytes) else body.encode()
        return self.answer(("HPUB %s %d %d\r\n" % (subject, len(hdr), len(hdr) + len(body))).encode() + hdr + body + b"\r\n")

    def subscribe(self, subject, sid=1):
        return self.answer(("SUB %s %d\r\n" % (subject, sid)).encode())

    def close(self):
        self.sock.close()


def nats_publish(port, subject, headers, body):
    """Publishes one message with headers (HPUB); returns once the server processed it."""
    c = NatsClient(port)
    said = c.publish(subject, headers, body)
    c.close()
    check(not said, "nats-server answered %r" % said)


class XDisplay:
    """A private X display for the window's scenarios: Xvfb on a free display (it picks
    and tells us), then openbox, ready for _NET_WM_STATE_ABOVE; DISPLAY points at it.
    spawn() starts a process that close() ends (every one, newest first)."""

    def __init__(self):
        self.procs = []
        r, w = os.pipe()
        self.spawn(["Xvfb", "-displayfd", str(w), "-screen", "0", "1024x768x24", "-nolisten", "tcp"], pass_fds=(w,),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(w)
        display = b""
        while not display.endswith(b"\n"):
            chunk = os.read(r, 16)
            if not chunk:
                fail("Xvfb did not start")
            display += chunk
        os.environ["DISPLAY"] = ":" + display.decode().strip()
        self.spawn(["openbox", "--sm-disable"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # GLFW reads the WM's _NET_SUPPORTED once, at glfwInit: start the UI only after it is there.
        wait_for(lambda: "_NET_WM_STATE_ABOVE" in run_output(["xprop", "-root", "_NET_SUPPORTED"]), what="openbox's _NET_SUPPORTED")

    def spawn(self, args, **kw):
        p = subprocess.Popen(args, **kw)
        self.procs.append(p)
        return p

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.kill()
                p.wait()


def read_json_file(path):
    """A JSON file another process writes (the window's layout file), or None while it is
    missing or half-written."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def run_output(args):
    """A program's standard output (bounded in time), whatever its exit status."""
    return subprocess.run(args, capture_output=True, timeout=30).stdout.decode(errors="replace")
