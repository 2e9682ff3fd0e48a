// MessageUpdates: keeps what notifiers showed true. It remembers the receipts plugins give
// for their deliveries (NotificationSent.receipt, ABI 1.2): the latest one per notifier
// and session goes back to the plugin with that session's next messages (so a Slack
// thread continues after a restart; rebuilt from the log at start), and the deliveries
// that showed a pending permission request are revised once that request is decided,
// wherever it was: one update per delivery, queued through the outbox (NotificationQueued
// with update_of), so it is durable and retried like any notification. Which plugin takes
// updates, and how a message is sent, belong to Notifications and the plugin host.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "notify/outbox.h"
#include "state/store.h"

namespace tether {

class MessageUpdates {
public:
    // takes_updates(notifier): does that notifier's plugin revise what it showed?
    MessageUpdates(Store& store, Outbox& outbox, std::function<bool(const std::string&)> takes_updates);

    // Every committed event (Notifications hands them on, from its place in the pipeline).
    void on_committed(const Event& ev);

    // At start-up: the latest receipt of each notifier in each live session, from the log.
    Status load();
    // The receipt of notifier's latest delivery in session, "" for none.
    std::string session_receipt(const std::string& notifier, int64_t session) const;

    // The message an update carries: the original's fields, and "update" with the
    // receipt to revise and the outcome (fields of PermissionDecided).
    static Notification update_message(const Notification& original, const std::string& receipt,
                                       const nlohmann::json& decided, int64_t decided_us);

private:
    struct Shown {  // a delivery that showed a pending request
        int64_t request = 0, session = 0;
        std::string notifier, rule, receipt;
        Notification message;
        bool sent = false;
    };
    struct Outcome {
        int64_t seq = 0, time_us = 0;
        nlohmann::json fact;  // PermissionDecided's payload
    };
    void on_sent(const Event& ev);
    void on_decided(const Event& ev);
    void queue_update(int64_t key, const Shown& s, const Outcome& o);
    void forget(int64_t key);

    Store& m_store;
    Outbox& m_outbox;
    std::function<bool(const std::string&)> m_takes_updates;
    std::map<std::pair<std::string, int64_t>, std::string> m_latest;  // (notifier, session) -> receipt
    std::map<int64_t, Shown> m_shown;                                  // by queued seq
    std::map<int64_t, std::set<int64_t>> m_by_request;                 // request -> queued seqs
    std::map<int64_t, Outcome> m_decided;  // decided requests whose deliveries are still on their way
};

}  // namespace tether
