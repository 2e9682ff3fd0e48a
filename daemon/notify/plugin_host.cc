// Deliveries through a DeadlinePool, and the plugins' callbacks, back on the loop.
#include "notify/plugin_host.h"

#include <atomic>
#include <chrono>
#include <exception>

#include "base/deadline_pool.h"
#include "base/log.h"
#include "base/text.h"
#include "notifier_abi.h"

namespace tether {

// One created plugin instance. Owned by the host's table and by every job on it, so the
// plugin's destroy runs after the last send on it returns, whichever thread that is on.
struct PluginHost::Instance {
    std::shared_ptr<NotifierInstance> notifier;
    long timeout_ms = 0;
    std::atomic<int> overdue{0};
    std::vector<std::string> secrets;  // scrubbed from what it says; fixed at create
};

// One delivery. Shared between the worker and the completion, so an abandoned worker
// still owns the message strings the plugin is reading.
struct PluginHost::Job {
    std::shared_ptr<Instance> instance;
    Notification message;
    std::string key;
    uint32_t attempt = 1;
    DeliveryResult result;              // written by the worker; read only if it finished in time
    std::atomic<bool> finished{false};  // the send returned, or was declared overdue
};

PluginHost::PluginHost(EventLoop& loop, PluginHostOptions options)
    : m_loop(loop), m_options(std::move(options)), m_mailbox(std::make_unique<Mailbox>(loop, "plugin host")),
      m_libraries(m_options.search_path) {
    m_pool = std::make_unique<DeadlinePool>(m_options.threads > 0 ? m_options.threads : 1);
}

PluginHost::~PluginHost() {
    m_pool.reset();     // completions still post into the mailbox while it drains
    m_mailbox.reset();  // drops them: nothing below runs after this
    m_instances.clear();  // before the libraries; abandoned sends keep theirs alive
}

// The instance's callbacks post to the loop; `this` is used only there, where the
// mailbox (and so the host) still exists.
NotifierCalls PluginHost::calls_for(InstanceId id, const std::string& label, const std::string& plugin) {
    Mailbox::Poster poster = m_mailbox->poster();
    NotifierCalls calls;
    // Every text a plugin hands over loses the configured secrets (set_secrets).
    calls.log = [label, secrets = m_secrets](int level, const std::string& text) {
        LogLevel l = level >= NOTIFIER_LOG_ERROR ? LogLevel::Error : level == NOTIFIER_LOG_WARN ? LogLevel::Warn : LogLevel::Info;
        log_line(l, "notifier " + label + ": " + scrubbed(text, secrets));
    };
    calls.event = [this, poster, id, label, plugin, secrets = m_secrets](const std::string& code, const std::string& text) {
        poster.post([this, e = PluginEvent{id, label, plugin, code, scrubbed(text, secrets)}] {
            if (m_on_event) m_on_event(e);
        });
    };
    calls.decide = [this, poster, id, label](int64_t request, bool allow, const std::string& message) {
        poster.post([this, d = PluginDecision{id, label, request, allow, message}] {
            if (m_on_decision) m_on_decision(d);
            else log_warn("notifier " + d.label + ": decision on request " + std::to_string(d.request) + " dropped: nothing takes it");
        });
    };
    return calls;
}

Result<PluginInfo> PluginHost::load(const std::string& plugin) {
    auto lib = m_libraries.load(plugin);
    if (!lib) return lib.error();
    return (*lib)->info();
}

Result<PluginHost::InstanceId> PluginHost::create(const std::string& plugin, const PluginOptions& options,
                                                  const std::string& label, long timeout_ms) {
    auto lib = m_libraries.load(plugin);
    if (!lib) return lib.error();
    InstanceId id = m_next_id++;
    std::string name = label.empty() ? std::string((*lib)->info().name) : label;
    auto notifier = NotifierInstance::create(*lib, NotifierLibraries::where(plugin, (*lib)->path()), options, name,
                                             calls_for(id, name, (*lib)->info().name));
    if (!notifier) return Error{scrubbed(notifier.error().message, m_secrets)};
    auto inst = std::make_shared<Instance>();
    inst->notifier = std::move(*notifier);
    inst->secrets = m_secrets;
    inst->timeout_ms = timeout_ms > 0 ? timeout_ms : m_options.send_timeout_ms;
    m_instances.emplace(id, std::move(inst));
    return id;
}

void PluginHost::destroy(InstanceId id) { m_instances.erase(id); }

size_t PluginHost::overdue_sends() const { return m_pool->abandoned_running(); }

void PluginHost::deliver(InstanceId id, Notification message, std::string key, uint32_t attempt, Done done) {
    auto it = m_instances.find(id);
    if (it == m_instances.end()) {
        m_mailbox->post([done = std::move(done), id] {
            done({DeliveryResult::Status::Fail, "no notifier instance " + std::to_string(id), 0});
        });
        return;
    }
    std::shared_ptr<Instance> inst = it->second;
    if (int overdue = inst->overdue.load(); overdue >= m_options.max_overdue_sends) {
        m_mailbox->post([done = std::move(done), overdue] {
            done({DeliveryResult::Status::Retry,
                  std::to_string(overdue) + " earlier sends are still running past their timeout", 0});
        });
        return;
    }

    auto job = std::make_shared<Job>();
    job->instance = inst;
    job->message = std::move(message);
    job->key = std::move(key);
    job->attempt = attempt;
    auto work = [job] {
        Instance& in = *job->instance;
        try {
            job->result = in.notifier->send(job->message, job->key, job->attempt);
        } catch (const std::exception& e) {  // bad_alloc building the message
            job->result = {DeliveryResult::Status::Retry, std::string("send not attempted: ") + e.what(), 0};
        }
        if (job->finished.exchange(true)) --in.overdue;  // it had been declared overdue
    };
    long timeout = inst->timeout_ms;
    auto finish = [job, timeout, poster = m_mailbox->poster(), done = std::move(done)](bool in_time) {
        DeliveryResult r;
        if (in_time) {
            r = std::move(job->result);
            r.error = scrubbed(std::move(r.error), job->instance->secrets);
        } else {
            if (!job->finished.exchange(true)) ++job->instance->overdue;
            r = {DeliveryResult::Status::Retry, "timed out after " + std::to_string(timeout) + " ms", timeout};
            log_warn("notifier " + job->instance->notifier->label() + ": send " + job->key + " " + r.error);
        }
        poster.post([done, r = std::move(r)] { done(r); });
    };
    m_pool->submit(std::move(work), std::chrono::milliseconds(timeout), std::move(finish));
}

}  // namespace tether
