// Plugin loading (Boost.DLL), the ABI checks, and delivery through a DeadlinePool.
// Boost exceptions are caught here; none leaves this file, and none crosses the ABI.
#include "notify/plugin_host.h"

#include <dlfcn.h>
#include <event2/event.h>

#include <atomic>
#include <cctype>
#include <condition_variable>
#include <set>
#include <thread>
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <mutex>

#include "base/bug.h"
#include "base/deadline_pool.h"
#include "base/log.h"
#include "notifier_abi.h"

#ifndef TETHER_PLUGIN_INSTALL_DIR
#define TETHER_PLUGIN_INSTALL_DIR "/usr/local/lib/tether/plugins"
#endif

namespace tether {

namespace fs = std::filesystem;

namespace {

constexpr const char* k_entry_symbol = "notifier_plugin_entry";
// The part of notifier_plugin that ABI 1.0 defines; later minors only append.
constexpr size_t k_plugin_size_1_0 = offsetof(notifier_plugin, destroy) + sizeof(void*);

// Into a plugin's buffer, truncated and always terminated (the ABI's error convention).
void put_text(char* buf, size_t len, const std::string& text) {
    if (!buf || len == 0) return;
    size_t n = std::min(text.size(), len - 1);
    std::memcpy(buf, text.data(), n);
    buf[n] = '\0';
}

// notifier_answer.who becomes part of PermissionDecided's "by": a plain token only.
bool valid_who(const char* who) {
    if (!who || !*who || std::strlen(who) > 64) return false;
    for (const char* c = who; *c; ++c)
        if (!(std::isalnum(static_cast<unsigned char>(*c)) || std::strchr("-_.@", *c))) return false;
    return true;
}

std::string abi_text(uint32_t major, uint32_t minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}

bool valid_name(const std::string& name) {
    if (name.empty()) return false;
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
    return true;
}

// "plugin webhook (/path/tether-notifier-webhook.so): ", or "plugin /path: " for a path.
std::string plugin_where(const std::string& plugin, const std::string& path) {
    if (plugin.find('/') != std::string::npos) return "plugin " + path + ": ";
    return "plugin " + plugin + " (" + path + "): ";
}

long ms_since(std::chrono::steady_clock::time_point start) {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - start)
                                 .count());
}

}  // namespace

std::vector<std::string> plugin_search_path(const std::vector<std::string>& extra) {
    std::vector<std::string> path = extra;
    try {
        std::error_code ec;
        fs::path exe = boost::dll::program_location(ec);
        if (!ec) {
            path.push_back(exe.parent_path().string());
            path.push_back((exe.parent_path().parent_path() / "lib/tether/plugins").lexically_normal().string());
        }
    } catch (const std::exception& e) {
        log_warn(std::string("plugins: cannot find the running binary: ") + e.what());
    }
    if (const char* home = std::getenv("HOME"); home && *home)
        path.push_back(std::string(home) + "/.local/lib/tether/plugins");
    path.push_back(TETHER_PLUGIN_INSTALL_DIR);
    return path;
}

nlohmann::json to_json(const NotifierMessage& m) {
    nlohmann::json options = nlohmann::json::object();
    for (const auto& [k, v] : m.rule_options) options[k] = v;
    return {
        {"idempotency_key", m.idempotency_key}, {"attempt", m.attempt}, {"time_ms", m.time_ms},
        {"rule", m.rule}, {"session_id", m.session_id}, {"session_name", m.session_name},
        {"agent", m.agent}, {"state_from", m.state_from}, {"state_to", m.state_to},
        {"kind", m.kind}, {"title", m.title}, {"body", m.body}, {"tool", m.tool},
        {"tool_input_json", m.tool_input_json}, {"cwd", m.cwd}, {"message", m.message},
        {"rule_options", options}, {"permission_request", m.permission_request},
    };
}

// A loaded plugin file. The shared_library outlives every instance (they hold this).
struct PluginHost::Library {
    boost::dll::shared_library library;
    const notifier_plugin* plugin = nullptr;
    std::string path;
};

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

// One created plugin instance. Owned by the host's table and by every job on it, so the
// plugin's destroy runs after the last send on it returns, whichever thread that is on.
struct PluginHost::Instance {
    std::shared_ptr<Library> library;
    InstanceId id = 0;
    std::string label;
    long timeout_ms = 0;
    notifier_host host{};  // ctx is this; valid until destroy returns
    void* self = nullptr;
    std::weak_ptr<Mailbox> mailbox;  // for host.event; the host may be gone
    PluginHost* owner = nullptr;     // dereferenced only on the loop thread, via the mailbox
    std::atomic<int> overdue{0};
    bool takes_updates = false;  // ABI 1.2 update, declared and set
    long answer_wait_ms = 5000;
    std::thread::id loop_thread;
    std::mutex answers_mutex;  // guards what follows
    bool closing = false;
    std::set<std::shared_ptr<AnswerSlot>> answers;  // waiting in host_answer

    // Wakes every answer still waiting: the plugin's destroy may join the thread that waits.
    void close_answers() {
        std::set<std::shared_ptr<AnswerSlot>> waiting;
        {
            std::lock_guard lock(answers_mutex);
            closing = true;
            waiting.swap(answers);
        }
        for (auto& slot : waiting)
            slot->finish({NOTIFIER_ANSWER_UNCONFIRMED, "tether is stopping or reloading this notifier; the answer may not have been applied"});
    }

    ~Instance() {
        close_answers();
        if (self) library->plugin->destroy(self);
    }
};

// One delivery. Shared between the worker and the completion, so an abandoned worker
// still owns the message strings the plugin is reading.
struct PluginHost::Job {
    std::shared_ptr<Instance> instance;
    NotifierMessage message;
    DeliveryResult result;     // written by the worker; read only if it finished in time
    std::atomic<bool> finished{false};  // the send returned, or was declared overdue
};

// Closures from other threads to the loop thread, through an event activated with
// event_active (libevent is thread-enabled by EventLoop).
struct PluginHost::Mailbox {
    std::mutex mutex;
    event* ev = nullptr;  // null once the host is gone
    std::vector<std::function<void()>> ready;

    bool post(std::function<void()> fn) {
        std::lock_guard lock(mutex);
        if (!ev) return false;
        ready.push_back(std::move(fn));
        event_active(ev, EV_TIMEOUT, 0);
        return true;
    }
};

void PluginHost::host_log(void* ctx, int level, const char* text) {
    try {
        auto* inst = static_cast<Instance*>(ctx);
        LogLevel l = level >= NOTIFIER_LOG_ERROR ? LogLevel::Error
                     : level == NOTIFIER_LOG_WARN ? LogLevel::Warn
                                                  : LogLevel::Info;
        log_line(l, "notifier " + inst->label + ": " + (text ? text : ""));
    } catch (...) {
    }
}

PluginHost::PluginHost(EventLoop& loop, PluginHostOptions options)
    : m_loop(loop), m_options(std::move(options)), m_mailbox(std::make_shared<Mailbox>()),
      m_loop_thread(std::this_thread::get_id()) {
    m_mailbox->ev = event_new(m_loop.base(), -1, 0, &PluginHost::mailbox_cb, this);
    if (!m_mailbox->ev) TETHER_BUG("event_new failed");
    m_pool = std::make_unique<DeadlinePool>(m_options.threads > 0 ? m_options.threads : 1);
}

PluginHost::~PluginHost() {
    m_pool.reset();  // completions still post into the mailbox while it drains
    event* ev;
    std::vector<std::function<void()>> dropped;
    {
        std::lock_guard lock(m_mailbox->mutex);
        ev = m_mailbox->ev;
        m_mailbox->ev = nullptr;
        dropped.swap(m_mailbox->ready);
    }
    event_free(ev);
    dropped.clear();
    m_instances.clear();  // before the libraries; abandoned sends keep theirs alive
    m_libraries.clear();
}

void PluginHost::post(std::function<void()> fn) { m_mailbox->post(std::move(fn)); }

void PluginHost::mailbox_cb(int, short, void* self) {
    run_guarded("plugin host", [self] { static_cast<PluginHost*>(self)->run_mailbox(); });
}

void PluginHost::run_mailbox() {
    std::vector<std::function<void()>> ready;
    {
        std::lock_guard lock(m_mailbox->mutex);
        ready.swap(m_mailbox->ready);
    }
    for (auto& fn : ready) run_guarded("plugin host: completion", fn);
}

void PluginHost::host_event(void* ctx, const char* code, const char* text) {
    try {
        auto* inst = static_cast<Instance*>(ctx);
        PluginEvent pe{inst->id, inst->label, inst->library->plugin->name, code ? code : "", text ? text : ""};
        log_warn("notifier " + pe.label + ": " + pe.code + ": " + pe.text);
        auto mailbox = inst->mailbox.lock();
        if (!mailbox) return;
        PluginHost* owner = inst->owner;
        mailbox->post([owner, pe = std::move(pe)] {
            if (owner->m_on_event) owner->m_on_event(pe);
        });
    } catch (...) {
    }
}

int PluginHost::host_decide(void* ctx, int64_t request, int decision, const char* message) {
    if (request <= 0 || (decision != NOTIFIER_DECISION_ALLOW && decision != NOTIFIER_DECISION_DENY)) return -1;
    try {
        auto* inst = static_cast<Instance*>(ctx);
        PluginDecision d{inst->id, inst->label, request, decision == NOTIFIER_DECISION_ALLOW, message ? message : ""};
        auto mailbox = inst->mailbox.lock();
        if (!mailbox) return 0;
        PluginHost* owner = inst->owner;
        mailbox->post([owner, d = std::move(d)] {
            if (owner->m_on_decision) owner->m_on_decision(d);
            else log_warn("notifier " + d.label + ": decision on request " + std::to_string(d.request) + " dropped: nothing takes it");
        });
        return 0;
    } catch (...) {
        return -1;
    }
}

int PluginHost::host_answer(void* ctx, const notifier_answer* a, char* reason, size_t reasonlen) {
    try {
        auto* inst = static_cast<Instance*>(ctx);
        auto refuse = [&](int status, const std::string& why) {
            put_text(reason, reasonlen, why);
            return status;
        };
        if (!a || !NOTIFIER_HAS_FIELD(a, notifier_answer, who)) return refuse(NOTIFIER_ANSWER_INVALID, "answer: a notifier_answer of ABI 1.2 is needed");
        if (a->request <= 0 || (a->decision != NOTIFIER_DECISION_ALLOW && a->decision != NOTIFIER_DECISION_DENY))
            return refuse(NOTIFIER_ANSWER_INVALID, "answer: bad request number or decision");
        if (!valid_who(a->who)) return refuse(NOTIFIER_ANSWER_INVALID, "answer: who must be 1-64 letters, digits or -_.@");
        if (std::this_thread::get_id() == inst->loop_thread)
            return refuse(NOTIFIER_ANSWER_INVALID, "answer: called on the host's main thread (create or destroy)");
        PluginAnswer pa{inst->id, inst->label, inst->library->plugin->name, a->request,
                        a->decision == NOTIFIER_DECISION_ALLOW, a->always != 0 && a->decision == NOTIFIER_DECISION_ALLOW,
                        a->message ? a->message : "", a->who,
                        NOTIFIER_HAS_FIELD(a, notifier_answer, session_id) && a->session_id ? a->session_id : ""};
        auto slot = std::make_shared<AnswerSlot>();
        {
            std::lock_guard lock(inst->answers_mutex);
            if (inst->closing) return refuse(NOTIFIER_ANSWER_UNCONFIRMED, "tether is stopping or reloading this notifier");
            inst->answers.insert(slot);
        }
        auto mailbox = inst->mailbox.lock();
        PluginHost* owner = inst->owner;
        bool posted = mailbox && mailbox->post([owner, pa = std::move(pa), slot] {
            AnswerOutcome out{NOTIFIER_ANSWER_NOT_PENDING, "nothing in this tether takes answers"};
            try {
                if (owner->m_on_answer) out = owner->m_on_answer(pa);
            } catch (const std::exception& e) {
                out = {NOTIFIER_ANSWER_NOT_PENDING, std::string("tether failed to apply the answer: ") + e.what()};
            }
            slot->finish(std::move(out));
        });
        if (!posted) slot->finish({NOTIFIER_ANSWER_UNCONFIRMED, "tether is stopping; the answer was not applied"});
        AnswerOutcome out;
        {
            std::unique_lock lock(slot->mutex);
            if (!slot->cv.wait_for(lock, std::chrono::milliseconds(inst->answer_wait_ms), [&] { return slot->done; }))
                out = {NOTIFIER_ANSWER_UNCONFIRMED, "tether has not confirmed the answer yet; the message will show the outcome"};
            else
                out = slot->outcome;
        }
        {
            std::lock_guard lock(inst->answers_mutex);
            inst->answers.erase(slot);
        }
        return refuse(out.status, out.reason);
    } catch (...) {
        put_text(reason, reasonlen, "answer: out of memory");
        return NOTIFIER_ANSWER_INVALID;
    }
}

Result<std::string> PluginHost::resolve(const std::string& plugin) const {
    std::error_code ec;
    if (plugin.find('/') != std::string::npos) {
        fs::path p = fs::absolute(plugin, ec).lexically_normal();
        if (ec || !fs::is_regular_file(p, ec)) return Error{"plugin " + plugin + ": no such file"};
        return p.string();
    }
    if (!valid_name(plugin))
        return Error{"plugin \"" + plugin + "\": a name is letters, digits, '-' and '_' (or give a path)"};
    std::string file = "tether-notifier-" + plugin + ".so";
    std::string searched;
    for (const auto& dir : m_options.search_path) {
        if (dir.empty()) continue;
        fs::path p = (fs::path(dir) / file).lexically_normal();
        if (fs::is_regular_file(p, ec)) return fs::absolute(p, ec).string();
        searched += (searched.empty() ? "" : ", ") + dir;
    }
    return Error{"plugin " + plugin + ": " + file + " not found in " + (searched.empty() ? "(empty search path)" : searched)};
}

Result<std::shared_ptr<PluginHost::Library>> PluginHost::load_library(const std::string& plugin) {
    auto path = resolve(plugin);
    if (!path) return path.error();
    if (auto it = m_libraries.find(*path); it != m_libraries.end()) return it->second;

    const std::string where = plugin_where(plugin, *path);
    auto lib = std::make_shared<Library>();
    lib->path = *path;
    try {
        std::error_code ec;
        dlerror();
        // rtld_now: an unresolved symbol in the plugin fails here, not in the middle of a send.
        lib->library.load(*path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
        if (ec) {
            const char* why = dlerror();
            return Error{where + "cannot load: " + (why ? why : ec.message())};
        }
        if (!lib->library.has(k_entry_symbol)) return Error{where + "missing symbol " + k_entry_symbol};
        auto& entry = lib->library.get<const notifier_plugin*()>(k_entry_symbol);
        lib->plugin = entry();
    } catch (const std::exception& e) {
        return Error{where + "cannot load: " + e.what()};
    }

    const notifier_plugin* p = lib->plugin;
    if (!p) return Error{where + k_entry_symbol + " returned NULL"};
    if (p->abi_major != NOTIFIER_ABI_MAJOR || p->abi_minor > NOTIFIER_ABI_MINOR)
        return Error{where + "ABI version " + abi_text(p->abi_major, p->abi_minor) + ", this tether speaks " +
                     abi_text(NOTIFIER_ABI_MAJOR, NOTIFIER_ABI_MINOR)};
    if (p->struct_size < k_plugin_size_1_0)
        return Error{where + "notifier_plugin struct_size " + std::to_string(p->struct_size) +
                     " is smaller than ABI " + abi_text(p->abi_major, p->abi_minor) + " defines (" +
                     std::to_string(k_plugin_size_1_0) + ")"};
    if (!p->name || !p->create || !p->send || !p->destroy)
        return Error{where + "notifier_plugin has a NULL name, create, send or destroy"};
    m_libraries.emplace(*path, lib);
    return lib;
}

Result<PluginInfo> PluginHost::load(const std::string& plugin) {
    auto lib = load_library(plugin);
    if (!lib) return lib.error();
    const notifier_plugin* p = (*lib)->plugin;
    return PluginInfo{p->name, p->description ? p->description : "", (*lib)->path, p->abi_major, p->abi_minor};
}

Result<PluginHost::InstanceId> PluginHost::create(const std::string& plugin, const PluginOptions& options,
                                                  const std::string& label, long timeout_ms) {
    auto lib = load_library(plugin);
    if (!lib) return lib.error();
    auto inst = std::make_shared<Instance>();
    inst->library = *lib;
    inst->id = m_next_id++;
    inst->label = label.empty() ? std::string((*lib)->plugin->name) : label;
    inst->timeout_ms = timeout_ms > 0 ? timeout_ms : m_options.send_timeout_ms;
    inst->mailbox = m_mailbox;
    inst->owner = this;
    inst->loop_thread = m_loop_thread;
    inst->answer_wait_ms = m_options.answer_wait_ms;
    const notifier_plugin* p = (*lib)->plugin;
    inst->takes_updates = p->abi_minor >= 2 && NOTIFIER_HAS_FIELD(p, notifier_plugin, update) && p->update;
    inst->host = notifier_host{NOTIFIER_ABI_MAJOR, NOTIFIER_ABI_MINOR, sizeof(notifier_host), inst.get(),
                               &host_log, &host_event, &host_decide, &host_answer};

    std::vector<notifier_kv> kv;
    kv.reserve(options.size());
    for (const auto& [k, v] : options) kv.push_back({k.c_str(), v.c_str()});
    char err[NOTIFIER_ERROR_MAX] = "";
    inst->self = (*lib)->plugin->create(&inst->host, kv.data(), kv.size(), err, sizeof err);
    err[sizeof err - 1] = '\0';
    if (!inst->self)
        return Error{plugin_where(plugin, (*lib)->path) + (err[0] ? err : "create failed (no reason given)")};
    m_instances.emplace(inst->id, inst);
    return inst->id;
}

void PluginHost::destroy(InstanceId id) { m_instances.erase(id); }

bool PluginHost::takes_updates(InstanceId id) const {
    auto it = m_instances.find(id);
    return it != m_instances.end() && it->second->takes_updates;
}

size_t PluginHost::overdue_sends() const { return m_pool->abandoned_running(); }

namespace {

// On a worker thread: one call of the plugin's send (or update), with the message
// borrowed from job.
DeliveryResult call_send(const notifier_plugin& plugin, void* self, const NotifierMessage& m) {
    std::string payload = m.json_payload.empty() ? to_json(m).dump() : m.json_payload;
    std::vector<notifier_kv> kv;
    for (const auto& [k, v] : m.rule_options) kv.push_back({k.c_str(), v.c_str()});
    notifier_message msg{};
    msg.abi_major = NOTIFIER_ABI_MAJOR;
    msg.abi_minor = NOTIFIER_ABI_MINOR;
    msg.struct_size = sizeof msg;
    msg.idempotency_key = m.idempotency_key.c_str();
    msg.attempt = m.attempt;
    msg.time_ms = m.time_ms;
    msg.rule = m.rule.c_str();
    msg.session_id = m.session_id.c_str();
    msg.session_name = m.session_name.c_str();
    msg.agent = m.agent.c_str();
    msg.state_from = m.state_from.c_str();
    msg.state_to = m.state_to.c_str();
    msg.kind = m.kind.c_str();
    msg.title = m.title.c_str();
    msg.body = m.body.c_str();
    msg.tool = m.tool.c_str();
    msg.tool_input_json = m.tool_input_json.c_str();
    msg.cwd = m.cwd.c_str();
    msg.message = m.message.c_str();
    msg.json_payload = payload.c_str();
    msg.rule_options = kv.data();
    msg.rule_options_len = kv.size();
    msg.permission_request = m.permission_request;
    msg.always_json = m.always_json.c_str();
    msg.session_receipt = m.session_receipt.c_str();
    msg.maybe_delivered = m.maybe_delivered ? 1 : 0;
    char receipt[NOTIFIER_RECEIPT_MAX] = "";
    msg.receipt = receipt;
    msg.receipt_size = sizeof receipt;
    msg.update_receipt = m.update_receipt.c_str();
    msg.decision = m.decision.c_str();
    msg.decided_by = m.decided_by.c_str();
    msg.decision_message = m.decision_message.c_str();
    msg.decided_time_ms = m.decided_time_ms;
    msg.decided_always = m.decided_always ? 1 : 0;

    char err[NOTIFIER_ERROR_MAX] = "";
    auto start = std::chrono::steady_clock::now();
    int rc = m.is_update ? plugin.update(self, &msg, err, sizeof err) : plugin.send(self, &msg, err, sizeof err);
    err[sizeof err - 1] = '\0';
    receipt[sizeof receipt - 1] = '\0';
    DeliveryResult r;
    r.elapsed_ms = ms_since(start);
    switch (rc) {
    case NOTIFIER_OK:
        r.status = DeliveryResult::Status::Ok;
        r.receipt = receipt;
        return r;
    case NOTIFIER_RETRY: r.status = DeliveryResult::Status::Retry; break;
    case NOTIFIER_FAIL: r.status = DeliveryResult::Status::Fail; break;
    default:
        r.status = DeliveryResult::Status::Fail;
        r.error = "send returned unknown status " + std::to_string(rc) + (err[0] ? ": " : "");
        break;
    }
    r.error += err[0] ? err : "send failed (no reason given)";
    return r;
}

}  // namespace

void PluginHost::deliver(InstanceId id, Message message, Done done) {
    auto it = m_instances.find(id);
    if (it == m_instances.end()) {
        post([done = std::move(done), id] {
            done({DeliveryResult::Status::Fail, "no notifier instance " + std::to_string(id), 0, ""});
        });
        return;
    }
    std::shared_ptr<Instance> inst = it->second;
    if (message.is_update && !inst->takes_updates) {
        post([done = std::move(done)] { done({DeliveryResult::Status::Ok, "", 0, ""}); });
        return;
    }
    if (int overdue = inst->overdue.load(); overdue >= m_options.max_overdue_sends) {
        post([done = std::move(done), overdue] {
            done({DeliveryResult::Status::Retry,
                  std::to_string(overdue) + " earlier sends are still running past their timeout", 0, ""});
        });
        return;
    }

    auto job = std::make_shared<Job>();
    job->instance = inst;
    job->message = std::move(message);
    auto work = [job] {
        Instance& in = *job->instance;
        try {
            job->result = call_send(*in.library->plugin, in.self, job->message);
        } catch (const std::exception& e) {  // bad_alloc building the message
            job->result = {DeliveryResult::Status::Retry, std::string("send not attempted: ") + e.what(), 0, ""};
        }
        if (job->finished.exchange(true)) --in.overdue;  // it had been declared overdue
    };
    long timeout = inst->timeout_ms;
    std::weak_ptr<Mailbox> mailbox = m_mailbox;
    auto finish = [job, timeout, mailbox, done = std::move(done)](bool in_time) {
        DeliveryResult r;
        if (in_time) {
            r = std::move(job->result);
        } else {
            if (!job->finished.exchange(true)) ++job->instance->overdue;
            r = {DeliveryResult::Status::Retry, "timed out after " + std::to_string(timeout) + " ms", timeout, ""};
            log_warn("notifier " + job->instance->label + ": send " + job->message.idempotency_key + " " + r.error);
        }
        if (auto mb = mailbox.lock()) mb->post([done, r = std::move(r)] { done(r); });
    };
    m_pool->submit(std::move(work), std::chrono::milliseconds(timeout), std::move(finish));
}

}  // namespace tether
