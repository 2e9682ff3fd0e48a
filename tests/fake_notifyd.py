#!/usr/bin/python3
"""A fake freedesktop notification server for tests, on whatever session bus the
environment names (run it under dbus-run-session). Needs Debian's python3-dbus and
python3-gi, hence /usr/bin/python3 rather than the first python3 on PATH.

It owns org.freedesktop.Notifications and appends one JSON line per Notify call to the
record file: {"id", "replaces_id", "app", "icon", "summary", "body", "actions": [...],
"hints": {...}, "urgency", "timeout"}. Tests drive the user's side through its own
interface org.tether.FakeNotifyd on the same object:

    InvokeAction(u id, s key)    emits ActionInvoked(id, key): the user clicked a button
    Dismiss(u id, u reason)      emits NotificationClosed(id, reason)

e.g. dbus-send --session --dest=org.freedesktop.Notifications /org/freedesktop/Notifications \\
         org.tether.FakeNotifyd.InvokeAction uint32:1 string:approve:42

Like a real server, an invoked action does not close a resident notification; this one
never closes anything on its own. Prints "ready" on stdout once the name is owned.

Usage: fake_notifyd.py RECORD_FILE [--capabilities body,actions,...]"""

import argparse
import json
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

IFACE = "org.freedesktop.Notifications"
CONTROL = "org.tether.FakeNotifyd"


def plain(v):
    """A D-Bus value as JSON: bytes and integers as numbers, the rest as their text."""
    if isinstance(v, dbus.Boolean):
        return bool(v)
    if isinstance(v, (dbus.Byte, dbus.Int16, dbus.UInt16, dbus.Int32, dbus.UInt32, dbus.Int64, dbus.UInt64)):
        return int(v)
    if isinstance(v, (dbus.Array, list)):
        return [plain(x) for x in v]
    return str(v)


class Notifyd(dbus.service.Object):
    def __init__(self, bus, record, capabilities):
        dbus.service.Object.__init__(self, bus, "/org/freedesktop/Notifications")
        self.record = record
        self.capabilities = capabilities
        self.next_id = 1

    @dbus.service.method(IFACE, in_signature="", out_signature="as")
    def GetCapabilities(self):
        return self.capabilities

    @dbus.service.method(IFACE, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ("fake-notifyd", "tether tests", "1.0", "1.2")

    @dbus.service.method(IFACE, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app, replaces_id, icon, summary, body, actions, hints, timeout):
        if int(replaces_id):
            nid = int(replaces_id)
        else:
            nid = self.next_id
            self.next_id += 1
        hints = {str(k): plain(v) for k, v in hints.items()}
        rec = {"id": nid, "replaces_id": int(replaces_id), "app": str(app), "icon": str(icon),
               "summary": str(summary), "body": str(body), "actions": [str(a) for a in actions],
               "hints": hints, "urgency": hints.get("urgency"), "timeout": int(timeout)}
        with open(self.record, "a") as f:
            f.write(json.dumps(rec) + "\n")
        return dbus.UInt32(nid)

    @dbus.service.method(IFACE, in_signature="u", out_signature="")
    def CloseNotification(self, nid):
        self.NotificationClosed(nid, 3)

    @dbus.service.signal(IFACE, signature="uu")
    def NotificationClosed(self, nid, reason):
        pass

    @dbus.service.signal(IFACE, signature="us")
    def ActionInvoked(self, nid, key):
        pass

    @dbus.service.method(CONTROL, in_signature="us", out_signature="")
    def InvokeAction(self, nid, key):
        self.ActionInvoked(nid, key)

    @dbus.service.method(CONTROL, in_signature="uu", out_signature="")
    def Dismiss(self, nid, reason):
        self.NotificationClosed(nid, reason)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("record")
    ap.add_argument("--capabilities", default="body,actions")
    args = ap.parse_args()
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    name = dbus.service.BusName(IFACE, bus, do_not_queue=True)  # noqa: F841 (kept: owns the name)
    Notifyd(bus, args.record, [c for c in args.capabilities.split(",") if c])
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    sys.exit(main())
