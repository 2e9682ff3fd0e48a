// Plugin unit tests load the built module exactly as the daemon does, through the C ABI
// of notifier_abi.h (dlopen + notifier_plugin_entry), and record what the plugin tells
// its host (log lines and events), so tests can check that no secret reaches them.
#pragma once

#include <dlfcn.h>

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

    notifier_message to_abi() const {
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
        return m;
    }
};

struct SendResult {
    int status = NOTIFIER_OK;
    std::string error;
};

class LoadedNotifier {
public:
    explicit LoadedNotifier(const std::string& path) {
        m_lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!m_lib) throw std::runtime_error(std::string("dlopen: ") + dlerror());
        auto entry = reinterpret_cast<notifier_plugin_entry_fn>(dlsym(m_lib, "notifier_plugin_entry"));
        if (!entry) throw std::runtime_error("no notifier_plugin_entry in " + path);
        m_plugin = entry();
        m_host = {NOTIFIER_ABI_MAJOR, NOTIFIER_ABI_MINOR, sizeof(notifier_host), this, &on_log, &on_event, nullptr};  // no decide: these plugins never answer requests
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

    SendResult send(const TestMessage& msg) {
        notifier_message m = msg.to_abi();
        char err[NOTIFIER_ERROR_MAX] = "";
        int rc = m_plugin->send(m_self, &m, err, sizeof err);
        return {rc, err};
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
        std::lock_guard lock(self->m_mutex);
        self->m_event_codes.push_back(code ? code : "");
        self->m_output += std::string("event ") + (code ? code : "") + ": " + (text ? text : "") + "\n";
    }

    void* m_lib = nullptr;
    const notifier_plugin* m_plugin = nullptr;
    void* m_self = nullptr;
    notifier_host m_host{};
    mutable std::mutex m_mutex;
    std::string m_output;
    std::vector<std::string> m_event_codes;
};

}  // namespace tether::test
