// The Telegram Bot API over the shared libcurl POST (plugins/http): one method call with a
// JSON body to <api_base>/bot<token>/<method>, its answer's {"ok": false, "error_code",
// "description", "parameters": {"retry_after"}} turned into Retry or Fail, and a 429's
// retry_after honoured by every later call of the same instance. The token is part of
// every URL, so errors show the server as scheme://host only and scrub the token.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "http_post.h"
#include "notifier_sdk.hpp"

namespace telegram {

using Budget = std::chrono::milliseconds;

// The Bot API refused the call: error_code is its HTTP-like code (400, 401, 403, 404, 409).
struct ApiError : notifier_sdk::Fail {
    ApiError(const std::string& what, int code, std::string description)
        : notifier_sdk::Fail(what), code(code), description(std::move(description)) {}
    int code;
    std::string description;
};

class TelegramApi {
public:
    // Throws BadOptions for an api_base that is not http(s) or a token that cannot be in a URL.
    TelegramApi(notifier_http::Transport transport, std::string api_base, std::string token);

    // Returns the answer's "result". Throws notifier_sdk::Retry (429, 5xx, the network; a
    // 429 is waited out within budget) or ApiError. timeout_ms: for a long poll; cancel:
    // set from another thread to end the call early.
    nlohmann::json call(const std::string& method, const nlohmann::json& args, Budget& budget, long timeout_ms = 0,
                        const std::atomic<bool>* cancel = nullptr);
    // How long an earlier retry_after still forbids calls.
    std::chrono::milliseconds retry_after_left();
    const std::string& shown() const { return m_shown; }
    std::string scrub(const std::string& text) const { return m_client.scrub(text); }

private:
    notifier_http::Client m_client;
    std::string m_base, m_shown, m_token;
    std::mutex m_mutex;
    std::chrono::steady_clock::time_point m_not_before{};
};

}  // namespace telegram
