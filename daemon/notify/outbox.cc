// Durable delivery with retries.
#include "notify/outbox.h"

#include "base/log.h"
#include "log/fact_queries.h"

namespace tether {

struct Outbox::Item {
    int64_t session = 0;
    std::string notifier;
    Notification message;
    int attempts = 0;  // finished attempts
    bool resumed = false;  // after a restart: an attempt may have been cut short unrecorded
    int64_t update_of = 0;
    int64_t started_us = 0;
    bool sending = false;
    std::unique_ptr<Timer> retry;
};

Outbox::Outbox(EventLoop& loop, Store& store, Sender sender, OutboxOptions options)
    : m_loop(loop), m_store(store), m_sender(std::move(sender)), m_options(options) {}

Outbox::~Outbox() = default;

int64_t Outbox::enqueue(int64_t session, const std::string& rule, const std::string& notifier, int64_t cause,
                        int64_t escalation_of, const Notification& message, int64_t update_of) {
    nlohmann::json fact{{"rule", rule}, {"notifier", notifier}, {"cause", cause}, {"message", notification_json(message)}};
    if (escalation_of) fact["escalation_of"] = escalation_of;
    if (update_of) fact["update_of"] = update_of;
    return m_store.append(make_json_event(session, EventKind::NotificationQueued, fact)).seq;
}

void Outbox::on_committed(const Event& ev) {
    if (ev.kind != EventKind::NotificationQueued) return;
    auto j = ev.json();
    auto item = std::make_unique<Item>();
    item->session = ev.session;
    item->notifier = j.value("notifier", "");
    item->message = notification_from_json(j.value("message", nlohmann::json::object()));
    item->update_of = j.value("update_of", int64_t{0});
    m_items[ev.seq] = std::move(item);
    start(ev.seq);
}

Result<size_t> Outbox::resume() {
    // Queued, and neither sent nor finally failed: the log is the outbox.
    auto open = open_facts(m_store.log(), EventKind::NotificationQueued,
                           {{EventKind::NotificationSent, "queued", ""}, {EventKind::NotificationFailed, "queued", "final"}},
                           FactRef{EventKind::NotificationFailed, "queued", ""});
    if (!open) return open.error();
    for (const OpenFact& f : *open) {
        auto j = nlohmann::json::parse(f.payload, nullptr, false);
        auto item = std::make_unique<Item>();
        item->session = f.session;
        item->notifier = j.is_object() ? j.value("notifier", "") : "";
        item->message = notification_from_json(j.is_object() ? j.value("message", nlohmann::json::object()) : nlohmann::json());
        item->attempts = static_cast<int>(f.counted);
        item->resumed = true;
        item->update_of = j.is_object() ? j.value("update_of", int64_t{0}) : 0;
        m_items[f.seq] = std::move(item);
    }
    for (const OpenFact& f : *open) start(f.seq);
    return open->size();
}

long Outbox::backoff_ms(int attempt) {
    long base = m_options.base_backoff_ms;
    for (int i = 1; i < attempt && base < m_options.max_backoff_ms; ++i) base *= 2;
    base = std::min(base, m_options.max_backoff_ms);
    // Full jitter on the upper half, so retries from many sessions do not line up.
    std::uniform_int_distribution<long> jitter(base / 2, std::max(base / 2, base));
    return jitter(m_rng);
}

void Outbox::start(int64_t key) {
    auto it = m_items.find(key);
    if (it == m_items.end() || it->second->sending) return;
    Item& item = *it->second;
    item.sending = true;
    item.started_us = now_us();
    std::weak_ptr<bool> alive = m_alive;
    m_sender(item.notifier, item.message, key, item.attempts + 1, item.resumed || item.attempts > 0,
             [this, alive, key](bool ok, bool retryable, const std::string& error, const std::string& receipt) {
                 if (alive.lock()) finished(key, ok, retryable, error, receipt);
             });
}

void Outbox::finished(int64_t key, bool ok, bool retryable, const std::string& error, const std::string& receipt) {
    auto it = m_items.find(key);
    if (it == m_items.end()) return;
    Item& item = *it->second;
    item.sending = false;
    int attempt = ++item.attempts;
    if (ok) {
        nlohmann::json fact{{"queued", key}, {"attempt", attempt}, {"latency_ms", (now_us() - item.started_us) / 1000},
                            {"notifier", item.notifier}};
        if (!receipt.empty()) fact["receipt"] = receipt;
        if (item.update_of) fact["update_of"] = item.update_of;
        m_store.append(make_json_event(item.session, EventKind::NotificationSent, fact));
        m_items.erase(it);
        return;
    }
    bool final = !retryable || attempt >= m_options.max_attempts;
    nlohmann::json fact{{"queued", key}, {"attempt", attempt}, {"error", error}, {"final", final}};
    if (final) {
        m_store.append(make_json_event(item.session, EventKind::NotificationFailed, fact));
        log_warn("notification " + std::to_string(key) + " via " + item.notifier + " failed for good: " + error);
        m_items.erase(it);
        return;
    }
    long wait = backoff_ms(attempt);
    fact["retry_in_ms"] = wait;
    m_store.append(make_json_event(item.session, EventKind::NotificationFailed, fact));
    item.retry = std::make_unique<Timer>(m_loop, [this, key] { start(key); });
    item.retry->arm_ms(wait);
}

}  // namespace tether
