// NotifierInstance: one created plugin instance and the calls of the ABI on it: create
// with options, send one Notification (lent to a notifier_message for the call), and the
// plugin's destroy when the last holder lets go. The host side of notifier_host (log,
// event, decide) is here too; what becomes of an event or a decision is the owner's,
// through NotifierCalls. Blocking: the daemon's plugin host runs sends off its loop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "notifier/notification.h"
#include "notifier/notifier_library.h"

struct notifier_host;
struct notifier_answer;

namespace tether {

struct DeliveryResult {
    enum class Status { Ok, Retry, Fail };
    Status status = Status::Ok;
    std::string error;    // the plugin's text, "timed out after 100 ms", ...; "" when Ok
    long elapsed_ms = 0;  // of the send call (the timeout, when it timed out)
    std::string receipt;  // what the plugin wrote into notifier_message.receipt (ABI 1.2), when Ok

    bool ok() const { return status == Status::Ok; }
    bool retryable() const { return status == Status::Retry; }
};

// What one delivery adds to its Notification (ABI 1.2).
struct DeliveryContext {
    std::string session_receipt;  // the receipt of this notifier's latest delivery in the session
    bool maybe_delivered = false;  // an earlier attempt may have reached the receiver
};

// An answer a plugin gave through notifier_host.answer (ABI 1.2), checked for form.
struct NotifierAnswer {
    int64_t request = 0;
    bool allow = false, always = false;
    std::string message, who, session_id;
};

// What became of an answer: a NOTIFIER_ANSWER_* status and a sentence for the person.
struct AnswerOutcome {
    int status = 0;
    std::string reason;
};

// What the instance's notifier_host callbacks hand on. Called on any thread (the
// plugin's own, or a worker inside send); either may be empty.
struct NotifierCalls {
    // notifier_host.event: a condition the plugin reports (e.g. "no_audio_device").
    std::function<void(const std::string& code, const std::string& text)> event;
    // notifier_host.log: a line for the diagnostic log; empty: straight to log_line.
    std::function<void(int level, const std::string& text)> log;
    // notifier_host.decide (ABI 1.1): false for a bad argument.
    std::function<void(int64_t request, bool allow, const std::string& message)> decide;
    // notifier_host.answer (ABI 1.2): blocks the plugin's thread until the outcome is known;
    // empty: every answer is refused as not pending.
    std::function<AnswerOutcome(const NotifierAnswer&)> answer;
};

class NotifierInstance {
public:
    // Creates an instance of the library's plugin. label names it in log lines (the
    // notifier's name in the config; default: the plugin's name); where starts an error
    // (NotifierLibraries::where).
    static Result<std::shared_ptr<NotifierInstance>> create(std::shared_ptr<const NotifierLibrary> library,
                                                            const std::string& where, const PluginOptions& options,
                                                            std::string label, NotifierCalls calls);
    ~NotifierInstance();  // the plugin's destroy; whichever thread lets go last
    NotifierInstance(const NotifierInstance&) = delete;
    NotifierInstance& operator=(const NotifierInstance&) = delete;

    // One send (the plugin's update, for a Notification with an update), blocking; key is
    // the idempotency key, the same on every attempt.
    DeliveryResult send(const Notification& n, const std::string& key, uint32_t attempt,
                        const DeliveryContext& context = {}) const;
    // Whether the plugin revises what it showed (declares ABI 1.2 and has update).
    bool takes_updates() const;

    const std::string& label() const { return m_label; }
    const char* plugin_name() const;

private:
    NotifierInstance() = default;
    static void host_log(void* ctx, int level, const char* text);
    static void host_event(void* ctx, const char* code, const char* text);
    static int host_decide(void* ctx, int64_t request, int decision, const char* message);
    static int host_answer(void* ctx, const struct notifier_answer* answer, char* reason, size_t reasonlen);

    std::shared_ptr<const NotifierLibrary> m_library;  // outlives the plugin's instance
    std::string m_label;
    NotifierCalls m_calls;
    std::unique_ptr<notifier_host> m_host;  // ctx is this; valid until destroy returns
    void* m_self = nullptr;
};

// Loads the plugin (a name or a path, as NotifierLibraries::load) and creates an instance.
Result<std::shared_ptr<NotifierInstance>> create_notifier(NotifierLibraries& libraries, const std::string& plugin,
                                                          const PluginOptions& options, std::string label = "",
                                                          NotifierCalls calls = {});

// What a plugin receives in notifier_message.json_payload: the notification's JSON form
// (notification.h) with its idempotency_key and attempt.
nlohmann::json notifier_payload(const Notification& n, const std::string& key, uint32_t attempt);

}  // namespace tether
