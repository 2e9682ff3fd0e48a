// What a desktop notification says: its summary (the session and the reason), its body
// (the tool and its command, or the agent's words), its urgency and category, from one
// notifier message. Pure: no D-Bus here, so every rule is unit-tested directly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace desktop {

// The freedesktop urgency levels (the "urgency" hint, a byte).
enum class Urgency : uint8_t { low = 0, normal = 1, critical = 2 };

// The fields of a notifier message this file reads (views valid for one call).
struct MessageText {
    std::string_view session_id, session_name, kind, title, body, tool, tool_input_json, message;
};

// permission and question: critical (the agent is blocked on the user); done, exited and
// error: normal; idle and anything else: low.
Urgency urgency_for(std::string_view kind);
// "low", "normal", "critical"; nullopt for anything else.
std::optional<Urgency> parse_urgency(std::string_view text);

// "api needs permission for Bash", "api has a question", "api is done", "api exited";
// another kind: the message's title, else "api: <kind>". The session is its name, else
// "session <id>".
std::string summary_for(const MessageText& m);

// permission: "Bash: <the command>" (tool_input's command, else file_path, path, url,
// pattern or query, else the input as JSON), then the agent's message if any; other
// kinds: the agent's message, else the message body. markup: the server renders the
// body-markup subset, so text is escaped and the tool name is bold. The text is cut to
// about max_bytes of UTF-8 before escaping (at a character boundary, ending in "…").
std::string body_for(const MessageText& m, bool markup, size_t max_bytes = 1000);

// The command a tool input stands for (see body_for); "" for an empty input.
std::string command_of(std::string_view tool_input_json);

// The "category" hint: "x-tether.<kind>" (the spec's form for vendor categories).
std::string category_for(std::string_view kind);

// &, <, > and quotes as entities, for servers with body-markup.
std::string markup_escaped(std::string_view text);
// At most max_bytes, never splitting a UTF-8 sequence; "…" marks a cut.
std::string truncated(std::string_view text, size_t max_bytes);

}  // namespace desktop
