// Watch streams: snapshot, then change notices after each commit.
#include "watchers.h"

namespace tether {

namespace {

nlohmann::json without_counters(nlohmann::json row) {
    for (const char* key : {"bytes_out", "bytes_in", "last_activity_us"}) row.erase(key);
    return row;
}

}  // namespace

Watchers::Watchers(EventLoop& loop, Store& store, Hooks& hooks, SessionJson session_json)
    : m_loop(loop), m_store(store), m_hooks(hooks), m_session_json(std::move(session_json)) {}

Watchers::~Watchers() = default;

bool Watchers::handle(const std::shared_ptr<Connection>& conn, const std::string& cmd, const nlohmann::json& req) {
    if (cmd == "watch") cmd_watch(conn, req);
    else if (cmd == "watch_screens") cmd_watch_screens(conn, req);
    else return false;
    return true;
}

Result<std::set<int64_t>> Watchers::screen_set(const nlohmann::json& req, const char* key) const {
    std::set<int64_t> out;
    auto it = req.find(key);
    if (it == req.end() || it->is_null()) return out;
    if (!it->is_array()) return Error{std::string("\"") + key + "\" must be an array of sessions"};
    for (const auto& ref : *it) {
        const SessionRow* row = m_store.sessions().resolve(ref);
        if (!row) return Error{"no such session: " + dump_json(ref)};
        out.insert(row->id);
    }
    return out;
}

void Watchers::seed_rows() {
    m_rows.clear();
    for (const auto& [id, row] : m_store.sessions().sessions) m_rows[id] = without_counters(m_session_json(row));
}

void Watchers::cmd_watch(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    auto screens = screen_set(req, "screens");
    if (!screens) return conn->reply_error(req, "watch: " + screens.error().message);
    // With nobody watching, rows are not tracked (the output path stays cheap): start afresh.
    if (m_watchers.empty()) seed_rows();
    m_watchers[conn->id()] = Watcher{conn, std::move(*screens)};
    nlohmann::json sessions = nlohmann::json::array();
    for (const auto& [id, row] : m_store.sessions().sessions) sessions.push_back(m_session_json(row));
    nlohmann::json reply{{"sessions", sessions}, {"pending", m_hooks.pending_json()}, {"seq", m_store.log().last_seq()}};
    if (m_extra) m_extra(reply);
    conn->reply_ok(req, std::move(reply));
}

void Watchers::cmd_watch_screens(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    auto it = m_watchers.find(conn->id());
    if (it == m_watchers.end()) return conn->reply_error(req, "watch_screens: send \"watch\" first on this connection");
    auto screens = screen_set(req, "sessions");
    if (!screens) return conn->reply_error(req, "watch_screens: " + screens.error().message);
    it->second.screens = std::move(*screens);
    conn->reply_ok(req, {{"sessions", it->second.screens}});
}

void Watchers::on_committed(const Event& ev) {
    if (m_watchers.empty()) return;
    if (ev.session != 0) session_changed(ev.session);
    switch (ev.kind) {
        case EventKind::PermissionRequested:
            // Only requests someone may still answer: a rule may have decided it already.
            if (auto entry = m_hooks.pending_entry(ev.seq))
                broadcast({{"event", "pending"}, {"change", "added"}, {"pending", *entry}});
            break;
        case EventKind::PermissionDecided: {
            auto j = ev.json();
            broadcast({{"event", "pending"}, {"change", "decided"}, {"request", j.value("request", int64_t{0})},
                       {"session", ev.session}, {"decision", j.value("decision", "")}, {"by", j.value("by", "")}});
            break;
        }
        case EventKind::OutputChunk:
        case EventKind::Resized:
        case EventKind::SessionExited:
            screen_changed(ev.session, ev.seq);
            break;
        default:
            break;
    }
}

void Watchers::session_changed(int64_t session) {
    const SessionRow* row = m_store.sessions().find(session);
    if (!row) return;
    nlohmann::json full = m_session_json(*row);
    nlohmann::json key = without_counters(full);
    auto it = m_rows.find(session);
    if (it != m_rows.end() && it->second == key) return;
    const char* change = it == m_rows.end() ? "added" : !row->live() ? "ended" : "changed";
    m_rows[session] = std::move(key);
    broadcast({{"event", "session"}, {"change", change}, {"session", full}});
}

void Watchers::screen_changed(int64_t session, int64_t seq) {
    bool wanted = false;
    for (const auto& [cid, w] : m_watchers) wanted = wanted || w.screens.count(session);
    if (!wanted) return;
    ScreenNotice& n = m_screen_notices[session];
    n.seq = seq;
    if (!n.timer) n.timer = std::make_unique<Timer>(m_loop, [this, session] { send_screen_notice(session); });
    if (!n.timer->armed()) n.timer->arm_ms(k_screen_notice_ms);
}

void Watchers::send_screen_notice(int64_t session) {
    auto it = m_screen_notices.find(session);
    if (it == m_screen_notices.end()) return;
    int64_t seq = it->second.seq;
    broadcast({{"event", "screen_changed"}, {"session", session}, {"seq", seq}}, session);
}

void Watchers::broadcast(const nlohmann::json& notice, int64_t screen_session) {
    for (auto it = m_watchers.begin(); it != m_watchers.end();) {
        auto conn = it->second.conn.lock();
        if (!conn || !conn->open()) {
            it = m_watchers.erase(it);
            continue;
        }
        if (screen_session == 0 || it->second.screens.count(screen_session)) conn->send_json(notice);
        ++it;
    }
    if (m_watchers.empty()) m_rows.clear();
}

}  // namespace tether
