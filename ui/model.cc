// Folding the watch stream into the model.
#include "model.h"

#include <cstdlib>

#include "base/json_fields.h"

namespace tether::ui {

namespace {

// 0-255: palette; "#rrggbb": direct colour; absent: default.
int color(const nlohmann::json& run, const char* key) {
    auto it = run.find(key);
    if (it == run.end()) return -1;
    if (it->is_number_integer()) return it->get<int>() & 0xff;
    if (it->is_string()) {
        std::string s = it->get<std::string>();
        if (s.size() == 7 && s[0] == '#') return static_cast<int>(std::stoul(s.substr(1), nullptr, 16)) | (1 << 24);
    }
    return -1;
}

}  // namespace

bool needs_you(const std::string& state) { return state == "needs_permission" || state == "needs_answer"; }

std::string waiting_for(const SessionView& s) {
    if (!s.waiting_tool.empty()) {
        std::string what;
        if (s.waiting_input.is_object()) {
            for (const char* key : {"command", "file_path", "path", "url", "pattern", "prompt"})
                if (auto v = json_text(s.waiting_input, key); !v.empty()) {
                    what = v;
                    break;
                }
            if (what.empty() && !s.waiting_input.empty()) what = s.waiting_input.dump();
        }
        return what.empty() ? s.waiting_tool : s.waiting_tool + ": " + what;
    }
    return s.message;
}

SessionView session_from_json(const nlohmann::json& j) {
    SessionView s;
    s.id = json_int(j, "id");
    s.name = json_text(j, "name");
    s.agent = json_text(j, "agent");
    s.state = json_text(j, "state");
    s.state_since_us = json_int(j, "state_since_us");
    s.waiting_tool = json_text(j, "waiting_tool");
    if (auto it = j.find("waiting_input"); it != j.end()) s.waiting_input = *it;
    s.message = json_text(j, "message");
    s.live = s.state != "exited" && s.state != "failed";
    s.external = j.value("external", false);
    return s;
}

PendingView pending_from_json(const nlohmann::json& j) {
    PendingView p;
    p.request = json_int(j, "request");
    p.session = json_int(j, "session");
    p.tool = json_text(j, "tool");
    if (auto it = j.find("tool_input"); it != j.end()) p.tool_input = *it;
    return p;
}

HostView host_from_json(const nlohmann::json& j) {
    HostView h;
    h.host = json_text(j, "host");
    h.self = j.value("self", false);
    h.daemon_up = j.value("daemon_up", false);
    for (const auto& row : j.value("sessions", nlohmann::json::array())) {
        SessionView s = session_from_json(row);
        h.sessions[s.id] = std::move(s);
    }
    for (const auto& p : j.value("pending", nlohmann::json::array())) {
        // "host:17" in the daemon's list; the number is the request on that host.
        PendingView v = pending_from_json(p);
        std::string r = json_text(p, "request");
        if (size_t colon = r.rfind(':'); colon != std::string::npos) v.request = std::atoll(r.c_str() + colon + 1);
        if (v.request) h.pending[v.request] = std::move(v);
    }
    return h;
}

const PendingView* HostView::pending_for(int64_t session) const {
    for (const auto& [id, p] : pending)
        if (p.session == session) return &p;
    return nullptr;
}

void Model::apply_snapshot(const nlohmann::json& reply) {
    sessions.clear();
    pending.clear();
    fleet.clear();
    for (const auto& h : reply.value("fleet", nlohmann::json::array())) {
        HostView v = host_from_json(h);
        fleet[v.host] = std::move(v);
    }
    for (const auto& row : reply.value("sessions", nlohmann::json::array())) {
        SessionView s = session_from_json(row);
        sessions[s.id] = std::move(s);
    }
    for (const auto& p : reply.value("pending", nlohmann::json::array())) {
        PendingView v = pending_from_json(p);
        pending[v.request] = std::move(v);
    }
}

std::optional<Transition> Model::apply_notice(const nlohmann::json& notice) {
    std::string event = json_text(notice, "event");
    if (event == "session") {
        SessionView s = session_from_json(notice.value("session", nlohmann::json::object()));
        if (s.id == 0) return std::nullopt;
        int64_t id = s.id;
        auto it = sessions.find(id);
        std::string from = it == sessions.end() ? std::string() : it->second.state;
        std::string to = s.state;
        sessions[id] = std::move(s);
        // Notices are upserts and may repeat what the snapshot held: only a change counts.
        if (needs_you(to) && from != to) return Transition{id, from, to};
    } else if (event == "fleet") {
        HostView h = host_from_json(notice.value("host", nlohmann::json::object()));
        if (!h.host.empty()) fleet[h.host] = std::move(h);
    } else if (event == "pending") {
        std::string change = json_text(notice, "change");
        if (change == "added") {
            PendingView p = pending_from_json(notice.value("pending", nlohmann::json::object()));
            if (p.request) pending[p.request] = std::move(p);
        } else if (change == "decided") {
            pending.erase(json_int(notice, "request"));
        }
    }
    return std::nullopt;
}

void Model::apply_screen(const nlohmann::json& reply) {
    ScreenView v;
    v.session = json_int(reply, "session");
    if (!reply.value("ok", false)) {
        v.error = json_text(reply, "error");
        screen = std::move(v);
        return;
    }
    v.cols = reply.value("cols", 0);
    v.rows = reply.value("rows", 0);
    v.cursor_row = reply.value("cursor_row", 0);
    v.cursor_col = reply.value("cursor_col", 0);
    v.cursor_visible = reply.value("cursor_visible", true);
    for (const auto& row : reply.value("cells", nlohmann::json::array())) {
        auto& out = v.cells.emplace_back();
        for (const auto& run : row)
            out.push_back({json_text(run, "t"), run.value("n", 0), color(run, "fg"), color(run, "bg"), run.value("a", 0)});
    }
    screen = std::move(v);
}

const PendingView* Model::pending_for(int64_t session) const {
    for (const auto& [id, p] : pending)
        if (p.session == session) return &p;
    return nullptr;
}

}  // namespace tether::ui
