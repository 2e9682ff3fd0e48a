// Telegram message text and keyboards.
#include "telegram_message.h"

#include "chat_text.h"
#include "clicks.h"

namespace telegram {

using nlohmann::json;
using notifier_chat::truncated;

std::string html(std::string_view s) {
    return notifier_chat::entities_escaped(s);
}

std::string message_text(const notifier_sdk::Message& m, const std::string& always) {
    std::string title = m.title().empty() ? std::string(m.session_name()) + ": " + std::string(m.kind()) : std::string(m.title());
    std::string body = !m.body().empty() ? std::string(m.body()) : std::string(m.message());
    std::string out = "<b>" + html(truncated(title, 200)) + "</b>";
    if (!body.empty()) out += "\n" + html(truncated(body, 2000));
    std::string session = std::string(m.session_name()) + (m.session_id().empty() ? "" : " (#" + std::string(m.session_id()) + ")");
    std::string state = m.state_from().empty() ? std::string(m.state_to())
                                               : std::string(m.state_from()) + " \u2192 " + std::string(m.state_to());
    out += "\n\n<i>" + html(truncated(session, 200)) + (m.agent().empty() ? "" : " \u00b7 " + html(m.agent())) + " \u00b7 " +
           html(state) + "</i>";
    if (!m.tool().empty()) {
        std::string input = notifier_chat::tool_input_text(m.tool_input_json());
        out += "\n" + html(m.tool()) + (input.empty() ? "" : ": <code>" + html(truncated(input, 500)) + "</code>");
    }
    if (!m.cwd().empty()) out += "\n<code>" + html(truncated(m.cwd(), 300)) + "</code>";
    if (!always.empty()) out += "\n<i>Always: " + html(truncated(always, 300)) + "</i>";
    return out;
}

json keyboard(int64_t request, std::string_view session, bool always) {
    std::string target = notifier_chat::button_value(request, session);
    json row = json::array();
    row.push_back({{"text", "\u2705 Approve"}, {"callback_data", std::string(k_approve) + ":" + target}});
    if (always) row.push_back({{"text", "Always"}, {"callback_data", std::string(k_always) + ":" + target}});
    row.push_back({{"text", "\u26d4 Deny"}, {"callback_data", std::string(k_deny) + ":" + target}});
    return {{"inline_keyboard", json::array({row})}};
}

std::string decided_text(const notifier_sdk::Message& m, const notifier_chat::PersonFormat& person) {
    notifier_chat::Outcome o{m.decision(), m.decided_by(), m.decision_message(), m.decided_always()};
    std::string line = std::string(notifier_chat::outcome_mark(m.decision())) + " " + html(notifier_chat::outcome_text(o, person));
    if (m.decided_time_ms() > 0) line += " \u00b7 " + notifier_chat::utc_clock(m.decided_time_ms());
    return message_text(m, "") + "\n\n" + line;
}

}  // namespace telegram
