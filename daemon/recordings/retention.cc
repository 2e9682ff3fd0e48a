// Retention: the choice and the hourly and on-demand pruning.
#include "recordings/retention.h"

#include <algorithm>

#include "base/log.h"

namespace tether {

namespace {

constexpr long k_interval_ms = 3600 * 1000;

std::string days(int64_t us) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(us) / 86400e6);
    return buf;
}

}  // namespace

std::vector<PruneChoice> choose_prunes(const SessionsState& sessions, const RetentionLimits& limits, int64_t now_us) {
    std::vector<const SessionRow*> ended;
    int64_t total = 0, newest = sessions.sessions.empty() ? 0 : sessions.sessions.rbegin()->first;
    for (const auto& [id, row] : sessions.sessions) {
        total += row.bytes_out + row.bytes_in;
        if (!row.live() && id != newest) ended.push_back(&row);
    }
    std::sort(ended.begin(), ended.end(), [](const SessionRow* a, const SessionRow* b) {
        return a->last_activity_us != b->last_activity_us ? a->last_activity_us < b->last_activity_us : a->id < b->id;
    });
    std::vector<PruneChoice> out;
    for (const SessionRow* row : ended) {
        int64_t bytes = row->bytes_out + row->bytes_in;
        std::string reason;
        int64_t idle = now_us - row->last_activity_us;
        if (limits.max_age_us > 0 && idle > limits.max_age_us)
            reason = "ended " + days(idle) + " days ago (retention.max_age_days)";
        else if (limits.max_total_bytes > 0 && total > limits.max_total_bytes)
            reason = "recordings over retention.max_total_mib";
        else
            continue;
        total -= bytes;
        out.push_back({row->id, row->name, reason, bytes});
    }
    return out;
}

Retention::Retention(EventLoop& loop, Store& store, RetentionLimits limits, PrunedFn on_pruned)
    : m_store(store), m_limits(limits), m_on_pruned(std::move(on_pruned)), m_timer(loop, [this] {
          if (m_limits.any())
              if (auto r = run(m_limits, false); !r) log_error("retention: " + r.error().message);
          m_timer.arm_ms(k_interval_ms);
      }) {
    m_timer.arm_ms(0);  // once at start-up, then hourly
}

Result<std::vector<PruneChoice>> Retention::run(const RetentionLimits& limits, bool dry_run) {
    auto chosen = choose_prunes(m_store.sessions(), limits, now_us());
    if (dry_run) return chosen;
    std::vector<PruneChoice> done;
    for (const PruneChoice& p : chosen) {
        auto seq = m_store.prune(p.session, {{"name", p.name}, {"reason", p.reason}, {"bytes", p.bytes}});
        if (!seq) return Error{"pruning session " + std::to_string(p.session) + " failed: " + seq.error().message};
        log_info("retention: pruned session " + std::to_string(p.session) + " (" + p.name + "): " + p.reason);
        if (m_on_pruned) m_on_pruned(p.session);
        done.push_back(p);
    }
    return done;
}

bool Retention::handle(const std::shared_ptr<Connection>& conn, const std::string& cmd, const nlohmann::json& req) {
    if (cmd != "gc") return false;
    RetentionLimits limits = m_limits;
    if (req.contains("max_age_s") && req["max_age_s"].is_number())
        limits.max_age_us = static_cast<int64_t>(req["max_age_s"].get<double>() * 1e6);
    if (req.contains("max_total_bytes") && req["max_total_bytes"].is_number_integer())
        limits.max_total_bytes = req["max_total_bytes"].get<int64_t>();
    if (!limits.any())
        return conn->reply_error(req, "gc: no limit set: configure retention.max_age_days or retention.max_total_mib, "
                                      "or pass --max-age or --max-total"), true;
    bool dry_run = req.value("dry_run", false);
    auto pruned = run(limits, dry_run);
    if (!pruned) return conn->reply_error(req, "gc: " + pruned.error().message), true;
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : *pruned)
        list.push_back({{"session", p.session}, {"name", p.name}, {"reason", p.reason}, {"bytes", p.bytes}});
    std::weak_ptr<Connection> weak = conn;
    m_store.when_durable([weak, req, list, dry_run] {
        if (auto c = weak.lock()) c->reply_ok(req, {{"pruned", list}, {"dry_run", dry_run}});
    });
    return true;
}

}  // namespace tether
