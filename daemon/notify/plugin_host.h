// PluginHost: the daemon's notifier plugin instances (notifier/notifier_instance.h) and
// their deliveries: each send runs off the loop on a DeadlinePool with a timeout, and its
// outcome, like a plugin's events and decisions, comes back on the loop thread through
// the loop's mailbox. Finding and loading plugins is notifier/notifier_library.h's; which
// notification goes where, retries and their events belong to the rules and the outbox.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/event_loop.h"
#include "base/mailbox.h"
#include "base/result.h"
#include "notifier/notification.h"
#include "notifier/notifier_instance.h"
#include "notifier/notifier_library.h"

namespace tether {

class DeadlinePool;

// Something a plugin reported through notifier_host.event (e.g. "no_audio_device").
struct PluginEvent {
    uint64_t instance = 0;
    std::string label;   // the instance's label
    std::string plugin;  // the plugin's name
    std::string code, text;
};

// A permission decision a plugin made through notifier_host.decide (ABI 1.1).
struct PluginDecision {
    uint64_t instance = 0;
    std::string label;   // the instance's label: the notifier's name in the config
    int64_t request = 0;
    bool allow = false;
    std::string message;
};

// An answer a plugin gave through notifier_host.answer (ABI 1.2), with who gave it.
struct PluginAnswer {
    uint64_t instance = 0;
    std::string label;   // the instance's label: the notifier's name in the config
    std::string plugin;  // the plugin's name: "by" is "<plugin>:<who>"
    NotifierAnswer answer;
};

struct PluginHostOptions {
    std::vector<std::string> search_path;  // plugin_search_path(config extras) for the daemon
    int threads = 2;
    long send_timeout_ms = 10000;  // per send, unless create() is given one
    // Per instance: sends past their timeout whose call has not returned yet. At this
    // many, deliveries to that instance fail at once (retryable) instead of taking a thread.
    int max_overdue_sends = 2;
    // How long notifier_host.answer waits for the loop before it says "unconfirmed".
    long answer_wait_ms = 5000;
};

// Call every method on the loop thread. Libraries stay loaded as long as the host (the
// daemon keeps one for its lifetime) and as long as any instance from them; an instance
// is destroyed (the plugin's destroy) before its library can be unloaded, and only after
// every send on it has returned.
//
// Timeouts: a send past its timeout is reported as a retryable failure right away; its
// worker thread is abandoned to finish the call and a new worker takes its place, so a
// hung plugin never blocks deliveries to others. Each instance may have at most
// max_overdue_sends such calls outstanding, which bounds the threads a hung plugin costs.
class PluginHost {
public:
    using InstanceId = uint64_t;
    using Done = std::function<void(DeliveryResult)>;

    PluginHost(EventLoop& loop, PluginHostOptions options);
    // Blocks until the sends in progress return or time out; queued ones are dropped
    // without their done being called.
    ~PluginHost();
    PluginHost(const PluginHost&) = delete;
    PluginHost& operator=(const PluginHost&) = delete;

    // plugin: a name ("webhook": tether-notifier-webhook.so along the search path) or a
    // path containing '/'. Loads once (later calls reuse the library) and checks the ABI.
    Result<PluginInfo> load(const std::string& plugin);

    // Loads the plugin and creates an instance. label names it in logs and events
    // (default: the plugin name); timeout_ms 0 means the host's send_timeout_ms.
    Result<InstanceId> create(const std::string& plugin, const PluginOptions& options,
                              const std::string& label = "", long timeout_ms = 0);

    // Forgets the instance; the plugin's destroy runs once its sends in progress return.
    void destroy(InstanceId id);

    // Runs the plugin's send (its update, for a message with an update) on a worker thread;
    // done is called on the loop thread, exactly once, never from inside deliver. key: the
    // idempotency key. An update to an instance that takes none succeeds at once: there is
    // nothing it could revise.
    void deliver(InstanceId id, Notification message, std::string key, uint32_t attempt, DeliveryContext context,
                 Done done);
    // Whether the instance's plugin revises what it showed (ABI 1.2 update).
    bool takes_updates(InstanceId id) const;

    // Called on the loop thread for each notifier_host.event from any plugin.
    void on_event(std::function<void(const PluginEvent&)> fn) { m_on_event = std::move(fn); }
    // Called on the loop thread for each notifier_host.decide from any plugin; without a
    // handler the decision is logged and dropped.
    void on_decision(std::function<void(const PluginDecision&)> fn) { m_on_decision = std::move(fn); }
    // Called on the loop thread for each notifier_host.answer; its outcome goes back to the
    // plugin's waiting thread. Without a handler the answer is refused as not pending.
    void on_answer(std::function<AnswerOutcome(const PluginAnswer&)> fn) { m_on_answer = std::move(fn); }

    // Secret option values (every notifier's, from the configuration): instances created
    // from now on have each scrubbed from their errors, log lines and events, whoever's
    // secret it is. A plugin scrubs its own; this is the second line.
    void set_secrets(std::vector<std::string> secrets) { m_secrets = std::move(secrets); }

    // Sends past their timeout that have not returned yet, over all instances.
    size_t overdue_sends() const;

private:
    struct Instance;
    struct Job;
    struct AnswerWaits;

    NotifierCalls calls_for(InstanceId id, const std::string& label, const std::string& plugin,
                            const std::shared_ptr<AnswerWaits>& waits);

    EventLoop& m_loop;
    PluginHostOptions m_options;
    std::unique_ptr<Mailbox> m_mailbox;  // worker and plugin threads -> loop thread
    NotifierLibraries m_libraries;
    std::map<InstanceId, std::shared_ptr<Instance>> m_instances;
    InstanceId m_next_id = 1;
    std::function<void(const PluginEvent&)> m_on_event;
    std::function<void(const PluginDecision&)> m_on_decision;
    std::function<AnswerOutcome(const PluginAnswer&)> m_on_answer;
    std::unique_ptr<DeadlinePool> m_pool;
    std::thread::id m_loop_thread;  // where create and destroy run: answer refuses it
    std::vector<std::string> m_secrets;
};

}  // namespace tether
