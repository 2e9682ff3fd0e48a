// What tether's Telegram messages say, in the Bot API's HTML: a notification (title, text,
// session, tool, and for an answerable request what Always accepts), its inline keyboard
// (Approve / Always / Deny, each naming request and session in callback_data), and the
// same text once its request was decided, the outcome last. Pure: no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chat_text.h"
#include "notifier_sdk.hpp"

namespace telegram {

// callback_data actions.
constexpr std::string_view k_approve = "approve", k_always = "always", k_deny = "deny";

// &, < and > for parse_mode HTML.
std::string html(std::string_view s);

// The notification. always: what Always accepts ("" for no such line).
std::string message_text(const notifier_sdk::Message& m, const std::string& always);
// {"inline_keyboard": [[Approve, Always?, Deny]]}.
nlohmann::json keyboard(int64_t request, std::string_view session, bool always);
// An update: the notification's text, then who decided what and when.
std::string decided_text(const notifier_sdk::Message& m, const notifier_chat::PersonFormat& person);

}  // namespace telegram
