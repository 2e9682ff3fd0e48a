// evhttp behind HttpTestServer.
#include "http_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

namespace tether::test {

namespace {


void send_reply(evhttp_request* req, const HttpReply& reply) {
    evkeyvalq* out = evhttp_request_get_output_headers(req);
    for (const auto& [k, v] : reply.headers) evhttp_add_header(out, k.c_str(), v.c_str());
    evbuffer* body = evbuffer_new();
    evbuffer_add(body, reply.body.data(), reply.body.size());
    evhttp_send_reply(req, reply.status, "test", body);
    evbuffer_free(body);
}


std::string pem_of(int (*write)(BIO*, void*), void* object) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio, object);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(n));
    BIO_free(bio);
    return out;
}

bufferevent* tls_bufferevent(event_base* base, void* ctx) {
    return bufferevent_openssl_socket_new(base, -1, SSL_new(static_cast<SSL_CTX*>(ctx)), BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

}  // namespace

TestCertificate TestCertificate::self_signed() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* x = X509_new();
    if (!key || !x) throw std::runtime_error("test certificate: OpenSSL failed");
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
    for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"}, std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    if (!X509_sign(x, key, EVP_sha256())) throw std::runtime_error("test certificate: cannot sign");
    TestCertificate c;
    c.cert_pem = pem_of([](BIO* b, void* o) { return PEM_write_bio_X509(b, static_cast<X509*>(o)); }, x);
    c.key_pem = pem_of([](BIO* b, void* o) {
        return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(o), nullptr, nullptr, 0, nullptr, nullptr);
    }, key);
    X509_free(x);
    EVP_PKEY_free(key);
    return c;
}

HttpTestServer::HttpTestServer(Handler handler, const TestCertificate* tls) : m_handler(std::move(handler)) {
    static const int threads_ready = evthread_use_pthreads();  // loopexit from the test thread
    (void)threads_ready;
    m_base = event_base_new();
    m_http = m_base ? evhttp_new(m_base) : nullptr;
    if (!m_http) throw std::runtime_error("http test server: evhttp_new failed");
    evhttp_set_allowed_methods(m_http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT);
    evhttp_set_gencb(m_http, &HttpTestServer::on_request, this);
    if (tls) {
        m_tls = SSL_CTX_new(TLS_server_method());
        BIO* cert = BIO_new_mem_buf(tls->cert_pem.data(), static_cast<int>(tls->cert_pem.size()));
        BIO* key = BIO_new_mem_buf(tls->key_pem.data(), static_cast<int>(tls->key_pem.size()));
        X509* x = PEM_read_bio_X509(cert, nullptr, nullptr, nullptr);
        EVP_PKEY* k = PEM_read_bio_PrivateKey(key, nullptr, nullptr, nullptr);
        bool ok = x && k && SSL_CTX_use_certificate(m_tls, x) == 1 && SSL_CTX_use_PrivateKey(m_tls, k) == 1;
        X509_free(x);
        EVP_PKEY_free(k);
        BIO_free(cert);
        BIO_free(key);
        if (!ok) throw std::runtime_error("http test server: cannot load the TLS certificate");
        evhttp_set_bevcb(m_http, &tls_bufferevent, m_tls);
    }
    evhttp_bound_socket* bound = evhttp_bind_socket_with_handle(m_http, "127.0.0.1", 0);
    if (!bound) throw std::runtime_error("http test server: cannot bind 127.0.0.1");
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    getsockname(evhttp_bound_socket_get_fd(bound), reinterpret_cast<sockaddr*>(&addr), &len);
    m_port = ntohs(addr.sin_port);
    m_thread = std::thread([this] { event_base_loop(m_base, EVLOOP_NO_EXIT_ON_EMPTY); });
}

HttpTestServer::~HttpTestServer() {
    event_base_loopexit(m_base, nullptr);
    m_thread.join();
    m_delayed.clear();  // replies never sent: the server is going away
    evhttp_free(m_http);
    event_base_free(m_base);
    if (m_tls) SSL_CTX_free(m_tls);
}

void HttpTestServer::set_handler(Handler handler) {
    std::lock_guard lock(m_mutex);
    m_handler = std::move(handler);
}

std::string HttpTestServer::url(const std::string& path) const {
    return std::string(m_tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(m_port) + path;
}

std::vector<HttpRequest> HttpTestServer::requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
}

size_t HttpTestServer::wait_for_requests(size_t n, long timeout_ms) const {
    std::unique_lock lock(m_mutex);
    m_cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return m_requests.size() >= n; });
    return m_requests.size();
}

std::vector<HttpRequest> HttpTestServer::requests_to(const std::string& uri) const {
    std::vector<HttpRequest> out;
    for (auto& r : requests())
        if (r.uri == uri) out.push_back(std::move(r));
    return out;
}

size_t HttpTestServer::wait_for_requests_to(const std::string& uri, size_t n, long timeout_ms) const {
    auto count = [&] { return static_cast<size_t>(std::count_if(m_requests.begin(), m_requests.end(), [&](const HttpRequest& r) { return r.uri == uri; })); };
    std::unique_lock lock(m_mutex);
    m_cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return count() >= n; });
    return count();
}

void HttpTestServer::on_request(evhttp_request* req, void* self) { static_cast<HttpTestServer*>(self)->handle(req); }

void HttpTestServer::handle(evhttp_request* req) {
    HttpRequest r;
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET: r.method = "GET"; break;
    case EVHTTP_REQ_POST: r.method = "POST"; break;
    case EVHTTP_REQ_PUT: r.method = "PUT"; break;
    default: r.method = "?"; break;
    }
    r.uri = evhttp_request_get_uri(req);
    evkeyvalq* in = evhttp_request_get_input_headers(req);
    for (evkeyval* h = in->tqh_first; h; h = h->next.tqe_next) {
        std::string name = h->key;
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[name] = h->value;
    }
    evbuffer* body = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(body);
    r.body.resize(n);
    evbuffer_copyout(body, r.body.data(), n);

    Handler handler;
    int number = 0;
    {
        std::lock_guard lock(m_mutex);
        m_requests.push_back(r);
        number = static_cast<int>(m_requests.size());
        handler = m_handler;
    }
    m_cv.notify_all();
    HttpReply reply = handler ? handler(r, number) : HttpReply{};
    if (reply.delay_ms <= 0) {
        send_reply(req, reply);
        return;
    }
    auto d = std::make_unique<Delayed>();
    d->owner = this;
    d->req = req;
    d->reply = std::move(reply);
    d->timer = evtimer_new(m_base, &HttpTestServer::on_delay, d.get());
    timeval tv{d->reply.delay_ms / 1000, (d->reply.delay_ms % 1000) * 1000};
    evtimer_add(d->timer, &tv);
    m_delayed.push_back(std::move(d));  // server thread only
}

void HttpTestServer::on_delay(evutil_socket_t, short, void* arg) {
    auto* d = static_cast<Delayed*>(arg);
    send_reply(d->req, d->reply);
    auto& all = d->owner->m_delayed;
    all.erase(std::find_if(all.begin(), all.end(), [d](const auto& p) { return p.get() == d; }));
}

HttpTestServer::Delayed::~Delayed() { event_free(timer); }

}  // namespace tether::test
