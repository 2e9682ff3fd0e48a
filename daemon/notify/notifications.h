// Notifications: where the rules meet the outbox and the plugins. For every committed
// state change it runs the rules (rules.h) and queues what they say (outbox.h), keeps
// escalation timers (EscalationScheduled / EscalationCancelled events) that an
// acknowledgement (an attach, an answer, `tether ack`, the session moving on) cancels,
// answers permissions through the hooks' policy point and passes on the answers plugins
// give (a notification's Approve button, a chat's click, with who gave it), and owns the
// notifier plugin instances of the current configuration, swapped atomically on reload.
// Revising messages once their request is decided belongs to MessageUpdates.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "agent/hooks.h"
#include "notify/message_updates.h"
#include "notify/outbox.h"
#include "notify/plugin_host.h"
#include "notify/rules.h"
#include "state/store.h"

namespace tether {

class Notifications {
public:
    // attached(session): is a client attached (the user is already looking)?
    Notifications(EventLoop& loop, Store& store, Hooks& hooks, PluginHost& plugins,
                  std::function<bool(int64_t)> attached, OutboxOptions outbox = {});
    ~Notifications();

    // Creates the plugin instances of rules' notifiers; on any error nothing changes and
    // every error is returned (naming the plugin file and the problem).
    Status configure(const RuleConfig& rules);
    Result<size_t> resume();  // redelivers what the log shows unfinished
    const RuleConfig& rules() const { return m_rules; }
    // For `tether rules test`: the verdicts for a transition, nothing sent.
    std::vector<RuleVerdict> dry_run(const Transition& t) const;

    // The Store listeners (the Daemon wires them, in the pipeline's order): the outbox's
    // (a queued notification is delivered), then this one (state changes run the rules;
    // acknowledgements, answers and ends cancel escalations).
    Outbox& outbox() { return m_outbox; }
    void on_committed(const Event& ev);

private:
    struct Pending;  // an escalation waiting for its time
    void on_state_changed(const Event& ev);
    void schedule_escalation(const Event& ev, const Transition& t, const RuleAction& a);
    void on_fleet_state_changed(const Event& ev);  // another host's, taken by the fleet notifier
    void cancel_escalations(int64_t session, const std::string& reason, const std::string& unless_state = "");
    void fire_escalation(int64_t scheduled_seq);
    void send(const std::string& notifier, const Notification& message, int64_t key, int attempt, bool maybe_delivered,
              Outbox::SendDone done);
    Notification message_for(const Transition& t, const RuleAction& a, const Event& cause, const std::string& notifier) const;
    std::optional<PermissionDecision> decide(const SessionRow& row, const nlohmann::json& payload);
    void on_plugin_decision(const PluginDecision& d);
    AnswerOutcome on_plugin_answer(const PluginAnswer& a);

    EventLoop& m_loop;
    Store& m_store;
    Hooks& m_hooks;
    PluginHost& m_plugins;
    std::function<bool(int64_t)> m_attached;
    Outbox m_outbox;
    MessageUpdates m_updates;
    RuleConfig m_rules;
    RuleMemory m_memory;
    std::map<std::string, PluginHost::InstanceId> m_instances;  // notifier name -> instance
    std::map<int64_t, int64_t> m_last_change_us;                // session -> time of its last change
    std::map<int64_t, std::unique_ptr<Pending>> m_escalations;  // by EscalationScheduled seq
    // Another host's session in the rules' memory (cooldown, dedupe): a key of its own,
    // below zero so that it never meets a local session id.
    std::map<std::pair<std::string, int64_t>, int64_t> m_remote_keys;
};

}  // namespace tether
