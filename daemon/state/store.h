// Store: the event log plus the projections, with group commit on the event loop.
// append() stages an event and folds it into the projections at once; a short timer
// (or the size threshold) commits the group in one transaction together with the
// projection rows it changed. Only after the commit do listeners see the events and do
// waiting acknowledgements run: nothing looks at an event before it is durable.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "log/event_log.h"
#include "base/event_loop.h"
#include "state/projections.h"

namespace tether {

struct StoreOptions {
    long flush_interval_ms = 5;
    size_t flush_bytes = 1u << 20;
    size_t flush_events = 4096;
    // Above this many staged bytes (commits failing, e.g. disk full), producers are
    // asked to pause (backlogged()) instead of growing memory without bound.
    size_t backlog_bytes = 64u << 20;
};

// Whether the log can be written. While commits fail (disk full, a read-only or vanished
// state directory) the events wait in memory, output waits in the holders (it is
// acknowledged only once durable, so their programs block), and every ~second a commit
// is retried; the first success appends a LogStalled fact about the stretch.
struct StoreHealth {
    std::string error;      // the last commit's error; empty while commits succeed
    int64_t since_us = 0;   // when this stretch of failures began
    int64_t attempts = 0;   // failed commits in this stretch

    bool ok() const { return error.empty(); }
};

class Store {
public:
    using Listener = std::function<void(const Event&)>;

    Store(EventLoop& loop, std::unique_ptr<EventLog> log, StoreOptions options = {});
    ~Store();

    Status load();  // projections from their tables, rebuilt if they lag the log

    // urgent: commit on the next loop turn instead of after the group interval, for the
    // rare facts a person waits on (hook events, answers); output stays grouped.
    const Event& append(Event ev, bool urgent = false);
    // Runs fn once everything appended so far is durable (at once if it already is).
    void when_durable(std::function<void()> fn);
    // Commits now; on failure the events stay staged and the timer retries.
    Status flush();

    bool backlogged() const { return m_log->pending_bytes() >= m_options.backlog_bytes; }
    const StoreHealth& health() const { return m_health; }
    // Called once per event, in seq order, after its commit.
    void add_listener(Listener fn) { m_listeners.push_back(std::move(fn)); }
    // Called when a backlog clears, so paused producers can resume.
    void add_drain_listener(std::function<void()> fn) { m_drain_listeners.push_back(std::move(fn)); }

    const SessionsState& sessions() const { return m_projections.sessions(); }
    Projections& projections() { return m_projections; }
    EventLog& log() { return *m_log; }

    // Folds the whole log afresh and compares with the live state and the tables.
    struct Verification {
        bool live_matches = false;
        bool tables_match = false;
        int64_t events = 0;
        size_t sessions = 0;
    };
    Result<Verification> verify_rebuild();
    Status rebuild();

    // Retention: deletes every event of an ended session and appends its SessionPruned
    // tombstone (which drops its projection row), all in one transaction, so a rebuild
    // from the log that remains equals the live projections. Returns the tombstone's seq.
    Result<int64_t> prune(int64_t session, nlohmann::json fact);

private:
    void schedule();
    Status commit_group(const std::function<Status(SqliteDb&)>& also);
    void commit_failed(const Error& e);
    void commit_recovered();

    EventLoop& m_loop;
    std::unique_ptr<EventLog> m_log;
    StoreOptions m_options;
    Projections m_projections;
    Timer m_timer;
    std::vector<Listener> m_listeners;
    std::vector<std::function<void()>> m_drain_listeners;
    std::vector<std::pair<int64_t, std::function<void()>>> m_waiters;  // (seq, fn)
    std::vector<Event> m_committed;  // scratch for listeners, reused
    StoreHealth m_health;
    int64_t m_last_failure_log_us = 0;
};

}  // namespace tether
