// libcurl behind notifier_http::Client; every curl call of the HTTP notifiers is here.
#include "http_post.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>

namespace notifier_http {

namespace {

constexpr size_t k_max_body = 64 * 1024;

struct UrlHandle {
    CURLU* p = curl_url();
    ~UrlHandle() { curl_url_cleanup(p); }
    std::string part(CURLUPart what) const {
        char* s = nullptr;
        if (curl_url_get(p, what, &s, 0) != CURLUE_OK || !s) return "";
        std::string out(s);
        curl_free(s);
        return out;
    }
};

size_t collect(char* data, size_t size, size_t n, void* user) {
    auto* body = static_cast<std::string*>(user);
    size_t len = size * n;
    if (body->size() < k_max_body) body->append(data, std::min(len, k_max_body - body->size()));
    return len;  // read on, so the connection ends cleanly
}

// libcurl's progress callback: a nonzero return aborts the transfer (CURLE_ABORTED_BY_CALLBACK).
int check_cancel(void* flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<const std::atomic<bool>*>(flag)->load() ? 1 : 0;
}

// Transport errors a later attempt can cure; the others are a bad request or build.
bool transport_transient(CURLcode c) {
    switch (c) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_OUT_OF_MEMORY:
        return false;
    default:
        return true;
    }
}

// curl_global_init once per process while any client lives (reference counted by curl).
struct GlobalInit {
    GlobalInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
    ~GlobalInit() { curl_global_cleanup(); }
};

}  // namespace

Url::Url(const std::string& text, const std::string& option) : m_text(text) {
    UrlHandle u;
    if (!u.p) throw std::bad_alloc();
    if (curl_url_set(u.p, CURLUPART_URL, text.c_str(), 0) != CURLUE_OK)
        throw notifier_sdk::BadOptions(option + ": not a URL (expected https://host/...)");
    std::string scheme = u.part(CURLUPART_SCHEME);
    if (scheme != "http" && scheme != "https")
        throw notifier_sdk::BadOptions(option + ": the scheme must be http or https");
    std::string host = u.part(CURLUPART_HOST);
    if (host.empty()) throw notifier_sdk::BadOptions(option + ": the URL has no host");
    std::string port = u.part(CURLUPART_PORT);  // only when written in the URL
    m_shown = scheme + "://" + host + (port.empty() ? "" : ":" + port);
    for (CURLUPart p : {CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_QUERY, CURLUPART_FRAGMENT}) {
        std::string s = u.part(p);
        if (!s.empty()) m_secret_parts.push_back(s);
    }
    std::string path = u.part(CURLUPART_PATH);
    if (path.size() > 1) m_secret_parts.push_back(path);
    // Each path segment too: a server may quote only the token part.
    for (size_t start = 1; start < path.size();) {
        size_t end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        if (end - start >= 6) m_secret_parts.push_back(path.substr(start, end - start));
        start = end + 1;
    }
}

Transport Transport::from_options(const notifier_sdk::Options& o, const notifier_sdk::Host& host) {
    Transport t;
    t.connect_timeout_ms = o.integer("connect_timeout_ms", t.connect_timeout_ms, 1, 60000);
    t.timeout_ms = o.integer("timeout_ms", t.timeout_ms, 1, 60000);
    t.tls_verify = o.boolean("tls_verify", true);
    t.ca_file = o.get("ca_file", "");
    if (!t.tls_verify) {
        const char* text = "TLS certificate verification is OFF (tls_verify: false): anyone on the path can "
                           "read and change these notifications; use ca_file for a private CA instead";
        host.warn(text);
        host.event("tls_verify_off", text);
    }
    return t;
}

bool is_success(long status) { return status >= 200 && status < 300; }
bool is_transient(long status) { return status == 408 || status == 429 || status >= 500; }

std::string form_encoded(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string out;
    for (const auto& [k, v] : fields) {
        for (const std::string* part : {&k, &v}) {
            char* e = curl_easy_escape(nullptr, part->data(), static_cast<int>(part->size()));
            if (!e) throw std::bad_alloc();
            out += (part == &k ? (out.empty() ? "" : "&") : "=") + std::string(e);
            curl_free(e);
        }
    }
    return out;
}

Client::Client(Transport transport, std::vector<std::string> secrets)
    : m_transport(std::move(transport)), m_secrets(std::move(secrets)) {
    static GlobalInit init;  // the first plugin create runs on the host's main thread
    std::erase_if(m_secrets, [](const std::string& s) { return s.empty(); });
}

Client::~Client() = default;

void Client::add_secret(const std::string& s) {
    if (!s.empty()) m_secrets.push_back(s);
}

std::string Client::scrub(std::string text) const {
    // Longest first: a part of a secret must not leave the rest of it behind.
    std::vector<const std::string*> by_length;
    for (const auto& s : m_secrets) by_length.push_back(&s);
    std::sort(by_length.begin(), by_length.end(), [](auto* a, auto* b) { return a->size() > b->size(); });
    for (const std::string* s : by_length)
        for (size_t pos; (pos = text.find(*s)) != std::string::npos;) text.replace(pos, s->size(), "<redacted>");
    return text;
}

std::string Client::excerpt(const std::string& body) const {
    std::string s = body.substr(0, 300);
    for (char& c : s)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    s = scrub(s);
    return body.size() > 300 ? s + "..." : s;
}

Response Client::post(const Url& url, const std::vector<std::string>& headers, const std::string& body, long timeout_ms,
                      const std::atomic<bool>* cancel) const {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
    if (!curl) throw notifier_sdk::Retry("cannot start an HTTP request to " + url.shown() + ": out of memory");
    struct curl_slist* list = nullptr;
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
    list = curl_slist_append(list, "Expect:");  // no 100-continue round trip for larger bodies
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> list_guard(list, &curl_slist_free_all);

    Response r;
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.text().c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // off the host's main thread: no SIGALRM
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "tether-notifier");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, m_transport.connect_timeout_ms);
    long timeout = timeout_ms > 0 ? timeout_ms : m_transport.timeout_ms;
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
    if (cancel) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &check_cancel);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(cancel));
    }
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, m_transport.tls_verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, m_transport.tls_verify ? 2L : 0L);
    if (!m_transport.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, m_transport.ca_file.c_str());
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect must not carry the signature elsewhere
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);

    auto start = std::chrono::steady_clock::now();
    CURLcode rc = curl_easy_perform(c);
    r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    if (rc != CURLE_OK) {
        // curl's own text may quote the URL; scrub it like anything else from outside.
        std::string why = scrub(errbuf[0] ? errbuf : curl_easy_strerror(rc));
        if (rc == CURLE_ABORTED_BY_CALLBACK) throw notifier_sdk::Retry("POST " + url.shown() + ": cancelled");
        std::string text = "POST " + url.shown() + " failed: " + why;
        if (rc == CURLE_OPERATION_TIMEDOUT) text += " (timeout_ms " + std::to_string(timeout) + ")";
        if (transport_transient(rc)) throw notifier_sdk::Retry(text);
        throw notifier_sdk::Fail(text);
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_off_t retry_after = 0;
    if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0)
        r.retry_after_s = static_cast<long>(retry_after);
    return r;
}

}  // namespace notifier_http
