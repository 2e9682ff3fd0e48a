// Sessions: the set of live sessions and the control commands that act on them
// (run, attach, detach, resize, send, kill, screen). It starts a holder per session,
// routes committed events to the sessions, and on start-up adopts the sessions whose
// holders outlived the previous daemon, reports holders it cannot adopt, and closes the
// books on sessions that ended without a witness.
#pragma once

#include <map>
#include <functional>
#include <memory>
#include <string>

#include "wire/control_socket.h"
#include "terminal/screen_follower.h"
#include "session/session.h"
#include "state/store.h"

namespace tether {

class Sessions {
public:
    Sessions(EventLoop& loop, Store& store, SessionLimits limits, ScreenFollowerOptions screen,
             std::string detach_key, std::string socket_path, std::string log_path, std::string state_dir);
    ~Sessions();

    // Reaches every holder in our holders directory: adopts those of our live sessions,
    // reports the others (never kills them). Then records the end of live sessions that
    // no holder holds. Call once, at start-up.
    Status adopt_holders();
    // Holders that answer in the holders directory but are not adopted (doctor).
    nlohmann::json orphans() const { return nlohmann::json(m_orphans); }
    // `tether doctor --adopt`: tries again to adopt the holder of one of our live
    // sessions, or makes an orphan's program (a session this log lacks or has closed) a
    // new session.
    Result<int64_t> adopt_orphan(int64_t session);
    // Called with each adopted session's id before its adoption is committed.
    void set_adopt_listener(std::function<void(int64_t)> fn) { m_on_adopted = std::move(fn); }
    pid_t holder_pid(int64_t session) const;
    const std::string& holders_dir() const { return m_holders_dir; }
    // True when cmd was a session command (and has been answered or will be).
    bool handle(const std::shared_ptr<Connection>& conn, const std::string& cmd, const nlohmann::json& req);
    void shutdown();
    // Hangs up every live session (SIGHUP, then SIGKILL after a grace period) and calls
    // done once each has exited or the grace has run out: `daemon stop --end-sessions`.
    void end_all(std::function<void()> done);
    size_t live_count() const;
    // Is a client attached to the session (the user is looking at it)?
    bool attached(int64_t session);

    // The Store listener (the Daemon wires it, in the pipeline's order): committed output
    // goes to attached clients and the screen follower; acks go to the holders.
    void on_committed(const Event& ev);

private:
    Status try_adopt(int64_t id, const std::string& socket_path);
    int64_t next_session_id() const;
    Status adopt(int64_t id, std::unique_ptr<HolderLink> link);
    void report_orphan(const std::string& socket, const HolderHello& hello, const std::string& why);
    Session* live(const std::shared_ptr<Connection>& conn, const nlohmann::json& req, const char* what);
    const SessionRow* lookup(const nlohmann::json& ref) const;
    void cmd_run(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_attach(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_detach(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_resize(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_send(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_kill(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_screen(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    bool screen_in_memory(const nlohmann::json& req) const;
    void evict_exited();

    EventLoop& m_loop;
    Store& m_store;
    SessionLimits m_limits;
    std::string m_detach_key;  // the configured default, sent to attaching clients
    std::string m_socket_path;
    ScreenFollower m_follower;
    std::string m_state_dir;
    std::string m_holders_dir;
    std::map<int64_t, std::unique_ptr<Session>> m_sessions;  // live, and recently exited
    std::vector<nlohmann::json> m_orphans;
    std::function<void(int64_t)> m_on_adopted;
    std::unique_ptr<Timer> m_ending;
};

// "claude", "codex", "aider", "gemini" from the command, else "" (any other CLI).
std::string recognise_agent(const std::vector<std::string>& argv);
// "TERM", "9", "SIGKILL", "kill" -> signal number, or nullopt.
std::optional<int> parse_signal(const std::string& name);

}  // namespace tether
