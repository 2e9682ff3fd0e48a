// Hooks: what agents tell the daemon through tether-hook, and permissions answered from
// anywhere. A hook payload becomes a HookReceived event of its session (or of an
// external session for agents tether did not start); a PermissionRequest waits, bounded,
// for a decision from a policy (the rules), `tether approve|deny`, or the UI, and the
// waiting hook prints it in Claude Code's format. No decision in time: empty answer, so
// the agent asks in its own terminal. Also `tether notify`, `tether wait`, `pending`.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/agent_tracker.h"
#include "wire/control_socket.h"
#include "state/store.h"

namespace tether {

struct PermissionDecision {
    std::string decision;  // "allow" or "deny"
    std::string message;   // shown to the agent with a deny
    std::string by;        // "rule:<name>", "cli", "ui", "notifier:<name>", "slack:U123", "timeout", "agent"
    bool always = false;   // allow, and remember it the way the agent offers
    std::string notifier;  // the notifier it came through, when a plugin answered ("" otherwise)
};

class Hooks {
public:
    // Consulted for each permission request before anyone is asked, and for each
    // PreToolUse (answered only when a rule names the tool): the rules plug in here.
    using PermissionPolicy = std::function<std::optional<PermissionDecision>(const SessionRow& session,
                                                                             const nlohmann::json& payload)>;

    Hooks(EventLoop& loop, Store& store, AgentTracker& tracker);
    ~Hooks();

    bool handle(const std::shared_ptr<Connection>& conn, const std::string& cmd, const nlohmann::json& req);
    void set_policy(PermissionPolicy policy) { m_policy = std::move(policy); }
    // The requests waiting for a decision, as `pending` lists them; one of them by seq.
    nlohmann::json pending_json() const;
    std::optional<nlohmann::json> pending_entry(int64_t request) const;

    // Answers a pending request (a PermissionRequested seq): what `tether approve|deny`
    // ends in, and what a notifier's button calls. An error when it is not pending (any
    // more), saying why as far as the daemon knows: how it was decided, or that it was
    // asked before this daemon started.
    Status decide(int64_t request, const PermissionDecision& d);
    // The request still pending that the PermissionRequest hook hook_seq raised, or 0.
    int64_t pending_request_for_hook(int64_t hook_seq) const;
    // What "always" would accept for a pending request: the agent's first permission
    // suggestion (echoed back with an always-allow), or null when it offers none.
    nlohmann::json always_offer(int64_t request) const;

    // The Store listener (the Daemon wires it, in the pipeline's order): a state change
    // after a request, or the session's end, ends its wait with "ask".
    void on_committed(const Event& ev);

private:
    struct Pending;
    void on_payload(const std::shared_ptr<Connection>& conn, const nlohmann::json& req, std::string_view bytes);
    int64_t session_for(const nlohmann::json& req, const std::string& agent, const nlohmann::json& payload);
    void ask_permission(const std::shared_ptr<Connection>& conn, int64_t session, int64_t hook_seq,
                        const nlohmann::json& payload, long wait_ms);
    void resolve(int64_t request, const PermissionDecision& d);
    void cmd_pending(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_decide(const std::shared_ptr<Connection>& conn, const nlohmann::json& req, bool allow);
    void cmd_notify(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_wait(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_ack(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);

    EventLoop& m_loop;
    Store& m_store;
    AgentTracker& m_tracker;
    PermissionPolicy m_policy;
    std::map<int64_t, std::unique_ptr<Pending>> m_pending;  // by PermissionRequested seq
    std::map<uint64_t, std::shared_ptr<void>> m_waits;      // connection id -> wait token
    // The latest decisions, so a late answer learns how its request went.
    struct Decided {
        std::string decision, by;
        int64_t time_us = 0;
    };
    std::map<int64_t, Decided> m_decided;  // by request, the newest k_decided_kept
    int64_t m_started_after = 0;           // requests up to this seq were asked before this daemon
};

// Claude Code's answer to a PermissionRequest hook (agent-hooks.md 1.4).
std::string permission_answer(const PermissionDecision& d, const nlohmann::json& payload);
// Claude Code's answer to a PreToolUse hook (agent-hooks.md 1.4).
std::string pre_tool_use_answer(const PermissionDecision& d);

}  // namespace tether
