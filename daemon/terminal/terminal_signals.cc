// OSC / BEL scanner.
#include "terminal/terminal_signals.h"

namespace tether {

namespace {
constexpr char k_bel = 0x07;
constexpr char k_esc = 0x1b;
constexpr char k_can = 0x18;
constexpr char k_sub = 0x1a;
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
    } else if (code == "9") {
        // "9;4;..." is ConEmu's progress report, not a message.
        if (rest.size() >= 2 && rest[0] == '4' && rest[1] == ';') return;
        out.push_back({TerminalSignal::Notification, std::string(rest)});
    } else if (code == "777") {
        if (rest.substr(0, 7) != "notify;") return;
        std::string_view payload = rest.substr(7);
        size_t split = payload.find(';');
        std::string title(payload.substr(0, split));
        std::string body = split == std::string_view::npos ? std::string() : std::string(payload.substr(split + 1));
        out.push_back({TerminalSignal::Notification, body.empty() ? title : title.empty() ? body : title + ": " + body});
    }
}

}  // namespace tether
