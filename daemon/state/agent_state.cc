// The agent-session state reducer. The mapping table is in agent_state.h; this file holds
// the parsing of hook payloads and terminal input, and the deduplication memory.
#include "state/agent_state.h"

#include "base/json_text.h"

#include <array>
#include <string_view>
#include <utility>

namespace tether {

namespace {

using nlohmann::json;
namespace as = agent_state;

// A wait-announcing signal this soon after the wait was answered (or the turn ended)
// describes the dialog that just closed: hook processes and the screen lag the keystroke.
constexpr int64_t k_settle_us = 2'000'000;
// A bell this soon after a keystroke is the program's answer to it (tab completion, a
// refused key), not a request for attention.
constexpr int64_t k_keystroke_bell_us = 1'000'000;
// The full text stays in the HookReceived event; the transition carries a summary.
constexpr size_t k_max_text = 1024;

constexpr std::string_view k_ask_tool = "AskUserQuestion";

std::string str(const json& j, const char* key) {
    if (!j.is_object()) return {};
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json member(const json& j, const char* key) {
    if (!j.is_object()) return nullptr;
    auto it = j.find(key);
    return it != j.end() ? *it : json(nullptr);
}

std::optional<int64_t> integer(const json& j, const char* key) {
    if (!j.is_object()) return std::nullopt;
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<int64_t>();
}

std::string clip(std::string s) {
    if (s.size() <= k_max_text) return s;
    size_t n = k_max_text;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s.resize(n);
    return s;
}

bool contains(std::string_view hay, std::string_view needle) {
    return hay.find(needle) != std::string_view::npos;
}

bool waiting(const AgentStatus& s) {
    return s.state == as::needs_permission || s.state == as::needs_answer;
}

// The hook's own JSON: an object, or a string holding one if the forwarder passed stdin
// through unparsed.
json hook_payload(const json& event_payload) {
    json p = member(event_payload, "payload");
    if (p.is_string()) p = parse_json_bounded(p.get<std::string>());
    return p.is_object() ? p : json::object();
}

// Gemini CLI names its hooks differently (research §3.2); Codex hooks copy Claude's.
std::string canonical_hook_name(std::string name) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 4> k_gemini{{
        {"BeforeAgent", "UserPromptSubmit"},
        {"AfterAgent", "Stop"},
        {"BeforeTool", "PreToolUse"},
        {"AfterTool", "PostToolUse"},
    }};
    for (const auto& [from, to] : k_gemini)
        if (name == from) return std::string(to);
    return name;
}

// prompt_id (Claude ≥ 2.1.196), turn_id (Codex hooks), turn-id (Codex notify).
std::string turn_key(const json& p) {
    for (const char* key : {"prompt_id", "turn_id", "turn-id"})
        if (auto v = str(p, key); !v.empty()) return v;
    return {};
}

std::string ask_question_text(const json& tool_input) {
    std::string out;
    json questions = member(tool_input, "questions");
    if (questions.is_array()) {
        for (const auto& q : questions) {
            std::string text = str(q, "question");
            if (text.empty()) continue;
            if (!out.empty()) out += '\n';
            out += text;
        }
    }
    if (out.empty()) out = str(tool_input, "question");
    return clip(out);
}

enum class NoticeKind { None, Permission, WaitingForInput };

// Claude's own words for its two notifications (§1.3), as hook message or OSC 9 text.
NoticeKind classify_notice(std::string_view text) {
    if (contains(text, "needs your permission") || contains(text, "permission to use"))
        return NoticeKind::Permission;
    if (contains(text, "waiting for your input")) return NoticeKind::WaitingForInput;
    return NoticeKind::None;
}

enum class TitleGlyph { None, Idle, Busy };

// Claude Code titles are "<glyph> <text>": ✳ when idle, a spinner frame when busy (§1.8).
TitleGlyph title_glyph(std::string_view title) {
    while (!title.empty() && title.front() == ' ') title.remove_prefix(1);
    if (title.size() < 3) return TitleGlyph::None;
    auto b0 = static_cast<unsigned char>(title[0]);
    auto b1 = static_cast<unsigned char>(title[1]);
    auto b2 = static_cast<unsigned char>(title[2]);
    if (b0 != 0xE2) return TitleGlyph::None;
    if (b1 == 0x9C && b2 == 0xB3) return TitleGlyph::Idle;                  // U+2733 ✳
    if (b1 >= 0xA0 && b1 <= 0xA3) return TitleGlyph::Busy;                  // U+2800-28FF braille
    if (b1 == 0x97 && b2 >= 0x90 && b2 <= 0x93) return TitleGlyph::Busy;    // U+25D0-25D3 ◐◑◒◓
    return TitleGlyph::None;
}

// True when the bytes hold at least one key a person pressed. An attached terminal also
// sends focus changes and answers to the program's queries (cursor position, device
// attributes, colours) as input; those must not count as answering a dialog. xterm's
// Shift+F3 (CSI 1;2R) looks like a cursor report and is lost: a fair price.
bool has_keystroke(std::string_view b) {
    size_t i = 0;
    while (i < b.size()) {
        if (b[i] != '\x1b' || i + 1 == b.size()) return true;
        char intro = b[i + 1];
        if (intro == '[') {
            size_t j = i + 2;
            while (j < b.size() && b[j] >= 0x30 && b[j] <= 0x3f) ++j;
            std::string_view params = b.substr(i + 2, j - (i + 2));
            while (j < b.size() && b[j] >= 0x20 && b[j] <= 0x2f) ++j;
            if (j == b.size()) return true;
            char final = b[j];
            bool report = (params.empty() && (final == 'I' || final == 'O'))  // focus in/out
                          || (!params.empty() && (final == 'R' || final == 'n' || final == 'y'))
                          || (final == 'c' && !params.empty() && (params[0] == '?' || params[0] == '>'))
                          || ((final == 'M' || final == 'm') && !params.empty() && params[0] == '<');
            if (!report) return true;
            i = j + 1;
        } else if (intro == ']' || intro == 'P' || intro == '_') {  // OSC, DCS, APC replies
            size_t j = i + 2;
            while (j < b.size() && b[j] != '\x07' && !(b[j] == '\x1b' && j + 1 < b.size() && b[j + 1] == '\\'))
                ++j;
            if (j == b.size()) return true;
            i = j + (b[j] == '\x07' ? 1 : 2);
        } else {
            return true;  // Alt+key, SS3 cursor keys
        }
    }
    return false;
}

// Enter outside a bracketed paste: a pasted newline does not submit.
bool submits(std::string_view b) {
    size_t from = 0;
    if (size_t end = b.rfind("\x1b[201~"); end != std::string_view::npos) from = end;
    else if (b.find("\x1b[200~") != std::string_view::npos) return false;
    return b.find_first_of("\r\n", from) != std::string_view::npos;
}

struct Target {
    const char* to;
    std::string reason;
    std::string tool = {};
    json tool_input = nullptr;
    std::string message = {};
    std::string question = {};
};

// The one place a transition happens; every path goes through it so that from != to.
std::optional<StateChange> move(AgentStatus& s, const Event& ev, Target t) {
    if (s.state == t.to) return std::nullopt;
    if (waiting(s) && t.to == std::string_view(as::running)) s.wait_ended_us = ev.time_us;
    StateChange c{s.state, t.to, std::move(t.reason), std::move(t.tool), std::move(t.tool_input),
                  clip(std::move(t.message)), clip(std::move(t.question))};
    s.state = c.to;
    s.since_us = ev.time_us;
    s.tool = c.tool;
    s.tool_input = c.tool_input;
    s.message = c.message;
    s.question = c.question;
    s.submitted = false;
    s.interrupted = false;
    s.idle_by_stop = false;
    if (c.to == as::idle) s.title_busy = false;
    return c;
}

// A wait-announcing signal that is not a fresh request of its own (a Notification, OSC 9,
// the screen) and describes a dialog already answered.
bool stale_echo(const AgentStatus& s, const Event& ev, const std::string& key) {
    if (s.state == as::running)
        return s.wait_ended_us != 0 && ev.time_us - s.wait_ended_us < k_settle_us;
    if (s.state == as::idle && s.idle_by_stop)
        return (!key.empty() && key == s.stopped_turn) || ev.time_us - s.since_us < k_settle_us;
    return false;
}

std::optional<StateChange> ask(AgentStatus& s, const Event& ev, std::string reason, json input) {
    std::string question = ask_question_text(input);
    if (s.state == as::needs_answer) {
        s.tool = std::string(k_ask_tool);
        s.tool_input = std::move(input);
        s.question = std::move(question);
        return std::nullopt;
    }
    return move(s, ev, {as::needs_answer, std::move(reason), std::string(k_ask_tool), std::move(input), "",
                        std::move(question)});
}

// The echo path shared by Notification, OSC 9 and ScreenPromptSeen (see the table).
std::optional<StateChange> wants(AgentStatus& s, const Event& ev, Target t, const std::string& key,
                                 const std::string* screen_text = nullptr) {
    if (waiting(s)) {
        if (s.state == t.to && s.message.empty()) s.message = clip(t.message);
        return std::nullopt;
    }
    // A screen prompt with new text is a new dialog, even right after the last one.
    bool same_screen = !screen_text || *screen_text == s.screen_text;
    if (same_screen && stale_echo(s, ev, key)) return std::nullopt;
    if (screen_text) s.screen_text = *screen_text;
    if (t.to == std::string_view(as::needs_permission) && s.pending_tool == k_ask_tool)
        return ask(s, ev, std::move(t.reason), s.pending_input);  // #74052
    if (t.to == std::string_view(as::needs_permission) && t.tool.empty()) {
        t.tool = s.pending_tool;
        t.tool_input = s.pending_input;
    }
    return move(s, ev, std::move(t));
}

std::optional<StateChange> turn_end(AgentStatus& s, const Event& ev, std::string reason,
                                    std::string message, const std::string& key) {
    // A late copy (#3465, #9602) of a turn that already ended while a newer one runs.
    if (!key.empty() && key == s.stopped_turn && s.turn != key) return std::nullopt;
    s.pending_tool.clear();
    s.pending_input = nullptr;
    auto c = move(s, ev, {as::idle, std::move(reason), "", nullptr, message});
    if (c || s.state == as::idle) {
        if (!c && s.message.empty()) s.message = clip(std::move(message));
        s.idle_by_stop = true;
        s.stopped_turn = key;
    }
    return c;
}

std::optional<StateChange> on_notification(AgentStatus& s, const Event& ev, const json& p,
                                           std::string reason, const std::string& key) {
    std::string type = str(p, "notification_type");
    std::string message = str(p, "message");
    if (type.empty()) {  // legacy payloads carry only the message (§1.7)
        NoticeKind k = classify_notice(message);
        if (k == NoticeKind::Permission) type = "permission_prompt";
        if (k == NoticeKind::WaitingForInput) type = "idle_prompt";
    }
    if (type == "permission_prompt" || type == "worker_permission_prompt" || type == "agent_needs_input" ||
        type == "ToolPermission")
        return wants(s, ev, {as::needs_permission, std::move(reason), "", nullptr, message}, key);
    if (type == "elicitation_dialog" || type == "elicitation_url_dialog")
        return wants(s, ev, {as::needs_answer, std::move(reason), "", nullptr, "", message}, key);
    if ((type == "elicitation_complete" || type == "elicitation_response") && s.state == as::needs_answer)
        return move(s, ev, {as::running, std::move(reason)});
    if (type == "idle_prompt" && s.state == as::running)
        return move(s, ev, {as::idle, std::move(reason), "", nullptr, message});
    return std::nullopt;
}

std::optional<StateChange> on_tool_done(AgentStatus& s, const Event& ev, std::string reason,
                                        const std::string& tool) {
    if (tool == s.pending_tool) {
        s.pending_tool.clear();
        s.pending_input = nullptr;
    }
    if (waiting(s) && (s.tool.empty() || s.tool == tool)) return move(s, ev, {as::running, std::move(reason)});
    return std::nullopt;
}

std::optional<StateChange> on_hook_event(AgentStatus& s, const Event& ev, const json& p,
                                         const std::string& name, std::string reason) {
    std::string key = turn_key(p);
    std::string tool = str(p, "tool_name");
    json input = member(p, "tool_input");
    bool work = name == "UserPromptSubmit" || name == "PreToolUse" || name == "PermissionRequest" ||
                name == "PostToolUse" || name == "PostToolUseFailure" || name == "PostToolBatch" ||
                name == "Elicitation";
    if (work && !key.empty()) s.turn = key;

    if (name == "UserPromptSubmit") {
        s.turn_hooks_seen = true;
        s.pending_tool.clear();
        s.pending_input = nullptr;
        return move(s, ev, {as::running, std::move(reason)});
    }
    if (name == "PreToolUse") {
        s.turn_hooks_seen = true;
        s.pending_tool = tool;
        s.pending_input = input;
        if (tool == k_ask_tool) return ask(s, ev, std::move(reason), std::move(input));
        bool same_wait = waiting(s) && tool == s.tool && input == s.tool_input;
        if (s.state == as::running || same_wait) return std::nullopt;
        return move(s, ev, {as::running, std::move(reason)});
    }
    if (name == "PermissionRequest") {
        s.permission_seq = ev.seq;
        if (tool == k_ask_tool) return ask(s, ev, std::move(reason), std::move(input));
        if (s.state == as::needs_permission) {
            if (tool != s.tool || input != s.tool_input) {  // the earlier one was settled unseen
                s.tool = tool;
                s.tool_input = std::move(input);
                s.message.clear();
            }
            return std::nullopt;
        }
        return move(s, ev, {as::needs_permission, std::move(reason), tool, std::move(input)});
    }
    if (name == "Elicitation") {
        std::string question = str(p, "message");
        if (std::string url = str(p, "url"); !url.empty()) question += (question.empty() ? "" : " ") + url;
        return move(s, ev, {as::needs_answer, std::move(reason), "", nullptr, str(p, "mcp_server_name"),
                            std::move(question)});
    }
    if (name == "PostToolUse" || name == "PostToolUseFailure") return on_tool_done(s, ev, std::move(reason), tool);
    if (name == "PostToolBatch") {
        json calls = member(p, "tool_calls");
        if (calls.is_array())
            for (const auto& call : calls)
                if (auto c = on_tool_done(s, ev, reason, str(call, "tool_name"))) return c;
        return std::nullopt;
    }
    if (name == "ElicitationResult") {
        if (s.state == as::needs_answer) return move(s, ev, {as::running, std::move(reason)});
        return std::nullopt;
    }
    if (name == "Stop") {
        std::string message = str(p, "last_assistant_message");
        if (message.empty()) message = str(p, "prompt_response");  // Gemini AfterAgent
        return turn_end(s, ev, std::move(reason), std::move(message), key);
    }
    if (name == "StopFailure") {
        std::string message = str(p, "error");
        if (std::string details = str(p, "error_details"); !details.empty())
            message += (message.empty() ? "" : ": ") + details;
        return turn_end(s, ev, std::move(reason), std::move(message), key);
    }
    if (name == "Notification") return on_notification(s, ev, p, std::move(reason), key);
    if (name == "SessionStart") {
        std::string source = str(p, "source");
        if (s.state == as::starting || (waiting(s) && (source.empty() || source == "startup")))
            return move(s, ev, {as::running, std::move(reason)});
        return std::nullopt;
    }
    if (name == "SessionEnd") return std::nullopt;  // the child's exit decides (§4.2)
    if (s.state == as::starting) return move(s, ev, {as::running, std::move(reason)});
    return std::nullopt;
}

std::optional<StateChange> on_hook(AgentStatus& s, const Event& ev) {
    json p = hook_payload(ev.json());
    std::string raw = str(p, "hook_event_name");
    if (raw.empty()) {
        // Codex's legacy notify program gets one JSON argument, per turn (§3.1).
        if (str(p, "type") == "agent-turn-complete")
            return turn_end(s, ev, "codex agent-turn-complete", str(p, "last-assistant-message"), turn_key(p));
        return std::nullopt;
    }
    std::string name = canonical_hook_name(raw);
    std::string reason = "hook " + raw;
    if (name == "Notification") {
        std::string type = str(p, "notification_type");
        if (!type.empty()) reason += " " + type;
    }
    auto c = on_hook_event(s, ev, p, name, reason);
    if (!c && s.state == as::starting && name != "SessionEnd")
        return move(s, ev, {as::running, std::move(reason)});
    return c;
}

std::optional<StateChange> on_input(AgentStatus& s, const Event& ev) {
    if (!has_keystroke(ev.payload)) return std::nullopt;
    s.last_keystroke_us = ev.time_us;
    if (waiting(s)) return move(s, ev, {as::running, "input"});
    if (s.state == as::running && (ev.payload == "\x1b" || ev.payload == "\x03")) s.interrupted = true;
    if (s.state == as::idle && submits(ev.payload)) s.submitted = true;
    return std::nullopt;
}

std::optional<StateChange> on_output(AgentStatus& s, const Event& ev) {
    if (ev.payload.empty()) return std::nullopt;
    if (s.state == as::starting) return move(s, ev, {as::running, "output"});
    // Output alone is no evidence of work: a resize or attach redraws the whole screen,
    // and cursor blinks and spinners repaint. Only typed Enter then output is.
    if (s.state == as::idle && s.submitted && !s.turn_hooks_seen && !s.titles_seen)
        return move(s, ev, {as::running, "output after input"});
    return std::nullopt;
}

std::optional<StateChange> on_title(AgentStatus& s, const Event& ev) {
    TitleGlyph g = title_glyph(str(ev.json(), "title"));
    if (g == TitleGlyph::None) return std::nullopt;
    s.titles_seen = true;
    if (s.turn_hooks_seen) {
        // Hooks are authoritative, but an interrupt fires no Stop (§0.1).
        if (g == TitleGlyph::Idle && s.state == as::running && s.interrupted)
            return move(s, ev, {as::idle, "title idle after interrupt"});
        return std::nullopt;
    }
    if (g == TitleGlyph::Busy) {
        std::optional<StateChange> c;
        if (s.state == as::starting || s.state == as::idle) c = move(s, ev, {as::running, "title busy"});
        s.title_busy = true;
        return c;
    }
    if (s.state == as::starting) return move(s, ev, {as::running, "title idle"});
    if (s.state == as::running && s.title_busy) return move(s, ev, {as::idle, "title idle"});
    return std::nullopt;
}

// A bell or an unrecognised desktop notification: the program wants a person, and says
// no more. Only for sessions whose hooks are silent.
std::optional<StateChange> on_attention(AgentStatus& s, const Event& ev, std::string reason,
                                        std::string message) {
    if (s.turn_hooks_seen || s.state != as::running) return std::nullopt;
    if (ev.kind == EventKind::BellRang && s.last_keystroke_us != 0 &&
        ev.time_us - s.last_keystroke_us < k_keystroke_bell_us)
        return std::nullopt;
    return move(s, ev, {as::idle, std::move(reason), "", nullptr, std::move(message)});
}

std::optional<StateChange> on_terminal_notice(AgentStatus& s, const Event& ev) {
    std::string message = str(ev.json(), "message");
    switch (classify_notice(message)) {
    case NoticeKind::Permission:
        return wants(s, ev, {as::needs_permission, "osc permission", "", nullptr, message}, "");
    case NoticeKind::WaitingForInput:
        if (s.state == as::running) return move(s, ev, {as::idle, "osc waiting for input", "", nullptr, message});
        return std::nullopt;
    case NoticeKind::None:
        if (message.empty()) return std::nullopt;
        return on_attention(s, ev, "osc notification", std::move(message));
    }
    return std::nullopt;
}

std::optional<StateChange> on_screen_prompt(AgentStatus& s, const Event& ev) {
    json j = ev.json();
    std::string prompt = str(j, "prompt");
    std::string text = str(j, "text");
    if (prompt == "trust") {
        std::string question = text.empty() ? "Trust this folder?" : text;
        return wants(s, ev, {as::needs_answer, "screen trust", "", nullptr, "", std::move(question)}, "", &text);
    }
    if (prompt == "permission")
        return wants(s, ev, {as::needs_permission, "screen permission", "", nullptr, text}, "", &text);
    return std::nullopt;
}

std::optional<StateChange> on_decision(AgentStatus& s, const Event& ev) {
    if (!waiting(s)) return std::nullopt;
    json j = ev.json();
    // A decision for a request older than the newest one is stale.
    if (auto request = integer(j, "request"); request && *request < s.permission_seq) return std::nullopt;
    // "ask" (no answer in time, or the hook went away) hands the question to the agent's
    // own prompt: the session still waits.
    if (std::string d = str(j, "decision"); d != "allow" && d != "deny") return std::nullopt;
    std::string reason = "permission";
    if (std::string d = str(j, "decision"); !d.empty()) reason += " " + d;
    if (std::string by = str(j, "by"); !by.empty()) reason += " by " + by;
    return move(s, ev, {as::running, std::move(reason)});
}

std::optional<StateChange> on_agent_notified(AgentStatus& s, const Event& ev) {
    json j = ev.json();
    std::string state = str(j, "state");
    std::string message = str(j, "message");
    for (const char* known : {as::needs_answer, as::needs_permission, as::idle, as::running}) {
        if (state != known) continue;
        if (s.state == known) {
            if (!message.empty()) s.message = clip(message);
            return std::nullopt;
        }
        std::string question = state == as::needs_answer ? message : "";
        return move(s, ev, {known, "notify " + state, "", nullptr, std::move(message), std::move(question)});
    }
    return std::nullopt;
}

std::optional<StateChange> on_exit(AgentStatus& s, const Event& ev) {
    json j = ev.json();
    std::string message;
    if (auto sig = integer(j, "signal")) message = "signal " + std::to_string(*sig);
    else if (auto code = integer(j, "code")) message = "code " + std::to_string(*code);
    s.pending_tool.clear();
    s.pending_input = nullptr;
    return move(s, ev, {as::exited, "exit", "", nullptr, std::move(message)});
}

}  // namespace

json state_changed_payload(const StateChange& c) {
    return {{"from", c.from},       {"to", c.to},           {"reason", c.reason},    {"tool", c.tool},
            {"tool_input", c.tool_input}, {"message", c.message}, {"question", c.question}};
}

std::optional<StateChange> reduce(AgentStatus& s, const Event& ev) {
    if (ev.kind == EventKind::SessionStarted) {
        std::string previous = s.state;
        s = AgentStatus{};
        s.since_us = ev.time_us;
        if (previous == as::starting) return std::nullopt;
        return StateChange{previous, as::starting, "session started", "", nullptr, "", ""};
    }
    if (s.state == as::exited) return std::nullopt;
    switch (ev.kind) {
    case EventKind::SessionExited: return on_exit(s, ev);
    case EventKind::OutputChunk: return on_output(s, ev);
    case EventKind::InputSent: return on_input(s, ev);
    case EventKind::TitleChanged: return on_title(s, ev);
    case EventKind::BellRang: return on_attention(s, ev, "bell", "");
    case EventKind::TerminalNotified: return on_terminal_notice(s, ev);
    case EventKind::HookReceived: return on_hook(s, ev);
    case EventKind::PermissionDecided: return on_decision(s, ev);
    case EventKind::AgentNotified: return on_agent_notified(s, ev);
    case EventKind::ScreenPromptSeen: return on_screen_prompt(s, ev);
    default: return std::nullopt;
    }
}

}  // namespace tether
