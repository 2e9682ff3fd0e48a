// Rules -> outbox -> plugins; escalations and acknowledgements.
#include "notify/notifications.h"

#include "base/text.h"

#include <algorithm>

#include "base/log.h"
#include "notifier_abi.h"
#include "log/fact_queries.h"
#include "state/agent_state.h"

namespace tether {

struct Notifications::Pending {
    int64_t session = 0;
    std::string rule;
    std::string state;  // the escalation holds while the session stays in it
    std::vector<std::pair<std::string, Notification>> messages;  // by notifier, in the rule's order
    int64_t cause = 0;
    std::unique_ptr<Timer> timer;
};

Notifications::Notifications(EventLoop& loop, Store& store, Hooks& hooks, PluginHost& plugins,
                             std::function<bool(int64_t)> attached, OutboxOptions outbox)
    : m_loop(loop), m_store(store), m_hooks(hooks), m_plugins(plugins), m_attached(std::move(attached)),
      m_outbox(loop, store,
               [this](const std::string& n, const Notification& m, int64_t key, int attempt, bool maybe_delivered,
                      Outbox::SendDone done) { send(n, m, key, attempt, maybe_delivered, std::move(done)); },
               outbox),
      m_updates(store, m_outbox, [this](const std::string& notifier) {
          auto it = m_instances.find(notifier);
          return it != m_instances.end() && m_plugins.takes_updates(it->second);
      }) {
    hooks.set_policy([this](const SessionRow& row, const nlohmann::json& payload) { return decide(row, payload); });
    plugins.on_event([this](const PluginEvent& e) {
        m_store.append(make_json_event(0, EventKind::NotifierReported,
                                       {{"notifier", e.label}, {"plugin", e.plugin}, {"code", e.code}, {"text", e.text}}));
    });
    plugins.on_decision([this](const PluginDecision& d) { on_plugin_decision(d); });
    plugins.on_answer([this](const PluginAnswer& a) { return on_plugin_answer(a); });
}

Notifications::~Notifications() {
    m_plugins.on_answer(nullptr);
    m_plugins.on_decision(nullptr);
    m_hooks.set_policy(nullptr);
    m_plugins.on_event(nullptr);
    for (auto& [name, id] : m_instances) m_plugins.destroy(id);
}

Status Notifications::configure(const RuleConfig& rules) {
    std::map<std::string, PluginHost::InstanceId> created;
    std::string errors;
    std::vector<std::string> secrets;
    for (const auto& [name, n] : rules.notifiers)
        for (const auto& o : n.options)
            if (o.secret)
                for (auto& f : secret_fragments(o.value)) secrets.push_back(std::move(f));
    m_plugins.set_secrets(std::move(secrets));
    for (const auto& [name, n] : rules.notifiers) {
        PluginOptions options;
        for (const auto& o : n.options) options[o.key] = o.value;
        auto id = m_plugins.create(n.plugin, options, name);
        if (!id) errors += (errors.empty() ? "" : "\n") + ("notifier " + name + ": " + id.error().message);
        else created[name] = *id;
    }
    if (!errors.empty()) {
        for (auto& [name, id] : created) m_plugins.destroy(id);
        return Error{errors};
    }
    // Swap: deliveries already handed to old instances finish on them.
    auto old = std::move(m_instances);
    m_instances = std::move(created);
    m_rules = rules;
    for (auto& [name, id] : old) m_plugins.destroy(id);
    return {};
}

Result<size_t> Notifications::resume() {
    // Escalations of sessions that did not survive the restart are over.
    auto open = open_facts(m_store.log(), EventKind::EscalationScheduled,
                           {{EventKind::EscalationCancelled, "escalation", ""}, {EventKind::NotificationQueued, "escalation_of", ""}});
    if (!open) return open.error();
    for (const OpenFact& f : *open)
        m_store.append(make_json_event(f.session, EventKind::EscalationCancelled, {{"escalation", f.seq}, {"reason", "daemon restarted"}}));
    if (auto s = m_updates.load(); !s) return s.error();
    return m_outbox.resume();
}

std::optional<PermissionDecision> Notifications::decide(const SessionRow& row, const nlohmann::json& payload) {
    StateChange change;
    change.from = row.state;
    change.to = agent_state::needs_permission;
    change.tool = payload.value("tool_name", "");
    change.tool_input = payload.value("tool_input", nlohmann::json::object());
    Transition t = make_transition(row, change, now_us(), m_attached(row.id));
    // A PreToolUse is answered only by a rule that names the tool; a PermissionRequest
    // by any rule with an answer.
    bool pre_tool_use = payload.value("hook_event_name", "") == "PreToolUse";
    // A dry run: the notifications of the same rule go out with the state change.
    for (const auto& v : tether::dry_run(m_rules, t, m_memory, now_us())) {
        if (!v.decides) continue;
        if (pre_tool_use) {
            auto rule = std::find_if(m_rules.rules.begin(), m_rules.rules.end(), [&](const Rule& r) { return r.name == v.rule; });
            if (rule == m_rules.rules.end() || rule->when.tool.empty()) return std::nullopt;
        }
        for (const auto& a : v.actions)
            if (a.kind == ActionKind::answer) return PermissionDecision{a.decision, a.message, "rule:" + a.rule, false, ""};
    }
    return std::nullopt;
}

void Notifications::on_plugin_decision(const PluginDecision& d) {
    const char* verb = d.allow ? "approve" : "deny";
    auto s = m_hooks.decide(d.request, {d.allow ? "allow" : "deny", d.message, "notifier:" + d.label, false, d.label});
    // A click on a notification whose request was answered meanwhile: nothing to do.
    if (!s) log_info("notifier " + d.label + ": " + verb + " ignored: " + s.error().message);
    else log_info("notifier " + d.label + ": " + verb + " request " + std::to_string(d.request));
}

AnswerOutcome Notifications::on_plugin_answer(const PluginAnswer& p) {
    const NotifierAnswer& a = p.answer;
    const char* verb = a.allow ? "approve" : "deny";
    std::string r = "request " + std::to_string(a.request);
    std::string by = p.plugin + ":" + a.who;
    // A button names its session too: a request number of another session (a log that was
    // reset, a message from elsewhere) must not decide anything.
    if (auto entry = m_hooks.pending_entry(a.request); entry && !a.session_id.empty()) {
        std::string session = std::to_string(entry->value("session", int64_t{0}));
        if (session != a.session_id) {
            log_warn("notifier " + p.label + ": " + verb + " by " + by + " refused: " + r + " is session " + session +
                     "'s, the message was session " + a.session_id + "'s");
            return {NOTIFIER_ANSWER_NOT_PENDING, r + " belongs to another session: nothing was decided"};
        }
    }
    auto s = m_hooks.decide(a.request, {a.allow ? "allow" : "deny", a.message, by, a.always, p.label});
    if (!s) {
        log_info("notifier " + p.label + ": " + verb + " by " + by + " ignored: " + s.error().message);
        return {NOTIFIER_ANSWER_NOT_PENDING, s.error().message};
    }
    log_info("notifier " + p.label + ": " + verb + (a.always ? " (always)" : "") + " " + r + " by " + by);
    return {NOTIFIER_ANSWER_DECIDED, r + ": " + (a.allow ? (a.always ? "allowed, always" : "allowed") : "denied") + " by " + by};
}

std::vector<RuleVerdict> Notifications::dry_run(const Transition& t) const {
    return tether::dry_run(m_rules, t, m_memory, now_us());
}

void Notifications::on_committed(const Event& ev) {
    m_updates.on_committed(ev);
    switch (ev.kind) {
    case EventKind::StateChanged:
        on_state_changed(ev);
        break;
    case EventKind::FleetStateChanged:
        on_fleet_state_changed(ev);
        break;
    case EventKind::Acknowledged:
        cancel_escalations(ev.session, "acknowledged by " + ev.json().value("by", std::string("?")));
        break;
    case EventKind::PermissionDecided: {
        std::string d = ev.json().value("decision", "");
        if (d == "allow" || d == "deny") cancel_escalations(ev.session, "answered");
        break;
    }
    case EventKind::SessionExited:
        cancel_escalations(ev.session, "session ended");
        m_memory.forget_session(ev.session);
        m_last_change_us.erase(ev.session);
        break;
    default:
        break;
    }
}

void Notifications::on_state_changed(const Event& ev) {
    const SessionRow* row = m_store.sessions().find(ev.session);
    if (!row) return;
    auto j = ev.json();
    StateChange change;
    change.from = j.value("from", "");
    change.to = j.value("to", "");
    change.tool = j.value("tool", "");
    change.tool_input = j.value("tool_input", nlohmann::json());
    change.message = j.value("message", "");
    change.question = j.value("question", "");
    Transition t = make_transition(*row, change, ev.time_us, m_attached(row->id));
    // The row already shows the new state: time in the previous one comes from here.
    int64_t since = m_last_change_us.count(ev.session) ? m_last_change_us[ev.session] : row->started_us;
    t.previous_us = ev.time_us - since;
    m_last_change_us[ev.session] = ev.time_us;
    // Moving on from the state an escalation waits on ends it.
    cancel_escalations(ev.session, "state changed to " + t.to, t.to);
    for (const RuleAction& a : evaluate(m_rules, t, m_memory, ev.time_us)) {
        switch (a.kind) {
        case ActionKind::notify:
            for (const auto& n : a.notifiers) m_outbox.enqueue(ev.session, a.rule, n, ev.seq, 0, message_for(t, a, ev, n));
            break;
        case ActionKind::escalate_later:
            schedule_escalation(ev, t, a);
            break;
        case ActionKind::answer:  // given at request time through decide()
        case ActionKind::suppressed:
            if (a.kind == ActionKind::suppressed) log_info("rule " + a.rule + ": " + a.why);
            break;
        }
    }
}

void Notifications::schedule_escalation(const Event& ev, const Transition& t, const RuleAction& a) {
    const Event& s = m_store.append(make_json_event(
        ev.session, EventKind::EscalationScheduled,
        {{"rule", a.rule}, {"cause", ev.seq}, {"due_us", ev.time_us + a.after_us}, {"notifiers", a.notifiers}, {"state", t.to}}));
    auto p = std::make_unique<Pending>();
    p->session = ev.session;
    p->rule = a.rule;
    p->state = t.to;
    for (const auto& n : a.notifiers) p->messages.emplace_back(n, message_for(t, a, ev, n));
    p->cause = ev.seq;
    int64_t seq = s.seq;
    p->timer = std::make_unique<Timer>(m_loop, [this, seq] { fire_escalation(seq); });
    p->timer->arm_ms(static_cast<long>(a.after_us / 1000));
    m_escalations[seq] = std::move(p);
}

void Notifications::on_fleet_state_changed(const Event& ev) {
    auto j = ev.json();
    std::string host = j.value("host", "");
    int64_t session = j.value("session", int64_t{0});
    auto [key, added] = m_remote_keys.try_emplace({host, session}, -static_cast<int64_t>(m_remote_keys.size()) - 1);
    Transition t;
    t.session_id = key->second;
    t.session_name = j.value("name", "");
    t.cwd = j.value("cwd", "");
    t.agent = j.value("agent", "");
    t.from = j.value("from", "");
    t.to = j.value("to", "");
    t.previous_us = j.value("previous_us", int64_t{0});
    t.tool = j.value("tool", "");
    t.tool_input = j.value("tool_input", nlohmann::json());
    t.message = j.value("message", "");
    t.question = j.value("question", "");
    t.attached = j.value("attached", false);
    for (const RuleAction& a : evaluate(m_rules, t, m_memory, ev.time_us)) {
        if (a.kind == ActionKind::notify) {
            for (const auto& n : a.notifiers) {
                Notification m = notification_for(m_rules, t, a, n, ev.time_us);
                // The request a button would answer lives on the other host: no buttons.
                m.permission_request = 0;
                m.host = host;
                m.session = session;
                m_outbox.enqueue(0, a.rule, n, ev.seq, 0, m);
            }
        } else if (a.kind == ActionKind::escalate_later) {
            log_info("rule " + a.rule + ": escalations are not run for another host's sessions (" + host + ")");
        } else if (a.kind == ActionKind::suppressed) {
            log_info("rule " + a.rule + ": " + a.why);
        }
    }
    if (t.to == agent_state::exited) m_memory.forget_session(key->second);
}

void Notifications::cancel_escalations(int64_t session, const std::string& reason, const std::string& unless_state) {
    std::vector<int64_t> cancelled;
    for (auto& [seq, p] : m_escalations)
        if (p->session == session && (unless_state.empty() || p->state != unless_state)) cancelled.push_back(seq);
    for (int64_t seq : cancelled) {
        m_escalations.erase(seq);
        m_store.append(make_json_event(session, EventKind::EscalationCancelled, {{"escalation", seq}, {"reason", reason}}));
    }
}

void Notifications::fire_escalation(int64_t seq) {
    auto it = m_escalations.find(seq);
    if (it == m_escalations.end()) return;
    std::unique_ptr<Pending> p = std::move(it->second);
    m_escalations.erase(it);
    std::string why;
    if (in_quiet_hours(m_rules, p->state, now_us(), &why)) {
        m_store.append(make_json_event(p->session, EventKind::EscalationCancelled, {{"escalation", seq}, {"reason", "quiet hours: " + why}}));
        return;
    }
    for (auto& [notifier, message] : p->messages) {
        message.escalation = true;
        m_outbox.enqueue(p->session, p->rule, notifier, p->cause, seq, message);
    }
}

Notification Notifications::message_for(const Transition& t, const RuleAction& a, const Event& cause,
                                        const std::string& notifier) const {
    Notification n = notification_for(m_rules, t, a, notifier, cause.time_us);
    // The request a notifier's Approve/Deny answers: the one the PermissionRequest hook
    // that caused this transition raised, if it still waits.
    // Not for a question: AskUserQuestion wants its answers in updatedInput, which no
    // Approve button has; it is answered in the agent's terminal.
    if (n.kind == "permission") {
        n.permission_request = m_hooks.pending_request_for_hook(cause.json().value("cause", int64_t{0}));
        if (n.permission_request) n.always = m_hooks.always_offer(n.permission_request);
    }
    return n;
}

void Notifications::send(const std::string& notifier, const Notification& m, int64_t key, int attempt, bool maybe_delivered,
                         Outbox::SendDone done) {
    auto it = m_instances.find(notifier);
    if (it == m_instances.end()) {
        // The notifier left the configuration: nothing can deliver this any more.
        done(false, false, "notifier " + notifier + " is not configured", "");
        return;
    }
    // Another host's session has no thread here (its ids are that host's).
    DeliveryContext context{m.host.empty() ? m_updates.session_receipt(notifier, m.session) : "", maybe_delivered};
    m_plugins.deliver(it->second, m, std::to_string(key), static_cast<uint32_t>(attempt), std::move(context),
                      [done = std::move(done)](DeliveryResult r) { done(r.ok(), r.retryable(), r.error, r.receipt); });
}

}  // namespace tether
