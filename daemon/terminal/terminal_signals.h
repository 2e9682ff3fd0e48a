// The one scanner for the terminal signals that become events: window titles (OSC 0 /
// OSC 2), the bell (BEL outside any string), and desktop notifications (OSC 9;msg, not
// ConEmu's numeric OSC 9;N;... commands, and OSC 777;notify;title;body; an empty message
// is none). It runs on the output path, so it is a byte-at-a-time state machine with no
// allocation beyond the OSC text (capped), and it survives sequences split across reads.
// The screen model is not needed for these.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tether {

struct TerminalSignal {
    enum Kind { Title, Bell, Notification } kind;
    std::string text;
    bool operator==(const TerminalSignal&) const = default;
};

class TerminalSignalScanner {
public:
    static constexpr size_t k_max_osc = 4096;

    // Appends the signals found in bytes to out, in order.
    void scan(std::string_view bytes, std::vector<TerminalSignal>& out);

private:
    enum class State { Ground, Escape, Osc, OscEscape, String, StringEscape };
    void finish_osc(std::vector<TerminalSignal>& out);

    State m_state = State::Ground;
    std::string m_osc;
    bool m_osc_overflow = false;
};

}  // namespace tether
