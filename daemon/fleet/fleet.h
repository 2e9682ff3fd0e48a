// Fleet: this daemon's part in a fleet of hosts sharing one NATS JetStream stream, on the
// loop thread. It owns the link and its threads (publisher, follower), folds what the
// follower reads into the FleetView, serves `fleet_ls`, `fleet_pending` and approve/deny
// of "host:REQ" (a request to that host's daemon, off the loop), answers such requests
// for this host (decided locally through Hooks, by "fleet:<from>"), tells watchers what
// changed, and, as the fleet's notifier (fleet.notify), takes other hosts' transitions
// into the local log (FleetStateChanged) for the rules, once each. Nothing here can stop
// or slow the local product: every NATS call runs on the fleet's threads.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/hooks.h"
#include "base/deadline_pool.h"
#include "base/event_loop.h"
#include "base/mailbox.h"
#include "config/fleet_config.h"
#include "fleet/fleet_follower.h"
#include "fleet/fleet_publisher.h"
#include "fleet/fleet_view.h"
#include "fleet/nats_link.h"
#include "state/store.h"
#include "wire/control_socket.h"

namespace tether {

class Fleet {
public:
    using SessionJson = std::function<nlohmann::json(const SessionRow&)>;
    using Notice = std::function<void(const nlohmann::json&)>;

    // Connecting happens in the background: a server that is down is not an error.
    static Result<std::unique_ptr<Fleet>> start(EventLoop& loop, Store& store, Hooks& hooks, const FleetConfig& config,
                                                const std::string& state_dir, const std::string& log_path, SessionJson session_json);
    ~Fleet();

    // The Store listener (the Daemon wires it, last in the pipeline): committed facts
    // that travel are handed to the publisher thread.
    void on_committed(const Event& ev);

    // fleet_ls, fleet_pending, and approve/deny whose target is "host:REQ".
    bool handle(const std::shared_ptr<Connection>& conn, const std::string& cmd, const nlohmann::json& req);
    // Every host as the watch stream and `ls --fleet` show it.
    nlohmann::json hosts_json() const;
    // Called (one per host for the facts that arrived together) with {"event": "fleet", "host": {...}}.
    void set_notice(Notice notice) { m_notice = std::move(notice); }
    const FleetView& view() const { return m_view; }

private:
    Fleet(EventLoop& loop, Store& store, Hooks& hooks, const FleetConfig& config, SessionJson session_json);
    void on_fact(uint64_t stream_seq, Result<FleetFact> f);
    void maybe_take_transition(const FleetFact& f, int64_t previous_since_us);
    Status load_taken();
    std::string answer(std::string_view subject, std::string_view data);  // a libnats thread
    void cmd_decide(const std::shared_ptr<Connection>& conn, const nlohmann::json& req, bool allow);
    nlohmann::json host_json(const HostView& h) const;
    nlohmann::json status_json() const;
    void flush_notices();

    EventLoop& m_loop;
    Store& m_store;
    Hooks& m_hooks;
    FleetConfig m_config;
    SessionJson m_session_json;
    Notice m_notice;
    FleetView m_view;
    std::map<std::string, std::pair<int64_t, int64_t>> m_taken;  // host -> (epoch, seq) of its last FleetStateChanged
    std::set<std::string> m_dirty;                                // hosts to tell watchers about
    Timer m_notice_timer;
    std::atomic<bool> m_connected{false};
    std::atomic<bool> m_closing{false};
    std::string m_link_status = "connecting";
    int64_t m_link_since_us = 0;
    uint64_t m_stream_seq = 0;  // the last stream message folded
    Mailbox m_mailbox;
    std::unique_ptr<NatsLink> m_link;
    std::unique_ptr<FleetPublisher> m_publisher;
    std::unique_ptr<FleetFollower> m_follower;
    std::unique_ptr<DeadlinePool> m_requests;  // approve/deny to other hosts
};

// "devbox:17" -> ("devbox", 17); nullopt when it is not host:number.
std::optional<std::pair<std::string, int64_t>> parse_remote_request(const std::string& target);

}  // namespace tether
