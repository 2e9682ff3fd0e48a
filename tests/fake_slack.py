#!/usr/bin/python3
"""A fake Slack for end-to-end tests and benchmarks, on 127.0.0.1: the Web API over HTTP
(apps.connections.open, chat.postMessage, chat.update, chat.postEphemeral,
conversations.replies and .history) and Socket Mode over a real WebSocket server (Debian's
python3-websockets, hence /usr/bin/python3 rather than the first python3 on PATH). It
checks both tokens, records every call, keeps each message as chat.update leaves it, and
greets every Socket Mode connection with hello, recording each acknowledgement.

A control API under /_test/ (no token) drives it: GET /_test/calls, GET /_test/state
({"acks", "connections"}), POST /_test/click {"ts", "user", "action", "reason"} (a
block_actions click on that message's button, as Slack would send it, over the newest
connection; 409 if the message has no such button), POST /_test/send {"text"} (anything
at all over the socket), POST /_test/disconnect (Slack's refresh_requested), POST
/_test/slow {"posts", "seconds"} (the next posts are made, but answered that late: an
answer lost to the client's timeout).

Usage: fake_slack.py BOT_TOKEN APP_TOKEN; prints "ready PORT" once both servers listen."""

import asyncio
import json
import sys
import threading
import time
import uuid

import websockets

from json_api_handler import JsonApiHandler, serve

BOT, APP = sys.argv[1], sys.argv[2]
CHANNEL = "C0E2E"


class Slack:
    def __init__(self):
        self.lock = threading.Lock()
        self.calls = []      # (method, args)
        self.messages = {}   # ts -> {"channel", "text", "blocks", "thread_ts", "metadata"}
        self.acks = []
        self.connections = 0
        self.posts = 0
        self.slow_posts, self.slow_seconds = 0, 0.0
        self.socket = None   # the newest Socket Mode connection
        self.loop = asyncio.new_event_loop()
        self.ws_port = 0

    # --- the Web API -------------------------------------------------------------------
    def api(self, method, auth, args):
        with self.lock:
            self.calls.append((method, args))
            if method == "apps.connections.open":
                if auth != "Bearer " + APP:
                    return {"ok": False, "error": "invalid_auth"}
                return {"ok": True, "url": "ws://127.0.0.1:%d/link/?ticket=%s" % (self.ws_port, uuid.uuid4().hex)}
            if auth != "Bearer " + BOT:
                return {"ok": False, "error": "invalid_auth"}
            if method == "chat.postMessage":
                self.posts += 1
                ts = "1795000000.%06d" % self.posts
                self.messages[ts] = {"channel": CHANNEL, "text": args.get("text", ""), "blocks": args.get("blocks", []),
                                     "thread_ts": args.get("thread_ts", ""), "metadata": args.get("metadata")}
                return {"ok": True, "channel": CHANNEL, "ts": ts}
            if method == "chat.update":
                m = self.messages.get(args.get("ts"))
                if m is None:
                    return {"ok": False, "error": "message_not_found"}
                m["text"], m["blocks"] = args.get("text", ""), args.get("blocks", [])
                return {"ok": True, "channel": CHANNEL, "ts": args["ts"]}
            if method == "chat.postEphemeral":
                return {"ok": True, "message_ts": "1795000099.000001"}
            if method in ("conversations.replies", "conversations.history"):
                found = [{"ts": ts, "text": m["text"], "metadata": m["metadata"]} for ts, m in sorted(self.messages.items())
                         if m["metadata"] and (method == "conversations.history" or m["thread_ts"] == args.get("ts")
                                               or ts == args.get("ts"))]
                return {"ok": True, "messages": found}
            return {"ok": False, "error": "unknown_method"}

    # --- Socket Mode -------------------------------------------------------------------
    async def serve_socket(self, ws, path=None):
        with self.lock:
            self.connections += 1
            self.socket = ws
        await ws.send(json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0E2E"}}))
        try:
            async for text in ws:
                try:
                    envelope = json.loads(text).get("envelope_id")
                except (ValueError, AttributeError):
                    envelope = None
                with self.lock:
                    self.acks.append(envelope)
        except websockets.ConnectionClosed:
            pass

    def send(self, text):
        with self.lock:
            ws = self.socket
        if ws is None:
            return False
        asyncio.run_coroutine_threadsafe(ws.send(text), self.loop).result(5)
        return True

    def click(self, ts, user, action, reason=None):
        """The envelope Slack sends when user clicks that button of the message ts."""
        with self.lock:
            m = self.messages.get(ts)
            buttons = [e for b in (m or {}).get("blocks", []) if b.get("block_id") == "tether_answer"
                       for e in b.get("elements", []) if e.get("action_id") == "tether_" + action]
            if not buttons:
                return None
            container = {"type": "message", "message_ts": ts, "channel_id": CHANNEL, "is_ephemeral": False}
            if m["thread_ts"]:
                container["thread_ts"] = m["thread_ts"]
            payload = {
                "type": "block_actions", "user": {"id": user, "username": user.lower(), "team_id": "T0E2E"},
                "api_app_id": "A0E2E", "container": container, "channel": {"id": CHANNEL, "name": "agents"},
                "message": {"ts": ts, "text": m["text"], "blocks": m["blocks"]},
                "trigger_id": uuid.uuid4().hex, "response_url": "https://hooks.slack.invalid/actions/x",
                "actions": [{"action_id": "tether_" + action, "block_id": "tether_answer", "value": buttons[0]["value"],
                             "type": "button", "action_ts": "%.6f" % time.time()}],
            }
            if reason is not None:
                payload["state"] = {"values": {"tether_reason": {"reason": {"type": "plain_text_input", "value": reason}}}}
        envelope = {"envelope_id": uuid.uuid4().hex, "type": "interactive", "payload": payload, "accepts_response_payload": False}
        return envelope["envelope_id"] if self.send(json.dumps(envelope)) else ""


slack = Slack()


class Handler(JsonApiHandler):
    def do_GET(self):
        with slack.lock:
            if self.path == "/_test/calls":
                return self.reply(200, slack.calls)
            if self.path == "/_test/state":
                return self.reply(200, {"acks": slack.acks, "connections": slack.connections})
        self.reply(404, {"ok": False, "error": "unknown_method"})

    def do_POST(self):
        args = self.body()
        if self.path == "/_test/click":
            envelope = slack.click(args["ts"], args["user"], args["action"], args.get("reason"))
            return self.reply(409 if envelope is None else 503 if envelope == "" else 200, {"envelope_id": envelope})
        if self.path == "/_test/send":
            return self.reply(200 if slack.send(args["text"]) else 503, {})
        if self.path == "/_test/disconnect":
            return self.reply(200 if slack.send(json.dumps({"type": "disconnect", "reason": "refresh_requested"})) else 503, {})
        if self.path == "/_test/slow":
            with slack.lock:
                slack.slow_posts, slack.slow_seconds = args["posts"], args["seconds"]
            return self.reply(200, {})
        if self.path.startswith("/api/"):
            method = self.path[len("/api/"):]
            answer = slack.api(method, self.headers.get("Authorization", ""), args)
            with slack.lock:
                late = method == "chat.postMessage" and slack.slow_posts > 0
                if late:
                    slack.slow_posts -= 1
            if late:
                time.sleep(slack.slow_seconds)  # posted, but the answer comes too late
            return self.reply(200, answer)
        self.reply(404, {"ok": False, "error": "unknown_method"})


def main():
    async def start():
        server = await websockets.serve(slack.serve_socket, "127.0.0.1", 0)
        slack.ws_port = server.sockets[0].getsockname()[1]

    slack.loop.run_until_complete(start())
    threading.Thread(target=slack.loop.run_forever, daemon=True).start()
    serve(Handler)


if __name__ == "__main__":
    main()
