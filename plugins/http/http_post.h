// The HTTP side shared by the webhook, Slack and Telegram notifiers: one blocking libcurl
// POST per call (cancellable, for a long poll on a plugin's own thread), the transport
// options every HTTP notifier takes, and the rule that keeps secrets (URLs with tokens,
// bot tokens, signing secrets) out of every error text. Which status means what, and the
// body, belong to each plugin.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "notifier_sdk.hpp"

namespace notifier_http {

// An http(s) URL taken from an option. The whole text may carry a token, so only shown()
// (scheme://host[:port]) ever appears in a message.
class Url {
public:
    // Throws BadOptions naming the option (never its value) when text is not http(s).
    Url(const std::string& text, const std::string& option);
    const std::string& text() const { return m_text; }
    const std::string& shown() const { return m_shown; }
    // The parts of the text that may be secret (userinfo, path, query), for scrubbing.
    const std::vector<std::string>& secret_parts() const { return m_secret_parts; }

private:
    std::string m_text, m_shown;
    std::vector<std::string> m_secret_parts;
};

// connect_timeout_ms, timeout_ms, tls_verify, ca_file.
struct Transport {
    long connect_timeout_ms = 3000;
    long timeout_ms = 5000;  // the whole request; keep it under the host's 10 s per send
    bool tls_verify = true;
    std::string ca_file;  // extra CA bundle, e.g. for a receiver with a private CA

    // Reads the keys above from o. Turning verification off is logged as a warning and
    // reported as a host event ("tls_verify_off"), once, at create.
    static Transport from_options(const notifier_sdk::Options& o, const notifier_sdk::Host& host);
    static constexpr const char* keys[] = {"connect_timeout_ms", "timeout_ms", "tls_verify", "ca_file"};
};

struct Response {
    long status = 0;
    std::string body;                       // at most 64 KiB of it
    std::optional<long> retry_after_s;      // Retry-After (seconds or HTTP date), when sent
    std::chrono::milliseconds elapsed{0};
};

// Status classes every HTTP notifier shares: 2xx delivered; 408, 429 and 5xx transient.
bool is_success(long status);
bool is_transient(long status);

// application/x-www-form-urlencoded: key=value&... with both sides escaped.
std::string form_encoded(const std::vector<std::pair<std::string, std::string>>& fields);

// A POST client for one notifier instance. Thread-safe: each post uses its own handle.
class Client {
public:
    Client(Transport transport, std::vector<std::string> secrets);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Adds more strings that must never appear in an error (e.g. header values). Only
    // before the first post: posts read the list without a lock.
    void add_secret(const std::string& s);

    // POSTs body with headers ("Name: value"). Returns whatever status the server gave.
    // Throws notifier_sdk::Retry for timeouts and connection or TLS failures, and
    // notifier_sdk::Fail for a request curl refuses to make. Error texts name url.shown().
    // timeout_ms overrides the transport's for this call (a long poll); cancel, when set
    // from another thread, ends the call within about 100 ms (Retry "cancelled").
    Response post(const Url& url, const std::vector<std::string>& headers, const std::string& body,
                  long timeout_ms = 0, const std::atomic<bool>* cancel = nullptr) const;

    // text with every secret replaced by "<redacted>": for anything taken from the wire.
    std::string scrub(std::string text) const;
    // A short, scrubbed, single-line excerpt of a response body for an error text.
    std::string excerpt(const std::string& body) const;

private:
    Transport m_transport;
    std::vector<std::string> m_secrets;
};

}  // namespace notifier_http
