// Holder: keeps one session's PTY and agent alive whatever happens to tetherd. It reads
// the PTY into a bounded window of output that no daemon has yet confirmed durable,
// relays it to the connected daemon, writes the daemon's input to the PTY, reaps the
// agent and keeps its exit status until a daemon collects it. No SQLite, no libvterm,
// no plugins: a poll loop over four descriptors.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wire/holder_protocol.h"
#include "terminal/pty_process.h"

namespace tether {

struct HolderOptions {
    int64_t session = 0;
    std::string socket_path;  // where later daemons find this holder
    std::string state_dir;    // the daemon state this session belongs to
    size_t window = 1u << 20; // unconfirmed output held before the agent is left to block
    int cols = 80, rows = 24; // the terminal's size at spawn
    std::vector<std::string> argv;  // what runs, told in the hello
    std::string cwd;
};

class Holder {
public:
    // listen_fd: bound and listening at options.socket_path; daemon_fd: the connection
    // of the daemon that started us (already past the spawn exchange), or -1.
    Holder(HolderOptions options, std::unique_ptr<PtyProcess> pty, int listen_fd, int daemon_fd, int sigchld_fd);
    ~Holder();

    // Until a daemon collects the exit. Returns the process exit code.
    int run();
    // One poll and what it found (timeout_ms -1: wait); false on a poll error. run() is
    // this until collected(); tests and the fuzzer turn it themselves.
    bool turn(int timeout_ms);
    bool collected() const { return m_collected; }
    HolderHello hello() const;

private:
    void on_master_readable();
    void on_master_writable();
    void on_daemon_readable();
    void on_daemon_writable();
    void on_accept();
    void on_child();
    void handle(const HolderFrame& frame);
    void drop_daemon();
    void fill_outgoing();
    bool can_read_master() const;
    uint64_t held() const { return m_produced - m_acked; }

    HolderOptions m_options;
    std::unique_ptr<PtyProcess> m_pty;
    int m_listen_fd;
    int m_daemon_fd;
    int m_sigchld_fd;
    int64_t m_started_us;
    int64_t m_disconnected_us = 0;
    int m_cols = 0, m_rows = 0;

    // Output: m_window holds the bytes [m_acked, m_produced) of the session's output.
    std::string m_window;
    uint64_t m_acked = 0, m_produced = 0, m_sent = 0;
    bool m_eof = false;       // the PTY said end of output
    bool m_eof_sent = false;
    std::optional<PtyProcess::Exit> m_exit;
    bool m_drained_after_exit = false;  // output written before the exit has been read
    bool m_exit_sent = false;

    bool m_resumed = false;  // the connected daemon has said where to resume
    std::string m_outgoing;  // frames not yet written to the daemon
    HolderFrameReader m_reader;
    std::deque<std::string> m_input;
    size_t m_input_offset = 0;
    bool m_collected = false;
};

}  // namespace tether
