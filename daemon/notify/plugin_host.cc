// Deliveries through a DeadlinePool, and the plugins' callbacks, back on the loop.
#include "notify/plugin_host.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <set>

#include "base/deadline_pool.h"
#include "base/log.h"
#include "base/text.h"
#include "notifier_abi.h"

namespace tether {

namespace {

// One notifier_host.answer waiting for the loop's verdict. Shared by the waiting plugin
// thread and the closure on the loop, so neither outlives what it touches.
struct AnswerSlot {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
    AnswerOutcome outcome;

    void finish(AnswerOutcome o) {
        {
            std::lock_guard lock(mutex);
            if (done) return;
            done = true;
            outcome = std::move(o);
        }
        cv.notify_all();
    }
};

}  // namespace

// The answers of one instance still waiting in host_answer: woken when the instance goes,
// since the plugin's destroy may join the thread that waits.
struct PluginHost::AnswerWaits {
    std::mutex mutex;
    bool closing = false;
    std::set<std::shared_ptr<AnswerSlot>> waiting;

    void close() {
        std::set<std::shared_ptr<AnswerSlot>> slots;
        {
            std::lock_guard lock(mutex);
            closing = true;
            slots.swap(waiting);
        }
        for (auto& slot : slots)
            slot->finish({NOTIFIER_ANSWER_UNCONFIRMED, "tether is stopping or reloading this notifier; the answer may not have been applied"});
    }
};

// One created plugin instance. Owned by the host's table and by every job on it, so the
// plugin's destroy runs after the last send on it returns, whichever thread that is on.
struct PluginHost::Instance {
    std::shared_ptr<AnswerWaits> answers;
    std::shared_ptr<NotifierInstance> notifier;
    long timeout_ms = 0;
    std::atomic<int> overdue{0};
    std::vector<std::string> secrets;  // scrubbed from what it says; fixed at create

    ~Instance() {
        if (answers) answers->close();  // before the plugin's destroy (notifier's last owner)
    }
};

// One delivery. Shared between the worker and the completion, so an abandoned worker
// still owns the message strings the plugin is reading.
struct PluginHost::Job {
    std::shared_ptr<Instance> instance;
    Notification message;
    std::string key;
    uint32_t attempt = 1;
    DeliveryContext context;
    DeliveryResult result;              // written by the worker; read only if it finished in time
    std::atomic<bool> finished{false};  // the send returned, or was declared overdue
};

PluginHost::PluginHost(EventLoop& loop, PluginHostOptions options)
    : m_loop(loop), m_options(std::move(options)), m_mailbox(std::make_unique<Mailbox>(loop, "plugin host")),
      m_libraries(m_options.search_path), m_loop_thread(std::this_thread::get_id()) {
    m_pool = std::make_unique<DeadlinePool>(m_options.threads > 0 ? m_options.threads : 1);
}

PluginHost::~PluginHost() {
    m_pool.reset();     // completions still post into the mailbox while it drains
    m_mailbox.reset();  // drops them: nothing below runs after this
    m_instances.clear();  // before the libraries; abandoned sends keep theirs alive
}

// The instance's callbacks post to the loop; `this` is used only there, where the
// mailbox (and so the host) still exists.
NotifierCalls PluginHost::calls_for(InstanceId id, const std::string& label, const std::string& plugin,
                                    const std::shared_ptr<AnswerWaits>& waits) {
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
    // The plugin's thread waits here (bounded) for the loop to apply the answer.
    calls.answer = [this, poster, id, label, plugin, waits, loop_thread = m_loop_thread,
                    wait_ms = m_options.answer_wait_ms](const NotifierAnswer& a) -> AnswerOutcome {
        if (std::this_thread::get_id() == loop_thread)
            return {NOTIFIER_ANSWER_INVALID, "answer: called on the host's main thread (create or destroy)"};
        auto slot = std::make_shared<AnswerSlot>();
        {
            std::lock_guard lock(waits->mutex);
            if (waits->closing) return {NOTIFIER_ANSWER_UNCONFIRMED, "tether is stopping or reloading this notifier"};
            waits->waiting.insert(slot);
        }
        bool posted = poster.post([this, pa = PluginAnswer{id, label, plugin, a}, slot] {
            AnswerOutcome out{NOTIFIER_ANSWER_NOT_PENDING, "nothing in this tether takes answers"};
            try {
                if (m_on_answer) out = m_on_answer(pa);
            } catch (const std::exception& e) {
                out = {NOTIFIER_ANSWER_NOT_PENDING, std::string("tether failed to apply the answer: ") + e.what()};
            }
            slot->finish(std::move(out));
        });
        if (!posted) slot->finish({NOTIFIER_ANSWER_UNCONFIRMED, "tether is stopping; the answer was not applied"});
        AnswerOutcome out;
        {
            std::unique_lock lock(slot->mutex);
            if (!slot->cv.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return slot->done; }))
                out = {NOTIFIER_ANSWER_UNCONFIRMED, "tether has not confirmed the answer yet; the message will show the outcome"};
            else
                out = slot->outcome;
        }
        std::lock_guard lock(waits->mutex);
        waits->waiting.erase(slot);
        return out;
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
    auto waits = std::make_shared<AnswerWaits>();
    auto notifier = NotifierInstance::create(*lib, NotifierLibraries::where(plugin, (*lib)->path()), options, name,
                                             calls_for(id, name, (*lib)->info().name, waits));
    if (!notifier) return Error{scrubbed(notifier.error().message, m_secrets)};
    auto inst = std::make_shared<Instance>();
    inst->answers = std::move(waits);
    inst->notifier = std::move(*notifier);
    inst->secrets = m_secrets;
    inst->timeout_ms = timeout_ms > 0 ? timeout_ms : m_options.send_timeout_ms;
    m_instances.emplace(id, std::move(inst));
    return id;
}

void PluginHost::destroy(InstanceId id) { m_instances.erase(id); }

size_t PluginHost::overdue_sends() const { return m_pool->abandoned_running(); }

bool PluginHost::takes_updates(InstanceId id) const {
    auto it = m_instances.find(id);
    return it != m_instances.end() && it->second->notifier->takes_updates();
}

void PluginHost::deliver(InstanceId id, Notification message, std::string key, uint32_t attempt, DeliveryContext context,
                         Done done) {
    auto it = m_instances.find(id);
    if (it == m_instances.end()) {
        m_mailbox->post([done = std::move(done), id] {
            done({DeliveryResult::Status::Fail, "no notifier instance " + std::to_string(id), 0});
        });
        return;
    }
    std::shared_ptr<Instance> inst = it->second;
    if (message.update && !inst->notifier->takes_updates()) {
        m_mailbox->post([done = std::move(done)] { done({DeliveryResult::Status::Ok, "", 0, ""}); });
        return;
    }
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
    job->context = std::move(context);
    auto work = [job] {
        Instance& in = *job->instance;
        try {
            job->result = in.notifier->send(job->message, job->key, job->attempt, job->context);
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
