// Summary, body, urgency and category of a desktop notification.
#include "notification_text.h"

#include <cctype>

#include <nlohmann/json.hpp>

namespace desktop {

namespace {

std::string session_label(const MessageText& m) {
    if (!m.session_name.empty()) return std::string(m.session_name);
    if (!m.session_id.empty()) return "session " + std::string(m.session_id);
    return "tether";
}

}  // namespace

Urgency urgency_for(std::string_view kind) {
    if (kind == "permission" || kind == "question") return Urgency::critical;
    if (kind == "done" || kind == "exited" || kind == "error") return Urgency::normal;
    return Urgency::low;
}

std::optional<Urgency> parse_urgency(std::string_view text) {
    if (text == "low") return Urgency::low;
    if (text == "normal") return Urgency::normal;
    if (text == "critical") return Urgency::critical;
    return std::nullopt;
}

std::string summary_for(const MessageText& m) {
    std::string who = session_label(m);
    if (m.kind == "permission")
        return who + " needs permission" + (m.tool.empty() ? "" : " for " + std::string(m.tool));
    if (m.kind == "question") return who + " has a question";
    if (m.kind == "done") return who + " is done";
    if (m.kind == "exited") return who + " exited";
    if (!m.title.empty()) return std::string(m.title);
    return who + ": " + (m.kind.empty() ? "needs attention" : std::string(m.kind));
}

std::string command_of(std::string_view tool_input_json) {
    if (tool_input_json.empty()) return "";
    auto input = nlohmann::json::parse(tool_input_json, nullptr, /*allow_exceptions=*/false);
    if (input.is_discarded()) return std::string(tool_input_json);
    if (input.is_string()) return input.get<std::string>();
    if (input.is_object()) {
        if (input.empty()) return "";
        for (const char* key : {"command", "file_path", "path", "url", "pattern", "query"}) {
            auto it = input.find(key);
            if (it != input.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
                return it->get<std::string>();
        }
    }
    return input.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string category_for(std::string_view kind) {
    std::string c = "x-tether.";
    for (char ch : kind.empty() ? std::string_view("other") : kind)
        c += (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_') ? ch : '_';
    return c;
}

std::string markup_escaped(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string truncated(std::string_view text, size_t max_bytes) {
    if (text.size() <= max_bytes) return std::string(text);
    static constexpr std::string_view k_ellipsis = "\xe2\x80\xa6";
    size_t n = max_bytes > k_ellipsis.size() ? max_bytes - k_ellipsis.size() : 0;
    // Back off continuation bytes (10xxxxxx) so the cut falls between characters.
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
    return std::string(text.substr(0, n)) + std::string(k_ellipsis);
}

std::string body_for(const MessageText& m, bool markup, size_t max_bytes) {
    auto esc = [markup](std::string_view s) { return markup ? markup_escaped(s) : std::string(s); };
    // Each part is cut on its own, before escaping: an entity is never split.
    size_t part = max_bytes / 2;
    std::string body;
    if (m.kind == "permission" && (!m.tool.empty() || !m.tool_input_json.empty())) {
        std::string command = command_of(m.tool_input_json);
        if (!m.tool.empty()) body = markup ? "<b>" + esc(m.tool) + "</b>" : std::string(m.tool);
        if (!command.empty()) body += (body.empty() ? "" : ": ") + esc(truncated(command, part));
        if (!m.message.empty()) body += "\n" + esc(truncated(m.message, part));
    } else if (!m.message.empty()) {
        body = esc(truncated(m.message, max_bytes));
    } else {
        body = esc(truncated(m.body, max_bytes));
    }
    return body;
}

}  // namespace desktop
