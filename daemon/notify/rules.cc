// The rules' pure evaluation: matching a transition (globs, regexes, time windows), the
// actions of the first matching rule, and what suppresses them.
#include "notify/rules.h"

#include <fnmatch.h>

#include <date/tz.h>

#include <algorithm>
#include <chrono>

#include "base/text.h"
#include "state/agent_state.h"
#include "state/projections.h"

namespace tether {

namespace {

constexpr size_t k_max_regex_subject = 4096;  // libstdc++'s regex recurses per character

int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}


bool glob_any(const std::vector<std::string>& patterns, const std::string& s, std::string& which) {
    for (const auto& p : patterns)
        if (::fnmatch(p.c_str(), s.c_str(), 0) == 0) return which = p, true;
    return false;
}

bool regex_matches(const std::regex& re, const std::string& s) {
    return std::regex_search(truncated(s, k_max_regex_subject), re);
}

// True when every condition holds; why lists them, or names the first that failed.
bool match_when(const RuleWhen& w, const Transition& t, int64_t now_us, std::string& why) {
    std::vector<std::string> held;
    auto fail = [&](std::string reason) {
        why = std::move(reason);
        return false;
    };
    auto state_in = [&](const std::vector<std::string>& want, const std::string& have, const char* what) {
        if (want.empty()) return true;
        if (contains(want, have)) {
            held.push_back(std::string(what) + " " + have);
            return true;
        }
        why = std::string(what) + " is " + (have.empty() ? "(none)" : have) + ", not " + join(want, " or ");
        return false;
    };
    auto globbed = [&](const std::vector<std::string>& want, const std::string& have, const char* what) {
        if (want.empty()) return true;
        std::string p;
        if (glob_any(want, have, p)) {
            held.push_back(std::string(what) + " \"" + truncated(have, 80) + "\" matches \"" + p + "\"");
            return true;
        }
        why = std::string(what) + " \"" + truncated(have, 80) + "\" matches none of " + quoted_list(want);
        return false;
    };
    if (!state_in(w.to, t.to, "to") || !state_in(w.from, t.from, "from")) return false;
    if (!globbed(w.session, t.session_name, "session") || !globbed(w.agent, t.agent, "agent") ||
        !globbed(w.cwd, t.cwd, "cwd") || !globbed(w.tool, t.tool, "tool") ||
        !globbed(w.tool_input, tool_input_text(t.tool_input), "tool_input"))
        return false;
    if (w.message) {
        if (regex_matches(*w.message, t.message) || (!t.question.empty() && regex_matches(*w.message, t.question)))
            held.push_back("message matches /" + w.message_pattern + "/");
        else
            return fail("message does not match /" + w.message_pattern + "/");
    }
    if (w.min_previous_us > 0) {
        if (t.previous_us < w.min_previous_us)
            return fail("previous state lasted " + format_duration(t.previous_us) + ", less than " +
                        format_duration(w.min_previous_us));
        held.push_back("after " + format_duration(t.previous_us) + " in " + (t.from.empty() ? "the previous state" : t.from));
    }
    if (w.window) {
        if (!in_window(*w.window, now_us)) return fail("outside " + w.window->describe());
        held.push_back("within " + w.window->describe());
    }
    why = held.empty() ? "no conditions" : join(held, "; ");
    return true;
}

std::string session_label(const Transition& t) {
    return t.session_name.empty() ? "session " + std::to_string(t.session_id) : t.session_name;
}

std::string title_for(const Transition& t) {
    std::string s = session_label(t);
    if (t.to == agent_state::needs_permission) return s + " needs permission";
    if (t.to == agent_state::needs_answer) return s + " has a question";
    if (t.to == agent_state::idle) return s + " is done";
    if (t.to == agent_state::exited) return s + " exited";
    return s + " is " + t.to;
}

std::string body_for(const Transition& t) {
    std::string body;
    if (t.to == agent_state::needs_permission) {
        body = t.tool;
        std::string input = tool_input_text(t.tool_input);
        if (!input.empty()) body += (body.empty() ? "" : ": ") + truncated(input, 300);
        if (!t.message.empty()) body += (body.empty() ? "" : "\n") + truncated(t.message, 300);
    } else if (t.to == agent_state::needs_answer) {
        body = truncated(t.question.empty() ? t.message : t.question, 500);
    } else {
        body = truncated(t.message, 500);
        if (body.empty() && t.to == agent_state::idle && t.previous_us > 0)
            body = "after " + format_duration(t.previous_us) + " of work";
    }
    return body;
}

std::string dedupe_key(const Transition& t) {
    const char sep = '\x1f';
    return t.to + sep + t.tool + sep + tool_input_text(t.tool_input) + sep + t.message + sep + t.question;
}

// What the matching rule r does with t; records sent notifications in memory.
std::vector<RuleAction> decide(const RuleConfig& config, const Rule& r, const Transition& t, const std::string& matched,
                               RuleMemory& memory, int64_t now_us) {
    std::vector<RuleAction> actions;
    const std::string because = "rule \"" + r.name + "\" matched: " + matched;
    if (!r.answer.empty()) {
        RuleAction a{r.name, ActionKind::answer, {}, 0, r.answer, "", r.answer_message, because};
        actions.push_back(std::move(a));
    }
    if (r.notify.empty() && !r.escalate) return actions;

    std::string title = title_for(t), body = body_for(t), reason;
    const bool tracked = r.cooldown_us > 0 || r.dedupe_us > 0;
    RuleMemory::Entry* entry = nullptr;
    if (t.attached && r.suppress_when_attached) {
        reason = "a client is attached to the session";
    } else if (std::string q; in_quiet_hours(config, t.to, now_us, &q)) {
        reason = q;
    } else if (tracked) {
        entry = &memory.entries[{r.name, t.session_id}];
        for (auto it = entry->recent.begin(); it != entry->recent.end();)
            it = now_us - it->second >= r.dedupe_us ? entry->recent.erase(it) : std::next(it);
        if (r.cooldown_us > 0 && entry->sent && now_us - entry->last_sent_us < r.cooldown_us) {
            reason = "cooldown " + format_duration(r.cooldown_us) + ": this rule notified about " + session_label(t) + " " +
                     format_duration(now_us - entry->last_sent_us) + " ago";
        } else if (auto it = entry->recent.find(dedupe_key(t)); r.dedupe_us > 0 && it != entry->recent.end()) {
            reason = "the identical notification went out " + format_duration(now_us - it->second) + " ago (dedupe " +
                     format_duration(r.dedupe_us) + ")";
        }
    }
    if (!reason.empty()) {
        std::vector<std::string> who = r.notify;
        if (r.escalate) who.insert(who.end(), r.escalate->notify.begin(), r.escalate->notify.end());
        actions.push_back({r.name, ActionKind::suppressed, who, 0, "", title, body, because + "; suppressed: " + reason});
        return actions;
    }
    if (entry) {
        entry->sent = true;
        entry->last_sent_us = now_us;
        if (r.dedupe_us > 0) entry->recent[dedupe_key(t)] = now_us;
    }
    if (!r.notify.empty()) actions.push_back({r.name, ActionKind::notify, r.notify, 0, "", title, body, because});
    if (r.escalate)
        actions.push_back({r.name, ActionKind::escalate_later, r.escalate->notify, r.escalate->after_us, "", title, body,
                           because + "; escalate if still " + t.to + " after " + format_duration(r.escalate->after_us) +
                               " without acknowledgement"});
    return actions;
}

}  // namespace

bool in_window(const TimeWindow& w, int64_t now_us) {
    using namespace std::chrono;
    sys_seconds tp{seconds{floor_div(now_us, 1'000'000)}};
    int64_t local = tp.time_since_epoch().count();
    if (w.zone) local += w.zone->get_info(tp).offset.count();
    int64_t day = floor_div(local, 86400);
    int minute = static_cast<int>((local - day * 86400) / 60);
    auto has = [&](int64_t d) { return (w.days >> (((d % 7) + 7) % 7)) & 1; };
    int64_t weekday = day + 3;  // 1970-01-01 was a Thursday; 0 = Monday
    if (w.start_min < w.end_min) return has(weekday) && minute >= w.start_min && minute < w.end_min;
    // Crossing midnight: the early hours belong to the window that started the day before.
    return (has(weekday) && minute >= w.start_min) || (has(weekday - 1) && minute < w.end_min);
}

Transition make_transition(const SessionRow& before, const StateChange& change, int64_t now_us, bool attached) {
    Transition t;
    t.session_id = before.id;
    t.session_name = before.name;
    t.cwd = before.cwd;
    t.agent = before.agent;
    t.from = change.from;
    t.to = change.to;
    t.previous_us = before.state_since_us > 0 ? std::max<int64_t>(0, now_us - before.state_since_us) : 0;
    t.tool = change.tool;
    t.tool_input = change.tool_input;
    t.message = change.message;
    t.question = change.question;
    t.attached = attached;
    return t;
}

std::string tool_input_text(const nlohmann::json& in) {
    if (in.is_string()) return in.get<std::string>();
    if (in.is_null()) return "";
    if (in.is_object())
        for (const char* key : {"command", "file_path", "path", "url", "pattern", "query"})
            if (auto it = in.find(key); it != in.end() && it->is_string()) return it->get<std::string>();
    return in.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void RuleMemory::forget_session(int64_t session_id) {
    for (auto it = entries.begin(); it != entries.end();)
        it = it->first.second == session_id ? entries.erase(it) : std::next(it);
}

const char* action_kind_name(ActionKind k) {
    switch (k) {
    case ActionKind::notify: return "notify";
    case ActionKind::escalate_later: return "escalate_later";
    case ActionKind::answer: return "answer";
    case ActionKind::suppressed: return "suppressed";
    }
    return "?";
}

std::string describe_action(const RuleAction& a) {
    std::string s = action_kind_name(a.kind);
    if (a.kind == ActionKind::answer) {
        s += " " + a.decision + (a.message.empty() ? "" : " (\"" + a.message + "\")");
    } else {
        if (a.kind == ActionKind::escalate_later) s += " after " + format_duration(a.after_us);
        s += " [" + join(a.notifiers) + "] \"" + a.title + "\"";
        if (!a.message.empty()) s += ": " + truncated(a.message, 120);
    }
    return s + " -- " + a.why;
}

std::vector<RuleAction> evaluate(const RuleConfig& config, const Transition& t, RuleMemory& memory, int64_t now_us) {
    for (const auto& r : config.rules) {
        std::string why;
        if (match_when(r.when, t, now_us, why)) return decide(config, r, t, why, memory, now_us);
    }
    return {};
}

std::vector<RuleVerdict> dry_run(const RuleConfig& config, const Transition& t, const RuleMemory& memory, int64_t now_us) {
    std::vector<RuleVerdict> out;
    RuleMemory scratch = memory;
    const std::string* first = nullptr;
    for (const auto& r : config.rules) {
        RuleVerdict v;
        v.rule = r.name;
        v.matched = match_when(r.when, t, now_us, v.why);
        if (v.matched && !first) {
            v.decides = true;
            first = &r.name;
            v.actions = decide(config, r, t, v.why, scratch, now_us);
        } else if (v.matched) {
            v.why = "matches, but rule \"" + *first + "\" comes first and decides";
        }
        out.push_back(std::move(v));
    }
    return out;
}

Notification notification_for(const RuleConfig& config, const Transition& t, const RuleAction& a,
                              const std::string& notifier, int64_t time_us) {
    Notification n;
    n.rule = a.rule;
    n.kind = t.to == agent_state::needs_permission ? "permission"
             : t.to == agent_state::needs_answer   ? "question"
             : t.to == agent_state::idle           ? "done"
             : t.to == agent_state::exited         ? "exited"
                                                   : t.to;
    n.title = a.title;
    n.body = a.message;
    n.session = t.session_id;
    n.session_name = t.session_name;
    n.agent = t.agent;
    n.cwd = t.cwd;
    n.from = t.from;
    n.to = t.to;
    n.tool = t.tool;
    n.tool_input = t.tool_input;
    n.message = t.question.empty() ? t.message : t.question;
    n.time_ms = time_us / 1000;
    for (const Rule& r : config.rules)
        if (r.name == a.rule)
            if (auto it = r.notifier_options.find(notifier); it != r.notifier_options.end()) n.options = it->second;
    return n;
}

bool in_quiet_hours(const RuleConfig& config, const std::string& to, int64_t now_us, std::string* why) {
    for (const auto& q : config.quiet_hours) {
        if (contains(q.break_through, to) || !in_window(q.window, now_us)) continue;
        if (why) *why = "quiet hours (" + q.window.describe() + ")";
        return true;
    }
    return false;
}

}  // namespace tether
