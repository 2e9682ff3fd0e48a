// tether-notifier-slack: posts each notification to Slack as Block Kit, either through an
// incoming-webhook URL or with a bot token (chat.postMessage), where later notifications
// of a session go into the thread of its first message. Honours 429 Retry-After; retries
// themselves belong to the host (a Retry result), as for every notifier.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "http_post.h"
#include "notifier_sdk.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr size_t k_max_threads = 4096;  // sessions whose thread is remembered

// chat.postMessage errors that a later attempt can cure; every other one is permanent
// (invalid_auth, channel_not_found, not_in_channel, invalid_blocks, ...).
const std::set<std::string> k_transient_errors = {"ratelimited",         "rate_limited",    "internal_error",
                                                  "fatal_error",         "request_timeout", "service_unavailable",
                                                  "team_not_found_yet"};

// Slack's mrkdwn treats &, < and > as control characters.
std::string escaped(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '&') out += "&amp;";
        else if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else out += c;
    }
    return out;
}

// At most max bytes, cut on a UTF-8 character boundary, with an ellipsis when cut.
std::string truncated(std::string_view s, size_t max) {
    if (s.size() <= max) return std::string(s);
    size_t n = max - 3;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return std::string(s.substr(0, n)) + "...";
}

// The command a person recognises in a tool input (like the rules' tool_input).
std::string tool_input_text(std::string_view input_json) {
    if (input_json.empty()) return "";
    json j = json::parse(input_json, nullptr, false);
    if (j.is_discarded()) return std::string(input_json);
    if (j.is_string()) return j.get<std::string>();
    if (j.is_object())
        for (const char* k : {"command", "file_path", "path", "url", "pattern", "query"})
            if (auto it = j.find(k); it != j.end() && it->is_string()) return it->get<std::string>();
    return j.dump();
}

json mrkdwn(const std::string& text) { return {{"type", "mrkdwn"}, {"text", text}}; }

// The Block Kit message: header, the body, fields (session, agent, state, tool), context.
json blocks_for(const notifier_sdk::Message& m) {
    std::string title = m.title().empty() ? std::string(m.session_name()) + ": " + std::string(m.kind()) : std::string(m.title());
    std::string text = !m.body().empty() ? std::string(m.body()) : std::string(m.message());
    json blocks = json::array();
    blocks.push_back({{"type", "header"}, {"text", {{"type", "plain_text"}, {"text", truncated(title, 150)}, {"emoji", true}}}});
    if (!text.empty()) blocks.push_back({{"type", "section"}, {"text", mrkdwn(escaped(truncated(text, 2900)))}});

    json fields = json::array();
    std::string session = std::string(m.session_name()) + (m.session_id().empty() ? "" : " (#" + std::string(m.session_id()) + ")");
    fields.push_back(mrkdwn("*Session*\n" + escaped(truncated(session, 200))));
    if (!m.agent().empty()) fields.push_back(mrkdwn("*Agent*\n" + escaped(m.agent())));
    std::string state = m.state_from().empty() ? std::string(m.state_to())
                                               : std::string(m.state_from()) + " \u2192 " + std::string(m.state_to());
    fields.push_back(mrkdwn("*State*\n" + escaped(state)));
    if (!m.tool().empty()) {
        std::string input = tool_input_text(m.tool_input_json());
        std::replace(input.begin(), input.end(), '`', '\'');  // a backtick would end the code span
        std::replace(input.begin(), input.end(), '\n', ' ');
        std::string tool = escaped(m.tool()) + (input.empty() ? "" : ": `" + escaped(truncated(input, 300)) + "`");
        fields.push_back(mrkdwn("*Tool*\n" + tool));
    }
    blocks.push_back({{"type", "section"}, {"fields", fields}});

    json context = json::array();
    if (m.time_ms() > 0) {
        // Slack shows <!date^...> in the reader's own time zone; the text after | is the fallback.
        std::time_t secs = static_cast<std::time_t>(m.time_ms() / 1000);
        std::tm tm{};
        gmtime_r(&secs, &tm);
        char utc[32];
        std::strftime(utc, sizeof utc, "%Y-%m-%d %H:%M:%S UTC", &tm);
        context.push_back(mrkdwn("<!date^" + std::to_string(secs) + "^{date_short_pretty} {time_secs}|" + utc + ">"));
    }
    if (!m.cwd().empty()) context.push_back(mrkdwn("`" + escaped(truncated(m.cwd(), 300)) + "`"));
    if (!m.rule().empty()) context.push_back(mrkdwn("rule " + escaped(m.rule())));
    if (!context.empty()) blocks.push_back({{"type", "context"}, {"elements", context}});
    return blocks;
}

std::string fallback_text(const notifier_sdk::Message& m) {
    std::string title = m.title().empty() ? std::string(m.session_name()) + ": " + std::string(m.kind()) : std::string(m.title());
    std::string text = !m.body().empty() ? std::string(m.body()) : std::string(m.message());
    return escaped(truncated(text.empty() ? title : title + ": " + text, 3000));
}

class Slack {
public:
    Slack(notifier_sdk::Host host, const notifier_sdk::Options& o)
        : m_host(host),
          m_transport(notifier_http::Transport::from_options(o, host)),
          m_client(m_transport, {}) {
        o.reject_unknown({"webhook", "token", "channel", "api_base", "thread", "max_retry_wait_ms", "connect_timeout_ms",
                          "timeout_ms", "tls_verify", "ca_file"});
        auto webhook = o.optional("webhook");
        auto token = o.optional("token");
        if (webhook.has_value() == token.has_value())
            throw notifier_sdk::BadOptions("give either webhook (an incoming-webhook URL) or token (a bot token) and channel");
        m_max_wait = std::chrono::milliseconds(o.integer("max_retry_wait_ms", 4000, 0, 60000));
        if (m_transport.timeout_ms + m_max_wait.count() > 9500)
            m_host.warn("timeout_ms + max_retry_wait_ms exceed the daemon's 10 s per send: a send that takes that long "
                        "is abandoned and counted as timed out");
        if (webhook) {
            if (o.has("channel") || o.has("api_base") || o.has("thread"))
                throw notifier_sdk::BadOptions("channel, api_base and thread go with token; an incoming webhook posts to its own channel");
            m_url.emplace(o.required("webhook"), "webhook");
            m_client.add_secret(m_url->text());
            for (const auto& part : m_url->secret_parts()) m_client.add_secret(part);
            m_host.info("posting to a Slack incoming webhook at " + m_url->shown());
            return;
        }
        m_token = o.required("token");
        if (m_token.find_first_of(" \t\r\n") != std::string::npos)
            throw notifier_sdk::BadOptions("token: contains white space or a line break");
        m_client.add_secret(m_token);
        m_channel = o.required("channel");
        m_thread = o.boolean("thread", true);
        std::string base = o.get("api_base", "https://slack.com/api");
        while (!base.empty() && base.back() == '/') base.pop_back();
        m_url.emplace(base + "/chat.postMessage", "api_base");
        m_host.info("posting with chat.postMessage at " + m_url->shown() + " to " + m_channel +
                    (m_thread ? ", a thread per session" : ""));
    }

    void send(const notifier_sdk::Message& m) {
        auto budget = m_max_wait;
        wait_out_rate_limit(budget);
        json payload = {{"text", fallback_text(m)}, {"blocks", blocks_for(m)}};
        if (m_token.empty()) return post_webhook(payload, budget);

        payload["channel"] = m_channel;
        payload["unfurl_links"] = false;
        payload["unfurl_media"] = false;
        std::string session(m.session_id());
        if (!m_thread || session.empty()) {
            post_api(payload, budget);
            return;
        }
        ThreadClaim claim(*this, session);
        if (!claim.ts.empty()) {
            payload["channel"] = claim.channel;
            payload["thread_ts"] = claim.ts;
            post_api(payload, budget);
            return;
        }
        json reply = post_api(payload, budget);  // the session's first message starts its thread
        claim.started(reply.value("ts", ""), reply.value("channel", m_channel));
    }

private:
    // While a session's first message is on its way, its later ones wait for its ts.
    struct Thread {
        std::string ts, channel;
        bool starting = false;
    };

    class ThreadClaim {
    public:
        std::string ts, channel;  // empty ts: this send starts the thread

        ThreadClaim(Slack& s, const std::string& session) : m_s(s), m_session(session) {
            std::unique_lock lock(s.m_mutex);
            auto deadline = Clock::now() + std::chrono::milliseconds(s.m_transport.timeout_ms);
            for (;;) {
                Thread& t = s.thread_of(session);
                if (!t.ts.empty()) {
                    ts = t.ts;
                    channel = t.channel;
                    return;
                }
                if (!t.starting) {
                    t.starting = m_starting = true;
                    return;
                }
                if (s.m_cv.wait_until(lock, deadline) == std::cv_status::timeout)
                    throw notifier_sdk::Retry("the first Slack message of session " + session + " is still being sent");
            }
        }
        void started(const std::string& new_ts, const std::string& new_channel) {
            std::lock_guard lock(m_s.m_mutex);
            Thread& t = m_s.thread_of(m_session);
            t.ts = new_ts;
            t.channel = new_channel;
        }
        ~ThreadClaim() {
            if (!m_starting) return;
            {
                std::lock_guard lock(m_s.m_mutex);
                m_s.thread_of(m_session).starting = false;  // failed or done: a waiter takes over
            }
            m_s.m_cv.notify_all();
        }

    private:
        Slack& m_s;
        std::string m_session;
        bool m_starting = false;
    };

    // m_mutex held.
    Thread& thread_of(const std::string& session) {
        auto [it, inserted] = m_threads.try_emplace(session);
        if (inserted) {
            m_order.push_back(session);
            // Forget the oldest sessions, but never one whose first message is in flight.
            for (size_t i = 0; m_threads.size() > k_max_threads && i < m_order.size();) {
                auto old = m_threads.find(m_order[i]);
                if (old != m_threads.end() && (old->second.starting || old->first == session)) {
                    ++i;
                    continue;
                }
                if (old != m_threads.end()) m_threads.erase(old);
                m_order.erase(m_order.begin() + static_cast<long>(i));
            }
        }
        return m_threads.at(session);
    }

    // Honours an earlier Retry-After: waits it out when it ends within the budget, else
    // fails this attempt at once without asking Slack.
    void wait_out_rate_limit(std::chrono::milliseconds& budget) {
        Clock::time_point until;
        {
            std::lock_guard lock(m_mutex);
            until = m_not_before;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
        if (left.count() <= 0) return;
        if (left > budget)
            throw notifier_sdk::Retry("Slack asked to wait (Retry-After): " + std::to_string((left.count() + 999) / 1000) +
                                      " s left");
        std::this_thread::sleep_for(left);
        budget -= left;
    }

    // A 429: remembers Retry-After for every send of this instance, sleeps what the budget
    // allows (so the host's next attempt comes later), and reports a retryable failure.
    [[noreturn]] void rate_limited(const notifier_http::Response& r, std::chrono::milliseconds budget, const std::string& what) {
        long secs = r.retry_after_s.value_or(1);
        auto wait = std::chrono::seconds(secs);
        {
            std::lock_guard lock(m_mutex);
            m_not_before = std::max(m_not_before, Clock::now() + wait);
        }
        std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(wait, budget));
        throw notifier_sdk::Retry(what + ": rate limited (HTTP 429, Retry-After " + std::to_string(secs) + " s)");
    }

    std::string dump(const json& payload) const {
        return payload.dump(-1, ' ', false, json::error_handler_t::replace);
    }

    void post_webhook(const json& payload, std::chrono::milliseconds budget) {
        std::string what = "Slack webhook " + m_url->shown();
        auto r = m_client.post(*m_url, {"Content-Type: application/json; charset=utf-8"}, dump(payload));
        if (notifier_http::is_success(r.status)) return;
        if (r.status == 429) rate_limited(r, budget, what);
        // Incoming webhooks answer errors in plain text: invalid_payload, channel_not_found, ...
        std::string why = what + ": HTTP " + std::to_string(r.status);
        if (std::string e = m_client.excerpt(r.body); !e.empty()) why += ": " + e;
        if (notifier_http::is_transient(r.status)) throw notifier_sdk::Retry(why);
        throw notifier_sdk::Fail(why);
    }

    json post_api(const json& payload, std::chrono::milliseconds budget) {
        std::string what = "Slack chat.postMessage at " + m_url->shown();
        auto r = m_client.post(*m_url, {"Content-Type: application/json; charset=utf-8", "Authorization: Bearer " + m_token},
                               dump(payload));
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
        std::string error = reply.value("error", "unknown_error");
        std::string why = what + ": " + m_client.scrub(error);
        if (error == "ratelimited" || error == "rate_limited") {
            if (r.retry_after_s) rate_limited(r, budget, what);
            throw notifier_sdk::Retry(why);
        }
        if (k_transient_errors.count(error)) throw notifier_sdk::Retry(why);
        throw notifier_sdk::Fail(why);
    }

    notifier_sdk::Host m_host;
    notifier_http::Transport m_transport;
    notifier_http::Client m_client;
    std::optional<notifier_http::Url> m_url;  // the webhook, or api_base + /chat.postMessage
    std::string m_token, m_channel;
    bool m_thread = true;
    std::chrono::milliseconds m_max_wait{4000};

    std::mutex m_mutex;  // guards what follows: sends run concurrently
    std::condition_variable m_cv;
    std::map<std::string, Thread> m_threads;  // by session id
    std::deque<std::string> m_order;          // sessions, oldest first
    Clock::time_point m_not_before{};         // Retry-After: no request before this
};

}  // namespace

NOTIFIER_PLUGIN(Slack, "slack", "posts notifications to Slack (incoming webhook, or a bot token with a thread per session)")
