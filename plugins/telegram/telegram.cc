// tether-notifier-telegram: each notification as a Telegram message from a bot (Bot API
// sendMessage); a permission request's message carries an inline keyboard, Approve /
// Always / Deny, whose presses come back through getUpdates long polling on the plugin's
// own thread (poller.h: outbound only, nothing listens), and the message is edited with
// the outcome once the request is decided, wherever that was. Only the configured chat
// and people may answer. Retries belong to the host (a Retry result), as for every notifier.
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "chat_text.h"
#include "clicks.h"
#include "http_post.h"
#include "notifier_sdk.hpp"
#include "poller.h"
#include "telegram_api.h"
#include "telegram_message.h"

namespace telegram {
namespace {

using nlohmann::json;

bool telegram_id(std::string_view id) {
    if (id.empty() || id.size() > 20) return false;
    size_t start = id[0] == '-' ? 1 : 0;
    if (start == id.size()) return false;
    for (size_t i = start; i < id.size(); ++i)
        if (id[i] < '0' || id[i] > '9') return false;
    return true;
}
bool user_id(std::string_view id) { return telegram_id(id) && id[0] != '-'; }

// BotFather's tokens read 123456789:AAE...: digits, a colon, then letters, digits, - and _.
bool bot_token(const std::string& t) {
    size_t colon = t.find(':');
    if (colon == 0 || colon == std::string::npos || colon + 1 == t.size()) return false;
    for (size_t i = 0; i < t.size(); ++i) {
        char c = t[i];
        bool ok = i < colon ? (c >= '0' && c <= '9')
                            : i == colon || std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
        if (!ok) return false;
    }
    return true;
}

class Telegram {
public:
    Telegram(notifier_sdk::Host host, const notifier_sdk::Options& o) : m_host(host), m_events(host) {
        o.reject_unknown({"token", "chat_id", "allow_from", "answers", "api_base", "deny_message", "poll_timeout_s",
                          "retry_min_ms", "max_retry_wait_ms", "connect_timeout_ms", "timeout_ms", "tls_verify", "ca_file"});
        std::string token = o.required("token");
        if (!bot_token(token))
            throw notifier_sdk::BadOptions("token: not a bot token (BotFather gives one like 123456789:AAE...)");
        std::string chat = o.required("chat_id");
        if (!telegram_id(chat)) throw notifier_sdk::BadOptions("chat_id: expected a number such as 123456789 or -1001234567890");
        m_chat_id = std::stoll(chat);
        m_max_wait = std::chrono::milliseconds(o.integer("max_retry_wait_ms", 4000, 0, 60000));
        auto transport = notifier_http::Transport::from_options(o, host);
        m_api = std::make_unique<TelegramApi>(transport, o.get("api_base", "https://api.telegram.org"), token);
        m_host.info("sending to Telegram chat " + chat + " through " + m_api->shown());
        if (!o.boolean("answers", true)) {
            for (const char* k : {"allow_from", "deny_message", "poll_timeout_s", "retry_min_ms"})
                if (o.has(k)) throw notifier_sdk::BadOptions(std::string(k) + " goes with answers: true");
            return;
        }
        Poller::Options po;
        po.chat_id = m_chat_id;
        if (o.has("allow_from")) {
            notifier_chat::AllowList allow("allow_from", o.get("allow_from", ""), &user_id, "a Telegram user id such as 123456789");
            for (const std::string& id : allow.ids()) po.allow_from.insert(std::stoll(id));
        } else if (m_chat_id > 0) {
            po.allow_from.insert(m_chat_id);  // a private chat: its id is the person's
        } else {
            throw notifier_sdk::BadOptions("allow_from is required for a group chat (a negative chat_id): the Telegram user "
                                           "ids who may answer");
        }
        po.deny_message = o.get("deny_message", "Denied from Telegram.");
        po.poll_timeout_s = o.integer("poll_timeout_s", 25, 1, 50);
        po.retry_min_ms = o.integer("retry_min_ms", 1000, 10, 60000);
        po.retry_max_ms = std::max<long>(po.retry_min_ms, 60000);
        if (transport.timeout_ms < 1000) m_host.warn("timeout_ms under 1 s: sends may time out");
        size_t people = po.allow_from.size();
        m_poller = std::make_unique<Poller>(*m_api, std::move(po), m_host, m_events);
        m_host.info("answers from Telegram by getUpdates long polling, for " + std::to_string(people) + " person(s)");
    }

    void send(const notifier_sdk::Message& m) {
        auto budget = m_max_wait;
        bool answerable = m_poller && m.permission_request() > 0 && m_host.can_answer();
        std::string always = answerable ? notifier_chat::suggestion_text(m.always_json()) : "";
        json args{{"chat_id", m_chat_id}, {"text", message_text(m, always)}, {"parse_mode", "HTML"},
                  {"link_preview_options", {{"is_disabled", true}}}};
        if (answerable) args["reply_markup"] = keyboard(m.permission_request(), m.session_id(), !always.empty());
        json sent = m_api->call("sendMessage", args, budget);
        auto id = sent.is_object() && sent.contains("message_id") && sent["message_id"].is_number_integer()
                      ? std::optional<int64_t>(sent["message_id"].get<int64_t>())
                      : std::nullopt;
        if (id) m.set_receipt(json{{"chat_id", m_chat_id}, {"message_id", *id}}.dump());
    }

    // ABI 1.2: the request this plugin's message showed was decided (anywhere).
    void update(const notifier_sdk::Message& m) {
        json r = json::parse(m.update_receipt(), nullptr, false);
        if (!r.is_object() || !r.contains("chat_id") || !r.contains("message_id"))
            throw notifier_sdk::Fail("update: the receipt names no Telegram message");
        auto budget = m_max_wait;
        auto person = [this](std::string_view channel, std::string_view id) -> std::string {
            if (channel != "telegram" || !m_poller) return "";
            std::string name = m_poller->name_of(std::string(id));
            return name.empty() ? "" : name + " from Telegram";
        };
        // No reply_markup: the keyboard goes.
        json args{{"chat_id", r["chat_id"]}, {"message_id", r["message_id"]}, {"text", decided_text(m, person)},
                  {"parse_mode", "HTML"}, {"link_preview_options", {{"is_disabled", true}}}};
        try {
            m_api->call("editMessageText", args, budget);
        } catch (const ApiError& e) {
            // Edited already (a retry after a lost answer): done.
            if (e.description.find("message is not modified") == std::string::npos) throw;
        }
        m.set_receipt(std::string(m.update_receipt()));
    }

private:
    notifier_sdk::Host m_host;
    notifier_chat::EventLimiter m_events;
    std::unique_ptr<TelegramApi> m_api;
    int64_t m_chat_id = 0;
    std::chrono::milliseconds m_max_wait{4000};
    std::unique_ptr<Poller> m_poller;  // last: stopped first
};

}  // namespace
}  // namespace telegram

NOTIFIER_PLUGIN(telegram::Telegram, "telegram",
                "sends notifications from a Telegram bot; Approve/Deny from the chat by long polling")
