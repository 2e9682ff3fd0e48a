// A WebSocket client connection (RFC 6455) over TCP, or TLS with the system's CAs, made
// with Boost.Beast: the only user of Beast and Asio in tether. Blocking calls for one
// thread (Socket Mode's), each bounded: connecting by connect_timeout_ms, and an idle
// connection is pinged and declared dead after idle_timeout_ms. cancel() from any other
// thread makes a blocked call fail at once (a plugin's destroy). Errors name the server as
// scheme://host:port only: a Slack URL carries a ticket in its query.
#pragma once

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>

namespace slack {

// The connection failed or broke (a reset, a frame cut short, a timeout, TLS).
struct WsError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// The server closed the connection with a close frame.
struct WsClosed : WsError {
    WsClosed(int code, const std::string& reason, const std::string& text) : WsError(text), code(code), reason(reason) {}
    int code;
    std::string reason;
};
// cancel() was called.
struct WsCancelled : WsError {
    using WsError::WsError;
};

class WebSocketClient {
public:
    struct Options {
        long connect_timeout_ms = 10000;  // TCP, TLS and the upgrade, together
        long idle_timeout_ms = 30000;     // a ping after half of it; dead after all of it
        bool tls_verify = true;
        std::string ca_file;              // extra PEM bundle
        size_t max_message = 1u << 20;    // a bigger message is an error, not memory
    };

    explicit WebSocketClient(Options options);
    ~WebSocketClient();
    WebSocketClient(const WebSocketClient&) = delete;
    WebSocketClient& operator=(const WebSocketClient&) = delete;

    // wss://, or ws:// to a loopback host only (a test server): nothing else is unencrypted.
    // Throws std::invalid_argument for a URL it will not use, WsError when connecting fails.
    void connect(const std::string& url);
    // The next text (or binary) message. Throws WsClosed, WsError or WsCancelled.
    std::string read();
    void write(const std::string& text);
    // A close frame, best effort and bounded; the connection is gone afterwards.
    void close(int code = 1000);
    // Any thread: the blocked call (and every later one) fails with WsCancelled.
    void cancel();

    // "wss://host:port": for messages.
    const std::string& shown() const { return m_shown; }

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    std::string m_shown;
};

// "ws[s]://host:port", or "" when url is not a ws/wss URL; for messages.
std::string shown_ws_url(const std::string& url);

}  // namespace slack
