// The OSC / BEL scanner: the one place that reads titles, bells and notifications out of
// program output (the Screen takes only the title, from libvterm, for its redraws).
#include "terminal/terminal_signals.h"

namespace tether {

namespace {
constexpr char k_bel = 0x07;
constexpr char k_esc = 0x1b;
constexpr char k_can = 0x18;
constexpr char k_sub = 0x1a;

// Is this OSC 9 body one of ConEmu's numeric sub-commands (9;4;st;pr progress, 9;9;cwd...)?
bool is_conemu_command(std::string_view body) {
    size_t i = 0;
    while (i < body.size() && body[i] >= '0' && body[i] <= '9') ++i;
    return i > 0 && (i == body.size() || body[i] == ';');
}

}  // namespace

void TerminalSignalScanner::scan(std::string_view bytes, std::vector<TerminalSignal>& out) {
    for (char c : bytes) {
        switch (m_state) {
        case State::Ground:
            if (c == k_bel) out.push_back({TerminalSignal::Bell, {}});
            else if (c == k_esc) m_state = State::Escape;
            break;
        case State::Escape:
            if (c == ']') {
                m_state = State::Osc;
                m_osc.clear();
                m_osc_overflow = false;
            } else if (c == 'P' || c == '_' || c == '^' || c == 'X') {
                m_state = State::String;  // DCS, APC, PM, SOS: may contain BEL bytes
            } else if (c != k_esc) {
                m_state = State::Ground;
            }
            break;
        case State::Osc:
            if (c == k_bel) {
                finish_osc(out);
                m_state = State::Ground;
            } else if (c == k_esc) {
                m_state = State::OscEscape;
            } else if (c == k_can || c == k_sub) {
                m_state = State::Ground;  // cancelled
            } else if (m_osc.size() < k_max_osc) {
                m_osc.push_back(c);
            } else {
                m_osc_overflow = true;
            }
            break;
        case State::OscEscape:
            if (c == '\\') {
                finish_osc(out);
                m_state = State::Ground;
            } else {
                // An unterminated OSC followed by a new escape sequence: drop the OSC.
                m_state = State::Escape;
                if (c == ']') {
                    m_state = State::Osc;
                    m_osc.clear();
                    m_osc_overflow = false;
                } else if (c == 'P' || c == '_' || c == '^' || c == 'X') {
                    m_state = State::String;
                } else if (c != k_esc) {
                    m_state = State::Ground;
                }
            }
            break;
        case State::String:
            if (c == k_esc) m_state = State::StringEscape;
            else if (c == k_can || c == k_sub) m_state = State::Ground;
            break;
        case State::StringEscape:
            m_state = c == '\\' ? State::Ground : (c == k_esc ? State::StringEscape : State::String);
            break;
        }
    }
}

void TerminalSignalScanner::finish_osc(std::vector<TerminalSignal>& out) {
    if (m_osc_overflow) return;
    std::string_view osc(m_osc);
    size_t semi = osc.find(';');
    if (semi == std::string_view::npos) return;
    std::string_view code = osc.substr(0, semi);
    std::string_view rest = osc.substr(semi + 1);
    if (code == "0" || code == "2") {
        out.push_back({TerminalSignal::Title, std::string(rest)});
        return;
    }
    std::string message;
    if (code == "9") {
        if (is_conemu_command(rest)) return;
        message = rest;
    } else if (code == "777") {
        if (rest.substr(0, 7) != "notify;") return;
        std::string_view payload = rest.substr(7);
        size_t split = payload.find(';');
        std::string title(payload.substr(0, split));
        std::string body = split == std::string_view::npos ? std::string() : std::string(payload.substr(split + 1));
        message = body.empty() ? title : title.empty() ? body : title + ": " + body;
    }
    // An empty message is no notification.
    if (!message.empty()) out.push_back({TerminalSignal::Notification, std::move(message)});
}

}  // namespace tether
