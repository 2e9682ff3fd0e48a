// What config.yaml says about notifications: the notifiers, quiet hours and rules, as
// plain data (parsed by rules_parser.cc, with every error at file:line:column). How a
// transition is judged against them is notify/rules.h.
//
// Model. Rules are tried in order and the FIRST rule whose `when` matches decides (like a
// firewall); later rules are not consulted, so one transition gives at most one
// notification. A matching rule's answer is always given; its notifications (and the
// escalation) are suppressed, with the reason reported as a `suppressed` action, when a
// client is attached (suppress_when_attached, default true), during quiet hours (unless
// the new state breaks through), within the rule's cooldown for that session, or when
// the identical notification went out within `dedupe`. Quiet hours are top-level, not a
// rule, because they are a property of the person, not of a transition.
//
//   notifiers:
//     desktop: {plugin: desktop}
//     phone:
//       plugin: ntfy
//       options:
//         topic: my-agents
//         token: ${NTFY_TOKEN}                  # from the environment, at load
//     slack:
//       plugin: slack
//       options:
//         webhook: {file: ~/.config/tether/slack-webhook}   # mode 0600, owned by you
//   quiet_hours:                                # a mapping, or a list of them
//     days: [mon-fri]                           # a window crossing midnight belongs to the
//     hours: "22:00-07:00"                      #   day it starts on (Fri 22:00-Sat 07:00)
//     timezone: Europe/Paris                    # IANA name; default $TZ, else /etc/localtime
//     break_through: [needs_permission]         # states still notified during quiet hours
//   rules:
//     - name: allow-reads
//       when: {to: needs_permission, tool: [Read, Grep, Glob]}
//       answer: allow
//     - name: no-rm-rf
//       when: {to: needs_permission, tool: Bash, tool_input: "rm -rf *"}
//       answer: {decision: deny, message: "rm -rf is not allowed; ask the user"}
//       notify: [desktop]
//     - name: permission
//       when: {to: [needs_permission, needs_answer]}
//       notify: [desktop, phone]
//       escalate: {after: 5m, notify: [slack]}  # still waiting after 5m
//     - name: done-after-work
//       when: {from: running, to: idle, min_previous: 2m, cwd: "~/work/*"}
//       notify: [desktop]
//       cooldown: 10m                           # per rule and session
//       dedupe: 1h                              # same rule, session, state, tool, input, message
//       options: {desktop: {urgency: low}}      # per-rule options for a notifier it notifies
//
// when: from/to (a state or a list), session/cwd/agent/tool/tool_input (a glob or a list
// of globs, fnmatch(3) without flags: `*` also matches `/`, so "~/work/*" is everything
// below ~/work; a leading ~ in cwd is $HOME), message (ECMAScript regex searched in the
// message and in the question), min_previous (time spent in the previous state), days,
// hours and timezone (as for quiet hours). Every condition given must hold.
// tool_input is matched against the command string: tool_input.command, else file_path,
// path, url, pattern or query, else a string input itself, else the JSON text.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"

namespace YAML {
class Node;
}
namespace date {
class time_zone;
}

namespace tether {

// Days and local hours in a time zone.
struct TimeWindow {
    unsigned days = 0x7f;           // bit 0 = Monday ... bit 6 = Sunday
    int start_min = 0;              // [start, end) in local minutes of the day;
    int end_min = 24 * 60;          //   start > end crosses midnight
    std::string timezone;           // as written; empty: local
    const date::time_zone* zone = nullptr;  // resolved at parse; owned by the tz database

    std::string describe() const;   // "mon-fri 22:00-07:00 Europe/Paris"
};

struct RuleWhen {
    std::vector<std::string> from, to;  // empty: any
    std::vector<std::string> session, cwd, agent, tool, tool_input;  // globs, any of; empty: any
    std::string message_pattern;
    std::optional<std::regex> message;
    int64_t min_previous_us = 0;
    std::optional<TimeWindow> window;
};

struct Escalation {
    int64_t after_us = 0;
    std::vector<std::string> notify;
};

struct Rule {
    std::string name;
    int line = 0;  // where the rule starts in the file
    RuleWhen when;
    std::vector<std::string> notify;
    std::optional<Escalation> escalate;
    std::string answer;          // "", "allow" or "deny" (only with to: needs_permission)
    std::string answer_message;  // deny only: told to the agent
    int64_t cooldown_us = 0;
    int64_t dedupe_us = 0;
    bool suppress_when_attached = true;
    // Per-rule options for the rule's notifiers (the ABI's rule_options), by notifier:
    // options: {chime: {file: question.wav, volume: 0.5}}. Plain strings, never secrets.
    std::map<std::string, std::map<std::string, std::string>> notifier_options;
};

// A resolved option. Secrets (from ${ENV} or {file: PATH}) live only in memory: print
// options through redacted_options() / describe_notifier(), never `value` directly.
struct NotifierOption {
    std::string key;
    std::string value;
    bool secret = false;
    std::string source;  // "$NTFY_TOKEN", "file /home/me/.config/tether/slack-webhook"
};

struct Notifier {
    std::string name;
    std::string plugin;
    std::vector<NotifierOption> options;
};
// key -> value, secrets replaced by "<secret from $VAR>" / "<secret from file PATH>".
std::vector<std::pair<std::string, std::string>> redacted_options(const Notifier& n);
// "phone: plugin ntfy, topic=my-agents, token=<secret from $NTFY_TOKEN>"
std::string describe_notifier(const Notifier& n);

struct QuietHours {
    TimeWindow window;
    std::vector<std::string> break_through;  // states notified anyway
};

struct RuleConfig {
    std::map<std::string, Notifier> notifiers;
    std::vector<QuietHours> quiet_hours;
    std::vector<Rule> rules;
};

// Reads the `notifiers`, `quiet_hours` and `rules` keys of root (other keys are
// config.cc's). Returns every error found; out is only meaningful when there are none.
// Relative secret file paths are relative to the directory of `file`.
std::vector<ConfigError> parse_notifiers_and_rules(const YAML::Node& root, const std::string& file, RuleConfig& out);

// "2m", "1h30m", "500ms": the units ms, s, m, h, d, combined largest first.
std::optional<int64_t> parse_duration_us(const std::string& text);
std::string format_duration(int64_t us);

// Day names as written in days: (index 0 = Monday).
extern const char* const k_day_names[7];

}  // namespace tether
