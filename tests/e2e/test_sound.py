#!/usr/bin/env python3
"""The sound notifier end to end, through the real daemon and the real plugin: a fake
Claude asks for permission and the permission chime's samples arrive at the audio
device, here ALSA's file plugin (the daemon's HOME has an .asoundrc whose default PCM
writes raw samples to a file; PULSE_SERVER names a socket that does not exist, so a
PulseAudio on the machine is never used). When the agent is done, the done chime plays
at the rule's volume 0.5. Then a daemon with no audio device at all: one
NotifierReported warning for any number of notifications, each a final failure, and the
daemon carries on. Last, a private PulseAudio server (a pipe sink into a FIFO the test
reads): with it answering, the chime goes there and not to ALSA."""

import json
import os
import shutil
import struct
import subprocess
import threading
import wave

from tether_harness import BIN_DIR, Daemon, FAKE_CLAUDE, KIND, check, fail, wait_for

SOUNDS = os.path.join(BIN_DIR, "..", "share", "tether", "sounds")


def wav_samples(path):
    with wave.open(path) as w:
        check(w.getsampwidth() == 2 and w.getnchannels() == 1, "%s: not 16-bit mono" % path)
        data = w.readframes(w.getnframes())
    return list(struct.unpack("<%dh" % (len(data) // 2), data))


def raw_samples(path):
    with open(path, "rb") as f:
        data = f.read()
    return list(struct.unpack("=%dh" % (len(data) // 2), data))


def sounds_like(played, want, volume=1.0):
    """played begins with want at this volume (within a rounding step)."""
    if len(played) < len(want):
        return False
    return all(abs(p - w * volume * 32767 / 32768) <= 1 for p, w in zip(played, want))


def audio_home(d, asoundrc):
    with open(os.path.join(d.root, ".asoundrc"), "w") as f:
        f.write(asoundrc)
    d.env["HOME"] = d.root
    d.env["PULSE_SERVER"] = "unix:" + os.path.join(d.root, "no-pulse-here")


def configure(d, rules):
    config = os.path.join(d.root, "config.yaml")
    with open(config, "w") as f:
        f.write("notifiers:\n  chime: {plugin: sound}\nrules:\n" + rules)
    d.extra_args = ["--config", config]
    d.env["TETHER_CONFIG"] = config


def queued(d):
    return {e[0]: json.loads(e[4]) for e in d.events("kind = ?", (KIND["NotificationQueued"],))}


def all_sent(d, kind):
    """The kinds of the notifications, once one of this kind was queued and all were sent
    (the device file then holds the last sound whole: sends play one at a time)."""
    q = queued(d)
    done = {json.loads(e[4])["queued"] for e in d.events("kind = ?", (KIND["NotificationSent"],))}
    kinds = [m["message"]["kind"] for m in q.values()]
    return kinds if kind in kinds and set(q) <= done else None


with Daemon() as d:
    out = os.path.join(d.root, "out.raw")
    audio_home(d, 'pcm.!default { type file; slave.pcm "null"; file "%s"; format "raw" }\n' % out)
    configure(d, """
  - name: permission
    when: {to: needs_permission}
    notify: [chime]
  - name: done
    when: {from: running, to: idle}
    notify: [chime]
    options: {chime: {volume: 0.5}}
""")
    d.start()
    d.tether("run", "-d", "--name", "cl", "--", FAKE_CLAUDE, check_rc=0)
    wait_for(lambda: d.tether("screen", "cl")[1].rstrip().endswith(">"), what="the fake agent prompt")

    d.tether("send", "cl", "run make deploy", "--enter", check_rc=0)
    d.tether("wait", "cl", "--until", "needs_permission", "--timeout", "20", check_rc=0)
    # The agent's dialog can raise a second permission notification after the hook's,
    # which may be playing (the file being rewritten) when the first was sent.
    permission = wav_samples(os.path.join(SOUNDS, "permission.wav"))
    wait_for(lambda: all_sent(d, "permission") and sounds_like(raw_samples(out), permission), timeout=30,
             what="the permission chime to reach the device")
    check(max(abs(s) for s in raw_samples(out)) > 10000, "the permission chime was silent")

    d.tether("send", "cl", "1", check_rc=0)
    d.tether("wait", "cl", "--until", "idle", "--timeout", "20", check_rc=0)
    kinds = wait_for(lambda: all_sent(d, "done"), timeout=30, what="the done chime to be sent")
    check(kinds[-1] == "done", "notifications: %r" % kinds)
    played = raw_samples(out)
    done = wav_samples(os.path.join(SOUNDS, "done.wav"))
    check(not sounds_like(played, permission), "done played the permission chime")
    check(sounds_like(played, done, 0.5), "the device did not get the done chime at volume 0.5")
    check(abs(2 * max(abs(s) for s in played[:len(done)]) - max(abs(s) for s in done)) <= 2, "volume 0.5 did not halve the peak")
    options = [(q["message"]["kind"], q["message"]["rule_options"]) for q in queued(d).values()]
    check(all(o == ({"volume": "0.5"} if k == "done" else {}) for k, o in options), "rule options: %r" % options)
    check(d.events("kind = ?", (KIND["NotifierReported"],)) == [], "a warning with a working device")

with Daemon() as d:
    audio_home(d, "pcm.!default { type hw; card 29 }\n")
    configure(d, """
  - name: question
    when: {to: needs_answer}
    notify: [chime]
""")
    d.start()
    d.tether("run", "-d", "--name", "s", "--", "sleep", "60", check_rc=0)
    for i in range(3):
        d.tether("notify", "--session", "s", "--state", "needs_answer", "--message", "which branch? %d" % i, check_rc=0)
        failed = lambda: [json.loads(e[4]) for e in d.events("kind = ?", (KIND["NotificationFailed"],))]
        wait_for(lambda: len(failed()) == i + 1, timeout=30, what="notification %d to fail" % (i + 1))
        d.tether("notify", "--session", "s", "--state", "running", check_rc=0)
    for f in failed():
        check(f["final"] is True and "no audio device" in f["error"], "failure: %r" % f)
    reported = [json.loads(e[4]) for e in d.events("kind = ?", (KIND["NotifierReported"],))]
    check(len(reported) == 1, "warnings: %r" % reported)
    r = reported[0]
    check(r["notifier"] == "chime" and r["plugin"] == "sound" and r["code"] == "no_audio_device", "warning: %r" % r)
    check("PulseAudio" in r["text"] and 'ALSA "default"' in r["text"], "the warning does not say what was tried: %r" % r)
    check(d.alive(), "the daemon died")
    d.tether("ls", check_rc=0)

class PulseServer:
    """pulseaudio with only a Unix socket and a sink that writes into a FIFO we drain, at
    the pace of the system clock like a sound card (else it runs ahead of the stream and
    fills the gaps with silence)."""

    def __init__(self, root):
        self.dir = os.path.join(root, "pulse")
        os.makedirs(os.path.join(self.dir, "runtime"), mode=0o700)
        self.socket = os.path.join(self.dir, "native")
        self.fifo = os.path.join(self.dir, "sink.raw")
        self.samples = bytearray()
        binary = shutil.which("pulseaudio")
        if not binary:
            fail("pulseaudio is not installed (scripts/setup.sh installs it)")
        env = dict(os.environ, HOME=self.dir, XDG_RUNTIME_DIR=os.path.join(self.dir, "runtime"))
        env.pop("PULSE_SERVER", None)
        self.log = open(os.path.join(self.dir, "pulseaudio.log"), "wb")
        self.proc = subprocess.Popen(
            [binary, "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no", "--disable-shm=yes",
             "--log-target=stderr", "-L", "module-native-protocol-unix auth-anonymous=1 socket=" + self.socket,
             "-L", "module-pipe-sink file=%s format=s16le rate=48000 channels=1 sink_name=test use_system_clock_for_timing=yes" % self.fifo],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, env=env)
        wait_for(lambda: self.proc.poll() is None and os.path.exists(self.socket) and os.path.exists(self.fifo),
                 timeout=20, what="pulseaudio to listen")
        threading.Thread(target=self.drain, daemon=True).start()

    def drain(self):
        with open(self.fifo, "rb", buffering=0) as f:
            while True:
                chunk = f.read(65536)
                if not chunk:
                    return
                self.samples.extend(chunk)

    def played(self):
        """What the sink played, from its first non-silent sample."""
        data = bytes(self.samples[:len(self.samples) // 2 * 2])
        s = struct.unpack("<%dh" % (len(data) // 2), data)
        first = next((i for i, v in enumerate(s) if v), len(s))
        return list(s[first:])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=15)
        self.log.close()


with Daemon() as d:
    out = os.path.join(d.root, "out.raw")
    audio_home(d, 'pcm.!default { type file; slave.pcm "null"; file "%s"; format "raw" }\n' % out)
    pulse = PulseServer(d.root)
    try:
        d.env["PULSE_SERVER"] = "unix:" + pulse.socket
        configure(d, """
  - name: question
    when: {to: needs_answer}
    notify: [chime]
""")
        d.start()
        d.tether("run", "-d", "--name", "s", "--", "sleep", "60", check_rc=0)
        d.tether("notify", "--session", "s", "--state", "needs_answer", "--message", "which branch?", check_rc=0)
        wait_for(lambda: all_sent(d, "question"), timeout=30, what="the question chime to be sent")
        question = wav_samples(os.path.join(SOUNDS, "question.wav"))
        # The question chime starts with a sample of 0: compare from its first sound.
        question = question[next(i for i, v in enumerate(question) if v):]
        wait_for(lambda: sounds_like(pulse.played(), question), timeout=20,
                 what="the question chime on the PulseAudio sink")
        check(not os.path.exists(out), "ALSA was used although PulseAudio answered")
    finally:
        pulse.stop()
print("ok")
