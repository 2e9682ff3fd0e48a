// tether-notifier-webhook: POSTs each notification as a versioned JSON document (schema in
// README.md), signed with HMAC-SHA256 over "<timestamp>.<body>". Retries belong to the
// host: a transient failure (5xx, 408, 429, timeout, connection) is reported as Retry and
// the outbox tries again later with the same idempotency key.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "http_post.h"
#include "notifier_sdk.hpp"

namespace {

constexpr int k_schema_version = 1;
constexpr std::string_view k_header_prefix = "header.";

// Headers the plugin writes itself; an extra header must not replace them.
bool reserved_header(std::string name) {
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name == "content-type" || name == "content-length" || name == "host" || name == "idempotency-key" ||
           name == "expect" || name == "transfer-encoding" || name.rfind("x-tether-", 0) == 0;
}

// RFC 7230 token characters.
bool valid_header_name(const std::string& name) {
    if (name.empty()) return false;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos)
            return false;
    return true;
}

std::string iso8601_ms(int64_t ms) {
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[48];
    std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
    return out;
}

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string hmac_sha256_hex(const std::string& key, const std::string& data) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
              data.size(), mac, &len))
        throw notifier_sdk::Fail("cannot compute the HMAC-SHA256 signature (OpenSSL)");
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out += hex[mac[i] >> 4];
        out += hex[mac[i] & 0xf];
    }
    return out;
}

class Webhook {
public:
    Webhook(notifier_sdk::Host host, const notifier_sdk::Options& o)
        : m_host(host),
          m_url(o.required("url"), "url"),
          m_secret(o.get("secret", "")),
          m_client(notifier_http::Transport::from_options(o, host), {m_url.text(), m_secret}) {
        for (const auto& part : m_url.secret_parts()) m_client.add_secret(part);
        for (size_t i = 0; i < o.size(); ++i) {
            std::string key = o[i].key ? o[i].key : "";
            if (key.rfind(k_header_prefix, 0) == 0) {
                add_header(key.substr(k_header_prefix.size()), o[i].value ? o[i].value : "");
                continue;
            }
            bool known = key == "url" || key == "secret";
            for (const char* k : notifier_http::Transport::keys) known = known || key == k;
            if (!known) throw notifier_sdk::BadOptions("unknown option " + key + " (extra headers are header.NAME)");
        }
        if (!m_secret.empty() && m_secret.size() < 16)
            throw notifier_sdk::BadOptions("secret: too short to sign with; use at least 16 characters (openssl rand -hex 32)");
        if (m_secret.empty())
            m_host.warn("no secret: requests to " + m_url.shown() + " are not signed (set secret to sign them)");
        m_host.info("posting to " + m_url.shown() + (m_secret.empty() ? "" : ", signed with HMAC-SHA256"));
    }

    void send(const notifier_sdk::Message& m) {
        int64_t sent_ms = now_ms();
        std::string body = document(m, sent_ms).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        std::string timestamp = std::to_string(sent_ms / 1000);
        std::vector<std::string> headers = {
            "Content-Type: application/json",
            "Idempotency-Key: " + std::string(m.idempotency_key()),
            "X-Tether-Attempt: " + std::to_string(m.attempt()),
            "X-Tether-Event: notification." + std::string(m.kind()),
            "X-Tether-Timestamp: " + timestamp,
        };
        if (!m_secret.empty())
            headers.push_back("X-Tether-Signature: sha256=" + hmac_sha256_hex(m_secret, timestamp + "." + body));
        headers.insert(headers.end(), m_headers.begin(), m_headers.end());

        notifier_http::Response r = m_client.post(m_url, headers, body);
        if (notifier_http::is_success(r.status)) return;
        std::string why = "POST " + m_url.shown() + ": HTTP " + std::to_string(r.status);
        if (r.status >= 300 && r.status < 400) why += " (redirects are not followed; use the final URL)";
        if (std::string e = m_client.excerpt(r.body); !e.empty()) why += ": " + e;
        if (r.retry_after_s) why += " (Retry-After " + std::to_string(*r.retry_after_s) + " s)";
        if (notifier_http::is_transient(r.status)) throw notifier_sdk::Retry(why);
        throw notifier_sdk::Fail(why);
    }

private:
    void add_header(const std::string& name, const std::string& value) {
        if (!valid_header_name(name)) throw notifier_sdk::BadOptions("header." + name + ": not a valid header name");
        if (reserved_header(name))
            throw notifier_sdk::BadOptions("header." + name + ": the plugin sets this header itself");
        if (value.find_first_of("\r\n") != std::string::npos)
            throw notifier_sdk::BadOptions("header." + name + ": the value contains a line break");
        m_headers.push_back(name + ": " + value);
        // A header may carry a credential (Authorization: Bearer ...): keep it out of errors.
        if (value.size() >= 6) m_client.add_secret(value);
    }

    // The document of README.md, schema_version 1. Fields are only ever added.
    static nlohmann::json document(const notifier_sdk::Message& m, int64_t sent_ms) {
        nlohmann::json tool = nullptr;
        if (!m.tool().empty()) {
            nlohmann::json input = nullptr;
            if (!m.tool_input_json().empty()) {
                input = nlohmann::json::parse(m.tool_input_json(), nullptr, false);
                if (input.is_discarded()) input = std::string(m.tool_input_json());
            }
            tool = {{"name", m.tool()}, {"input", input}};
        }
        return {
            {"schema_version", k_schema_version},
            {"event", "notification"},
            {"kind", m.kind()},
            {"idempotency_key", m.idempotency_key()},
            {"attempt", m.attempt()},
            {"rule", m.rule()},
            {"title", m.title()},
            {"body", m.body()},
            {"message", m.message()},
            {"session", {{"id", m.session_id()}, {"name", m.session_name()}, {"agent", m.agent()}, {"cwd", m.cwd()}}},
            {"transition", {{"from", m.state_from()}, {"to", m.state_to()}}},
            {"tool", tool},
            {"time", iso8601_ms(m.time_ms())},
            {"time_ms", m.time_ms()},
            {"sent_at", iso8601_ms(sent_ms)},
        };
    }

    notifier_sdk::Host m_host;
    notifier_http::Url m_url;
    std::string m_secret;
    notifier_http::Client m_client;
    std::vector<std::string> m_headers;  // extra "Name: value" lines
};

}  // namespace

NOTIFIER_PLUGIN(Webhook, "webhook", "POSTs each notification as signed JSON (HMAC-SHA256) to a URL")
