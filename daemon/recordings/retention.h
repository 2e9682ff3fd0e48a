// Retention: pruning old recordings by age and by total size (config `retention:`),
// hourly and on `tether gc`. The choice is pure (choose_prunes); the pruning itself is
// Store::prune, one transaction per session, which keeps the log consistent with its
// projections. Live sessions are never touched, nor the newest session (a new session
// takes the highest id + 1: pruning it would hand its id out again).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "wire/control_socket.h"
#include "base/event_loop.h"
#include "state/projections.h"
#include "state/store.h"

namespace tether {

struct RetentionLimits {
    int64_t max_age_us = 0;       // ended sessions idle longer than this go; 0: no limit
    int64_t max_total_bytes = 0;  // then the oldest until the recorded output fits; 0: no limit
    bool any() const { return max_age_us > 0 || max_total_bytes > 0; }
};

struct PruneChoice {
    int64_t session = 0;
    std::string name;
    std::string reason;
    int64_t bytes = 0;  // output and input recorded
};

// Oldest (by last activity) first.
std::vector<PruneChoice> choose_prunes(const SessionsState& sessions, const RetentionLimits& limits, int64_t now_us);

class Retention {
public:
    using PrunedFn = std::function<void(int64_t session)>;
    // on_pruned: drop what is derived from the session elsewhere (keyframes).
    Retention(EventLoop& loop, Store& store, RetentionLimits limits, PrunedFn on_pruned);

    void set_limits(RetentionLimits limits) { m_limits = limits; }
    bool handle(const std::shared_ptr<Connection>& conn, const std::string& cmd, const nlohmann::json& req);
    // Prunes what the limits say; returns what went (or would go, dry_run).
    Result<std::vector<PruneChoice>> run(const RetentionLimits& limits, bool dry_run);

private:
    Store& m_store;
    RetentionLimits m_limits;
    PrunedFn m_on_pruned;
    Timer m_timer;
};

}  // namespace tether
