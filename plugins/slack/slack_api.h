// Slack's Web API and incoming webhooks over the shared libcurl POST (plugins/http): one
// method call, its answer's {"ok": false, "error"} turned into Retry or Fail, and HTTP 429
// Retry-After honoured for every later call of the same instance. Which calls to make and
// what they carry belong to the plugin (slack.cc, socket_mode.cc, interactions.cc).
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http_post.h"
#include "notifier_sdk.hpp"

namespace slack {

// How long one call may wait out a Retry-After; it shrinks as waits spend it.
using Budget = std::chrono::milliseconds;

class SlackApi {
public:
    // api_base: "https://slack.com/api" or a test server. secrets: every token and URL the
    // instance knows, scrubbed from all error texts.
    SlackApi(notifier_http::Transport transport, std::string api_base, std::vector<std::string> secrets);

    // Calls method with a JSON body and the bearer token; returns the answer when ok.
    // Throws notifier_sdk::Retry (429, 5xx, a transient Slack error, the network) or
    // notifier_sdk::Fail (invalid_auth, channel_not_found, ...): what() names the method
    // and Slack's error code, never a token.
    // cancel: set from another thread to end the call early (Retry "cancelled").
    nlohmann::json call(const std::string& method, const std::string& token, const nlohmann::json& args, Budget& budget,
                        const std::atomic<bool>* cancel = nullptr);
    // The same with a form body (Slack's read methods take no JSON).
    nlohmann::json call_form(const std::string& method, const std::string& token,
                             const std::vector<std::pair<std::string, std::string>>& fields, Budget& budget,
                             const std::atomic<bool>* cancel = nullptr);
    // An incoming-webhook POST (plain-text errors).
    void post_webhook(const notifier_http::Url& url, const nlohmann::json& payload, Budget& budget);

    // Slack's error code when e came from {"ok": false, "error": code}, else "".
    static std::string error_code(const std::exception& e);
    // How long an earlier Retry-After still forbids calls (0 when it does not).
    std::chrono::milliseconds retry_after_left();
    // The Web API's base, shown (scheme://host[:port]).
    const std::string& shown() const { return m_shown; }
    const notifier_http::Client& client() const { return m_client; }

private:
    nlohmann::json answer(const std::string& what, const notifier_http::Response& r, Budget& budget);
    void wait_out_rate_limit(Budget& budget);
    [[noreturn]] void rate_limited(const notifier_http::Response& r, Budget& budget, const std::string& what);

    notifier_http::Client m_client;
    std::string m_base, m_shown;
    std::mutex m_mutex;
    std::chrono::steady_clock::time_point m_not_before{};  // Retry-After: no call before this
};

// Slack's {"ok": false, "error": code} as an exception, so callers can tell codes apart.
struct SlackError : notifier_sdk::Fail {
    SlackError(const std::string& what, std::string code) : notifier_sdk::Fail(what), code(std::move(code)) {}
    std::string code;
};
struct SlackRetry : notifier_sdk::Retry {
    SlackRetry(const std::string& what, std::string code) : notifier_sdk::Retry(what), code(std::move(code)) {}
    std::string code;
};

}  // namespace slack
