// Publishing the log to the stream, from a thread of its own.
#include "fleet/fleet_publisher.h"

#include <cstdio>
#include <fstream>

#include "base/log.h"
#include "log/event_log.h"

namespace tether {

namespace {
constexpr long k_publish_timeout_ms = 5000;
constexpr int64_t k_batch = 512;  // events read per pass; the cursor is saved after each
}  // namespace

FleetPublisher::FleetPublisher(NatsLink& link, const FleetConfig& config, std::string log_path, std::string cursor_path)
    : m_link(link), m_config(config), m_log_path(std::move(log_path)), m_cursor_path(std::move(cursor_path)) {
    m_thread = std::thread([this] { run(); });
}

FleetPublisher::~FleetPublisher() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

void FleetPublisher::committed(int64_t seq) {
    {
        std::lock_guard lock(m_mutex);
        if (seq <= m_committed) return;
        m_committed = seq;
    }
    m_wake.notify_all();
}

void FleetPublisher::kick() {
    {
        std::lock_guard lock(m_mutex);
        m_kicked = true;
        m_synced = false;
    }
    m_wake.notify_all();
}

bool FleetPublisher::drain(long timeout_ms) {
    std::unique_lock lock(m_mutex);
    return m_progress.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return m_stats.acked_seq >= m_committed; });
}

FleetPublisher::Stats FleetPublisher::stats() const {
    std::lock_guard lock(m_mutex);
    return m_stats;
}

Status FleetPublisher::open_log() {
    auto log = EventLog::open_readonly(m_log_path);
    if (!log) return log.error();
    m_log = std::move(*log);
    EventQuery q;
    q.to_seq = 1;
    auto cursor = m_log->read(q);
    if (!cursor) return cursor.error();
    auto first = cursor->next();
    if (!first) return first.error();
    if (!*first) return Error{"fleet: the log has no first event yet"};
    std::lock_guard lock(m_mutex);
    m_stats.epoch = (*first)->time_us;
    return {};
}

void FleetPublisher::load_cursor() {
    std::ifstream in(m_cursor_path);
    int64_t epoch = 0, seq = 0;
    if (!(in >> epoch >> seq)) return;
    std::lock_guard lock(m_mutex);
    if (epoch == m_stats.epoch) m_stats.acked_seq = seq;
    m_saved_seq = epoch == m_stats.epoch ? seq : -1;
}

void FleetPublisher::save_cursor() {
    int64_t epoch, seq;
    {
        std::lock_guard lock(m_mutex);
        epoch = m_stats.epoch;
        seq = m_stats.acked_seq;
    }
    if (seq == m_saved_seq) return;
    std::string tmp = m_cursor_path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << epoch << " " << seq << "\n";
        if (!out.flush()) {
            log_warn("fleet: cannot write " + tmp);
            return;
        }
    }
    if (std::rename(tmp.c_str(), m_cursor_path.c_str()) == 0) m_saved_seq = seq;
}

// The stream knows best what it holds of this host: resume after its last message of
// this log. With none (a new stream, or everything expired) the cursor file decides.
Status FleetPublisher::sync_with_stream() {
    if (auto s = m_link.ensure_stream(); !s) return s;
    auto last = m_link.last_fact_of(m_config.host);
    if (!last) return last.error();
    std::lock_guard lock(m_mutex);
    if (*last && (*last)->epoch == m_stats.epoch && (*last)->seq != m_stats.acked_seq) {
        log_info("fleet: the stream holds " + m_config.host + " up to seq " + std::to_string((*last)->seq) +
                 "; publishing from there (the cursor said " + std::to_string(m_stats.acked_seq) + ")");
        m_stats.acked_seq = (*last)->seq;
    }
    m_synced = true;
    return {};
}

Status FleetPublisher::publish_up_to(int64_t committed) {
    int64_t from;
    int64_t epoch;
    {
        std::lock_guard lock(m_mutex);
        from = m_stats.acked_seq + 1;
        epoch = m_stats.epoch;
    }
    int64_t to = std::min(committed, from + k_batch - 1);
    EventQuery q;
    q.from_seq = from;
    q.to_seq = to;
    q.skip_terminal_data = !m_config.output;
    auto cursor = m_log->read(q);
    if (!cursor) return cursor.error();
    int64_t done = from - 1;
    Status outcome;
    for (;;) {
        auto ev = cursor->next();
        if (!ev) {
            outcome = ev.error();
            break;
        }
        if (!*ev) {
            done = to;  // everything up to `to` was read; the rest does not travel
            break;
        }
        const Event& e = **ev;
        if (fleet_publishes(e.kind, m_config.output)) {
            FleetFact f{m_config.host, epoch, e.seq, e.time_us, e.session, e.kind, e.payload};
            auto dup = m_link.publish(f, k_publish_timeout_ms);
            if (!dup) {
                outcome = dup.error();
                break;
            }
            std::lock_guard lock(m_mutex);
            ++(*dup ? m_stats.duplicates : m_stats.published);
        }
        done = e.seq;
    }
    {
        std::lock_guard lock(m_mutex);
        m_stats.acked_seq = std::max(m_stats.acked_seq, done);
    }
    m_progress.notify_all();
    save_cursor();
    return outcome;
}

void FleetPublisher::run() {
    long backoff_ms = 250;
    bool have_log = false;
    for (;;) {
        int64_t committed;
        bool synced;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait_for(lock, std::chrono::milliseconds(backoff_ms), [&] {
                return m_stop || m_kicked || (have_log && m_committed > m_stats.acked_seq && m_synced);
            });
            if (m_stop) return;
            m_kicked = false;
            committed = m_committed;
            synced = m_synced;
        }
        if (!have_log) {
            if (auto s = open_log(); !s) {
                std::lock_guard lock(m_mutex);
                m_stats.last_error = s.error().message;
                continue;
            }
            load_cursor();
            have_log = true;
        }
        if (!m_link.connected()) continue;
        Status s = synced ? Status() : sync_with_stream();
        if (s) {
            std::lock_guard lock(m_mutex);
            if (m_committed <= m_stats.acked_seq) continue;
        }
        if (s) s = publish_up_to(committed);
        std::lock_guard lock(m_mutex);
        if (!s) {
            // Published or not, the next attempt first asks the stream where this host ends.
            if (m_stats.last_error != s.error().message) log_warn("fleet: " + s.error().message);
            m_stats.last_error = s.error().message;
            m_synced = false;
            backoff_ms = std::min(backoff_ms * 2, 5000L);
        } else {
            m_stats.last_error.clear();
            backoff_ms = 250;
        }
    }
}

}  // namespace tether
