#!/usr/bin/env python3
"""A fake Telegram Bot API for end-to-end tests and benchmarks, on 127.0.0.1 (stdlib only):
/bot<TOKEN>/<method> for sendMessage, editMessageText, answerCallbackQuery and getUpdates
as long polling (a poll is held until an update comes or its timeout passes; an offset
confirms what came before it). It checks the token, records every call, keeps each
message as the edits leave it (an edit without reply_markup drops the keyboard), and
answers an edit that changes nothing with Telegram's "message is not modified".

A control API under /_test/ drives it: GET /_test/calls, GET /_test/state ({"polls",
"waiting_polls", "offset"}), POST /_test/press {"message_id", "user", "action"} (a
callback_query for that message's button whose data starts with "<action>:", from that
user id; 409 when the message has no such button), POST /_test/update {...} (any update
at all; its update_id is filled in).

Usage: fake_telegram.py TOKEN; prints "ready PORT" once it listens."""

import re
import sys
import threading
import time
import uuid

from json_api_handler import JsonApiHandler, serve

TOKEN = sys.argv[1]


class Bot:
    def __init__(self):
        self.cond = threading.Condition()
        self.calls = []
        self.messages = {}   # message_id -> {"chat_id", "text", "reply_markup"}
        self.updates = []    # not yet confirmed
        self.next_update = 1
        self.next_message = 100
        self.polls = self.waiting = self.offset = 0

    def result(self, value):
        return 200, {"ok": True, "result": value}

    def error(self, code, description):
        return code, {"ok": False, "error_code": code, "description": description}

    def call(self, method, args):
        with self.cond:
            self.calls.append((method, args))
            if method == "getUpdates":
                return self.get_updates(args)
            if method == "sendMessage":
                self.next_message += 1
                text = re.sub(r"<[^>]+>", "", args.get("text", ""))  # Telegram returns the text without its markup
                self.messages[self.next_message] = {"chat_id": args.get("chat_id"), "text": text,
                                                    "reply_markup": args.get("reply_markup")}
                return self.result(self.shown(self.next_message))
            if method == "editMessageText":
                m = self.messages.get(args.get("message_id"))
                if m is None or m["chat_id"] != args.get("chat_id"):
                    return self.error(400, "Bad Request: message to edit not found")
                text = re.sub(r"<[^>]+>", "", args.get("text", ""))
                if text == m["text"] and args.get("reply_markup") == m["reply_markup"]:
                    return self.error(400, "Bad Request: message is not modified")
                m["text"], m["reply_markup"] = text, args.get("reply_markup")
                return self.result(self.shown(args["message_id"]))
            if method == "answerCallbackQuery":
                return self.result(True)
            return self.error(404, "Not Found: method not found")

    def shown(self, message_id):
        m = self.messages[message_id]
        out = {"message_id": message_id, "chat": {"id": m["chat_id"], "type": "private"}, "date": int(time.time()),
               "text": m["text"]}
        if m["reply_markup"]:
            out["reply_markup"] = m["reply_markup"]
        return out

    def get_updates(self, args):
        self.polls += 1
        offset = args.get("offset", 0)
        if offset:
            self.offset = offset
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + min(float(args.get("timeout", 0)), 50)
        self.waiting += 1
        while not self.updates and time.monotonic() < deadline:
            self.cond.wait(deadline - time.monotonic())
        self.waiting -= 1
        return self.result(list(self.updates))

    def push(self, update):
        with self.cond:
            update["update_id"] = self.next_update
            self.next_update += 1
            self.updates.append(update)
            self.cond.notify_all()

    def press(self, message_id, user, action):
        with self.cond:
            m = self.messages.get(message_id)
            rows = ((m or {}).get("reply_markup") or {}).get("inline_keyboard", [])
            data = [b["callback_data"] for row in rows for b in row if b.get("callback_data", "").startswith(action + ":")]
            if not data:
                return False
            shown = self.shown(message_id)
        self.push({"callback_query": {"id": uuid.uuid4().hex, "from": {"id": user, "is_bot": False, "first_name": "Ann",
                                                                      "username": "ann"},
                                      "message": shown, "chat_instance": "1", "data": data[0]}})
        return True


bot = Bot()


class Handler(JsonApiHandler):
    def do_GET(self):
        with bot.cond:
            if self.path == "/_test/calls":
                return self.reply(200, bot.calls)
            if self.path == "/_test/state":
                return self.reply(200, {"polls": bot.polls, "waiting_polls": bot.waiting, "offset": bot.offset})
        self.reply(404, {})

    def do_POST(self):
        args = self.body()
        if self.path == "/_test/press":
            return self.reply(200 if bot.press(args["message_id"], args["user"], args["action"]) else 409, {})
        if self.path == "/_test/update":
            bot.push(args)
            return self.reply(200, {})
        prefix = "/bot%s/" % TOKEN
        if not self.path.startswith(prefix):
            return self.reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        self.reply(*bot.call(self.path[len(prefix):], args))


def main():
    serve(Handler)


if __name__ == "__main__":
    main()
