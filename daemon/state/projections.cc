// The sessions projection: fold, persistence, rebuild.
#include "state/projections.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace tether {

namespace {

void set_state(SessionRow& row, const char* state, int64_t time_us) {
    if (row.state == state) return;
    row.state = state;
    row.state_since_us = time_us;
}

std::vector<std::string> string_list(const nlohmann::json& j) {
    std::vector<std::string> out;
    if (j.is_array())
        for (const auto& s : j)
            if (s.is_string()) out.push_back(s.get<std::string>());
    return out;
}

template <typename T>
T field(const nlohmann::json& j, const char* key, T fallback) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    if constexpr (std::is_same_v<T, std::string>) {
        return it->is_string() ? it->template get<std::string>() : fallback;
    } else {
        return it->is_number() ? it->template get<T>() : fallback;
    }
}

}  // namespace

const SessionRow* SessionsState::find(int64_t id) const {
    auto it = sessions.find(id);
    return it == sessions.end() ? nullptr : &it->second;
}

const SessionRow* SessionsState::find_by_name(const std::string& name) const {
    // Names may be reused once a session has ended: prefer the newest live one.
    const SessionRow* best = nullptr;
    for (const auto& [id, row] : sessions) {
        if (row.name != name) continue;
        if (!best || row.live() || !best->live()) best = &row;
    }
    return best;
}

const SessionRow* SessionsState::resolve(const nlohmann::json& ref) const {
    if (ref.is_number_integer()) return find(ref.get<int64_t>());
    if (!ref.is_string()) return nullptr;
    const std::string s = ref.get<std::string>();
    if (const SessionRow* row = find_by_name(s)) return row;
    if (!s.empty() && s.size() < 18 && s.find_first_not_of("0123456789") == std::string::npos) return find(std::stoll(s));
    return nullptr;
}

int64_t apply(SessionsState& state, const Event& ev) {
    state.applied_seq = ev.seq;
    if (ev.session == 0) return 0;

    if (ev.kind == EventKind::SessionStarted || ev.kind == EventKind::SessionSpawnFailed) {
        auto j = ev.json();
        SessionRow row;
        row.id = ev.session;
        row.name = field<std::string>(j, "name", "");
        row.command = string_list(j.value("command", nlohmann::json::array()));
        row.cwd = field<std::string>(j, "cwd", "");
        row.agent = field<std::string>(j, "agent", "");
        row.cols = field<int>(j, "cols", 0);
        row.rows = field<int>(j, "rows", 0);
        row.pid = field<int64_t>(j, "pid", 0);
        row.external = j.value("external", false) == true;
        row.agent_session = field<std::string>(j, "agent_session", "");
        row.started_us = ev.time_us;
        row.last_activity_us = ev.time_us;
        if (ev.kind == EventKind::SessionStarted) {
            set_state(row, agent_state::starting, ev.time_us);
        } else {
            row.error = field<std::string>(j, "error", "");
            set_state(row, session_state::failed, ev.time_us);
        }
        state.sessions[ev.session] = std::move(row);
        return ev.session;
    }

    auto it = state.sessions.find(ev.session);
    if (it == state.sessions.end()) return 0;
    if (ev.kind == EventKind::SessionPruned) {
        state.sessions.erase(it);
        return ev.session;
    }
    SessionRow& row = it->second;

    switch (ev.kind) {
    case EventKind::OutputChunk:
        row.bytes_out += static_cast<int64_t>(ev.payload.size());
        row.last_activity_us = ev.time_us;
        break;
    case EventKind::HookReceived:
        row.last_activity_us = ev.time_us;
        break;
    case EventKind::StateChanged: {
        auto j = ev.json();
        std::string to = field<std::string>(j, "to", "");
        if (to.empty() || row.state == agent_state::exited) break;
        static constexpr const char* k_known[] = {agent_state::starting,     agent_state::running,
                                                  agent_state::needs_permission, agent_state::needs_answer,
                                                  agent_state::idle,         agent_state::exited};
        auto known = std::find_if(std::begin(k_known), std::end(k_known), [&](const char* k) { return to == k; });
        if (known == std::end(k_known)) break;  // a state this build does not know
        set_state(row, *known, ev.time_us);
        row.waiting_tool = field<std::string>(j, "tool", "");
        auto input = j.find("tool_input");
        row.waiting_input = input == j.end() || input->is_null() ? "" : input->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        std::string question = field<std::string>(j, "question", "");
        row.message = question.empty() ? field<std::string>(j, "message", "") : question;
        row.state_reason = field<std::string>(j, "reason", "");
        break;
    }
    case EventKind::InputSent:
        row.bytes_in += static_cast<int64_t>(ev.payload.size());
        row.last_activity_us = ev.time_us;
        break;
    case EventKind::Resized: {
        auto j = ev.json();
        row.cols = field<int>(j, "cols", row.cols);
        row.rows = field<int>(j, "rows", row.rows);
        break;
    }
    case EventKind::TitleChanged:
        row.title = field<std::string>(ev.json(), "title", "");
        break;
    case EventKind::SessionExited: {
        auto j = ev.json();
        // A session whose end was not seen (the daemon died) has neither.
        if (j.contains("signal")) row.exit_signal = field<int>(j, "signal", 0);
        if (j.contains("code")) row.exit_code = field<int>(j, "code", 0);
        row.last_activity_us = ev.time_us;
        set_state(row, agent_state::exited, ev.time_us);
        break;
    }
    default:
        return 0;
    }
    return ev.session;
}

void Projections::apply(const Event& ev) {
    if (int64_t changed = tether::apply(m_sessions, ev); changed != 0) m_dirty.insert(changed);
}

Status Projections::persist(SqliteDb& db) {
    if (m_rewrite_all) {
        if (auto s = db.exec("DELETE FROM sessions"); !s) return s;
        for (const auto& [id, row] : m_sessions.sessions) m_dirty.insert(id);
    }
    auto up = db.prepare(
        "INSERT OR REPLACE INTO sessions(id, name, command, cwd, agent, state, state_since, "
        "started, last_activity, bytes_out, bytes_in, cols, rows, pid, title, exit_code, "
        "exit_signal, error, waiting_tool, waiting_input, message, state_reason, external, agent_session) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24)");
    if (!up) return up.error();
    auto gone = db.prepare("DELETE FROM sessions WHERE id = ?1");
    if (!gone) return gone.error();
    for (int64_t id : m_dirty) {
        const SessionRow* row = m_sessions.find(id);
        if (!row) {  // pruned
            gone->bind(1, id);
            if (auto s = gone->run(); !s) return s;
            continue;
        }
        up->bind(1, row->id)
            .bind(2, row->name)
            .bind(3, nlohmann::json(row->command).dump(-1, ' ', false,
                                                        nlohmann::json::error_handler_t::replace))
            .bind(4, row->cwd)
            .bind(5, row->agent)
            .bind(6, row->state)
            .bind(7, row->state_since_us)
            .bind(8, row->started_us)
            .bind(9, row->last_activity_us)
            .bind(10, row->bytes_out)
            .bind(11, row->bytes_in)
            .bind(12, static_cast<int64_t>(row->cols))
            .bind(13, static_cast<int64_t>(row->rows))
            .bind(14, row->pid)
            .bind(15, row->title);
        if (row->exit_code) up->bind(16, static_cast<int64_t>(*row->exit_code)); else up->bind_null(16);
        if (row->exit_signal) up->bind(17, static_cast<int64_t>(*row->exit_signal)); else up->bind_null(17);
        up->bind(18, row->error)
            .bind(19, row->waiting_tool)
            .bind(20, row->waiting_input)
            .bind(21, row->message)
            .bind(22, row->state_reason)
            .bind(23, static_cast<int64_t>(row->external))
            .bind(24, row->agent_session);
        if (auto s = up->run(); !s) return s;
    }
    auto meta = db.prepare(
        "INSERT OR REPLACE INTO projection_meta(name, applied_seq) VALUES('sessions', ?1)");
    if (!meta) return meta.error();
    meta->bind(1, m_sessions.applied_seq);
    if (auto s = meta->run(); !s) return s;
    m_dirty.clear();
    m_rewrite_all = false;
    return {};
}

Result<SessionsState> Projections::read_tables(SqliteDb& db) {
    SessionsState state;
    auto q = db.prepare(
        "SELECT id, name, command, cwd, agent, state, state_since, started, last_activity, "
        "bytes_out, bytes_in, cols, rows, pid, title, exit_code, exit_signal, error, waiting_tool, "
        "waiting_input, message, state_reason, external, agent_session FROM sessions ORDER BY id");
    if (!q) return q.error();
    for (;;) {
        auto more = q->step();
        if (!more) return more.error();
        if (!*more) break;
        SessionRow row;
        row.id = q->column_int(0);
        row.name = q->column_text(1);
        row.command = string_list(nlohmann::json::parse(q->column_text(2), nullptr, false));
        row.cwd = q->column_text(3);
        row.agent = q->column_text(4);
        row.state = q->column_text(5);
        row.state_since_us = q->column_int(6);
        row.started_us = q->column_int(7);
        row.last_activity_us = q->column_int(8);
        row.bytes_out = q->column_int(9);
        row.bytes_in = q->column_int(10);
        row.cols = static_cast<int>(q->column_int(11));
        row.rows = static_cast<int>(q->column_int(12));
        row.pid = q->column_int(13);
        row.title = q->column_text(14);
        if (!q->column_is_null(15)) row.exit_code = static_cast<int>(q->column_int(15));
        if (!q->column_is_null(16)) row.exit_signal = static_cast<int>(q->column_int(16));
        row.error = q->column_text(17);
        row.waiting_tool = q->column_text(18);
        row.waiting_input = q->column_text(19);
        row.message = q->column_text(20);
        row.state_reason = q->column_text(21);
        row.external = q->column_int(22) != 0;
        row.agent_session = q->column_text(23);
        state.sessions[row.id] = std::move(row);
    }
    auto seq = db.prepare("SELECT applied_seq FROM projection_meta WHERE name = 'sessions'");
    if (!seq) return seq.error();
    auto has = seq->step();
    if (!has) return has.error();
    state.applied_seq = *has ? seq->column_int(0) : -1;
    return state;
}

Status Projections::load(EventLog& log) {
    auto tables = read_tables(log.db());
    if (!tables) return tables.error();
    if (tables->applied_seq != log.durable_seq()) return rebuild(log);
    m_sessions = std::move(*tables);
    m_dirty.clear();
    return {};
}

Result<SessionsState> Projections::fold_all(EventLog& log) {
    SessionsState state;
    auto cursor = log.read(EventQuery{});
    if (!cursor) return cursor.error();
    for (;;) {
        auto ev = cursor->next();
        if (!ev) return ev.error();
        if (!*ev) break;
        tether::apply(state, **ev);
    }
    return state;
}

Status Projections::rebuild(EventLog& log) {
    // Staged events were folded live but are not yet readable: make them durable first.
    if (log.pending_events() > 0)
        if (auto s = log.commit([this](SqliteDb& db) { return persist(db); }); !s) return s;
    auto state = fold_all(log);
    if (!state) return state.error();
    m_sessions = std::move(*state);
    m_rewrite_all = true;
    return log.commit([this](SqliteDb& db) { return persist(db); });
}

}  // namespace tether
