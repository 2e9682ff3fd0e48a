// Agent states from committed events.
#include "agent/agent_tracker.h"

namespace tether {

AgentTracker::AgentTracker(EventLoop&, Store& store) : m_store(store) {}

const AgentStatus* AgentTracker::status(int64_t session) const {
    auto it = m_status.find(session);
    return it == m_status.end() ? nullptr : &it->second;
}

Status AgentTracker::restore(int64_t session) {
    AgentStatus status;
    auto cursor = m_store.log().read(EventQuery{.session = session});
    if (!cursor) return cursor.error();
    for (;;) {
        auto ev = cursor->next();
        if (!ev) return ev.error();
        if (!*ev) break;
        if ((*ev)->kind != EventKind::StateChanged) (void)reduce(status, **ev);
    }
    m_status[session] = std::move(status);
    return {};
}

void AgentTracker::on_committed(const Event& ev) {
    if (ev.session == 0 || ev.kind == EventKind::StateChanged) return;
    if (ev.kind == EventKind::SessionStarted) m_status[ev.session] = AgentStatus{};
    auto it = m_status.find(ev.session);
    if (it == m_status.end()) return;  // a session from before this daemon: its end is recorded
    auto change = reduce(it->second, ev);
    if (change) {
        // Appended after the commit of its cause: the transition follows what caused it.
        nlohmann::json payload = state_changed_payload(*change);
        payload["cause"] = ev.seq;
        m_store.append(make_json_event(ev.session, EventKind::StateChanged, payload));
        notify_waiters(ev.session, change->to, change->to == agent_state::exited);
    }
    if (ev.kind == EventKind::SessionExited) {
        if (!change) notify_waiters(ev.session, agent_state::exited, true);
        m_status.erase(ev.session);
    }
}

std::shared_ptr<void> AgentTracker::wait_for(int64_t session, const std::string& state, StateFn fn) {
    const SessionRow* row = m_store.sessions().find(session);
    if (row && row->state == state) {
        fn(state, false);
        return nullptr;
    }
    if (!row || !row->live()) {
        fn(row ? row->state : std::string(), true);
        return nullptr;
    }
    auto w = std::make_shared<Waiter>(Waiter{session, state, std::move(fn)});
    m_waiters.push_back(w);
    return w;
}

void AgentTracker::notify_waiters(int64_t session, const std::string& state, bool final) {
    std::vector<std::shared_ptr<Waiter>> fire;
    std::erase_if(m_waiters, [&](const std::weak_ptr<Waiter>& weak) {
        auto w = weak.lock();
        if (!w) return true;
        if (w->session != session || (w->state != state && !final)) return false;
        fire.push_back(w);
        return true;
    });
    for (auto& w : fire) run_guarded("state waiter", [&] { w->fn(state, final && w->state != state); });
}

}  // namespace tether
