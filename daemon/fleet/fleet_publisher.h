// FleetPublisher: the thread that publishes this host's committed facts to the stream, in
// log order, reading them from the log itself through its own read-only connection. The
// loop only tells it how far the log is durable (committed()), so nothing on the loop
// ever waits for NATS, and a daemon that lost the server simply catches up from its log
// when the server is back. Where to resume: after the stream's last message of this host
// (same log epoch), else after the seq kept in the cursor file; a fact published twice
// (a crash between the server's acknowledgement and the cursor) carries the same message
// id, so the server drops it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "config/fleet_config.h"
#include "fleet/nats_link.h"

namespace tether {

class FleetPublisher {
public:
    // cursor_path: where the last acknowledged seq is kept ("<epoch> <seq>").
    FleetPublisher(NatsLink& link, const FleetConfig& config, std::string log_path, std::string cursor_path);
    ~FleetPublisher();  // stops and joins the thread

    void committed(int64_t seq);  // loop thread: events up to seq are durable
    void kick();                  // the connection came back: look again
    // Waits up to timeout_ms for everything committed to be acknowledged (a stopping
    // daemon's last facts, DaemonStopped among them); false when it was not.
    bool drain(long timeout_ms);

    struct Stats {
        int64_t epoch = 0;
        int64_t acked_seq = 0;   // every publishable fact up to here is in the stream
        int64_t published = 0;   // this run
        int64_t duplicates = 0;  // the server already had them
        std::string last_error;
    };
    Stats stats() const;

private:
    void run();
    Status open_log();
    Status sync_with_stream();
    Status publish_up_to(int64_t committed);
    void save_cursor();
    void load_cursor();

    NatsLink& m_link;
    FleetConfig m_config;
    std::string m_log_path, m_cursor_path;
    std::unique_ptr<class EventLog> m_log;  // publisher thread only

    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_progress;  // acked_seq moved
    bool m_stop = false;
    bool m_kicked = false;
    int64_t m_committed = 0;
    Stats m_stats;
    bool m_synced = false;  // the resume point was checked against the stream since (re)connecting
    int64_t m_saved_seq = -1;
    std::thread m_thread;
};

}  // namespace tether
