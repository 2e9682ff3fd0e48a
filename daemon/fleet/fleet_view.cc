// The fleet fold.
#include "fleet/fleet_view.h"

namespace tether {

const HostView* FleetView::host(const std::string& name) const {
    auto it = m_hosts.find(name);
    return it == m_hosts.end() ? nullptr : &it->second;
}

void FleetView::count_malformed(const std::string& why) {
    ++m_skipped.malformed;
    m_skipped.last_reason = why;
}

bool FleetView::operator==(const FleetView& o) const {
    if (m_hosts.size() != o.m_hosts.size()) return false;
    for (const auto& [name, h] : m_hosts) {
        const HostView* g = o.host(name);
        if (!g || g->epoch != h.epoch || g->last_seq != h.last_seq || !(g->sessions == h.sessions) ||
            g->daemon_up != h.daemon_up || g->pending.size() != h.pending.size() || g->attached != h.attached)
            return false;
        for (const auto& [req, p] : h.pending)
            if (!g->pending.count(req) || g->pending.at(req).session != p.session) return false;
    }
    return true;
}

FleetView::Applied FleetView::apply(const FleetFact& f) {
    Applied out;
    auto skip = [&](Outcome o, int64_t& counter, std::string why) {
        out.outcome = o;
        out.why = std::move(why);
        ++counter;
        m_skipped.last_reason = out.why;
        return out;
    };
    if (m_known && !m_known(f.host))
        return skip(Outcome::unknown_host, m_skipped.unknown_host, "host " + f.host + " is not in fleet.hosts");
    HostView& h = m_hosts[f.host];
    h.host = f.host;
    if (f.epoch < h.epoch)
        return skip(Outcome::older_epoch, m_skipped.older_epoch,
                    f.host + ":" + std::to_string(f.seq) + " is from an older log of " + f.host);
    if (f.epoch == h.epoch && f.seq <= h.last_seq)
        return skip(Outcome::repeated, m_skipped.repeated,
                    f.host + ":" + std::to_string(f.seq) + " repeated or out of order (had " + std::to_string(h.last_seq) + ")");
    if (f.epoch > h.epoch && h.epoch != 0) {
        h = HostView{};
        h.host = f.host;
        out.host_reset = true;
    }
    h.epoch = f.epoch;
    h.last_seq = f.seq;
    h.last_time_us = f.time_us;
    Event ev = f.event();
    out.session = tether::apply(h.sessions, ev);
    switch (f.kind) {
    case EventKind::DaemonStarted:
    case EventKind::DaemonStopped:
        h.daemon_up = f.kind == EventKind::DaemonStarted;
        h.daemon_since_us = f.time_us;
        // A daemon's waiting hooks do not outlive it.
        out.pending_changed = !h.pending.empty();
        h.pending.clear();
        h.attached.clear();
        break;
    case EventKind::PermissionRequested: {
        auto j = ev.json();
        RemotePending p{f.seq, f.session, j.value("tool", ""), j.value("tool_input", nlohmann::json::object()), f.time_us};
        h.pending[f.seq] = std::move(p);
        out.pending_changed = true;
        break;
    }
    case EventKind::PermissionDecided:
        out.pending_changed = h.pending.erase(ev.json().value("request", int64_t{0})) > 0;
        break;
    case EventKind::SessionExited:
    case EventKind::SessionPruned:
        for (auto it = h.pending.begin(); it != h.pending.end();) {
            if (it->second.session == f.session) {
                it = h.pending.erase(it);
                out.pending_changed = true;
            } else {
                ++it;
            }
        }
        h.attached.erase(f.session);
        break;
    case EventKind::ClientAttached:
        ++h.attached[f.session];
        out.session = f.session;
        break;
    case EventKind::ClientDetached:
        if (auto it = h.attached.find(f.session); it != h.attached.end() && --it->second <= 0) h.attached.erase(it);
        out.session = f.session;
        break;
    default:
        break;
    }
    return out;
}

nlohmann::json remote_pending_json(const HostView& h, const RemotePending& p, int64_t now_us) {
    const SessionRow* row = h.sessions.find(p.session);
    return {{"request", h.host + ":" + std::to_string(p.request)},
            {"host", h.host},
            {"session", p.session},
            {"name", row ? row->name : ""},
            {"tool", p.tool},
            {"tool_input", p.tool_input},
            {"waiting_ms", (now_us - p.asked_us) / 1000}};
}

}  // namespace tether
