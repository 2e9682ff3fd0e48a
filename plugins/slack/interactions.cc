// Clicks: checks, the answer, and what the person who clicked is told.
#include "interactions.h"

#include "slack_blocks.h"

namespace slack {

using nlohmann::json;

namespace {

constexpr size_t k_max_queue = 256;

std::string str(const json& j, const char* key) {
    if (!j.is_object()) return "";
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

const json& member(const json& j, const char* key) {
    static const json null;
    if (!j.is_object()) return null;
    auto it = j.find(key);
    return it == j.end() ? null : *it;
}

// The reason typed into the message's input, as Slack sends it with the click.
std::string typed_reason(const json& payload) {
    const json& block = member(member(member(payload, "state"), "values"), std::string(k_reason_block).c_str());
    return str(member(block, std::string(k_reason_action).c_str()), "value");
}

}  // namespace

Interactions::Interactions(SlackApi& api, Options options, notifier_sdk::Host host, notifier_chat::EventLimiter& events)
    : m_api(api), m_options(std::move(options)), m_host(host), m_events(events) {
    m_thread = std::thread([this] { run(); });
}

Interactions::~Interactions() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_cv.notify_all();
    m_thread.join();
}

void Interactions::post(json payload) {
    {
        std::lock_guard lock(m_mutex);
        if (m_queue.size() >= k_max_queue) {
            m_events.report("clicks_dropped", "more than " + std::to_string(k_max_queue) +
                                                  " Slack clicks are waiting: this one was dropped, nothing decided");
            return;
        }
        m_queue.push_back(std::move(payload));
    }
    m_cv.notify_one();
}

void Interactions::run() {
    for (;;) {
        json payload;
        {
            std::unique_lock lock(m_mutex);
            m_cv.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
            if (m_stopping) return;
            payload = std::move(m_queue.front());
            m_queue.pop_front();
        }
        try {
            handle(payload);
        } catch (const std::exception& e) {
            m_host.error(std::string("a Slack click could not be handled: ") + m_api.client().scrub(e.what()));
        }
    }
}

void Interactions::handle(const json& payload) {
    std::string type = str(payload, "type");
    if (type != "block_actions") {
        m_host.log(NOTIFIER_LOG_DEBUG, "Slack interaction of type \"" + type.substr(0, 40) + "\" ignored");
        return;
    }
    const json& actions = member(payload, "actions");
    std::string user = str(member(payload, "user"), "id");
    if (!actions.is_array() || actions.empty() || !actions[0].is_object() || user.empty()) {
        m_events.report("bad_envelope", "a Slack click without an action or a user: ignored, nothing decided");
        return;
    }
    const json& action = actions[0];
    std::string id = str(action, "action_id"), value = str(action, "value");
    // A click is handled once: Slack may deliver it again, an old one may be replayed.
    if (!m_clicks.first_time(user + "|" + str(action, "action_ts") + "|" + id + "|" + value)) {
        m_host.info("a Slack click by " + user + " came again: already handled");
        return;
    }
    if (id != k_approve && id != k_always && id != k_deny) {
        m_events.report("unknown_action", "Slack user " + user + " clicked an unknown control (action_id \"" +
                                              m_api.client().scrub(id.substr(0, 60)) + "\"): nothing decided");
        return;
    }
    auto target = notifier_chat::parse_button_value(value);
    if (!target) {
        m_events.report("bad_action", "a Slack button whose value names no request (\"" + m_api.client().scrub(value.substr(0, 60)) +
                                          "\"): nothing decided");
        tell(payload, user, "This button does not name a request tether knows: nothing was decided.");
        return;
    }
    if (!m_options.allow.allows(user)) {
        m_events.report("click_refused", "Slack user " + user + " (not in allow_users) clicked " + id.substr(7) + " for request " +
                                             std::to_string(target->request) + ": refused, nothing decided");
        tell(payload, user, "You may not answer tether's requests here (your Slack user " + user +
                                " is not in allow_users): nothing was decided.");
        return;
    }
    answer(payload, id, user, target->request, target->session);
}

void Interactions::answer(const json& payload, const std::string& action, const std::string& user, int64_t request,
                          const std::string& session) {
    notifier_sdk::Host::Answer a;
    a.allow = action != k_deny;
    a.always = action == k_always;
    a.who = user;
    a.session_id = session;
    if (!a.allow) {
        std::string reason = typed_reason(payload);
        a.message = reason.empty() ? m_options.deny_message : reason;
    }
    auto outcome = m_host.answer(request, a);
    switch (outcome.status) {
    case NOTIFIER_ANSWER_DECIDED:
        m_host.info(outcome.reason);  // the message itself is revised through the host's update
        return;
    case NOTIFIER_ANSWER_UNCONFIRMED:
        tell(payload, user, "Your answer went to tether, which has not confirmed it yet (" + outcome.reason +
                                "). This message will show the outcome.");
        return;
    case NOTIFIER_ANSWER_NOT_PENDING:
        tell(payload, user, "Nothing was decided: " + outcome.reason + ".");
        // Slack still shows buttons that can do nothing: say so in the message.
        if (has_buttons(member(member(payload, "message"), "blocks"))) mark_gone(payload, outcome.reason);
        return;
    default:
        m_events.report("answer_refused", "tether refused a Slack answer by " + user + ": " + outcome.reason);
        tell(payload, user, "tether could not take this answer: " + outcome.reason);
        return;
    }
}

void Interactions::tell(const json& payload, const std::string& user, const std::string& text) {
    const json& container = member(payload, "container");
    std::string channel = str(container, "channel_id");
    if (channel.empty()) channel = str(member(payload, "channel"), "id");
    if (channel.empty()) return m_host.warn("cannot answer a Slack click by " + user + ": it names no channel");
    json args{{"channel", channel}, {"user", user}, {"text", escaped(text)}};
    if (std::string thread = str(container, "thread_ts"); !thread.empty()) args["thread_ts"] = thread;
    Budget budget{2000};
    try {
        m_api.call("chat.postEphemeral", m_options.bot_token, args, budget, &m_stopping);
    } catch (const std::exception& e) {
        m_host.warn(std::string("could not tell ") + user + " in Slack why nothing was decided: " + e.what());
    }
}

void Interactions::mark_gone(const json& payload, const std::string& reason) {
    const json& container = member(payload, "container");
    const json& message = member(payload, "message");
    std::string channel = str(container, "channel_id"), ts = str(container, "message_ts");
    if (channel.empty() || ts.empty()) return;
    std::string note = "\u23f8\ufe0f Not answered here: " + reason;
    json args{{"channel", channel}, {"ts", ts}, {"text", str(message, "text") + " (" + escaped(reason) + ")"},
              {"blocks", without_buttons(member(message, "blocks"), note)}};
    Budget budget{2000};
    try {
        m_api.call("chat.update", m_options.bot_token, args, budget, &m_stopping);
    } catch (const std::exception& e) {
        m_host.warn(std::string("could not mark a Slack message whose request is gone: ") + e.what());
    }
}

}  // namespace slack
