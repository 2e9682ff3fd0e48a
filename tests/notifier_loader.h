// Plugin unit tests load the built module exactly as the daemon does, through the C ABI
// of notifier_abi.h (dlopen + notifier_plugin_entry), and record what the plugin tells
// its host (log lines, events, answers to requests), so tests can check that no secret
// reaches them. Answers get the outcome the test sets, as the daemon would give.
#pragma once

#include <dlfcn.h>

#include <cstdio>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "notifier_abi.h"

namespace tether::test {

// A message with every field owned; to_abi() borrows them.
struct TestMessage {
    std::string idempotency_key = "1";
    uint32_t attempt = 1;
    int64_t time_ms = 1795000000123;
    std::string rule = "permission", session_id = "7", session_name = "api", agent = "claude";
    std::string state_from = "running", state_to = "needs_permission", kind = "permission";
    std::string title = "api needs permission", body = "Bash: make deploy";
    std::string tool = "Bash", tool_input_json = R"({"command":"make deploy"})";
    std::string cwd = "/home/me/api", message = "", json_payload = "{}";
    int64_t permission_request = 0;
    std::string always_json, session_receipt;
    bool maybe_delivered = false;
    // For update():
    std::string update_receipt, decision, decided_by, decision_message;
    int64_t decided_time_ms = 0;
    bool decided_always = false;

    // receipt: the buffer the plugin may write into (NOTIFIER_RECEIPT_MAX bytes).
    notifier_message to_abi(char* receipt = nullptr) const {
        notifier_message m{};
        m.abi_major = NOTIFIER_ABI_MAJOR;
        m.abi_minor = NOTIFIER_ABI_MINOR;
        m.struct_size = sizeof m;
        m.idempotency_key = idempotency_key.c_str();
        m.attempt = attempt;
        m.time_ms = time_ms;
        m.rule = rule.c_str();
        m.session_id = session_id.c_str();
        m.session_name = session_name.c_str();
        m.agent = agent.c_str();
        m.state_from = state_from.c_str();
        m.state_to = state_to.c_str();
        m.kind = kind.c_str();
        m.title = title.c_str();
        m.body = body.c_str();
        m.tool = tool.c_str();
        m.tool_input_json = tool_input_json.c_str();
        m.cwd = cwd.c_str();
        m.message = message.c_str();
        m.json_payload = json_payload.c_str();
        m.permission_request = permission_request;
        m.always_json = always_json.c_str();
        m.session_receipt = session_receipt.c_str();
        m.maybe_delivered = maybe_delivered ? 1 : 0;
        m.receipt = receipt;
        m.receipt_size = receipt ? NOTIFIER_RECEIPT_MAX : 0;
        m.update_receipt = update_receipt.c_str();
        m.decision = decision.c_str();
        m.decided_by = decided_by.c_str();
        m.decision_message = decision_message.c_str();
        m.decided_time_ms = decided_time_ms;
        m.decided_always = decided_always ? 1 : 0;
        return m;
    }
};

struct SendResult {
    int status = NOTIFIER_OK;
    std::string error;
    std::string receipt;  // what the plugin wrote (ABI 1.2)
};

// One notifier_host.answer call as the plugin made it.
struct RecordedAnswer {
    int64_t request = 0;
    int decision = 0;
    bool always = false;
    std::string message, who, session_id;
};

class LoadedNotifier {
public:
    explicit LoadedNotifier(const std::string& path) {
        m_lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!m_lib) throw std::runtime_error(std::string("dlopen: ") + dlerror());
        auto entry = reinterpret_cast<notifier_plugin_entry_fn>(dlsym(m_lib, "notifier_plugin_entry"));
        if (!entry) throw std::runtime_error("no notifier_plugin_entry in " + path);
        m_plugin = entry();
        // No decide (1.1): the chat plugins answer through answer (1.2).
        m_host = {NOTIFIER_ABI_MAJOR, NOTIFIER_ABI_MINOR, sizeof(notifier_host), this, &on_log, &on_event, nullptr, &on_answer};
    }
    ~LoadedNotifier() {
        if (m_self) m_plugin->destroy(m_self);
        dlclose(m_lib);
    }
    LoadedNotifier(const LoadedNotifier&) = delete;
    LoadedNotifier& operator=(const LoadedNotifier&) = delete;

    const notifier_plugin& plugin() const { return *m_plugin; }

    // Creates the instance; returns "" or create's error text.
    std::string create(const std::map<std::string, std::string>& options) {
        std::vector<notifier_kv> kv;
        for (const auto& [k, v] : options) kv.push_back({k.c_str(), v.c_str()});
        char err[NOTIFIER_ERROR_MAX] = "";
        if (m_self) m_plugin->destroy(m_self);
        m_self = m_plugin->create(&m_host, kv.data(), kv.size(), err, sizeof err);
        return m_self ? "" : (err[0] ? err : "create failed without a reason");
    }

    // Destroys the instance now (its threads stop), e.g. to read its last words.
    void destroy() {
        if (m_self) m_plugin->destroy(m_self);
        m_self = nullptr;
    }

    SendResult send(const TestMessage& msg) {
        char receipt[NOTIFIER_RECEIPT_MAX] = "";
        notifier_message m = msg.to_abi(receipt);
        char err[NOTIFIER_ERROR_MAX] = "";
        int rc = m_plugin->send(m_self, &m, err, sizeof err);
        return {rc, err, receipt};
    }
    // The ABI 1.2 update, or NOTIFIER_FAIL "no update" when the plugin has none.
    SendResult update(const TestMessage& msg) {
        if (!NOTIFIER_HAS_FIELD(m_plugin, notifier_plugin, update) || !m_plugin->update) return {NOTIFIER_FAIL, "no update", ""};
        char receipt[NOTIFIER_RECEIPT_MAX] = "";
        notifier_message m = msg.to_abi(receipt);
        char err[NOTIFIER_ERROR_MAX] = "";
        int rc = m_plugin->update(m_self, &m, err, sizeof err);
        return {rc, err, receipt};
    }

    // What the next answers hear back.
    void set_answer_outcome(int status, const std::string& reason) {
        std::lock_guard lock(m_mutex);
        m_answer_status = status;
        m_answer_reason = reason;
    }
    std::vector<RecordedAnswer> answers() const {
        std::lock_guard lock(m_mutex);
        return m_answers;
    }
    // Blocks until n answers came or timeout_ms passed.
    std::vector<RecordedAnswer> wait_for_answers(size_t n, long timeout_ms = 10000) const {
        std::unique_lock lock(m_mutex);
        m_cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return m_answers.size() >= n; });
        return m_answers;
    }
    // Blocks until an event with code came (true) or timeout_ms passed (false).
    bool wait_for_event(const std::string& code, long timeout_ms = 10000) const {
        std::unique_lock lock(m_mutex);
        return m_cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
            for (const auto& c : m_event_codes)
                if (c == code) return true;
            return false;
        });
    }

    // Everything the plugin passed to the host's log and event callbacks, one per line.
    std::string host_output() const {
        std::lock_guard lock(m_mutex);
        return m_output;
    }
    std::vector<std::string> event_codes() const {
        std::lock_guard lock(m_mutex);
        return m_event_codes;
    }

private:
    static void on_log(void* ctx, int level, const char* text) {
        auto* self = static_cast<LoadedNotifier*>(ctx);
        std::lock_guard lock(self->m_mutex);
        self->m_output += "log " + std::to_string(level) + ": " + (text ? text : "") + "\n";
    }
    static void on_event(void* ctx, const char* code, const char* text) {
        auto* self = static_cast<LoadedNotifier*>(ctx);
        {
            std::lock_guard lock(self->m_mutex);
            self->m_event_codes.push_back(code ? code : "");
            self->m_output += std::string("event ") + (code ? code : "") + ": " + (text ? text : "") + "\n";
        }
        self->m_cv.notify_all();
    }
    static int on_answer(void* ctx, const notifier_answer* a, char* reason, size_t reasonlen) {
        auto* self = static_cast<LoadedNotifier*>(ctx);
        int status;
        std::string text;
        {
            std::lock_guard lock(self->m_mutex);
            self->m_answers.push_back({a->request, a->decision, a->always != 0, a->message ? a->message : "",
                                       a->who ? a->who : "", a->session_id ? a->session_id : ""});
            status = self->m_answer_status;
            text = self->m_answer_reason;
        }
        self->m_cv.notify_all();
        snprintf(reason, reasonlen, "%s", text.c_str());
        return status;
    }

    void* m_lib = nullptr;
    const notifier_plugin* m_plugin = nullptr;
    void* m_self = nullptr;
    notifier_host m_host{};
    mutable std::mutex m_mutex;
    mutable std::condition_variable m_cv;
    std::string m_output;
    std::vector<std::string> m_event_codes;
    std::vector<RecordedAnswer> m_answers;
    int m_answer_status = NOTIFIER_ANSWER_DECIDED;
    std::string m_answer_reason = "request decided";
};

}  // namespace tether::test
