// One Slack Web API call: the answer's shape, its error classes, Retry-After.
#include "slack_api.h"

#include <algorithm>
#include <set>
#include <thread>

namespace slack {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// Errors that a later attempt can cure; every other one is permanent (invalid_auth,
// channel_not_found, not_in_channel, invalid_blocks, ...).
const std::set<std::string> k_transient_errors = {"ratelimited",         "rate_limited",    "internal_error",
                                                  "fatal_error",         "request_timeout", "service_unavailable",
                                                  "team_not_found_yet"};

std::string dump(const json& payload) { return payload.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

SlackApi::SlackApi(notifier_http::Transport transport, std::string api_base, std::vector<std::string> secrets)
    : m_client(transport, std::move(secrets)), m_base(std::move(api_base)) {
    while (!m_base.empty() && m_base.back() == '/') m_base.pop_back();
    m_shown = notifier_http::Url(m_base + "/api.test", "api_base").shown();
}

std::string SlackApi::error_code(const std::exception& e) {
    if (auto* f = dynamic_cast<const SlackError*>(&e)) return f->code;
    if (auto* r = dynamic_cast<const SlackRetry*>(&e)) return r->code;
    return "";
}

void SlackApi::wait_out_rate_limit(Budget& budget) {
    Clock::time_point until;
    {
        std::lock_guard lock(m_mutex);
        until = m_not_before;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) return;
    if (left > budget)
        throw SlackRetry("Slack asked to wait (Retry-After): " + std::to_string((left.count() + 999) / 1000) + " s left",
                         "ratelimited");
    std::this_thread::sleep_for(left);
    budget -= left;
}

// A 429: remembers Retry-After for every call of this instance, sleeps what the budget
// allows (so the host's next attempt comes later), and reports a retryable failure.
void SlackApi::rate_limited(const notifier_http::Response& r, Budget& budget, const std::string& what) {
    long secs = r.retry_after_s.value_or(1);
    auto wait = std::chrono::seconds(secs);
    {
        std::lock_guard lock(m_mutex);
        m_not_before = std::max(m_not_before, Clock::now() + wait);
    }
    auto slept = std::min<std::chrono::milliseconds>(wait, budget);
    std::this_thread::sleep_for(slept);
    budget -= slept;
    throw SlackRetry(what + ": rate limited (HTTP 429, Retry-After " + std::to_string(secs) + " s)", "ratelimited");
}

json SlackApi::answer(const std::string& what, const notifier_http::Response& r, Budget& budget) {
    if (r.status == 429) rate_limited(r, budget, what);
    if (!notifier_http::is_success(r.status)) {
        std::string why = what + ": HTTP " + std::to_string(r.status);
        if (std::string e = m_client.excerpt(r.body); !e.empty()) why += ": " + e;
        if (notifier_http::is_transient(r.status)) throw notifier_sdk::Retry(why);
        throw notifier_sdk::Fail(why);
    }
    // The Web API answers HTTP 200 with {"ok": false, "error": "..."} for its errors.
    json reply = json::parse(r.body, nullptr, false);
    if (!reply.is_object() || !reply.contains("ok"))
        throw notifier_sdk::Retry(what + ": the answer is not Slack's JSON: " + m_client.excerpt(r.body));
    if (reply.value("ok", false)) return reply;
    auto e = reply.find("error");
    std::string error = e != reply.end() && e->is_string() ? m_client.scrub(e->get<std::string>()) : "unknown_error";
    std::string why = what + ": " + error;
    if (error == "ratelimited" || error == "rate_limited") {
        if (r.retry_after_s) rate_limited(r, budget, what);
        throw SlackRetry(why, error);
    }
    if (k_transient_errors.count(error)) throw SlackRetry(why, error);
    throw SlackError(why, error);
}

std::chrono::milliseconds SlackApi::retry_after_left() {
    std::lock_guard lock(m_mutex);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(m_not_before - Clock::now());
    return std::max(left, std::chrono::milliseconds(0));
}

json SlackApi::call(const std::string& method, const std::string& token, const json& args, Budget& budget,
                    const std::atomic<bool>* cancel) {
    wait_out_rate_limit(budget);
    notifier_http::Url url(m_base + "/" + method, "api_base");
    std::string what = "Slack " + method + " at " + m_shown;
    auto r = m_client.post(url, {"Content-Type: application/json; charset=utf-8", "Authorization: Bearer " + token}, dump(args),
                           0, cancel);
    return answer(what, r, budget);
}

json SlackApi::call_form(const std::string& method, const std::string& token,
                         const std::vector<std::pair<std::string, std::string>>& fields, Budget& budget,
                         const std::atomic<bool>* cancel) {
    wait_out_rate_limit(budget);
    notifier_http::Url url(m_base + "/" + method, "api_base");
    std::string what = "Slack " + method + " at " + m_shown;
    auto r = m_client.post(url, {"Content-Type: application/x-www-form-urlencoded", "Authorization: Bearer " + token},
                           notifier_http::form_encoded(fields), 0, cancel);
    return answer(what, r, budget);
}

void SlackApi::post_webhook(const notifier_http::Url& url, const json& payload, Budget& budget) {
    wait_out_rate_limit(budget);
    std::string what = "Slack webhook " + url.shown();
    auto r = m_client.post(url, {"Content-Type: application/json; charset=utf-8"}, dump(payload));
    if (notifier_http::is_success(r.status)) return;
    if (r.status == 429) rate_limited(r, budget, what);
    // Incoming webhooks answer errors in plain text: invalid_payload, channel_not_found, ...
    std::string why = what + ": HTTP " + std::to_string(r.status);
    if (std::string e = m_client.excerpt(r.body); !e.empty()) why += ": " + e;
    if (notifier_http::is_transient(r.status)) throw notifier_sdk::Retry(why);
    throw notifier_sdk::Fail(why);
}

}  // namespace slack
