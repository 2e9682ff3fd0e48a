// The rules engine's evaluation: one state transition judged against the configuration
// (config/rule_config.h) into actions (notify, escalate later, answer) and the
// notifications they send (notifier/notification.h). Pure and
// YAML-free: time is always passed in, nothing here reads the clock or sends anything;
// the daemon runs the actions, keeps the escalation timers and cancels them on
// acknowledgement. The model (first match decides, what suppresses a notification) is
// described at the top of config/rule_config.h.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/rule_config.h"
#include "notifier/notification.h"

namespace tether {

struct SessionRow;
struct StateChange;

// Whether now_us falls in the window (its days and hours, in its time zone).
bool in_window(const TimeWindow& w, int64_t now_us);

// One state change of one session, as the rules see it.
struct Transition {
    int64_t session_id = 0;
    std::string session_name;
    std::string cwd;
    std::string agent;
    std::string from;
    std::string to;
    int64_t previous_us = 0;  // time spent in `from`
    std::string tool;
    nlohmann::json tool_input;  // the hook's object, or a command string
    std::string message;
    std::string question;
    bool attached = false;  // a client is attached to the session
};
// `before` is the session row as it was before the change (state_since_us included).
Transition make_transition(const SessionRow& before, const StateChange& change, int64_t now_us, bool attached);
// The string tool_input globs match (see the top of this file).
std::string tool_input_text(const nlohmann::json& tool_input);

// Cooldown and dedupe memory per (rule, session). Copyable; the daemon keeps one.
struct RuleMemory {
    struct Entry {
        int64_t last_sent_us = 0;
        bool sent = false;
        std::map<std::string, int64_t> recent;  // dedupe key -> when sent
    };
    std::map<std::pair<std::string, int64_t>, Entry> entries;

    void forget_session(int64_t session_id);
};

enum class ActionKind { notify, escalate_later, answer, suppressed };
const char* action_kind_name(ActionKind k);

struct RuleAction {
    std::string rule;
    ActionKind kind = ActionKind::notify;
    std::vector<std::string> notifiers;  // notify, escalate_later; suppressed: who would have had it
    int64_t after_us = 0;                // escalate_later: delay; cancel on acknowledgement
    std::string decision;                // answer: "allow" or "deny"
    std::string title;                   // notify, escalate_later: "api needs permission"
    std::string message;                 // notification body, or the deny message
    std::string why;                     // human explanation: why it matched / was suppressed

    bool operator==(const RuleAction&) const = default;
};
std::string describe_action(const RuleAction& a);

// The actions for t at now_us; records what it sends in memory.
std::vector<RuleAction> evaluate(const RuleConfig& config, const Transition& t, RuleMemory& memory, int64_t now_us);

// For `tether rules test`: every rule with whether it matches (and the first condition
// that failed), which one decides, and what it would do. memory is not changed.
struct RuleVerdict {
    std::string rule;
    bool matched = false;  // its conditions hold
    bool decides = false;  // the first matching rule
    std::string why;
    std::vector<RuleAction> actions;  // decides only
};
std::vector<RuleVerdict> dry_run(const RuleConfig& config, const Transition& t, const RuleMemory& memory, int64_t now_us);

// The rules' output for a notify or escalate_later action `a` on t, for one of its
// notifiers: the notification the outbox queues, with the options the rule gives that
// notifier. time_us: when the transition happened. permission_request is the caller's.
Notification notification_for(const RuleConfig& config, const Transition& t, const RuleAction& a,
                              const std::string& notifier, int64_t time_us);

// Whether notifications about `to` are held back at now_us; the daemon asks again when an
// escalation timer fires. why (if given) names the window.
bool in_quiet_hours(const RuleConfig& config, const std::string& to, int64_t now_us, std::string* why = nullptr);

}  // namespace tether
