// getUpdates, button presses, and what the person who pressed is told.
#include "poller.h"

#include <algorithm>

#include "telegram_message.h"

namespace telegram {

using nlohmann::json;
using std::chrono::milliseconds;

namespace {

constexpr size_t k_names_kept = 256;

const json& member(const json& j, const char* key) {
    static const json null;
    if (!j.is_object()) return null;
    auto it = j.find(key);
    return it == j.end() ? null : *it;
}
std::string str(const json& j, const char* key) {
    const json& v = member(j, key);
    return v.is_string() ? v.get<std::string>() : "";
}
std::optional<int64_t> integer(const json& j, const char* key) {
    const json& v = member(j, key);
    if (!v.is_number_integer()) return std::nullopt;
    return v.get<int64_t>();
}

std::string seconds(milliseconds ms) { return std::to_string((ms.count() + 500) / 1000) + " s"; }

}  // namespace

Poller::Poller(TelegramApi& api, Options options, notifier_sdk::Host host, notifier_chat::EventLimiter& events)
    : m_api(api), m_options(std::move(options)), m_host(host), m_events(events) {
    m_thread = std::thread([this] { run(); });
}

Poller::~Poller() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;  // also cancels the long poll in flight (curl checks it)
    }
    m_cv.notify_all();
    m_thread.join();
}

std::string Poller::name_of(const std::string& user_id) const {
    std::lock_guard lock(m_mutex);
    auto it = m_names.find(user_id);
    return it == m_names.end() ? "" : it->second;
}

bool Poller::pause(milliseconds ms) {
    std::unique_lock lock(m_mutex);
    return !m_cv.wait_for(lock, ms, [this] { return m_stopping.load(); });
}

void Poller::run() {
    const milliseconds min(m_options.retry_min_ms), max(m_options.retry_max_ms);
    milliseconds backoff = min;
    while (!m_stopping) {
        milliseconds wait = backoff;
        if (poll_once(wait)) {
            backoff = min;
            continue;
        }
        if (m_stopping || !pause(wait)) break;
        backoff = std::min(backoff * 2, max);
    }
}

bool Poller::poll_once(milliseconds& wait) {
    json args{{"timeout", m_options.poll_timeout_s}, {"allowed_updates", json::array({"callback_query"})}};
    if (m_offset > 0) args["offset"] = m_offset;
    Budget none{0};
    json result;
    try {
        result = m_api.call("getUpdates", args, none, (m_options.poll_timeout_s + 10) * 1000, &m_stopping);
    } catch (const ApiError& e) {
        if (e.code == 401 || e.code == 404) {
            wait = milliseconds(m_options.retry_max_ms);
            m_events.report("token_rejected", std::string(e.what()) + ": the bot token was revoked or is wrong; button presses "
                                              "cannot reach tether until it is fixed (retrying every " + seconds(wait) + ")");
        } else if (e.code == 409) {
            m_events.report("poll_conflict", std::string(e.what()) + ": another program polls this bot, or a webhook is set "
                                             "(deleteWebhook); retrying in " + seconds(wait));
        } else {
            m_events.report("poll_failed", std::string(e.what()) + "; retrying in " + seconds(wait));
        }
        return false;
    } catch (const std::exception& e) {
        if (m_stopping) return false;
        wait = std::max(wait, m_api.retry_after_left());
        m_events.report("poll_failed", std::string(e.what()) + "; retrying in " + seconds(wait));
        return false;
    }
    if (!result.is_array()) {
        m_events.report("bad_update", "getUpdates answered with something that is not a list of updates");
        return false;
    }
    for (const auto& u : result) {
        // Confirmed by the next poll's offset, whatever becomes of it: a bad update must not
        // come back forever.
        if (auto id = integer(u, "update_id")) m_offset = std::max(m_offset, *id + 1);
        try {
            handle_update(u);
        } catch (const std::exception& e) {
            m_host.error(std::string("a Telegram update could not be handled: ") + m_api.scrub(e.what()));
        }
    }
    return true;
}

void Poller::handle_update(const json& update) {
    if (!integer(update, "update_id")) {
        m_events.report("bad_update", "an update without an update_id: ignored");
        return;
    }
    const json& query = member(update, "callback_query");
    if (!query.is_object()) {
        m_host.log(NOTIFIER_LOG_DEBUG, "a Telegram update that is not a button press: ignored");
        return;
    }
    handle_press(query);
}

void Poller::handle_press(const json& q) {
    std::string id = str(q, "id"), data = str(q, "data");
    const json& message = member(q, "message");
    auto user = integer(member(q, "from"), "id");
    auto chat = integer(member(message, "chat"), "id");
    if (id.empty() || !user) {
        m_events.report("bad_update", "a button press without an id or a sender: ignored, nothing decided");
        return;
    }
    std::string who = std::to_string(*user);
    if (!m_presses.first_time(id)) {
        m_host.info("a Telegram button press came again: already handled");
        return;
    }
    size_t colon = data.find(':');
    std::string action = data.substr(0, colon == std::string::npos ? 0 : colon);
    if (action != k_approve && action != k_always && action != k_deny) {
        m_events.report("unknown_action", "Telegram user " + who + " pressed an unknown button (\"" + m_api.scrub(data.substr(0, 40)) +
                                              "\"): nothing decided");
        return reply(id, "This button means nothing to tether: nothing was decided.", false);
    }
    auto target = notifier_chat::parse_button_value(std::string_view(data).substr(colon + 1));
    if (!target) {
        m_events.report("bad_action", "a Telegram button whose data names no request (\"" + m_api.scrub(data.substr(0, 40)) +
                                          "\"): nothing decided");
        return reply(id, "This button names no request: nothing was decided.", false);
    }
    if (!chat || *chat != m_options.chat_id || !m_options.allow_from.count(*user)) {
        m_events.report("click_refused", "Telegram user " + who + (chat && *chat != m_options.chat_id ? " in another chat" : "") +
                                             " (not in allow_from) pressed " + action + " for request " +
                                             std::to_string(target->request) + ": refused, nothing decided");
        return reply(id, "You may not answer tether's requests here: nothing was decided.", true);
    }
    {
        const json& from = member(q, "from");
        std::string name = str(from, "first_name"), username = str(from, "username");
        std::string shown = (name.empty() ? "user " + who : name) + (username.empty() ? "" : " (@" + username + ")");
        std::lock_guard lock(m_mutex);
        if (m_names.size() >= k_names_kept && !m_names.count(who)) m_names.erase(m_names.begin());
        m_names[who] = notifier_chat::truncated(shown, 80);
    }
    notifier_sdk::Host::Answer a;
    a.allow = action != k_deny;
    a.always = action == k_always;
    a.who = who;
    a.session_id = target->session;
    if (!a.allow) a.message = m_options.deny_message;
    auto outcome = m_host.answer(target->request, a);
    switch (outcome.status) {
    case NOTIFIER_ANSWER_DECIDED:
        m_host.info(outcome.reason);  // the message is edited through the host's update
        return reply(id, a.allow ? (a.always ? "Approved, always" : "Approved") : "Denied", false);
    case NOTIFIER_ANSWER_UNCONFIRMED:
        return reply(id, "Sent to tether, which has not confirmed it yet; the message will show the outcome.", false);
    case NOTIFIER_ANSWER_NOT_PENDING:
        reply(id, "Nothing was decided: " + outcome.reason, true);
        if (member(message, "reply_markup").is_object()) mark_gone(message, outcome.reason);
        return;
    default:
        m_events.report("answer_refused", "tether refused a Telegram answer by " + who + ": " + outcome.reason);
        return reply(id, "tether could not take this answer: " + outcome.reason, true);
    }
}

void Poller::reply(const std::string& query_id, const std::string& text, bool alert) {
    Budget budget{2000};
    try {
        // Telegram shows at most 200 characters.
        m_api.call("answerCallbackQuery", {{"callback_query_id", query_id}, {"text", notifier_chat::truncated(text, 200)},
                                           {"show_alert", alert}},
                   budget, 0, &m_stopping);
    } catch (const std::exception& e) {
        // A press older than Telegram keeps ("query is too old") cannot be answered: harmless.
        m_host.warn(std::string("could not answer a Telegram button press: ") + e.what());
    }
}

void Poller::mark_gone(const json& message, const std::string& reason) {
    auto chat = integer(member(message, "chat"), "id");
    auto message_id = integer(message, "message_id");
    if (!chat || !message_id) return;
    // Telegram's copy of the text is plain (its entities are left out): edit it as plain.
    std::string text = notifier_chat::truncated(str(message, "text"), 3500) + "\n\n\u23f8\ufe0f Not answered here: " + reason;
    Budget budget{2000};
    try {
        m_api.call("editMessageText", {{"chat_id", *chat}, {"message_id", *message_id}, {"text", text}}, budget, 0, &m_stopping);
    } catch (const std::exception& e) {
        m_host.warn(std::string("could not mark a Telegram message whose request is gone: ") + e.what());
    }
}

}  // namespace telegram
