// What the chat notifiers (Slack, Telegram) say in words, the same way in both: the command
// a person recognises in a tool input, what "Always" would accept, and how a request ended
// (who decided what, from where). Pure functions; markup (mrkdwn, HTML) and escaping
// belong to each plugin, which passes a formatter for the names it can show better.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace notifier_chat {

// &, < and > as entities: what both Slack's mrkdwn and Telegram's HTML need escaped.
std::string entities_escaped(std::string_view s);

// At most max bytes, cut on a UTF-8 character boundary, with "..." when cut.
std::string truncated(std::string_view s, size_t max);

// The command, path, URL or pattern a person recognises in a tool input (JSON text), or
// the input itself when it has none of these; "" for "".
std::string tool_input_text(std::string_view input_json);

// What accepting the agent's suggestion (its first permission_suggestions entry, JSON
// text) allows from now on, in a few words: "allow Bash(npm test) in this project",
// "allow edits in /home/u/proj for this session", "accept edits for this session"; "" when
// there is none.
std::string suggestion_text(std::string_view suggestion_json);

// Who decided, as a phrase after "by"/"from": decided_by is PermissionDecided's "by"
// ("cli", "ui", "rule:NAME", "notifier:NAME", "slack:U123", "telegram:456", "timeout",
// "agent"). person(channel, id) may render a chat user better (Slack's <@U123>); it
// returns "" to take the default.
using PersonFormat = std::function<std::string(std::string_view channel, std::string_view id)>;
std::string decider_text(std::string_view decided_by, const PersonFormat& person = nullptr);

struct Outcome {
    std::string_view decision;  // "allow", "deny", "ask"
    std::string_view decided_by;
    std::string_view message;   // the deny's reason
    bool always = false;
};
// One line: "Approved by @ann from Slack", "Denied from the command line: use make test",
// "Not answered through tether (timed out); the agent asked in its terminal".
std::string outcome_text(const Outcome& o, const PersonFormat& person = nullptr);
// The emoji that goes before it.
std::string_view outcome_mark(std::string_view decision);

// "12:03:04 UTC" for unix milliseconds.
std::string utc_clock(int64_t time_ms);

}  // namespace notifier_chat
