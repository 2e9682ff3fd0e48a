// A real HTTP(S) server on 127.0.0.1 for plugin unit tests: libevent's evhttp on its own
// thread, an ephemeral port, every request recorded, and the reply to each one chosen by
// the test (status, headers, body, and a delay to provoke client timeouts). With a
// TestCertificate it speaks TLS (OpenSSL through libevent's bufferevent_openssl).
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

struct event_base;
struct evhttp;
struct ssl_ctx_st;
struct event;
struct evhttp_request;

namespace tether::test {

struct HttpRequest {
    std::string method;
    std::string uri;                            // path and query, as sent
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;

    std::string header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? "" : it->second;
    }
};

struct HttpReply {
    int status = 200;
    std::string body = "ok";
    std::vector<std::pair<std::string, std::string>> headers;
    long delay_ms = 0;  // answer this late (the server stays responsive meanwhile)
};

inline HttpReply reply(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpReply r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

// A JSON body (already serialised) with its Content-Type, as the chat APIs answer.
inline HttpReply json_reply(std::string json_body, int status = 200) {
    return reply(status, std::move(json_body), {{"Content-Type", "application/json"}});
}

// A fresh self-signed certificate for 127.0.0.1 (an EC key), in PEM.
struct TestCertificate {
    std::string cert_pem, key_pem;
    static TestCertificate self_signed();
};

class HttpTestServer {
public:
    // handler runs on the server thread; n is the 1-based number of the request.
    using Handler = std::function<HttpReply(const HttpRequest& req, int n)>;

    // With tls, the server speaks only HTTPS and url() says https.
    explicit HttpTestServer(Handler handler = nullptr, const TestCertificate* tls = nullptr);
    ~HttpTestServer();
    HttpTestServer(const HttpTestServer&) = delete;
    HttpTestServer& operator=(const HttpTestServer&) = delete;

    void set_handler(Handler handler);
    int port() const { return m_port; }
    std::string url(const std::string& path) const;  // "http(s)://127.0.0.1:PORT" + path

    std::vector<HttpRequest> requests() const;
    // Blocks until at least n requests arrived or timeout_ms passed; returns the count.
    size_t wait_for_requests(size_t n, long timeout_ms = 10000) const;
    // The same for the requests to one path (an API method).
    std::vector<HttpRequest> requests_to(const std::string& uri) const;
    size_t wait_for_requests_to(const std::string& uri, size_t n, long timeout_ms = 10000) const;

private:
    struct Delayed {
        HttpTestServer* owner = nullptr;
        evhttp_request* req = nullptr;
        HttpReply reply;
        struct event* timer = nullptr;
        ~Delayed();
    };
    static void on_request(struct evhttp_request* req, void* self);
    static void on_delay(int fd, short what, void* arg);
    void handle(struct evhttp_request* req);

    event_base* m_base = nullptr;
    evhttp* m_http = nullptr;
    ssl_ctx_st* m_tls = nullptr;
    int m_port = 0;
    mutable std::mutex m_mutex;
    mutable std::condition_variable m_cv;
    Handler m_handler;
    std::vector<HttpRequest> m_requests;
    std::vector<std::unique_ptr<Delayed>> m_delayed;  // replies waiting for their delay
    std::thread m_thread;
};

}  // namespace tether::test
