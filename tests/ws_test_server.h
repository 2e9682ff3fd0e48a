// A real WebSocket server on 127.0.0.1 for plugin unit tests (Slack's Socket Mode): Boost.
// Beast on its own thread, an ephemeral port, plain (ws://) or TLS (wss://, with a
// TestCertificate from http_test_server.h), each new connection greeted with a scripted
// first message, every message a client sends recorded, and the test's own moves on the
// newest connection: send a text, close cleanly, drop the TCP connection, or cut a frame
// short and hang up.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace tether::test {

struct TestCertificate;

class WsTestServer {
public:
    // greeting: sent on every connection once upgraded ("" for none). With tls, it
    // speaks only wss.
    explicit WsTestServer(std::string greeting = R"({"type":"hello","num_connections":1})",
                          const TestCertificate* tls = nullptr);
    ~WsTestServer();
    WsTestServer(const WsTestServer&) = delete;
    WsTestServer& operator=(const WsTestServer&) = delete;

    int port() const;
    std::string url(const std::string& path = "/link/?ticket=t") const;  // ws[s]://127.0.0.1:PORT...
    // Connections whose TLS or WebSocket handshake failed (a client that refused the certificate).
    size_t failed_handshakes() const;

    // Connections upgraded so far; blocks until at least n or timeout (returns the count).
    size_t wait_for_connections(size_t n, long timeout_ms = 10000) const;
    // Messages the clients sent, in order; blocks until at least n or timeout.
    std::vector<std::string> wait_for_messages(size_t n, long timeout_ms = 10000) const;
    std::vector<std::string> messages() const;

    // On the newest connection:
    void send(const std::string& text);
    void close(int code = 1000, const std::string& reason = "");
    void drop();                  // the TCP connection ends without a close frame
    void cut_frame_and_drop();    // the head of a 256-byte text frame, 3 bytes of it, then gone

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace tether::test
