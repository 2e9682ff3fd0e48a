// tether-notifier-slack: posts each notification to Slack as Block Kit, either through an
// incoming-webhook URL or with a bot token (chat.postMessage), where later notifications
// of a session go into the thread of its first message (continued after a restart from
// the receipts the host keeps). With an app-level token it is interactive: a request's
// message carries Approve / Always / Deny, clicks come back over Socket Mode
// (socket_mode.h, interactions.h), and the message is revised (chat.update) once the
// request is decided, wherever that was. Retries belong to the host (a Retry result).
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "chat_text.h"
#include "clicks.h"
#include "http_post.h"
#include "interactions.h"
#include "notifier_sdk.hpp"
#include "slack_api.h"
#include "slack_blocks.h"
#include "socket_mode.h"

namespace slack {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr size_t k_max_threads = 4096;  // sessions whose thread is remembered
constexpr const char* k_metadata_type = "tether_notification";

bool slack_user_id(std::string_view id) {
    if (id.empty() || id.size() > 20 || (id[0] != 'U' && id[0] != 'W')) return false;
    for (char c : id)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
    return true;
}

// A receipt is {"channel", "ts", "thread_ts"}: which message, in which thread.
struct Posted {
    std::string channel, ts, thread_ts;
};
std::string receipt_of(const Posted& p) {
    json r{{"channel", p.channel}, {"ts", p.ts}};
    if (!p.thread_ts.empty()) r["thread_ts"] = p.thread_ts;
    return r.dump();
}
std::optional<Posted> parse_receipt(std::string_view text) {
    json r = json::parse(text, nullptr, false);
    if (!r.is_object()) return std::nullopt;
    Posted p{r.value("channel", ""), r.value("ts", ""), r.value("thread_ts", "")};
    if (p.channel.empty() || p.ts.empty()) return std::nullopt;
    return p;
}

class Slack {
public:
    Slack(notifier_sdk::Host host, const notifier_sdk::Options& o) : m_host(host), m_events(host) {
        o.reject_unknown({"webhook", "token", "channel", "api_base", "thread", "max_retry_wait_ms", "connect_timeout_ms",
                          "timeout_ms", "tls_verify", "ca_file", "app_token", "allow_users", "deny_message",
                          "reconnect_min_ms"});
        auto transport = notifier_http::Transport::from_options(o, host);
        auto webhook = o.optional("webhook");
        auto token = o.optional("token");
        if (webhook.has_value() == token.has_value())
            throw notifier_sdk::BadOptions("give either webhook (an incoming-webhook URL) or token (a bot token) and channel");
        m_max_wait = std::chrono::milliseconds(o.integer("max_retry_wait_ms", 4000, 0, 60000));
        if (transport.timeout_ms + m_max_wait.count() > 9500)
            m_host.warn("timeout_ms + max_retry_wait_ms exceed the daemon's 10 s per send: a send that takes that long "
                        "is abandoned and counted as timed out");
        if (webhook) {
            for (const char* k : {"channel", "api_base", "thread", "app_token", "allow_users", "deny_message", "reconnect_min_ms"})
                if (o.has(k))
                    throw notifier_sdk::BadOptions(std::string(k) + " goes with token; an incoming webhook posts to its own channel "
                                                                    "and cannot take answers");
            m_url.emplace(o.required("webhook"), "webhook");
            std::vector<std::string> secrets{m_url->text()};
            for (const auto& part : m_url->secret_parts()) secrets.push_back(part);
            m_api = std::make_unique<SlackApi>(transport, "https://hooks.slack.com", secrets);
            m_host.info("posting to a Slack incoming webhook at " + m_url->shown());
            return;
        }
        m_token = o.required("token");
        std::string app_token = o.get("app_token", "");
        for (const std::string* t : {&m_token, &app_token})
            if (t->find_first_of(" \t\r\n") != std::string::npos)
                throw notifier_sdk::BadOptions(std::string(t == &m_token ? "token" : "app_token") + ": contains white space or a line break");
        m_channel = o.required("channel");
        m_thread = o.boolean("thread", true);
        m_api = std::make_unique<SlackApi>(transport, o.get("api_base", "https://slack.com/api"),
                                           std::vector<std::string>{m_token, app_token});
        m_host.info("posting with chat.postMessage at " + m_api->shown() + " to " + m_channel +
                    (m_thread ? ", a thread per session" : ""));
        if (!app_token.empty()) start_answers(o, transport, app_token);
        else if (o.has("allow_users") || o.has("deny_message") || o.has("reconnect_min_ms"))
            throw notifier_sdk::BadOptions("allow_users, deny_message and reconnect_min_ms go with app_token (Socket Mode)");
    }

    void send(const notifier_sdk::Message& m) {
        auto budget = m_max_wait;
        json payload = {{"text", fallback_text(m)}};
        if (!m_token.empty()) return send_api(m, payload, budget);
        payload["blocks"] = blocks_for(m, std::nullopt);
        m_api->post_webhook(*m_url, payload, budget);
    }

    // ABI 1.2: the request this plugin's message showed was decided (anywhere).
    void update(const notifier_sdk::Message& m) {
        if (m_token.empty()) return;  // a webhook's messages cannot be changed
        auto posted = parse_receipt(m.update_receipt());
        if (!posted) throw notifier_sdk::Fail("update: the receipt names no Slack message");
        auto budget = m_max_wait;
        json args{{"channel", posted->channel}, {"ts", posted->ts},
                  {"text", fallback_text(m) + " \u2014 " + decided_text(m)}, {"blocks", decided_blocks(m)}};
        m_api->call("chat.update", m_token, args, budget);
        m.set_receipt(std::string(m.update_receipt()));
    }

private:
    void start_answers(const notifier_sdk::Options& o, const notifier_http::Transport& transport, const std::string& app_token) {
        if (app_token.rfind("xapp-", 0) != 0)
            throw notifier_sdk::BadOptions("app_token: an app-level token starts with xapp- (the app's Basic Information, "
                                           "App-Level Tokens, with connections:write)");
        if (!o.has("allow_users"))
            throw notifier_sdk::BadOptions("allow_users is required with app_token: the Slack user ids (U0123ABCD) who may answer");
        Interactions::Options io;
        io.bot_token = m_token;
        io.allow = notifier_chat::AllowList("allow_users", o.get("allow_users", ""), &slack_user_id,
                                            "a Slack user id such as U0123ABCD");
        io.deny_message = o.get("deny_message", "Denied from Slack.");
        size_t people = io.allow.size();
        m_interactions = std::make_unique<Interactions>(*m_api, std::move(io), m_host, m_events);
        SocketMode::Options so;
        so.app_token = app_token;
        so.reconnect_min_ms = o.integer("reconnect_min_ms", 1000, 10, 60000);
        so.reconnect_max_ms = std::max<long>(so.reconnect_min_ms, 60000);
        so.ws.connect_timeout_ms = std::max<long>(transport.connect_timeout_ms, 5000);
        so.ws.tls_verify = transport.tls_verify;
        so.ws.ca_file = transport.ca_file;
        m_socket = std::make_unique<SocketMode>(*m_api, so, m_host, m_events,
                                                [this](json payload) { m_interactions->post(std::move(payload)); });
        m_host.info("answers from Slack through Socket Mode, for " + std::to_string(people) + " allowed user(s)");
    }

    void send_api(const notifier_sdk::Message& m, json& payload, std::chrono::milliseconds& budget) {
        std::optional<Buttons> buttons;
        if (m_socket && m.permission_request() > 0 && m_host.can_answer())
            buttons = Buttons{m.permission_request(), std::string(m.session_id()), notifier_chat::suggestion_text(m.always_json())};
        payload["blocks"] = blocks_for(m, buttons);
        payload["channel"] = m_channel;
        payload["unfurl_links"] = false;
        payload["unfurl_media"] = false;
        // The idempotency key travels with the message, so a retry can find it posted.
        payload["metadata"] = {{"event_type", k_metadata_type},
                               {"event_payload", {{"key", std::string(m.idempotency_key())}, {"session", std::string(m.session_id())}}}};
        std::string session(m.session_id());
        if (!m_thread || session.empty()) {
            Posted p = post(m, payload, "", budget);
            m.set_receipt(receipt_of(p));
            return;
        }
        ThreadClaim claim(*this, session, parse_receipt(m.session_receipt()));
        if (!claim.ts.empty()) {
            payload["channel"] = claim.channel;
            payload["thread_ts"] = claim.ts;
            Posted p = post(m, payload, claim.ts, budget);
            m.set_receipt(receipt_of({p.channel, p.ts, claim.ts}));
            return;
        }
        Posted p = post(m, payload, "", budget);  // the session's first message starts its thread
        claim.started(p.ts, p.channel);
        m.set_receipt(receipt_of({p.channel, p.ts, p.ts}));
    }

    // chat.postMessage, unless an earlier attempt already posted it (its answer was lost).
    Posted post(const notifier_sdk::Message& m, const json& payload, const std::string& thread_ts, std::chrono::milliseconds& budget) {
        std::string channel = payload.value("channel", m_channel);
        if (m.maybe_delivered())
            if (auto found = find_posted(m, channel, thread_ts, budget)) {
                m_host.info("notification " + std::string(m.idempotency_key()) + " was posted by an earlier attempt: not again");
                return *found;
            }
        json reply = m_api->call("chat.postMessage", m_token, payload, budget);
        Posted p{reply.value("channel", channel), reply.value("ts", ""), thread_ts};
        if (p.channel.rfind('C', 0) == 0 || p.channel.rfind('G', 0) == 0) {
            std::lock_guard lock(m_mutex);
            m_channel_id = p.channel;
        }
        return p;
    }

    // Looks for a message carrying this key (its metadata) in the thread or the channel.
    std::optional<Posted> find_posted(const notifier_sdk::Message& m, std::string channel, const std::string& thread_ts,
                                      std::chrono::milliseconds& budget) {
        if (!channel.empty() && channel[0] == '#') {
            std::lock_guard lock(m_mutex);
            channel = m_channel_id;  // the history needs an id, not a name
        }
        if (channel.empty()) return std::nullopt;
        std::vector<std::pair<std::string, std::string>> fields{{"channel", channel}, {"limit", "200"}, {"include_all_metadata", "true"}};
        if (!thread_ts.empty()) fields.emplace_back("ts", thread_ts);
        else fields.emplace_back("oldest", std::to_string(std::max<int64_t>(0, m.time_ms() / 1000 - 5)));
        json reply;
        try {
            reply = m_api->call_form(thread_ts.empty() ? "conversations.history" : "conversations.replies", m_token, fields, budget);
        } catch (const std::exception& e) {
            if (SlackApi::error_code(e) == "missing_scope")
                m_events.report("duplicate_check_unavailable",
                                std::string(e.what()) + ": without channels:history (groups:history for a private channel) a "
                                                        "retry cannot see whether Slack already has the message, and may post it twice");
            else m_host.warn(std::string("cannot check for an earlier post: ") + e.what());
            return std::nullopt;
        }
        auto messages = reply.find("messages");
        if (messages == reply.end() || !messages->is_array()) return std::nullopt;
        for (const auto& msg : *messages) {
            if (!msg.is_object() || !msg.contains("metadata") || !msg["metadata"].is_object()) continue;
            const json& md = msg["metadata"];
            if (md.value("event_type", "") != k_metadata_type || !md.contains("event_payload") || !md["event_payload"].is_object()) continue;
            if (md["event_payload"].value("key", "") != m.idempotency_key()) continue;
            return Posted{channel, msg.value("ts", ""), thread_ts};
        }
        return std::nullopt;
    }

    // While a session's first message is on its way, its later ones wait for its ts.
    struct Thread {
        std::string ts, channel;
        bool starting = false;
    };

    class ThreadClaim {
    public:
        std::string ts, channel;  // empty ts: this send starts the thread

        // seed: the thread the host remembers from before a restart.
        ThreadClaim(Slack& s, const std::string& session, const std::optional<Posted>& seed) : m_s(s), m_session(session) {
            std::unique_lock lock(s.m_mutex);
            auto deadline = Clock::now() + std::chrono::milliseconds(5000);
            for (;;) {
                Thread& t = s.thread_of(session);
                if (t.ts.empty() && !t.starting && seed && !seed->thread_ts.empty()) {
                    t.ts = seed->thread_ts;
                    t.channel = seed->channel;
                }
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

    notifier_sdk::Host m_host;
    notifier_chat::EventLimiter m_events;
    std::unique_ptr<SlackApi> m_api;
    std::optional<notifier_http::Url> m_url;  // the incoming webhook
    std::string m_token, m_channel;
    bool m_thread = true;
    std::chrono::milliseconds m_max_wait{4000};

    std::mutex m_mutex;  // guards what follows: sends run concurrently
    std::condition_variable m_cv;
    std::map<std::string, Thread> m_threads;  // by session id
    std::deque<std::string> m_order;          // sessions, oldest first
    std::string m_channel_id;                 // the channel's id, once Slack named it

    // Last: destroyed first, so no click is handled while the state above goes. The socket
    // goes before the interactions it feeds.
    std::unique_ptr<Interactions> m_interactions;
    std::unique_ptr<SocketMode> m_socket;
};

}  // namespace
}  // namespace slack

NOTIFIER_PLUGIN(slack::Slack, "slack",
                "posts notifications to Slack (incoming webhook, or a bot token with a thread per session; with an app "
                "token, Approve/Deny from Slack over Socket Mode)")
