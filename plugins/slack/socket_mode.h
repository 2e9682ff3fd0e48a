// Slack's Socket Mode, so clicks reach tether with nothing exposed to the internet: it asks
// apps.connections.open (with the app-level token, xapp-...) for a WebSocket URL, connects
// outwards, acknowledges every envelope at once, hands interactive payloads on, and
// reconnects with backoff when Slack sends `disconnect` or the socket drops. A thread of
// its own; the destructor stops it promptly (the blocked call is cancelled). What a click
// means belongs to Interactions.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "clicks.h"
#include "notifier_sdk.hpp"
#include "slack_api.h"
#include "websocket_client.h"

namespace slack {

class SocketMode {
public:
    struct Options {
        std::string app_token;
        long reconnect_min_ms = 1000;  // after a drop, doubling to reconnect_max_ms
        long reconnect_max_ms = 60000;
        WebSocketClient::Options ws;
    };
    // Called on the socket thread with each interactive payload; must return quickly.
    using OnInteractive = std::function<void(nlohmann::json payload)>;

    // api and events must outlive this.
    SocketMode(SlackApi& api, Options options, notifier_sdk::Host host, notifier_chat::EventLimiter& events,
               OnInteractive on_interactive);
    ~SocketMode();
    SocketMode(const SocketMode&) = delete;
    SocketMode& operator=(const SocketMode&) = delete;

private:
    enum class End { Refresh, Dropped, Stopping };
    void run();
    std::string open_connection(std::chrono::milliseconds& wait);
    End serve(const std::string& url, bool& hello);  // hello: Slack greeted this connection
    // One message from Slack; sets `end` when the connection should be replaced.
    void handle(WebSocketClient& ws, const std::string& text, bool& hello, std::optional<End>& end);
    bool pause(std::chrono::milliseconds ms);  // false when stopping

    SlackApi& m_api;
    Options m_options;
    notifier_sdk::Host m_host;
    notifier_chat::EventLimiter& m_events;
    OnInteractive m_on_interactive;
    notifier_chat::SeenSet m_envelopes{512};  // Slack redelivers an envelope it thinks unacknowledged

    std::atomic<bool> m_stopping{false};
    std::mutex m_mutex;  // guards m_ws and the pause
    std::condition_variable m_cv;
    WebSocketClient* m_ws = nullptr;  // the live connection, to cancel
    std::thread m_thread;             // last: started when everything above is ready
};

}  // namespace slack
