// Sessions: the set of live sessions and the control commands that act on them
// (run, attach, detach, resize, send, kill, screen). It creates Session objects,
// routes committed events to them, reaps children on SIGCHLD, and on start-up closes
// the books on sessions a previous daemon left without an end.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "control_socket.h"
#include "screen_follower.h"
#include "session.h"
#include "store.h"

namespace tether {

class Sessions {
public:
    Sessions(EventLoop& loop, Store& store, SessionLimits limits, ScreenFollowerOptions screen,
             std::string detach_key, std::string socket_path, std::string log_path);
    ~Sessions();

    // Sessions the projection thinks live but no process of ours holds: record their end.
    void close_orphans();
    // True when cmd was a session command (and has been answered or will be).
    bool handle(const std::shared_ptr<Connection>& conn, const std::string& cmd, const nlohmann::json& req);
    void shutdown();
    // Is a client attached to the session (the user is looking at it)?
    bool attached(int64_t session);

private:
    void on_committed(const Event& ev);
    void reap();
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
    std::map<int64_t, std::unique_ptr<Session>> m_sessions;  // live, and recently exited
    SignalWatcher m_sigchld;
};

// The --settings JSON that wires Claude Code's hooks to tether-hook.
nlohmann::json claude_hook_settings(const std::string& hook_command, long permission_wait_s);
// "claude", "codex", "aider", "gemini" from the command, else "" (any other CLI).
std::string recognise_agent(const std::vector<std::string>& argv);
// "TERM", "9", "SIGKILL", "kill" -> signal number, or nullopt.
std::optional<int> parse_signal(const std::string& name);

}  // namespace tether
