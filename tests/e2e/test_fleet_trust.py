#!/usr/bin/env python3
"""The fleet's trust boundary is the server: the nats-server set-up of docs/FLEET.md (one
user per host, each allowed to publish only its own subjects and to answer only its own
requests; TLS with a CA of our own), checked for real. Hosts a and b connect over TLS
with passwords from the environment and work as usual (b's request approved from a); as
b's user, a client cannot publish a fact as a, answer a's requests, read a's replies or
ask in a's name; a client with a wrong password is refused, and a daemon
with a wrong password, or a CA file that is no certificate, keeps working locally and
says why it is not in the fleet. The
passwords appear nowhere the daemons write."""

import json
import os
import shutil
import subprocess

from tether_harness import Daemon, FAKE_CLAUDE, KIND, NatsClient, NatsServer, check, fleet_config, wait_for

PASSWORDS = {"a": "pw-a-5d8e1c", "b": "pw-b-93f0aa"}


def host_user(host):
    js = ", ".join('"$JS.API.%s"' % s for s in (
        "INFO", "STREAM.INFO.TETHER", "STREAM.CREATE.TETHER", "STREAM.MSG.GET.TETHER", "CONSUMER.CREATE.TETHER",
        "CONSUMER.CREATE.TETHER.>", "CONSUMER.DELETE.TETHER.>", "CONSUMER.INFO.TETHER.>"))
    return """      {user: %(h)s, password: "%(pw)s", permissions: {
        publish: {allow: ["tether.%(h)s.*", "tether-rpc.*.decide.%(h)s", %(js)s, "$JS.FC.TETHER.>", "$JS.ACK.TETHER.>"]}
        subscribe: {allow: ["_INBOX_%(h)s.>", "tether-rpc.%(h)s.decide.*"]}
        allow_responses: true}}
""" % {"h": host, "pw": PASSWORDS[host], "js": js}


def make_ca(root):
    """A CA of our own and a server certificate for 127.0.0.1 signed by it."""
    if not shutil.which("openssl"):
        print("SKIP: openssl is not installed")
        raise SystemExit(77)
    run = lambda *a: subprocess.run(["openssl"] + list(a), cwd=root, check=True, capture_output=True, timeout=60)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=tether-test-ca")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(root, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
        "-days", "2", "-extfile", "san.ext")
    return os.path.join(root, "ca.pem")


with Daemon() as a, Daemon() as b:
    nats = NatsServer(a.root)
    ca = make_ca(a.root)
    conf = os.path.join(a.root, "nats-server.conf")
    with open(conf, "w") as f:
        f.write("""jetstream {store_dir: "%s"}
tls {cert_file: "%s", key_file: "%s"}
accounts {
  TETHER {
    jetstream: enabled
    users: [
%s%s    ]
  }
}
""" % (nats.store, os.path.join(a.root, "server.pem"), os.path.join(a.root, "server.key"), host_user("a"), host_user("b")))
    nats.args = ["-c", conf]
    nats.url = "tls://127.0.0.1:%d" % nats.port
    nats.start()

    for d, host in ((a, "a"), (b, "b")):
        path = os.path.join(d.root, "config.yaml")
        with open(path, "w") as f:
            f.write(fleet_config(nats.url, host, ["a", "b"], "  user: %s\n  password_env: TETHER_E2E_NATS_PASSWORD\n  tls: {ca: %s}\n" % (host, ca)))
        d.env["TETHER_E2E_NATS_PASSWORD"] = PASSWORDS[host]
        d.extra_args = ["--config", path]
        d.start()

    # The fleet works as usual through TLS and the permissions.
    b.tether("run", "-d", "--name", "cl", "--", FAKE_CLAUDE, check_rc=0)
    wait_for(lambda: b.tether("screen", "cl")[1].rstrip().endswith(">"), what="the fake agent prompt on b")
    b.tether("send", "cl", "run make deploy", "--enter", check_rc=0)
    b.tether("wait", "cl", "--until", "needs_permission", "--timeout", "20", check_rc=0)
    pending = wait_for(lambda: json.loads(a.tether("pending", "--fleet", "--json")[1]), timeout=20, what="b's request on a")
    a.tether("approve", pending[0]["request"], check_rc=0)
    wait_for(lambda: "(ran)" in b.tether("screen", "cl")[1], timeout=20, what="b's agent to get a's answer")
    decided = [json.loads(e[4]) for e in b.events("kind = ?", (KIND["PermissionDecided"],))]
    check([x["by"] for x in decided] == ["fleet:a"], "decided on b: %r" % decided)
    fleet = json.loads(a.tether("ls", "--fleet", "--json")[1])["fleet"]
    check(fleet["connected"] and fleet["published"]["last_error"] == "", "a's link: %r" % fleet)

    # What a compromised b could try, as b's user.
    mallory = NatsClient(nats.port, "b", PASSWORDS["b"], ca=ca)
    said = mallory.publish("tether.a.StateChanged", {"Nats-Msg-Id": "a:999", "Tether-Host": "a"}, "{}")
    check(any(b"Permissions Violation" in l for l in said), "b published as a: %r" % said)
    for subject in ("tether-rpc.a.decide.*", "_INBOX_a.>", "tether.>"):
        said = mallory.subscribe(subject)
        check(any(b"Permissions Violation" in l for l in said), "b subscribed to %s: %r" % (subject, said))
    said = mallory.publish("tether-rpc.b.decide.a", {}, '{"request": 1, "decision": "allow"}')
    check(any(b"Permissions Violation" in l for l in said), "b asked in a's name: %r" % said)
    said = mallory.publish("tether.b.MarkerAdded", {}, "{}")  # its own subjects: allowed (and then skipped, see test_fleet)
    check(not said, "b may publish its own facts: %r" % said)
    mallory.close()
    wrong = NatsClient(nats.port, "b", "wrong-password", ca=ca)
    check(any(b"Authorization Violation" in l for l in wrong.greeting), "a wrong password: %r" % wrong.greeting)
    wrong.close()

    # A daemon with a wrong password: local work goes on, and it says why it is not connected.
    with Daemon() as c:
        path = os.path.join(c.root, "config.yaml")
        with open(path, "w") as f:
            f.write(fleet_config(nats.url, "b", ["a", "b"], "  user: b\n  password_env: TETHER_E2E_NATS_PASSWORD\n  tls: {ca: %s}\n" % ca))
        c.env["TETHER_E2E_NATS_PASSWORD"] = "not-the-password"
        c.extra_args = ["--config", path]
        c.start()
        c.tether("run", "-d", "--name", "local", "--", "sleep", "30", check_rc=0)
        c.tether("mark", "works without the fleet", check_rc=0)
        f = json.loads(c.tether("ls", "--fleet", "--json", check_rc=0)[1])["fleet"]
        check(not f["connected"], "connected with a wrong password: %r" % f)
        rc, out, err = c.tether("ls", "--fleet", check_rc=0)
        check("not connected" in out, "ls --fleet: %r" % out)
        check("not-the-password" not in c.output(), "the password leaked into the daemon's log")

    # A host whose name is not its user's (a copied configuration): the server refuses its
    # facts, and it says so.
    with Daemon() as c:
        path = os.path.join(c.root, "config.yaml")
        with open(path, "w") as f:
            f.write(fleet_config(nats.url, "a", ["a", "b"], "  user: b\n  password_env: TETHER_E2E_NATS_PASSWORD\n  tls: {ca: %s}\n" % ca))
        c.env["TETHER_E2E_NATS_PASSWORD"] = PASSWORDS["b"]
        c.extra_args = ["--config", path]
        c.start()
        c.tether("mark", "refused", check_rc=0)
        f = wait_for(lambda: (lambda f: f if "Permissions Violation" in f["server_error"] else None)(
            json.loads(c.tether("ls", "--fleet", "--json", check_rc=0)[1])["fleet"]), timeout=20, what="the refusal to show")
        check(f["published"]["count"] == 0, "published although refused: %r" % f)
        rc, out, err = c.tether("ls", "--fleet", check_rc=0)
        check("the server says: " in out and "Permissions Violation" in out, "ls --fleet: %r" % out)

    # A CA file that is no certificate: the fleet does not start, the daemon does, and says why.
    with Daemon() as c:
        bad_ca = os.path.join(c.root, "not-a-ca.pem")
        with open(bad_ca, "w") as f:
            f.write("this is not a certificate\n")
        path = os.path.join(c.root, "config.yaml")
        with open(path, "w") as f:
            f.write(fleet_config(nats.url, "b", ["a", "b"], "  tls: {ca: %s}\n" % bad_ca))
        c.extra_args = ["--config", path]
        c.start()
        c.tether("run", "-d", "--name", "local", "--", "sleep", "30", check_rc=0)
        rc, out, err = c.tether("ls", "--fleet")
        check(rc == 1 and "the fleet did not start" in err and "CA certificate " + bad_ca in err, "a bad CA: rc %d %r" % (rc, err))

    for d in (a, b):
        with open(os.path.join(d.state_dir, "events.db"), "rb") as f:
            data = f.read()
        for name in os.listdir(d.state_dir):
            if name.startswith("events.db-wal") or name.startswith("fleet-"):
                with open(os.path.join(d.state_dir, name), "rb") as f:
                    data += f.read()
        data += d.output().encode()
        check(not any(pw.encode() in data for pw in PASSWORDS.values()), "a password leaked into a daemon's files")
    nats.stop()
print("ok")
