// Store: group commit, listeners, durability waiters.
#include "state/store.h"

#include <algorithm>
#include <utility>

#include "base/log.h"

namespace tether {

Store::Store(EventLoop& loop, std::unique_ptr<EventLog> log, StoreOptions options)
    : m_loop(loop), m_log(std::move(log)), m_options(options), m_timer(loop, [this] {
          // Retries back off to a second: each one rewrites every waiting event.
          if (auto s = flush(); !s) m_timer.arm_ms(std::min<int64_t>(1000, 50 << std::min<int64_t>(m_health.attempts, 5)));
      }) {}

Store::~Store() {
    // Whoever listened may be gone already: the last commit tells nobody.
    m_listeners.clear();
    m_drain_listeners.clear();
    m_waiters.clear();
    if (auto s = flush(); !s) log_error("event log: final commit failed: " + s.error().message);
}

Status Store::load() { return m_projections.load(*m_log); }

const Event& Store::append(Event ev, bool urgent) {
    const Event& staged = m_log->append(std::move(ev));
    m_projections.apply(staged);
    if (urgent) m_timer.arm_ms(0);
    else schedule();
    return staged;
}

void Store::schedule() {
    if (m_log->pending_bytes() >= m_options.flush_bytes || m_log->pending_events() >= m_options.flush_events) {
        // Size threshold: commit from the loop soon, not inside the caller's frame.
        if (!m_timer.armed() || m_options.flush_interval_ms > 0) m_timer.arm_ms(0);
        return;
    }
    if (!m_timer.armed()) m_timer.arm_ms(m_options.flush_interval_ms);
}

void Store::when_durable(std::function<void()> fn) {
    if (m_log->pending_events() == 0) {
        fn();
        return;
    }
    m_waiters.emplace_back(m_log->last_seq(), std::move(fn));
    schedule();
}

Status Store::flush() {
    if (m_log->pending_events() == 0) return {};
    return commit_group({});
}

Result<int64_t> Store::prune(int64_t session, nlohmann::json fact) {
    if (auto s = flush(); !s) return s.error();
    int64_t seq = append(make_json_event(session, EventKind::SessionPruned, fact)).seq;
    auto s = commit_group([session, seq](SqliteDb& db) -> Status {
        auto del = db.prepare("DELETE FROM events WHERE session = ?1 AND seq < ?2");
        if (!del) return del.error();
        del->bind(1, session).bind(2, seq);
        return del->run();
    });
    if (!s) return s.error();
    return seq;
}

// One transaction: the staged events, `also`, the projection rows; then the listeners.
Status Store::commit_group(const std::function<Status(SqliteDb&)>& also) {
    bool was_backlogged = backlogged();
    auto writes = [this, &also](SqliteDb& db) -> Status {
        if (also)
            if (auto s = also(db); !s) return s;
        return m_projections.persist(db);
    };
    if (auto s = m_log->commit(writes, &m_committed); !s) {
        commit_failed(s.error());
        return s;
    }
    if (!m_health.ok()) commit_recovered();
    int64_t last = m_log->durable_seq();
    for (const Event& ev : m_committed)
        for (auto& l : m_listeners) run_guarded("event listener", [&] { l(ev); });
    auto waiters = std::move(m_waiters);
    m_waiters.clear();
    for (auto& [seq, fn] : waiters) {
        if (seq <= last)
            run_guarded("durability waiter", fn);
        else
            m_waiters.emplace_back(seq, std::move(fn));
    }
    if (was_backlogged && !backlogged())
        for (auto& fn : m_drain_listeners) run_guarded("drain listener", fn);
    // Facts derived by listeners (a state change, a queued notification) follow their
    // cause at once rather than a group interval later.
    // (Unconditionally: a listener's append has already armed the group interval.)
    if (m_log->pending_events() > 0) m_timer.arm_ms(0);
    return {};
}

void Store::commit_failed(const Error& e) {
    int64_t now = now_us();
    if (m_health.ok()) m_health.since_us = now;
    m_health.error = e.message;
    ++m_health.attempts;
    // Once when it starts, then once a minute: the log file may be on the full disk too.
    if (m_health.attempts == 1 || now - m_last_failure_log_us >= 60'000'000) {
        m_last_failure_log_us = now;
        log_error("event log: cannot write (" + e.message + "); " + std::to_string(m_log->pending_events()) +
                  " events wait in memory and sessions' output waits in their holders (their programs block); "
                  "retrying until it works: free space in the state directory or make it writable");
    }
}

void Store::commit_recovered() {
    StoreHealth was = std::exchange(m_health, StoreHealth{});
    int64_t now = now_us();
    log_info("event log: writing again after " + std::to_string((now - was.since_us) / 1000) + " ms and " +
             std::to_string(was.attempts) + " failed commits; everything that waited is durable now");
    // Durable at the next commit, which the listeners' own appends arm anyway.
    append(make_json_event(0, EventKind::LogStalled,
                           {{"error", was.error}, {"from_us", was.since_us}, {"to_us", now}, {"attempts", was.attempts}}));
}

Result<Store::Verification> Store::verify_rebuild() {
    if (auto s = flush(); !s) return s.error();
    auto folded = Projections::fold_all(*m_log);
    if (!folded) return folded.error();
    auto tables = Projections::read_tables(m_log->db());
    if (!tables) return tables.error();
    Verification v;
    v.live_matches = *folded == m_projections.sessions();
    v.tables_match = *folded == *tables;
    v.events = m_log->durable_seq();
    v.sessions = folded->sessions.size();
    return v;
}

Status Store::rebuild() {
    if (auto s = flush(); !s) return s;
    return m_projections.rebuild(*m_log);
}

}  // namespace tether
