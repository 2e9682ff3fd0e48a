#!/usr/bin/env python3
"""Every event acknowledged to a client survives a kill -9 of the daemon in the middle of
a burst, and after a restart the projections agree with a rebuild from the log."""

import json
import threading
import time

from tether_harness import Daemon, KIND, check, fail, json_frame, wait_for

CONNS, PER_CONN = 4, 3000

with Daemon() as d:
    d.start()
    acked = {}
    lock = threading.Lock()
    total = [0]

    def burst(n):
        c = d.conn()
        # Pipeline everything: the daemon group-commits and acks each once durable.
        def writer():
            try:
                for i in range(PER_CONN):
                    c.send(json_frame({"id": i + 1, "cmd": "mark", "text": "c%d-%d" % (n, i)}))
            except OSError:
                pass
        t = threading.Thread(target=writer)
        t.start()
        while True:
            try:
                r = c.read_json()
            except OSError:
                r = None
            if r is None:
                break
            if r.get("ok"):
                with lock:
                    acked[r["seq"]] = "c%d-%d" % (n, r["id"] - 1)
                    total[0] += 1
        t.join()

    threads = [threading.Thread(target=burst, args=(n,)) for n in range(CONNS)]
    for t in threads:
        t.start()
    wait_for(lambda: total[0] >= CONNS * PER_CONN // 4, timeout=60, what="a quarter of the burst to be acked")
    d.kill()  # SIGKILL, mid-burst
    for t in threads:
        t.join(timeout=30)
    n_acked = len(acked)
    check(0 < n_acked < CONNS * PER_CONN, "the kill did not land mid-burst (%d acked)" % n_acked)

    d.start()
    marks = {e[0]: json.loads(e[4])["text"] for e in d.events("kind = ?", (KIND["MarkerAdded"],))}
    lost = [s for s in acked if s not in marks]
    check(not lost, "%d acknowledged events lost, e.g. seq %s" % (len(lost), lost[:5]))
    wrong = [s for s, text in acked.items() if marks[s] != text]
    check(not wrong, "acknowledged events with the wrong payload: %s" % wrong[:5])
    seqs = [e[0] for e in d.events()]
    check(seqs == list(range(1, len(seqs) + 1)), "seq has gaps or disorder after the restart")

    rc, out, err = d.tether("admin", "verify", check_rc=0)
    check("equals" in out, "verify: %r" % out)
    print("acked %d of %d before the kill, all present; %d events after restart" % (n_acked, CONNS * PER_CONN, len(seqs)))

print("ok")
