// Beast's asynchronous server side: one io_context on one thread; the test's moves are
// posted to it, so every stream is touched by that thread alone.
#include "ws_test_server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "http_test_server.h"

namespace tether::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

// One connection, whatever its stream; every call on the io thread.
struct Session {
    virtual ~Session() = default;
    virtual void write(std::string text) = 0;
    virtual void close(int code, const std::string& reason) = 0;
    virtual void drop() = 0;
    virtual void cut_frame_and_drop() = 0;
};

template <typename Stream>
struct StreamSession : Session, std::enable_shared_from_this<StreamSession<Stream>> {
    websocket::stream<Stream> ws;
    beast::flat_buffer buffer;
    std::deque<std::string> out;
    bool writing = false, open = true;
    std::function<void(std::string)> on_message;

    template <typename... Args>
    explicit StreamSession(Args&&... args) : ws(std::forward<Args>(args)...) {}

    void read() {
        ws.async_read(buffer, [self = this->shared_from_this()](beast::error_code ec, size_t) {
            if (ec) {
                self->open = false;
                return;
            }
            self->on_message(beast::buffers_to_string(self->buffer.data()));
            self->buffer.consume(self->buffer.size());
            self->read();
        });
    }
    void write(std::string text) override {
        out.push_back(std::move(text));
        if (!writing) next();
    }
    void next() {
        if (out.empty() || !open) {
            writing = false;
            return;
        }
        writing = true;
        ws.text(true);
        ws.async_write(net::buffer(out.front()), [self = this->shared_from_this()](beast::error_code ec, size_t) {
            self->out.pop_front();
            if (ec) self->open = false;
            self->next();
        });
    }
    void close(int code, const std::string& reason) override {
        ws.async_close(websocket::close_reason(static_cast<websocket::close_code>(code), reason),
                       [self = this->shared_from_this()](beast::error_code) { self->open = false; });
    }
    void drop() override {
        beast::error_code ignored;
        auto& socket = beast::get_lowest_layer(ws).socket();
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
        open = false;
    }
    void cut_frame_and_drop() override {
        // FIN + text opcode, a 16-bit length of 256, then only three bytes of the payload,
        // through whatever the WebSocket runs on (TLS records too).
        const unsigned char head[] = {0x81, 126, 0x01, 0x00, '{', '"', 't'};
        beast::error_code ignored;
        net::write(ws.next_layer(), net::buffer(head, sizeof head), ignored);
        drop();
    }
};

}  // namespace

struct WsTestServer::Impl {
    net::io_context ioc;
    tcp::acceptor acceptor{ioc};
    std::optional<net::ssl::context> tls;
    std::string greeting;
    std::thread thread;
    mutable std::mutex mutex;
    mutable std::condition_variable cv;
    size_t connections = 0, failed = 0;
    std::vector<std::string> messages;
    std::shared_ptr<Session> newest;  // touched on the io thread only

    void record(std::string m) {
        {
            std::lock_guard lock(mutex);
            messages.push_back(std::move(m));
        }
        cv.notify_all();
    }
    void count(bool ok) {
        {
            std::lock_guard lock(mutex);
            ++(ok ? connections : failed);
        }
        cv.notify_all();
    }

    template <typename S>
    void upgrade(std::shared_ptr<S> s) {
        s->on_message = [this](std::string m) { record(std::move(m)); };
        s->ws.async_accept([this, s](beast::error_code ec) {
            count(!ec);
            if (ec) return;
            newest = s;
            if (!greeting.empty()) s->write(greeting);
            s->read();
        });
    }

    void accept() {
        acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
            if (ec) return;
            if (!tls) {
                upgrade(std::make_shared<StreamSession<beast::tcp_stream>>(std::move(socket)));
            } else {
                auto s = std::make_shared<StreamSession<beast::ssl_stream<beast::tcp_stream>>>(std::move(socket), *tls);
                s->ws.next_layer().async_handshake(net::ssl::stream_base::server, [this, s](beast::error_code ec2) {
                    if (ec2) return count(false);
                    upgrade(s);
                });
            }
            accept();
        });
    }

    // Runs fn on the io thread with the newest session, and waits until it did.
    void on_newest(std::function<void(Session&)> fn) {
        std::promise<void> done;
        net::post(ioc, [&] {
            if (newest) fn(*newest);
            done.set_value();
        });
        done.get_future().wait();
    }
};

WsTestServer::WsTestServer(std::string greeting, const TestCertificate* tls) : m_impl(std::make_unique<Impl>()) {
    Impl& i = *m_impl;
    i.greeting = std::move(greeting);
    if (tls) {
        i.tls.emplace(net::ssl::context::tls_server);
        i.tls->use_certificate_chain(net::buffer(tls->cert_pem));
        i.tls->use_private_key(net::buffer(tls->key_pem), net::ssl::context::pem);
    }
    tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
    i.acceptor.open(ep.protocol());
    i.acceptor.set_option(net::socket_base::reuse_address(true));
    i.acceptor.bind(ep);
    i.acceptor.listen();
    i.accept();
    i.thread = std::thread([&i] { i.ioc.run(); });
}

WsTestServer::~WsTestServer() {
    m_impl->ioc.stop();
    m_impl->thread.join();
}

int WsTestServer::port() const { return m_impl->acceptor.local_endpoint().port(); }

std::string WsTestServer::url(const std::string& path) const {
    return std::string(m_impl->tls ? "wss" : "ws") + "://127.0.0.1:" + std::to_string(port()) + path;
}

size_t WsTestServer::failed_handshakes() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->failed;
}

size_t WsTestServer::wait_for_connections(size_t n, long timeout_ms) const {
    std::unique_lock lock(m_impl->mutex);
    m_impl->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return m_impl->connections >= n; });
    return m_impl->connections;
}

std::vector<std::string> WsTestServer::wait_for_messages(size_t n, long timeout_ms) const {
    std::unique_lock lock(m_impl->mutex);
    m_impl->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return m_impl->messages.size() >= n; });
    return m_impl->messages;
}

std::vector<std::string> WsTestServer::messages() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->messages;
}

void WsTestServer::send(const std::string& text) {
    m_impl->on_newest([text](Session& s) { s.write(text); });
}

void WsTestServer::close(int code, const std::string& reason) {
    m_impl->on_newest([code, reason](Session& s) { s.close(code, reason); });
}

void WsTestServer::drop() {
    m_impl->on_newest([](Session& s) { s.drop(); });
}

void WsTestServer::cut_frame_and_drop() {
    m_impl->on_newest([](Session& s) { s.cut_frame_and_drop(); });
}

}  // namespace tether::test
