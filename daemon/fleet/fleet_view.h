// FleetView: every host's sessions and pending permission requests, folded from the
// fleet stream (pure). Each host's sessions are the local sessions projection's own fold
// (projections.h) over that host's facts, so a remote row means exactly what a local one
// does. Per host the facts must come in increasing seq within one epoch (one log): a
// repeat or an older one is skipped, never applied twice; a newer epoch (the host's log
// was recreated) replaces what the host had. Rebuild = a fresh view fed the stream again.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "fleet/fleet_fact.h"
#include "state/projections.h"

namespace tether {

struct RemotePending {
    int64_t request = 0;  // the PermissionRequested seq on its host
    int64_t session = 0;
    std::string tool;
    nlohmann::json tool_input;
    int64_t asked_us = 0;
};

struct HostView {
    std::string host;
    int64_t epoch = 0;
    int64_t last_seq = 0;
    int64_t last_time_us = 0;  // the host's clock, of its last fact
    bool daemon_up = false;    // its last DaemonStarted/DaemonStopped
    int64_t daemon_since_us = 0;
    SessionsState sessions;
    std::map<int64_t, RemotePending> pending;  // by request
    std::map<int64_t, int> attached;           // session -> clients attached
};

class FleetView {
public:
    enum class Outcome { applied, repeated, older_epoch, unknown_host };
    struct Applied {
        Outcome outcome = Outcome::applied;
        std::string why;        // for a skipped fact: what to report
        int64_t session = 0;    // the session whose row changed, or 0
        bool pending_changed = false;
        bool host_reset = false;  // a new epoch replaced the host's state
    };

    // known(host): whether the fleet lists the host (FleetConfig::knows_host).
    explicit FleetView(std::function<bool(const std::string&)> known = nullptr) : m_known(std::move(known)) {}

    Applied apply(const FleetFact& f);

    const std::map<std::string, HostView>& hosts() const { return m_hosts; }
    const HostView* host(const std::string& name) const;
    bool operator==(const FleetView& o) const;  // the folded state, for rebuild checks

    // Counters of what was skipped, for `tether ls --fleet` and the log.
    struct Skipped {
        int64_t repeated = 0, older_epoch = 0, unknown_host = 0, malformed = 0;
        std::string last_reason;
    };
    const Skipped& skipped() const { return m_skipped; }
    void count_malformed(const std::string& why);

private:
    std::function<bool(const std::string&)> m_known;
    std::map<std::string, HostView> m_hosts;
    Skipped m_skipped;
};

// A host's pending request as `tether pending --fleet` lists it: request "<host>:<seq>".
nlohmann::json remote_pending_json(const HostView& h, const RemotePending& p, int64_t now_us);

}  // namespace tether
