// Daemon: wires the loop, the store, the control socket and the command handlers.
// main() in tetherd_main.cc only parses flags and daemonizes.
#pragma once

#include <memory>
#include <string>

#include "agent/agent_tracker.h"
#include "config/config.h"
#include "wire/control_socket.h"
#include "base/event_loop.h"
#include "fleet/fleet.h"
#include "agent/hooks.h"
#include "base/lock_file.h"
#include "notify/notifications.h"
#include "notify/plugin_host.h"
#include "recordings/recordings.h"
#include "recordings/retention.h"
#include "base/paths.h"
#include "session/sessions.h"
#include "state/store.h"
#include "watchers.h"

namespace tether {

struct DaemonOptions {
    Paths paths;
    Config config;
    StoreOptions store;
    ControlServerOptions control;
    SessionLimits sessions;
    ScreenFollowerOptions screen;
};

class Daemon {
public:
    // Takes the lock, opens and loads the log, binds the socket. Nothing runs yet.
    static Result<std::unique_ptr<Daemon>> start(const DaemonOptions& options);
    ~Daemon();

    int run();  // until SIGTERM/SIGINT or a stop request
    void request_stop(const std::string& reason);
    // Re-reads the configuration; an invalid one is refused and the old one kept.
    Status reload_config();
    // For in-process drivers (the fuzzers) that turn the loop themselves.
    EventLoop& loop() { return m_loop; }
    Store& store() { return *m_store; }

private:
    Daemon(const DaemonOptions& options, LockFile lock);
    void wire_pipeline();  // the Store's listeners, in order
    void handle(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    nlohmann::json session_json(const SessionRow& row) const;
    void record_config(const Status& outcome);
    void start_fleet(const FleetConfig& config);
    void add_log_health(nlohmann::json& body) const;
    void cmd_rules_test(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_status(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_ls(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_mark(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_verify(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_rebuild(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_config_reload(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_holders(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_adopt(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_stop(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_ui_settings(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);

    DaemonOptions m_options;
    LockFile m_lock;
    EventLoop m_loop;
    std::unique_ptr<Store> m_store;
    std::unique_ptr<Sessions> m_sessions;
    std::unique_ptr<AgentTracker> m_tracker;
    std::unique_ptr<Hooks> m_hooks;
    std::unique_ptr<PluginHost> m_plugins;
    std::unique_ptr<Notifications> m_notifications;
    std::unique_ptr<Watchers> m_watchers;
    std::unique_ptr<Recordings> m_recordings;
    std::unique_ptr<Retention> m_retention;
    std::unique_ptr<Fleet> m_fleet;  // null without a fleet: section, or when it could not start
    std::string m_fleet_error;
    std::unique_ptr<ControlServer> m_server;
    std::unique_ptr<SignalWatcher> m_sigterm, m_sigint, m_sighup;
    std::string m_stop_reason;
};

}  // namespace tether
