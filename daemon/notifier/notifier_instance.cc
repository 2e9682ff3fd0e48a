// The ABI's calls on one instance; no exception crosses into or out of a plugin.
#include "notifier/notifier_instance.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <exception>
#include <vector>

#include "base/log.h"
#include "notifier_abi.h"

namespace tether {

namespace {

long ms_since(std::chrono::steady_clock::time_point start) {
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
}

DeliveryResult result_of(int rc, const char* err) {
    DeliveryResult r;
    switch (rc) {
    case NOTIFIER_OK: return r;
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

}  // namespace

nlohmann::json notifier_payload(const Notification& n, const std::string& key, uint32_t attempt) {
    nlohmann::json j = notification_json(n);
    j["idempotency_key"] = key;
    j["attempt"] = attempt;
    return j;
}

Result<std::shared_ptr<NotifierInstance>> create_notifier(NotifierLibraries& libraries, const std::string& plugin,
                                                          const PluginOptions& options, std::string label,
                                                          NotifierCalls calls) {
    auto lib = libraries.load(plugin);
    if (!lib) return lib.error();
    std::string where = NotifierLibraries::where(plugin, (*lib)->path());
    return NotifierInstance::create(std::move(*lib), where, options, std::move(label), std::move(calls));
}

Result<std::shared_ptr<NotifierInstance>> NotifierInstance::create(std::shared_ptr<const NotifierLibrary> library,
                                                                   const std::string& where, const PluginOptions& options,
                                                                   std::string label, NotifierCalls calls) {
    std::shared_ptr<NotifierInstance> inst(new NotifierInstance());
    const notifier_plugin& p = library->plugin();
    inst->m_library = std::move(library);
    inst->m_label = label.empty() ? std::string(p.name) : std::move(label);
    inst->m_calls = std::move(calls);
    inst->m_host = std::make_unique<notifier_host>(notifier_host{NOTIFIER_ABI_MAJOR, NOTIFIER_ABI_MINOR, sizeof(notifier_host),
                                                                 inst.get(), &host_log, &host_event, &host_decide,
                                                                 &host_answer});
    std::vector<notifier_kv> kv;
    kv.reserve(options.size());
    for (const auto& [k, v] : options) kv.push_back({k.c_str(), v.c_str()});
    char err[NOTIFIER_ERROR_MAX] = "";
    inst->m_self = p.create(inst->m_host.get(), kv.data(), kv.size(), err, sizeof err);
    err[sizeof err - 1] = '\0';
    if (!inst->m_self)
        return Error{where + (err[0] ? err : "create failed (no reason given)")};
    return inst;
}

NotifierInstance::~NotifierInstance() {
    if (m_self) m_library->plugin().destroy(m_self);
}

const char* NotifierInstance::plugin_name() const { return m_library->plugin().name; }

bool NotifierInstance::takes_updates() const {
    const notifier_plugin& p = m_library->plugin();
    return p.abi_minor >= 2 && NOTIFIER_HAS_FIELD(&p, notifier_plugin, update) && p.update;
}

DeliveryResult NotifierInstance::send(const Notification& n, const std::string& key, uint32_t attempt,
                                      const DeliveryContext& context) const {
    std::string payload = notifier_payload(n, key, attempt).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::string session_id = (n.host.empty() ? "" : n.host + ":") + std::to_string(n.session);
    std::string tool_input = n.tool_input.is_null() ? "" : n.tool_input.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::vector<notifier_kv> kv;
    for (const auto& [k, v] : n.options) kv.push_back({k.c_str(), v.c_str()});
    notifier_message msg{};
    msg.abi_major = NOTIFIER_ABI_MAJOR;
    msg.abi_minor = NOTIFIER_ABI_MINOR;
    msg.struct_size = sizeof msg;
    msg.idempotency_key = key.c_str();
    msg.attempt = attempt;
    msg.time_ms = n.time_ms;
    msg.rule = n.rule.c_str();
    msg.session_id = session_id.c_str();
    msg.session_name = n.session_name.c_str();
    msg.agent = n.agent.c_str();
    msg.state_from = n.from.c_str();
    msg.state_to = n.to.c_str();
    msg.kind = n.kind.c_str();
    msg.title = n.title.c_str();
    msg.body = n.body.c_str();
    msg.tool = n.tool.c_str();
    msg.tool_input_json = tool_input.c_str();
    msg.cwd = n.cwd.c_str();
    msg.message = n.message.c_str();
    msg.json_payload = payload.c_str();
    msg.rule_options = kv.data();
    msg.rule_options_len = kv.size();
    msg.permission_request = n.permission_request;
    std::string always = n.always.is_null() ? "" : n.always.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    msg.always_json = always.c_str();
    msg.session_receipt = context.session_receipt.c_str();
    msg.maybe_delivered = context.maybe_delivered ? 1 : 0;
    char receipt[NOTIFIER_RECEIPT_MAX] = "";
    msg.receipt = receipt;
    msg.receipt_size = sizeof receipt;
    static const NotificationUpdate k_no_update;
    const NotificationUpdate& u = n.update ? *n.update : k_no_update;
    msg.update_receipt = u.receipt.c_str();
    msg.decision = u.decision.c_str();
    msg.decided_by = u.by.c_str();
    msg.decision_message = u.message.c_str();
    msg.decided_time_ms = u.time_ms;
    msg.decided_always = u.always ? 1 : 0;

    char err[NOTIFIER_ERROR_MAX] = "";
    auto start = std::chrono::steady_clock::now();
    const notifier_plugin& p = m_library->plugin();
    int rc = n.update ? p.update(m_self, &msg, err, sizeof err) : p.send(m_self, &msg, err, sizeof err);
    err[sizeof err - 1] = '\0';
    receipt[sizeof receipt - 1] = '\0';
    DeliveryResult r = result_of(rc, err);
    r.elapsed_ms = ms_since(start);
    if (r.ok()) r.receipt = receipt;
    return r;
}

void NotifierInstance::host_log(void* ctx, int level, const char* text) {
    try {
        auto* inst = static_cast<NotifierInstance*>(ctx);
        if (inst->m_calls.log) return inst->m_calls.log(level, text ? text : "");
        LogLevel l = level >= NOTIFIER_LOG_ERROR ? LogLevel::Error
                     : level == NOTIFIER_LOG_WARN ? LogLevel::Warn
                                                  : LogLevel::Info;
        log_line(l, "notifier " + inst->m_label + ": " + (text ? text : ""));
    } catch (...) {
    }
}

void NotifierInstance::host_event(void* ctx, const char* code, const char* text) {
    try {
        auto* inst = static_cast<NotifierInstance*>(ctx);
        std::string c = code ? code : "", t = text ? text : "";
        log_warn("notifier " + inst->m_label + ": " + c + ": " + t);
        if (inst->m_calls.event) inst->m_calls.event(c, t);
    } catch (...) {
    }
}

int NotifierInstance::host_decide(void* ctx, int64_t request, int decision, const char* message) {
    if (request <= 0 || (decision != NOTIFIER_DECISION_ALLOW && decision != NOTIFIER_DECISION_DENY)) return -1;
    try {
        auto* inst = static_cast<NotifierInstance*>(ctx);
        if (inst->m_calls.decide) inst->m_calls.decide(request, decision == NOTIFIER_DECISION_ALLOW, message ? message : "");
        else log_warn("notifier " + inst->m_label + ": decision on request " + std::to_string(request) + " dropped: nothing takes it");
        return 0;
    } catch (...) {
        return -1;
    }
}

int NotifierInstance::host_answer(void* ctx, const notifier_answer* a, char* reason, size_t reasonlen) {
    try {
        auto* inst = static_cast<NotifierInstance*>(ctx);
        auto refuse = [&](int status, const std::string& why) {
            put_text(reason, reasonlen, why);
            return status;
        };
        if (!a || !NOTIFIER_HAS_FIELD(a, notifier_answer, who)) return refuse(NOTIFIER_ANSWER_INVALID, "answer: a notifier_answer of ABI 1.2 is needed");
        if (a->request <= 0 || (a->decision != NOTIFIER_DECISION_ALLOW && a->decision != NOTIFIER_DECISION_DENY))
            return refuse(NOTIFIER_ANSWER_INVALID, "answer: bad request number or decision");
        if (!valid_who(a->who)) return refuse(NOTIFIER_ANSWER_INVALID, "answer: who must be 1-64 letters, digits or -_.@");
        if (!inst->m_calls.answer) return refuse(NOTIFIER_ANSWER_NOT_PENDING, "nothing in this tether takes answers");
        NotifierAnswer na{a->request, a->decision == NOTIFIER_DECISION_ALLOW,
                          a->always != 0 && a->decision == NOTIFIER_DECISION_ALLOW, a->message ? a->message : "", a->who,
                          NOTIFIER_HAS_FIELD(a, notifier_answer, session_id) && a->session_id ? a->session_id : ""};
        AnswerOutcome out = inst->m_calls.answer(na);
        return refuse(out.status, out.reason);
    } catch (...) {
        put_text(reason, reasonlen, "answer: out of memory");
        return NOTIFIER_ANSWER_INVALID;
    }
}

}  // namespace tether
