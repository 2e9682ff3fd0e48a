// Timeline entries and their one-line summaries.
#include "timeline.h"

#include <time.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace tether {

namespace {

std::string str(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return "";
    return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string tool_detail(const nlohmann::json& input) {
    if (!input.is_object()) return "";
    for (const char* key : {"command", "file_path", "url", "pattern"})
        if (input.contains(key) && input[key].is_string()) return input[key].get<std::string>();
    return "";
}

std::string with_tool(std::string text, const nlohmann::json& j) {
    std::string tool = str(j, "tool");
    if (tool.empty()) return text;
    std::string detail = tool_detail(j.value("tool_input", nlohmann::json()));
    return text + " (" + tool + (detail.empty() ? "" : ": " + detail) + ")";
}

std::string summary(const Event& ev, const nlohmann::json& j) {
    switch (ev.kind) {
    case EventKind::SessionStarted: {
        std::string cmd;
        for (const auto& part : j.value("command", nlohmann::json::array()))
            if (part.is_string()) cmd += (cmd.empty() ? "" : " ") + part.get<std::string>();
        return "started " + str(j, "name") + ": " + cmd + " (" + str(j, "cols") + "x" + str(j, "rows") + ")";
    }
    case EventKind::SessionSpawnFailed: return "could not start: " + str(j, "error");
    case EventKind::Resized: return "resized to " + str(j, "cols") + "x" + str(j, "rows");
    case EventKind::SessionExited:
        if (j.contains("code")) return "exited with code " + str(j, "code");
        if (j.contains("signal")) return "killed by signal " + str(j, "signal");
        return "ended: " + str(j, "reason");
    case EventKind::TitleChanged: return "title: " + str(j, "title");
    case EventKind::BellRang: return "bell";
    case EventKind::TerminalNotified: return "terminal notification: " + str(j, "message");
    case EventKind::MarkerAdded: return "marker: " + str(j, "text");
    case EventKind::ClientAttached: return std::string(j.value("read_only", false) ? "read-only client" : "client") + " attached";
    case EventKind::ClientDetached: return "client detached";
    case EventKind::HookReceived: return "hook " + str(j, "event") + (j.contains("tool") ? " " + str(j, "tool") : "");
    case EventKind::StateChanged: {
        std::string s = str(j, "from") + " -> " + str(j, "to");
        s = with_tool(s, j);
        std::string msg = str(j, "message");
        return msg.empty() ? s : s + ": " + msg;
    }
    case EventKind::PermissionRequested: return with_tool("permission requested", j);
    case EventKind::PermissionDecided:
        return "permission " + str(j, "decision") + " by " + str(j, "by") +
               (j.contains("latency_ms") ? " after " + str(j, "latency_ms") + " ms" : "");
    case EventKind::AgentNotified: return "agent says " + str(j, "state") + (j.contains("message") ? ": " + str(j, "message") : "");
    case EventKind::ScreenPromptSeen: return "dialog on screen: " + str(j, "prompt");
    case EventKind::NotificationQueued: return "notification queued for " + str(j, "notifier") + " (rule " + str(j, "rule") + ")";
    case EventKind::NotificationSent: return "notification " + str(j, "queued") + " sent";
    case EventKind::NotificationFailed: return "notification " + str(j, "queued") + " failed: " + str(j, "error");
    case EventKind::EscalationScheduled: return "escalation scheduled (rule " + str(j, "rule") + ")";
    case EventKind::EscalationCancelled: return "escalation cancelled: " + str(j, "reason");
    case EventKind::Acknowledged: return "acknowledged by " + str(j, "by");
    default: return "";
    }
}

}  // namespace

std::optional<nlohmann::json> timeline_entry(const Event& ev) {
    if (event_kind_is_binary(ev.kind)) return std::nullopt;
    auto name = event_kind_name(static_cast<uint16_t>(ev.kind));
    if (!name || ev.session == 0) return std::nullopt;
    nlohmann::json data = ev.json();
    if (ev.kind == EventKind::HookReceived) {
        // The agent's payload can be large (tool output): keep what the timeline shows.
        const nlohmann::json& hook = data.value("payload", nlohmann::json::object());
        nlohmann::json cut{{"agent", data.value("agent", "")}, {"event", hook.value("hook_event_name", "")}};
        if (hook.contains("tool_name")) cut["tool"] = hook["tool_name"];
        if (hook.contains("message")) cut["message"] = hook["message"];
        data = cut;
    }
    return nlohmann::json{{"seq", ev.seq}, {"time_us", ev.time_us}, {"kind", std::string(*name)},
                          {"summary", summary(ev, data)}, {"data", data}};
}

std::string format_offset(int64_t us) {
    if (us < 0) us = 0;
    int64_t ms = us / 1000;
    int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, frac = ms % 1000;
    char buf[64];
    if (h > 0) std::snprintf(buf, sizeof buf, "%lldh%02lldm%02lld.%03llds", (long long)h, (long long)m, (long long)s, (long long)frac);
    else if (m > 0) std::snprintf(buf, sizeof buf, "%lldm%02lld.%03llds", (long long)m, (long long)s, (long long)frac);
    else std::snprintf(buf, sizeof buf, "%lld.%03llds", (long long)s, (long long)frac);
    return buf;
}

std::string timeline_line(const nlohmann::json& entry, int64_t start_us) {
    int64_t t = entry.value("time_us", int64_t{0});
    time_t secs = static_cast<time_t>(t / 1000000);
    tm local{};
    localtime_r(&secs, &local);
    char clock[32];
    std::strftime(clock, sizeof clock, "%Y-%m-%d %H:%M:%S", &local);
    char line[96];
    std::snprintf(line, sizeof line, "%s.%03lld  +%-12s #%-8lld %-20s ", clock, static_cast<long long>(t / 1000 % 1000),
                  format_offset(t - start_us).c_str(), static_cast<long long>(entry.value("seq", int64_t{0})),
                  entry.value("kind", "").c_str());
    return line + entry.value("summary", "");
}

namespace {

std::optional<int64_t> parse_offset(std::string t) {
    if (!t.empty() && t[0] == '+') t.erase(0, 1);
    if (t.empty()) return std::nullopt;
    double total = 0;
    size_t i = 0;
    bool any = false;
    while (i < t.size()) {
        size_t start = i;
        while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
        if (i == start) return std::nullopt;
        double v = std::strtod(t.substr(start, i - start).c_str(), nullptr);
        char unit = i < t.size() ? t[i++] : 's';
        if (unit == 'h') total += v * 3600;
        else if (unit == 'm') total += v * 60;
        else if (unit == 's') total += v;
        else return std::nullopt;
        any = true;
    }
    if (!any || !std::isfinite(total)) return std::nullopt;
    return static_cast<int64_t>(std::llround(total * 1e6));
}

}  // namespace

std::optional<Moment> parse_moment(const std::string& text) {
    if (auto off = parse_offset(text)) return Moment{true, *off};
    tm parts{};
    int year, month, day, hour, minute;
    double second = 0;
    char sep = 0;
    int used = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%lf%n", &year, &month, &day, &sep, &hour, &minute, &second, &used) < 7 ||
        (sep != 'T' && sep != ' '))
        return std::nullopt;
    std::string rest = text.substr(static_cast<size_t>(used));
    if (!rest.empty() && rest != "Z") return std::nullopt;
    parts.tm_year = year - 1900;
    parts.tm_mon = month - 1;
    parts.tm_mday = day;
    parts.tm_hour = hour;
    parts.tm_min = minute;
    parts.tm_sec = 0;
    parts.tm_isdst = -1;
    time_t secs = rest == "Z" ? timegm(&parts) : mktime(&parts);
    if (secs == -1) return std::nullopt;
    return Moment{false, static_cast<int64_t>(secs) * 1000000 + static_cast<int64_t>(std::llround(second * 1e6))};
}

}  // namespace tether
