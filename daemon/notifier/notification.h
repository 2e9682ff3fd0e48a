// Notification: one notification, owned, in the one shape it keeps from the rules to a
// plugin. The rules make it (notify/rules.h, notification_for), the outbox stores it as
// the "message" of NotificationQueued in the JSON form below and reads it back on resume,
// a NotifierInstance lends its strings to the ABI's notifier_message for one send, and
// tether-ui chimes with one. The reducer's StateChange comes before it; the C struct of
// plugins/notifier_abi.h after it; nothing in between.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace tether {

// What an update (ABI 1.2) tells a plugin: the delivery it revises and how its request
// was decided (the fields of PermissionDecided).
struct NotificationUpdate {
    std::string receipt;   // what the plugin returned for the delivery being revised
    std::string decision;  // "allow", "deny" or "ask"
    std::string by;        // "cli", "rule:NAME", "slack:U123", ...
    std::string message;   // a deny's message
    int64_t time_ms = 0;
    bool always = false;

    bool operator==(const NotificationUpdate&) const = default;
};

struct Notification {
    std::string rule;  // the rule that matched ("tether-ui" for the window's chime)
    std::string kind;  // "permission", "question", "done", "exited", else the new state
    std::string title, body;
    int64_t session = 0;
    std::string session_name, agent, cwd;
    std::string from, to;        // the state transition that raised it
    std::string tool;            // for a permission: the tool asking
    nlohmann::json tool_input;   // its input (an object, or a command string); null: none
    std::string message;         // the agent's own words (its question, when it asked one)
    int64_t time_ms = 0;         // when the transition happened, unix milliseconds
    std::map<std::string, std::string> options;  // the rule's options for this one notifier
    int64_t permission_request = 0;  // kind "permission": the pending request it asks about, or 0
    bool escalation = false;         // raised by an escalation, not the transition itself
    std::string host;                // the fleet host whose session it is; "": this one
    nlohmann::json always;           // with permission_request: what "always" would remember; null: none
    std::optional<NotificationUpdate> update;  // set: revise an earlier delivery, not a new message

    bool operator==(const Notification&) const = default;
};

// The JSON form: {"rule", "kind", "title", "body", "session", "session_name", "agent",
// "from", "to", "tool", "tool_input", "message", "cwd", "time_ms", "rule_options": {k: v},
// "permission_request" (only when not 0), "escalation" (only when true), "host" (only
// for another host's session), "always" (only when not null), "update": {"receipt",
// "decision", "by", "message", "time_ms", "always"} (only for an update)}. Reading ignores
// unknown fields, and a field of the wrong type reads as absent: a damaged payload in the
// log never stops a resume.
nlohmann::json notification_json(const Notification& n);
Notification notification_from_json(const nlohmann::json& j);

}  // namespace tether
