// One Bot API call: the answer's shape, its error classes, retry_after.
#include "telegram_api.h"

#include <algorithm>
#include <thread>

namespace telegram {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

TelegramApi::TelegramApi(notifier_http::Transport transport, std::string api_base, std::string token)
    : m_client(transport, {token}), m_base(std::move(api_base)), m_token(std::move(token)) {
    while (!m_base.empty() && m_base.back() == '/') m_base.pop_back();
    notifier_http::Url probe(m_base + "/bot" + m_token + "/getMe", "api_base");
    m_shown = probe.shown();
    m_client.add_secret(probe.text());
}

std::chrono::milliseconds TelegramApi::retry_after_left() {
    std::lock_guard lock(m_mutex);
    return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(m_not_before - Clock::now()), std::chrono::milliseconds(0));
}

json TelegramApi::call(const std::string& method, const json& args, Budget& budget, long timeout_ms, const std::atomic<bool>* cancel) {
    std::string what = "Telegram " + method + " at " + m_shown;
    if (auto left = retry_after_left(); left.count() > 0) {
        if (left > budget)
            throw notifier_sdk::Retry(what + ": Telegram asked to wait (retry_after): " + std::to_string((left.count() + 999) / 1000) +
                                      " s left");
        std::this_thread::sleep_for(left);
        budget -= left;
    }
    notifier_http::Url url(m_base + "/bot" + m_token + "/" + method, "api_base");
    auto r = m_client.post(url, {"Content-Type: application/json; charset=utf-8"},
                           args.dump(-1, ' ', false, json::error_handler_t::replace), timeout_ms, cancel);
    json reply = json::parse(r.body, nullptr, false);
    bool shaped = reply.is_object() && reply.contains("ok");
    if (shaped && reply.value("ok", false) && notifier_http::is_success(r.status)) return reply.value("result", json());
    int code = shaped && reply.contains("error_code") && reply["error_code"].is_number_integer() ? reply["error_code"].get<int>()
                                                                                                   : static_cast<int>(r.status);
    std::string description = shaped && reply.contains("description") && reply["description"].is_string()
                                  ? m_client.scrub(reply["description"].get<std::string>().substr(0, 300))
                                  : m_client.excerpt(r.body);
    std::string why = what + ": " + std::to_string(code) + (description.empty() ? "" : " " + description);
    if (code == 429 || r.status == 429) {
        long secs = r.retry_after_s.value_or(1);
        if (shaped && reply.contains("parameters") && reply["parameters"].is_object() &&
            reply["parameters"].value("retry_after", 0) > 0)
            secs = reply["parameters"].value("retry_after", 1);
        auto wait = std::chrono::seconds(secs);
        {
            std::lock_guard lock(m_mutex);
            m_not_before = std::max(m_not_before, Clock::now() + wait);
        }
        auto slept = std::min<std::chrono::milliseconds>(wait, budget);
        std::this_thread::sleep_for(slept);
        budget -= slept;
        throw notifier_sdk::Retry(what + ": rate limited (429, retry after " + std::to_string(secs) + " s)");
    }
    if (!shaped && notifier_http::is_success(r.status)) throw notifier_sdk::Retry(what + ": the answer is not the Bot API's JSON");
    if (code >= 500 || code == 408 || (!shaped && notifier_http::is_transient(r.status))) throw notifier_sdk::Retry(why);
    throw ApiError(why, code, description);
}

}  // namespace telegram
