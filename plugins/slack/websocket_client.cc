// Boost.Beast behind WebSocketClient: every Beast and Asio call of the plugins is here. Each
// call starts one asynchronous operation and runs the io_context on the calling thread until
// it completes, so Beast's own timers (connect, handshake, idle pings) bound every wait and
// a cancel() posted from another thread interrupts it. Boost exceptions stop here.
#include "websocket_client.h"

#include <curl/curl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <optional>

namespace slack {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

struct ParsedUrl {
    bool tls = false;
    std::string host, port, target, shown;
};

std::string url_part(CURLU* u, CURLUPart what) {
    char* s = nullptr;
    if (curl_url_get(u, what, &s, CURLU_DEFAULT_PORT) != CURLUE_OK || !s) return "";
    std::string out(s);
    curl_free(s);
    return out;
}

std::optional<ParsedUrl> parse(const std::string& url) {
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), &curl_url_cleanup);
    if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) return std::nullopt;
    ParsedUrl p;
    std::string scheme = url_part(u.get(), CURLUPART_SCHEME);
    if (scheme != "ws" && scheme != "wss") return std::nullopt;
    p.tls = scheme == "wss";
    p.host = url_part(u.get(), CURLUPART_HOST);
    p.port = url_part(u.get(), CURLUPART_PORT);
    if (p.port.empty()) p.port = p.tls ? "443" : "80";
    if (p.host.size() > 2 && p.host.front() == '[' && p.host.back() == ']') p.host = p.host.substr(1, p.host.size() - 2);
    if (p.host.empty()) return std::nullopt;
    std::string path = url_part(u.get(), CURLUPART_PATH), query = url_part(u.get(), CURLUPART_QUERY);
    p.target = (path.empty() ? "/" : path) + (query.empty() ? "" : "?" + query);
    bool v6 = p.host.find(':') != std::string::npos;
    p.shown = scheme + "://" + (v6 ? "[" + p.host + "]" : p.host) + ":" + p.port;
    return p;
}

bool loopback(const std::string& host) { return host == "127.0.0.1" || host == "::1" || host == "localhost"; }

}  // namespace

std::string shown_ws_url(const std::string& url) {
    auto p = parse(url);
    return p ? p->shown : "";
}

struct WebSocketClient::Impl {
    Options options;
    net::io_context ioc{1};
    net::ssl::context ssl{net::ssl::context::tls_client};
    std::optional<websocket::stream<beast::tcp_stream>> plain;
    std::optional<websocket::stream<beast::ssl_stream<beast::tcp_stream>>> tls;
    beast::flat_buffer buffer;
    std::atomic<bool> cancelled{false};
    std::string shown;

    explicit Impl(Options o) : options(std::move(o)) {}

    beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : beast::get_lowest_layer(*plain); }

    [[noreturn]] void fail(const beast::error_code& ec, const std::string& what) {
        if (cancelled) throw WsCancelled(shown + ": cancelled");
        if (ec == websocket::error::closed) {
            auto r = tls ? tls->reason() : plain->reason();
            std::string reason(r.reason.c_str());
            throw WsClosed(r.code, reason,
                           shown + " closed the WebSocket (code " + std::to_string(r.code) + (reason.empty() ? "" : ", " + reason) + ")");
        }
        if (ec == beast::error::timeout)
            throw WsError(shown + ": " + what + " timed out");
        throw WsError(shown + ": " + what + " failed: " + ec.message());
    }

    // Starts one operation with a completion handler and runs the loop until it is done.
    template <typename Start>
    void run(const std::string& what, Start start) {
        if (cancelled) throw WsCancelled(shown + ": cancelled");
        beast::error_code result;
        bool done = false;
        ioc.restart();
        start([&](beast::error_code ec, auto&&...) {
            result = ec;
            done = true;
        });
        while (!done)
            if (ioc.run_one() == 0 && !done) throw WsError(shown + ": " + what + ": the operation was lost");
        if (result || cancelled) fail(result, what);
    }

    template <typename Stream>
    void upgrade(Stream& ws, const ParsedUrl& p) {
        lowest().expires_never();  // from here the WebSocket's own timeouts apply
        websocket::stream_base::timeout t;
        t.handshake_timeout = std::chrono::milliseconds(options.connect_timeout_ms);
        t.idle_timeout = std::chrono::milliseconds(options.idle_timeout_ms);
        t.keep_alive_pings = true;
        ws.set_option(t);
        ws.set_option(websocket::stream_base::decorator(
            [](websocket::request_type& req) { req.set(beast::http::field::user_agent, "tether-notifier"); }));
        ws.read_message_max(options.max_message);
        bool default_port = p.port == (p.tls ? "443" : "80");
        std::string host = (p.host.find(':') != std::string::npos ? "[" + p.host + "]" : p.host) + (default_port ? "" : ":" + p.port);
        run("the WebSocket upgrade", [&](auto h) { ws.async_handshake(host, p.target, h); });
    }

    void connect(const ParsedUrl& p) {
        plain.reset();
        tls.reset();
        buffer.clear();
        tcp::resolver resolver(ioc);
        tcp::resolver::results_type endpoints;
        run("resolving " + p.host, [&](auto h) {
            resolver.async_resolve(p.host, p.port, [&endpoints, h](beast::error_code ec, tcp::resolver::results_type r) mutable {
                endpoints = std::move(r);
                h(ec);
            });
        });
        if (p.tls) {
            tls.emplace(ioc, ssl);
        } else {
            plain.emplace(ioc);
        }
        lowest().expires_after(std::chrono::milliseconds(options.connect_timeout_ms));
        run("connecting", [&](auto h) {
            lowest().async_connect(endpoints, [h](beast::error_code ec, const tcp::endpoint&) mutable { h(ec); });
        });
        if (!p.tls) return upgrade(*plain, p);
        auto& stream = tls->next_layer();
        beast::error_code not_an_address;
        net::ip::make_address(p.host, not_an_address);
        // SNI names a host, never an address (RFC 6066); verification covers both.
        if (not_an_address && !SSL_set_tlsext_host_name(stream.native_handle(), p.host.c_str()))
            throw WsError(shown + ": cannot set the TLS server name");
        if (options.tls_verify) stream.set_verify_callback(net::ssl::host_name_verification(p.host));
        run("the TLS handshake", [&](auto h) { stream.async_handshake(net::ssl::stream_base::client, h); });
        upgrade(*tls, p);
    }
};

WebSocketClient::WebSocketClient(Options options) : m_impl(std::make_unique<Impl>(std::move(options))) {
    try {
        auto& ssl = m_impl->ssl;
        ssl.set_verify_mode(m_impl->options.tls_verify ? net::ssl::verify_peer : net::ssl::verify_none);
        ssl.set_default_verify_paths();
        if (!m_impl->options.ca_file.empty()) ssl.load_verify_file(m_impl->options.ca_file);
    } catch (const std::exception& e) {
        throw std::invalid_argument(std::string("TLS set-up failed: ") + e.what());
    }
}

WebSocketClient::~WebSocketClient() = default;

void WebSocketClient::connect(const std::string& url) {
    auto p = parse(url);
    if (!p) throw std::invalid_argument("not a ws:// or wss:// URL");
    if (!p->tls && !loopback(p->host))
        throw std::invalid_argument(p->shown + ": an unencrypted WebSocket (ws://) is only accepted to a loopback address");
    m_shown = m_impl->shown = p->shown;
    try {
        m_impl->connect(*p);
    } catch (const WsError&) {
        throw;
    } catch (const std::exception& e) {
        throw WsError(m_shown + ": connecting failed: " + e.what());
    }
}

std::string WebSocketClient::read() {
    Impl& i = *m_impl;
    if (!i.plain && !i.tls) throw WsError("not connected");
    i.buffer.clear();
    try {
        i.run("reading", [&](auto h) {
            if (i.tls) i.tls->async_read(i.buffer, h);
            else i.plain->async_read(i.buffer, h);
        });
    } catch (const WsError&) {
        throw;
    } catch (const std::exception& e) {
        throw WsError(m_shown + ": reading failed: " + e.what());
    }
    return beast::buffers_to_string(i.buffer.data());
}

void WebSocketClient::write(const std::string& text) {
    Impl& i = *m_impl;
    if (!i.plain && !i.tls) throw WsError("not connected");
    try {
        i.run("writing", [&](auto h) {
            if (i.tls) {
                i.tls->text(true);
                i.tls->async_write(net::buffer(text), h);
            } else {
                i.plain->text(true);
                i.plain->async_write(net::buffer(text), h);
            }
        });
    } catch (const WsError&) {
        throw;
    } catch (const std::exception& e) {
        throw WsError(m_shown + ": writing failed: " + e.what());
    }
}

void WebSocketClient::close(int code) {
    Impl& i = *m_impl;
    if (!i.plain && !i.tls) return;
    try {
        auto c = static_cast<websocket::close_code>(code);
        i.run("closing", [&](auto h) {
            if (i.tls) i.tls->async_close(c, h);
            else i.plain->async_close(c, h);
        });
    } catch (...) {
        // Already broken or cancelled: closing is best effort.
    }
    i.plain.reset();
    i.tls.reset();
}

void WebSocketClient::cancel() {
    Impl& i = *m_impl;
    i.cancelled = true;
    // Runs on the thread in run(); closing the socket completes its operation at once.
    net::post(i.ioc, [&i] {
        if (!i.plain && !i.tls) return;
        beast::error_code ignored;
        i.lowest().socket().close(ignored);
    });
}

}  // namespace slack
