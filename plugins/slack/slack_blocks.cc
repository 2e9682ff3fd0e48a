// Block Kit for notifications, decided requests and gone ones.
#include "slack_blocks.h"

#include <algorithm>
#include <ctime>

#include "chat_text.h"

namespace slack {

using nlohmann::json;
using notifier_chat::truncated;

namespace {

json mrkdwn(const std::string& text) { return {{"type", "mrkdwn"}, {"text", text}}; }
json plain(const std::string& text) { return {{"type", "plain_text"}, {"text", text}, {"emoji", true}}; }

std::string title_of(const notifier_sdk::Message& m) {
    return m.title().empty() ? std::string(m.session_name()) + ": " + std::string(m.kind()) : std::string(m.title());
}
std::string text_of(const notifier_sdk::Message& m) {
    return !m.body().empty() ? std::string(m.body()) : std::string(m.message());
}

// <!date^...> shows in each reader's own time zone; the text after | is the fallback.
std::string slack_date(int64_t time_ms, const char* format) {
    std::time_t secs = static_cast<std::time_t>(time_ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char utc[32];
    std::strftime(utc, sizeof utc, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return "<!date^" + std::to_string(secs) + "^" + format + "|" + utc + ">";
}

json button(std::string_view id, const std::string& text, const std::string& value, const char* style) {
    json b{{"type", "button"}, {"action_id", id}, {"text", plain(text)}, {"value", value}};
    if (style) b["style"] = style;
    return b;
}

json fields_of(const notifier_sdk::Message& m) {
    json fields = json::array();
    std::string session = std::string(m.session_name()) + (m.session_id().empty() ? "" : " (#" + std::string(m.session_id()) + ")");
    fields.push_back(mrkdwn("*Session*\n" + escaped(truncated(session, 200))));
    if (!m.agent().empty()) fields.push_back(mrkdwn("*Agent*\n" + escaped(m.agent())));
    std::string state = m.state_from().empty() ? std::string(m.state_to())
                                               : std::string(m.state_from()) + " \u2192 " + std::string(m.state_to());
    fields.push_back(mrkdwn("*State*\n" + escaped(state)));
    if (!m.tool().empty()) {
        std::string input = notifier_chat::tool_input_text(m.tool_input_json());
        std::replace(input.begin(), input.end(), '`', '\'');  // a backtick would end the code span
        std::replace(input.begin(), input.end(), '\n', ' ');
        std::string tool = escaped(m.tool()) + (input.empty() ? "" : ": `" + escaped(truncated(input, 300)) + "`");
        fields.push_back(mrkdwn("*Tool*\n" + tool));
    }
    return fields;
}

json context_of(const notifier_sdk::Message& m) {
    json context = json::array();
    if (m.time_ms() > 0) context.push_back(mrkdwn(slack_date(m.time_ms(), "{date_short_pretty} {time_secs}")));
    if (!m.cwd().empty()) context.push_back(mrkdwn("`" + escaped(truncated(m.cwd(), 300)) + "`"));
    if (!m.rule().empty()) context.push_back(mrkdwn("rule " + escaped(m.rule())));
    return context;
}

// The message's own blocks, with `middle` between its fields and its context.
json assemble(const notifier_sdk::Message& m, const json& middle) {
    json blocks = json::array();
    blocks.push_back({{"type", "header"}, {"text", plain(truncated(title_of(m), 150))}});
    std::string text = text_of(m);
    if (!text.empty()) blocks.push_back({{"type", "section"}, {"text", mrkdwn(escaped(truncated(text, 2900)))}});
    blocks.push_back({{"type", "section"}, {"fields", fields_of(m)}});
    for (const auto& b : middle) blocks.push_back(b);
    json context = context_of(m);
    if (!context.empty()) blocks.push_back({{"type", "context"}, {"elements", context}});
    return blocks;
}

bool is_ours(const json& block) {
    if (!block.is_object()) return false;
    std::string id = block.value("block_id", "");
    return id == k_actions_block || id == k_reason_block;
}

bool slack_user_id(std::string_view id) {
    return !id.empty() && id.size() <= 20 &&
           std::all_of(id.begin(), id.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

// The outcome line in mrkdwn. A Slack user is shown as a mention, which Slack renders as
// the person's name; everything else is escaped, so a deny's reason cannot mention anyone.
std::string outcome_line(const notifier_sdk::Message& m) {
    const char k_mark = '\x01';  // stands for the mention while the rest is escaped
    std::string id;
    std::string reason(m.decision_message());
    reason.erase(std::remove(reason.begin(), reason.end(), k_mark), reason.end());
    notifier_chat::Outcome o{m.decision(), m.decided_by(), reason, m.decided_always()};
    std::string text = notifier_chat::outcome_text(o, [&](std::string_view channel, std::string_view who) {
        if (channel != "slack" || !slack_user_id(who)) return std::string();
        id = who;
        return std::string(1, k_mark) + " from Slack";
    });
    std::string line = escaped(text);
    if (size_t pos = line.find(k_mark); pos != std::string::npos) line.replace(pos, 1, "<@" + id + ">");
    return line;
}

}  // namespace

std::string escaped(std::string_view s) {
    return notifier_chat::entities_escaped(s);
}

json blocks_for(const notifier_sdk::Message& m, const std::optional<Buttons>& buttons) {
    json middle = json::array();
    if (buttons) {
        std::string value = std::to_string(buttons->request) + ":" + buttons->session;
        // An input in the message: its value comes with the click on Deny (state.values).
        middle.push_back({{"type", "input"},
                          {"block_id", k_reason_block},
                          {"optional", true},
                          {"label", plain("Reason, told to the agent with Deny (optional)")},
                          {"element", {{"type", "plain_text_input"}, {"action_id", k_reason_action},
                                       {"placeholder", plain("e.g. run make test instead")}}}});
        json elements = json::array();
        elements.push_back(button(k_approve, "Approve", value, "primary"));
        if (!buttons->always.empty()) elements.push_back(button(k_always, "Always", value, nullptr));
        elements.push_back(button(k_deny, "Deny", value, "danger"));
        middle.push_back({{"type", "actions"}, {"block_id", k_actions_block}, {"elements", elements}});
        if (!buttons->always.empty())
            middle.push_back({{"type", "context"}, {"elements", json::array({mrkdwn("_Always_: " + escaped(truncated(buttons->always, 300)))})}});
    }
    return assemble(m, middle);
}

std::string fallback_text(const notifier_sdk::Message& m) {
    std::string title = title_of(m), text = text_of(m);
    return escaped(truncated(text.empty() ? title : title + ": " + text, 3000));
}

std::string decided_text(const notifier_sdk::Message& m) {
    notifier_chat::Outcome o{m.decision(), m.decided_by(), m.decision_message(), m.decided_always()};
    return escaped(notifier_chat::outcome_text(o));
}

json decided_blocks(const notifier_sdk::Message& m) {
    std::string line = std::string(notifier_chat::outcome_mark(m.decision())) + " " + outcome_line(m);
    if (m.decided_time_ms() > 0) line += " \u00b7 " + slack_date(m.decided_time_ms(), "{time_secs}");
    return assemble(m, json::array({{{"type", "section"}, {"text", mrkdwn(line)}}}));
}

bool has_buttons(const json& blocks) {
    if (!blocks.is_array()) return false;
    return std::any_of(blocks.begin(), blocks.end(), [](const json& b) { return b.is_object() && b.value("block_id", "") == k_actions_block; });
}

json without_buttons(const json& blocks, const std::string& note) {
    json out = json::array();
    if (blocks.is_array())
        for (const auto& b : blocks) {
            if (is_ours(b)) continue;
            // The "Always: ..." line under the buttons goes with them.
            if (b.is_object() && b.value("type", "") == "context" && b.contains("elements") && b["elements"].size() == 1 &&
                b["elements"][0].is_object() && b["elements"][0].value("text", "").rfind("_Always_:", 0) == 0)
                continue;
            out.push_back(b);
        }
    out.push_back({{"type", "section"}, {"text", mrkdwn(escaped(note))}});
    return out;
}

}  // namespace slack
