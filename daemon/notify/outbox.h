// Outbox: durable notification delivery. A queued notification is an event
// (NotificationQueued, whose seq is the idempotency key every delivery carries); after
// its commit a sender (the plugin host, off the loop) delivers it; the outcome is an
// event (NotificationSent, with the receipt the plugin gave, or NotificationFailed with
// the error and attempt number).
// Failures retry with exponential backoff and jitter up to a limit. A starting daemon
// resumes whatever the log shows queued and neither sent nor finally failed. Nothing is
// lost; in the normal path nothing is sent twice (a crash between a send and its
// record can repeat it once: receivers dedupe on the key).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "base/event_loop.h"
#include "notifier/notification.h"
#include "state/store.h"

namespace tether {

struct OutboxOptions {
    int max_attempts = 8;
    long base_backoff_ms = 1000;
    long max_backoff_ms = 5 * 60 * 1000;
};

class Outbox {
public:
    // done: ok; else whether to retry, and the error text (never a secret).
    // done: ok (with the plugin's receipt, "" for none); else whether to retry, and the
    // error text (never a secret).
    using SendDone = std::function<void(bool ok, bool retryable, const std::string& error, const std::string& receipt)>;
    // Must not block: it hands the work to another thread and calls done on the loop.
    // maybe_delivered: an earlier attempt may have reached the receiver (a retry, or a
    // delivery resumed after a restart).
    using Sender = std::function<void(const std::string& notifier, const Notification& message, int64_t key,
                                      int attempt, bool maybe_delivered, SendDone done)>;

    Outbox(EventLoop& loop, Store& store, Sender sender, OutboxOptions options = {});
    ~Outbox();

    // Appends NotificationQueued; delivery starts once it is committed. escalation_of:
    // the EscalationScheduled seq this fulfils, 0 for a first notification.
    // update_of: the queued seq of the delivery this one revises (its request was
    // decided), else 0.
    int64_t enqueue(int64_t session, const std::string& rule, const std::string& notifier, int64_t cause,
                    int64_t escalation_of, const Notification& message, int64_t update_of = 0);
    // At start-up: re-queues (in memory) every delivery the log does not show finished.
    Result<size_t> resume();
    size_t in_flight() const { return m_items.size(); }

    // The Store listener (the Daemon wires it, in the pipeline's order): a committed
    // NotificationQueued starts its delivery.
    void on_committed(const Event& ev);

private:
    struct Item;
    void start(int64_t key);
    void finished(int64_t key, bool ok, bool retryable, const std::string& error, const std::string& receipt);
    long backoff_ms(int attempt);

    EventLoop& m_loop;
    Store& m_store;
    Sender m_sender;
    OutboxOptions m_options;
    std::map<int64_t, std::unique_ptr<Item>> m_items;  // by queued seq
    std::mt19937 m_rng{std::random_device{}()};
    std::shared_ptr<bool> m_alive = std::make_shared<bool>(true);
};

}  // namespace tether
