// PluginHost: finds notifier plugins (tether-notifier-<name>.so) along a search path,
// loads them with Boost.DLL, checks their ABI (plugins/notifier_abi.h), creates instances
// with options, and delivers messages to them off the loop, with a timeout per send,
// reporting each outcome back on the loop thread. Which notification goes where, retries
// and their events belong to the rules and the outbox.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/event_loop.h"
#include "base/result.h"

struct event;
struct notifier_answer;

namespace tether {

class DeadlinePool;

// The standard search path, in order: extra (from the config), the running binary's
// directory and <bindir>/../lib/tether/plugins (the build tree and an install look the
// same), ~/.local/lib/tether/plugins, <install prefix>/lib/tether/plugins.
std::vector<std::string> plugin_search_path(const std::vector<std::string>& extra = {});

using PluginOptions = std::map<std::string, std::string>;  // flat, as the ABI passes them

struct PluginInfo {
    std::string name;         // what the plugin calls itself
    std::string description;
    std::string path;         // the file loaded
    uint32_t abi_major = 0, abi_minor = 0;
};

// One notification, owned; turned into a notifier_message (borrowing these strings) for
// the length of one send. Field meanings are those of notifier_message.
struct NotifierMessage {
    std::string idempotency_key;
    uint32_t attempt = 1;
    int64_t time_ms = 0;
    std::string rule, session_id, session_name, agent, state_from, state_to, kind;
    std::string title, body, tool, tool_input_json, cwd, message;
    std::vector<std::pair<std::string, std::string>> rule_options;
    std::string json_payload;  // empty: to_json(*this) is sent
    int64_t permission_request = 0;  // ABI 1.1
    // ABI 1.2.
    std::string always_json, session_receipt;
    bool maybe_delivered = false;
    // An update (plugin's update, not send): the outcome of permission_request for the
    // delivery whose receipt is update_receipt.
    bool is_update = false;
    std::string update_receipt, decision, decided_by, decision_message;
    int64_t decided_time_ms = 0;
    bool decided_always = false;
};

// Everything but json_payload, as the JSON object plugins receive in json_payload.
nlohmann::json to_json(const NotifierMessage& m);

struct DeliveryResult {
    enum class Status { Ok, Retry, Fail };
    Status status = Status::Ok;
    std::string error;    // the plugin's text, "timed out after 100 ms", ...; "" when Ok
    long elapsed_ms = 0;  // of the send call (the timeout, when it timed out)
    std::string receipt;  // what the plugin wrote into notifier_message.receipt (ABI 1.2), when Ok

    bool ok() const { return status == Status::Ok; }
    bool retryable() const { return status == Status::Retry; }
};

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

// An answer a plugin gave through notifier_host.answer (ABI 1.2).
struct PluginAnswer {
    uint64_t instance = 0;
    std::string label;   // the instance's label: the notifier's name in the config
    std::string plugin;  // the plugin's name: "by" is "<plugin>:<who>"
    int64_t request = 0;
    bool allow = false, always = false;
    std::string message, who, session_id;
};

// What became of it: a NOTIFIER_ANSWER_* status and a sentence for the person.
struct AnswerOutcome {
    int status = 0;
    std::string reason;
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
    using Message = NotifierMessage;
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

    // Runs the plugin's send (its update, for message.is_update) on a worker thread; done
    // is called on the loop thread, exactly once, never from inside deliver. An update to
    // an instance that takes none succeeds at once: there is nothing it could revise.
    void deliver(InstanceId id, Message message, Done done);
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

    // Sends past their timeout that have not returned yet, over all instances.
    size_t overdue_sends() const;

private:
    struct Library;
    struct Instance;
    struct Job;
    struct Mailbox;

    Result<std::string> resolve(const std::string& plugin) const;
    Result<std::shared_ptr<Library>> load_library(const std::string& plugin);
    void post(std::function<void()> fn);
    static void mailbox_cb(int, short, void* self);
    void run_mailbox();
    // notifier_host callbacks; ctx is the Instance. Any thread.
    static void host_log(void* ctx, int level, const char* text);
    static void host_event(void* ctx, const char* code, const char* text);
    static int host_decide(void* ctx, int64_t request, int decision, const char* message);
    static int host_answer(void* ctx, const struct notifier_answer* answer, char* reason, size_t reasonlen);

    EventLoop& m_loop;
    PluginHostOptions m_options;
    std::shared_ptr<Mailbox> m_mailbox;  // worker threads -> loop thread
    std::map<std::string, std::shared_ptr<Library>> m_libraries;  // by path
    std::map<InstanceId, std::shared_ptr<Instance>> m_instances;
    InstanceId m_next_id = 1;
    std::function<void(const PluginEvent&)> m_on_event;
    std::function<void(const PluginDecision&)> m_on_decision;
    std::function<AnswerOutcome(const PluginAnswer&)> m_on_answer;
    std::unique_ptr<DeadlinePool> m_pool;
    std::thread::id m_loop_thread;  // where create and destroy run: answer refuses it
};

}  // namespace tether
