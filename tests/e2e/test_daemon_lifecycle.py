#!/usr/bin/env python3
"""The daemon's life: start on demand, status, a second daemon refused, private files,
clean shutdown on SIGTERM and `daemon stop`, CLI help and exit codes."""

import os
import signal
import stat
import subprocess

from tether_harness import Daemon, Conn, KIND, check, fail, pid_alive, wait_for, json_frame

with Daemon() as d:
    rc, out, _ = d.tether("daemon", "status")
    check(rc == 3 and "not running" in out, "status without a daemon: rc %d, %r" % (rc, out))

    rc, out, err = d.tether("daemon", "start", check_rc=0)
    check("started" in out, "daemon start said %r %r" % (out, err))
    pid = d.lock_pid()
    check(pid > 0 and pid_alive(pid), "no daemon pid in the lock file")

    # Daemonized properly: not a session leader, no controlling terminal, stdin is /dev/null.
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().split(") ")[1].split()
    session, tty_nr = int(fields[3]), int(fields[4])
    check(session != pid, "daemon is a session leader (can reacquire a terminal)")
    check(tty_nr == 0, "daemon has a controlling terminal")
    check(os.readlink("/proc/%d/fd/0" % pid) == "/dev/null", "daemon stdin is not /dev/null")
    check(os.readlink("/proc/%d/fd/2" % pid).endswith("tetherd.log"), "daemon stderr is not its log file")

    # Private files and directories.
    def mode(p):
        return stat.S_IMODE(os.stat(p).st_mode)
    check(mode(d.state_dir) == 0o700, "state dir mode %o" % mode(d.state_dir))
    check(mode(os.path.dirname(d.socket)) == 0o700, "socket dir mode %o" % mode(os.path.dirname(d.socket)))
    check(mode(d.socket) == 0o600, "socket mode %o" % mode(d.socket))
    for name in ("events.db", "tetherd.log", "tetherd.lock"):
        p = os.path.join(d.state_dir, name)
        check(mode(p) == 0o600, "%s mode %o" % (name, mode(p)))

    rc, out, _ = d.tether("daemon", "status", check_rc=0)
    check("pid %d" % pid in out, "status does not name pid %d: %r" % (pid, out))
    rc, out, _ = d.tether("daemon", "start", check_rc=0)
    check("already running" in out, "second start: %r" % out)

    # A second daemon on the same state directory is refused with a clear message.
    from tether_harness import TETHERD
    p = subprocess.run([TETHERD, "--state-dir", d.state_dir, "--socket", d.socket + "2"], capture_output=True, timeout=10)
    err = p.stderr.decode()
    check(p.returncode == 1, "second daemon exit %d" % p.returncode)
    check("already using this state directory" in err and str(pid) in err, "second daemon said %r" % err)

    # A wrong protocol version is refused naming both versions.
    c = Conn(d.socket, hello=False)
    c.send(json_frame({"hello": "tether", "protocol": 99, "version": "9.9"}))
    r = c.read_json()
    check(r and r.get("ok") is False and "99" in r["error"] and "version 1" in r["error"], "version refusal: %r" % r)
    check(c.closed_by_peer(), "connection not closed after a version refusal")

    rc, out, _ = d.tether("daemon", "stop", check_rc=0)
    check("stopped" in out, "stop said %r" % out)
    wait_for(lambda: not pid_alive(pid), what="daemon to exit after stop")
    check(not os.path.exists(d.socket), "socket file left behind after a clean stop")
    kinds = [e[3] for e in d.events()]
    check(kinds[-1] == KIND["DaemonStopped"], "last event is %d, not DaemonStopped" % kinds[-1])
    rc, out, _ = d.tether("daemon", "stop", check_rc=0)
    check("not running" in out, "stop without a daemon: %r" % out)

    # Any command starts the daemon on demand.
    rc, out, err = d.tether("ls", check_rc=0)
    pid2 = d.lock_pid()
    check(pid2 != pid and pid_alive(pid2), "ls did not start a daemon")

    # SIGTERM shuts down cleanly: the log is flushed and ends with DaemonStopped.
    rc, out, _ = d.tether("mark", "before SIGTERM", check_rc=0)
    os.kill(pid2, signal.SIGTERM)
    wait_for(lambda: not pid_alive(pid2), what="daemon to exit on SIGTERM")
    ev = d.events()
    check(ev[-1][3] == KIND["DaemonStopped"] and b"SIGTERM" in ev[-1][4], "no DaemonStopped(SIGTERM) at the end")
    check(any(e[3] == KIND["MarkerAdded"] and b"before SIGTERM" in e[4] for e in ev), "mark lost")

    # Help on every command, usage errors exit 2.
    for args in (["--help"], ["daemon", "--help"], ["daemon", "start", "--help"], ["daemon", "stop", "--help"],
                 ["daemon", "status", "--help"], ["ls", "--help"], ["mark", "--help"], ["admin", "--help"],
                 ["admin", "rebuild", "--help"], ["admin", "verify", "--help"]):
        rc, out, err = d.tether(*args)
        check(rc == 0 and "Usage" in out, "tether %s: rc %d %r" % (" ".join(args), rc, out[:200]))
    rc, out, err = d.tether("ls", "--no-such-flag")
    check(rc == 2 and "no-such-flag" in err, "unknown flag: rc %d %r" % (rc, err))
    rc, out, err = d.tether("mark")
    check(rc == 2 and "text" in err, "missing argument: rc %d %r" % (rc, err))
    rc, out, err = d.tether("mark", "--session", "nosuch", "x")
    check(rc == 1 and "no such session" in err, "mark on a missing session: rc %d %r" % (rc, err))
    d.kill(signal.SIGTERM)

print("ok")
