// Timeline entries and their one-line summaries.
#include "recordings/timeline.h"

#include <cstdio>

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
        return "permission " + str(j, "decision") + (j.value("always", false) ? " (always)" : "") + " by " + str(j, "by") +
               (j.contains("notifier") && str(j, "by").rfind("notifier:", 0) != 0 ? " via " + str(j, "notifier") : "") +
               (j.contains("latency_ms") ? " after " + str(j, "latency_ms") + " ms" : "");
    case EventKind::AgentNotified: return "agent says " + str(j, "state") + (j.contains("message") ? ": " + str(j, "message") : "");
    case EventKind::ScreenPromptSeen: return "dialog on screen: " + str(j, "prompt");
    case EventKind::NotificationQueued:
        if (j.contains("update_of"))  // its request was decided: the message that showed it is revised
            return "notification " + str(j, "update_of") + " to be revised by " + str(j, "notifier") + " (its request was decided)";
        return "notification queued for " + str(j, "notifier") + " (rule " + str(j, "rule") + ")";
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

}  // namespace tether
