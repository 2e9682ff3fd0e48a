// Session: one program in a PTY held by its holder process (holder_link.h). It drains
// the holder's output into the log (coalesced output chunks, terminal signals) and
// acknowledges each byte once durable, writes input, keeps the live screen following the
// log, and streams committed output to attached clients. Backpressure: when the log is
// backlogged or an attached client falls behind, it stops reading from the holder, whose
// window fills, so the program blocks on write and no byte is ever dropped or buffered
// without bound.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wire/control_socket.h"
#include "base/event_loop.h"
#include "terminal/pty_process.h"
#include "wire/holder_link.h"
#include "terminal/screen.h"
#include "terminal/screen_follower.h"
#include "state/store.h"
#include "terminal/terminal_signals.h"

namespace tether {

struct SessionLimits {
    size_t read_slice = 256u << 10;      // bytes per readable callback, for fairness
    size_t chunk_bytes = 64u << 10;      // an OutputChunk is at most this
    long coalesce_ms = 3;                // ...and waits at most this for more bytes
    size_t client_high_water = 4u << 20; // a client this far behind pauses the PTY
    size_t attach_history_lines = 50000;
    long permission_wait_s = 120;  // how long tether-hook waits for a decision
    size_t holder_window = 1u << 20;  // unlogged output a holder keeps before the program blocks
};

struct AttachedClient {
    std::weak_ptr<Connection> conn;
    bool read_only = false;
    int64_t from_seq = 0;  // output with a higher seq is streamed to it
};

class Session {
public:
    // output_offset: how much of the program's output the log already holds (0 for a new
    // session; the durable byte count for one adopted from a holder).
    Session(EventLoop& loop, Store& store, ScreenFollower& follower, const SessionLimits& limits, int64_t id,
            std::unique_ptr<HolderLink> link, int cols, int rows, uint64_t output_offset);
    ~Session();

    int64_t id() const { return m_id; }
    pid_t pid() const { return m_link->agent_pid(); }
    pid_t holder_pid() const { return m_link->holder_pid(); }
    bool exited() const { return m_exit_recorded; }

    // Called after each commit with every event of this session.
    void on_committed(const Event& ev);
    // The log may have room again: read from the holder if nothing else holds us back.
    void resume_reading() { update_reading(); }

    // Input: bytes go to the PTY in order; written asynchronously, logged first.
    void write_input(std::string bytes);
    // Sends Enter as its own write after a short pause: TUIs treat one burst as a paste.
    // done runs once the Enter has been handed to the log and the PTY queue.
    void write_enter_later(std::function<void()> done);
    Status resize(int cols, int rows);
    Status signal(int sig);

    // Commits what was read, then runs fn (later, on the loop thread) with the screen
    // parsed up to everything committed by then. Not called if the session is gone.
    void with_current_screen(ScreenFollower::ScreenFn fn);
    // Attaches conn: the PTY is paused until the screen is current, so the redraw and
    // the live stream that follows it meet exactly. reply runs first, with the screen.
    void attach(const std::shared_ptr<Connection>& conn, bool read_only, size_t history,
                std::function<void(const Screen&)> reply);
    // Sends conn the mode resets and a notice, and closes it.
    void detach_client(const std::shared_ptr<Connection>& conn, const std::string& reason);
    void detach_all(const std::string& reason);
    size_t client_count();
    int cols() const { return m_cols; }
    int rows() const { return m_rows; }

    // The daemon is stopping: log what was read. The program runs on in its holder, and
    // the next daemon resumes from the last durable byte.
    void shutdown();

private:
    void on_readable();
    void on_writable();
    void handle(const HolderFrame& frame);
    void take_output(uint64_t offset, std::string_view bytes);
    void holder_lost(const std::string& why);
    void queue_to_holder();
    void flush_output();
    void record_signals(std::string_view bytes);
    void update_reading();
    bool should_pause() const;
    void end_of_output();
    void maybe_record_exit();
    void send_to_clients(const Event& ev);
    void finish_clients(const nlohmann::json& notice, const std::string& reset);
    void forget_client(uint64_t cid);

    EventLoop& m_loop;
    Store& m_store;
    ScreenFollower& m_follower;
    SessionLimits m_limits;
    int64_t m_id;
    std::unique_ptr<HolderLink> m_link;
    int m_cols, m_rows;

    FdWatcher m_read_watcher;
    FdWatcher m_write_watcher;
    Timer m_coalesce_timer;
    Timer m_enter_timer;

    std::string m_out;  // read but not yet appended (at most chunk_bytes)
    TerminalSignalScanner m_signals;
    std::vector<TerminalSignal> m_signal_scratch;
    std::string m_last_title;

    uint64_t m_received = 0;  // output offset of the next byte expected from the holder
    uint64_t m_durable = 0;   // output bytes committed to the log (acknowledged to the holder)
    std::vector<std::function<void()>> m_pending_enters;

    bool m_output_open = true;
    std::optional<PtyProcess::Exit> m_exit;
    bool m_exit_recorded = false;
    int m_pause_holds = 0;  // attaches waiting for the screen

    std::vector<AttachedClient> m_clients;
    // Callbacks that may outlive this session hold a weak reference to this.
    std::shared_ptr<bool> m_alive = std::make_shared<bool>(true);
};

}  // namespace tether
