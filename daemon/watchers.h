// Watchers: connections that asked to be told what changes (`watch`; tether-ui is one).
// The reply is a snapshot (sessions as `ls` gives them, pending permissions as `pending`
// gives them); then, as events become durable, the connection receives notices: a
// session's row changed (or appeared, or ended), a permission request appeared or was
// decided, and, for the sessions it subscribed to, that their screen changed (rate
// limited). The connection stays a normal request connection besides.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "wire/control_socket.h"
#include "base/event_loop.h"
#include "agent/hooks.h"
#include "state/store.h"

namespace tether {

class Watchers {
public:
    using SessionJson = std::function<nlohmann::json(const SessionRow&)>;
    // At most one screen_changed per session per this many ms: enough for a live view,
    // and a session printing at full speed costs its watchers 20 refetches a second.
    static constexpr long k_screen_notice_ms = 50;

    // session_json renders a row exactly as `ls` does.
    Watchers(EventLoop& loop, Store& store, Hooks& hooks, SessionJson session_json);
    ~Watchers();

    // True when cmd was a watch command ("watch", "watch_screens").
    bool handle(const std::shared_ptr<Connection>& conn, const std::string& cmd, const nlohmann::json& req);
    size_t count() const { return m_watchers.size(); }
    // The fleet: adds its hosts to the snapshot (reply["fleet"]) and pushes its notices.
    void set_snapshot_extra(std::function<void(nlohmann::json& reply)> extra) { m_extra = std::move(extra); }
    void push(const nlohmann::json& notice) { if (!m_watchers.empty()) broadcast(notice); }

    // The Store listener (the Daemon wires it, last in the pipeline): notices to the
    // watch streams after each commit.
    void on_committed(const Event& ev);

private:
    struct Watcher {
        std::weak_ptr<Connection> conn;
        std::set<int64_t> screens;
    };
    void cmd_watch(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_watch_screens(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    // Resolves req[key] (an array of session references); an error names the bad one.
    Result<std::set<int64_t>> screen_set(const nlohmann::json& req, const char* key) const;
    void session_changed(int64_t session);
    void screen_changed(int64_t session, int64_t seq);
    void send_screen_notice(int64_t session);
    void broadcast(const nlohmann::json& notice, int64_t screen_session = 0);
    void seed_rows();

    EventLoop& m_loop;
    Store& m_store;
    Hooks& m_hooks;
    SessionJson m_session_json;
    std::function<void(nlohmann::json&)> m_extra;
    std::map<uint64_t, Watcher> m_watchers;  // by connection id
    // The rows last pushed, without the fields that change with every byte (the traffic
    // counters, last activity): only a change worth a glance is pushed.
    std::map<int64_t, nlohmann::json> m_rows;
    struct ScreenNotice {
        std::unique_ptr<Timer> timer;
        int64_t seq = 0;
    };
    std::map<int64_t, ScreenNotice> m_screen_notices;  // by session
};

}  // namespace tether
