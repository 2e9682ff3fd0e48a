// Receipts, and updates of the messages that showed a request once it is decided.
#include "notify/message_updates.h"

#include "base/log.h"
#include "log/fact_queries.h"

namespace tether {

MessageUpdates::MessageUpdates(Store& store, Outbox& outbox, std::function<bool(const std::string&)> takes_updates)
    : m_store(store), m_outbox(outbox), m_takes_updates(std::move(takes_updates)) {}

Status MessageUpdates::load() {
    auto receipts = sent_receipts(m_store.log());
    if (!receipts) return receipts.error();
    for (const SentReceipt& r : *receipts) {
        const SessionRow* s = m_store.sessions().find(r.session);
        if (s && s->live()) m_latest[{r.notifier, r.session}] = r.receipt;
    }
    return {};
}

std::string MessageUpdates::session_receipt(const std::string& notifier, int64_t session) const {
    auto it = m_latest.find({notifier, session});
    return it == m_latest.end() ? "" : it->second;
}

Notification MessageUpdates::update_message(const Notification& original, const std::string& receipt,
                                            const nlohmann::json& decided, int64_t decided_us) {
    Notification m = original;
    m.update = NotificationUpdate{receipt, decided.value("decision", ""), decided.value("by", ""),
                                  decided.value("message", ""), decided_us / 1000, decided.value("always", false)};
    return m;
}

void MessageUpdates::on_committed(const Event& ev) {
    switch (ev.kind) {
    case EventKind::NotificationQueued: {
        auto j = ev.json();
        if (j.contains("update_of")) return;
        Notification m = notification_from_json(j.value("message", nlohmann::json::object()));
        int64_t request = m.permission_request;
        std::string notifier = j.value("notifier", "");
        if (request <= 0 || !m_takes_updates(notifier)) return;
        Shown& s = m_shown[ev.seq];
        s.request = request;
        s.session = ev.session;
        s.notifier = notifier;
        s.rule = j.value("rule", "");
        s.message = std::move(m);
        m_by_request[request].insert(ev.seq);
        break;
    }
    case EventKind::NotificationSent:
        on_sent(ev);
        break;
    case EventKind::NotificationFailed:
        if (ev.json().value("final", false)) forget(ev.json().value("queued", int64_t{0}));
        break;
    case EventKind::PermissionDecided:
        on_decided(ev);
        break;
    case EventKind::SessionExited:
        for (auto it = m_latest.begin(); it != m_latest.end();)
            it = it->first.second == ev.session ? m_latest.erase(it) : std::next(it);
        break;
    default:
        break;
    }
}

void MessageUpdates::on_sent(const Event& ev) {
    auto j = ev.json();
    std::string receipt = j.value("receipt", "");
    int64_t key = j.value("queued", int64_t{0});
    if (!receipt.empty() && !j.contains("update_of")) m_latest[{j.value("notifier", ""), ev.session}] = receipt;
    auto it = m_shown.find(key);
    if (it == m_shown.end()) return;
    if (receipt.empty()) return forget(key);  // nothing names the message to revise
    it->second.receipt = receipt;
    it->second.sent = true;
    if (auto d = m_decided.find(it->second.request); d != m_decided.end()) {
        queue_update(key, it->second, d->second);
        forget(key);
    }
}

void MessageUpdates::on_decided(const Event& ev) {
    auto fact = ev.json();
    int64_t request = fact.value("request", int64_t{0});
    auto keys = m_by_request.find(request);
    if (keys == m_by_request.end()) return;
    Outcome o{ev.seq, ev.time_us, fact};
    std::set<int64_t> copy = keys->second;
    bool waiting = false;
    for (int64_t key : copy) {
        const Shown& s = m_shown.at(key);
        if (!s.sent) {
            waiting = true;  // updated once its delivery is sent
            continue;
        }
        queue_update(key, s, o);
        forget(key);
    }
    if (waiting) m_decided[request] = std::move(o);
}

void MessageUpdates::queue_update(int64_t key, const Shown& s, const Outcome& o) {
    m_outbox.enqueue(s.session, s.rule, s.notifier, o.seq, 0, update_message(s.message, s.receipt, o.fact, o.time_us), key);
}

void MessageUpdates::forget(int64_t key) {
    auto it = m_shown.find(key);
    if (it == m_shown.end()) return;
    int64_t request = it->second.request;
    m_shown.erase(it);
    auto keys = m_by_request.find(request);
    if (keys == m_by_request.end()) return;
    keys->second.erase(key);
    if (keys->second.empty()) {
        m_by_request.erase(keys);
        m_decided.erase(request);
    }
}

}  // namespace tether
