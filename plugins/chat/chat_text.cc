// The words of the chat notifiers.
#include "chat_text.h"

#include <cctype>
#include <ctime>

#include <nlohmann/json.hpp>

namespace notifier_chat {

using nlohmann::json;

std::string entities_escaped(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '&') out += "&amp;";
        else if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else out += c;
    }
    return out;
}

std::string truncated(std::string_view s, size_t max) {
    if (s.size() <= max) return std::string(s);
    size_t n = max > 3 ? max - 3 : 0;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return std::string(s.substr(0, n)) + "...";
}

std::string tool_input_text(std::string_view input_json) {
    if (input_json.empty()) return "";
    json j = json::parse(input_json, nullptr, false);
    if (j.is_discarded()) return std::string(input_json);
    if (j.is_string()) return j.get<std::string>();
    if (j.is_object())
        for (const char* k : {"command", "file_path", "path", "url", "pattern", "query"})
            if (auto it = j.find(k); it != j.end() && it->is_string()) return it->get<std::string>();
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

std::string str(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Claude Code's destinations: session, localSettings, projectSettings, userSettings.
std::string where(const json& s) {
    std::string d = str(s, "destination");
    if (d == "session") return " for this session";
    if (d == "projectSettings" || d == "localSettings") return " in this project";
    if (d == "userSettings") return " everywhere";
    return "";
}

std::string joined(const json& list, const std::function<std::string(const json&)>& one) {
    std::string out;
    if (!list.is_array()) return out;
    for (const auto& item : list) {
        std::string t = one(item);
        if (t.empty()) continue;
        out += (out.empty() ? "" : ", ") + t;
    }
    return out;
}

}  // namespace

std::string suggestion_text(std::string_view suggestion_json) {
    if (suggestion_json.empty()) return "";
    json s = json::parse(suggestion_json, nullptr, false);
    if (!s.is_object()) return "";
    std::string type = str(s, "type");
    if (type == "addRules" || type == "replaceRules") {
        std::string rules = joined(s.value("rules", json()), [](const json& r) {
            if (!r.is_object()) return std::string();
            std::string tool = str(r, "toolName"), content = str(r, "ruleContent");
            return content.empty() ? tool : tool + "(" + content + ")";
        });
        std::string behavior = str(s, "behavior");
        return (behavior.empty() ? "allow" : behavior) + " " + (rules.empty() ? "these rules" : rules) + where(s);
    }
    if (type == "addDirectories") {
        std::string dirs = joined(s.value("directories", json()), [](const json& d) { return d.is_string() ? d.get<std::string>() : ""; });
        return "allow work in " + (dirs.empty() ? "these directories" : dirs) + where(s);
    }
    if (type == "setMode") {
        std::string mode = str(s, "mode");
        if (mode == "acceptEdits") return "accept edits" + where(s);
        return "switch to " + (mode.empty() ? "another" : mode) + " mode" + where(s);
    }
    return type.empty() ? "" : type + where(s);
}

std::string decider_text(std::string_view by, const PersonFormat& person) {
    if (by == "cli") return "from the command line";
    if (by == "ui") return "from the tether window";
    if (by == "timeout") return "nobody, in time";
    if (by == "agent") return "the agent, which moved on";
    size_t colon = by.find(':');
    if (colon == std::string_view::npos) return std::string(by);
    std::string_view channel = by.substr(0, colon), id = by.substr(colon + 1);
    if (channel == "rule") return "rule " + std::string(id);
    if (channel == "notifier") return "notifier " + std::string(id);
    if (person)
        if (std::string p = person(channel, id); !p.empty()) return p;
    std::string name(channel);
    if (!name.empty()) name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
    return name + " user " + std::string(id);
}

std::string outcome_text(const Outcome& o, const PersonFormat& person) {
    if (o.decision == "ask") {
        std::string why = o.decided_by == "timeout" ? "nobody answered in time"
                          : o.decided_by == "agent" ? "the agent moved on"
                                                    : "no answer (" + std::string(o.decided_by) + ")";
        return "Not answered through tether: " + why + "; the agent asked in its own terminal";
    }
    std::string who = decider_text(o.decided_by, person);
    std::string verb = o.decision == "allow" ? (o.always ? "Approved, always," : "Approved") : "Denied";
    // "by rule x", "by <@U1>", but "from the command line".
    std::string out = verb + (who.rfind("from ", 0) == 0 ? " " : " by ") + who;
    if (o.decision != "allow" && !o.message.empty()) out += ": " + truncated(o.message, 500);
    return out;
}

std::string_view outcome_mark(std::string_view decision) {
    if (decision == "allow") return "\u2705";  // check mark
    if (decision == "deny") return "\u26d4";   // no entry
    return "\u23f8\ufe0f";                      // pause
}

std::string utc_clock(int64_t time_ms) {
    std::time_t secs = static_cast<std::time_t>(time_ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%H:%M:%S UTC", &tm);
    return buf;
}

}  // namespace notifier_chat
