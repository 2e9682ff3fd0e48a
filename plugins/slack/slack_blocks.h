// The Block Kit of tether's Slack messages: a notification (header, text, fields, then the
// reason field and buttons of a request it can answer, then context), the same message
// revised once its request was decided (the buttons give way to who decided what), and
// Slack's copy of a message whose request is gone, with a note. Pure: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "notifier_sdk.hpp"

namespace slack {

// Block and action ids of the answer controls; a click names them.
constexpr std::string_view k_actions_block = "tether_answer";
constexpr std::string_view k_reason_block = "tether_reason";
constexpr std::string_view k_reason_action = "reason";
constexpr std::string_view k_approve = "tether_approve";
constexpr std::string_view k_always = "tether_always";
constexpr std::string_view k_deny = "tether_deny";

// Slack's mrkdwn treats &, < and > as control characters.
std::string escaped(std::string_view s);

// The buttons of an answerable request.
struct Buttons {
    int64_t request = 0;
    std::string session;
    std::string always;  // what Always accepts, in words; "" for no Always button
};

nlohmann::json blocks_for(const notifier_sdk::Message& m, const std::optional<Buttons>& buttons);
std::string fallback_text(const notifier_sdk::Message& m);

// An update (m.decision() set): the original message with its outcome where the
// buttons were.
nlohmann::json decided_blocks(const notifier_sdk::Message& m);
std::string decided_text(const notifier_sdk::Message& m);

// Slack's copy of one of our messages (a click's "message"): whether it still shows the
// answer controls, and its blocks without them, with a note at the end.
bool has_buttons(const nlohmann::json& blocks);
nlohmann::json without_buttons(const nlohmann::json& blocks, const std::string& note);

}  // namespace slack
