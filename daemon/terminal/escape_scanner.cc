// The scanner in front of libvterm. Each workaround is written where it bites.
#include "terminal/escape_scanner.h"

#include <algorithm>

#include "base/bug.h"

namespace tether::screen {

namespace {
constexpr size_t k_max_held_string = size_t{64} << 10;
constexpr size_t k_max_held_csi = size_t{4} << 10;
}  // namespace

void EscapeScanner::Csi::add(unsigned char c) {
    if (c >= '0' && c <= '9') {
        current = std::min((current < 0 ? 0 : current) * 10 + (c - '0'), 99999);
    } else if (c == ';' || c == ':') {
        finish_param();
    } else if (count == 0 && current < 0 && leader == 0) {
        leader = static_cast<char>(c);
    } else {
        malformed = true;
    }
}

void EscapeScanner::Csi::finish_param() {
    if (count < k_max_params) params[static_cast<size_t>(count++)] = current;
    current = -1;
}

int EscapeScanner::Csi::param(int i, int fallback) const {
    return i < count && params[static_cast<size_t>(i)] >= 0 ? params[static_cast<size_t>(i)] : fallback;
}

void EscapeScanner::feed(std::string_view bytes) {
    for (char ch : bytes) scan(static_cast<unsigned char>(ch));
    write(m_safe);
}

bool EscapeScanner::discarding() const {
    return m_scan == Scan::discard_csi || m_scan == Scan::discard_string || m_scan == Scan::discard_string_esc;
}

void EscapeScanner::write(size_t n) {
    if (n == 0) return;
    m_sink.write_terminal(m_unfed.data(), n);
    m_unfed.erase(0, n);
    m_safe -= std::min(m_safe, n);
    m_seq_start -= std::min(m_seq_start, n);
}

void EscapeScanner::begin_escape() {
    m_after_text = false;
    m_seq_start = m_unfed.size();
    m_unfed += '\x1b';
    m_scan = Scan::esc;
    m_utf8_need = 0;
}

void EscapeScanner::finish() {
    m_scan = Scan::ground;
    m_safe = m_unfed.size();
}

void EscapeScanner::scan(unsigned char c) {
    switch (m_scan) {
    case Scan::ground:
        return scan_ground(c);
    case Scan::discard_csi:
        if (c == 0x1b) return begin_escape();
        if ((c >= 0x40 && c <= 0x7e) || c == 0x18 || c == 0x1a) finish();
        return;
    case Scan::discard_string:
        if (c == 0x07) finish();
        if (c == 0x1b) m_scan = Scan::discard_string_esc;
        return;
    case Scan::discard_string_esc:
        if (c == '\\') return finish();
        begin_escape();
        return scan(c);
    default:
        break;
    }
    m_unfed += static_cast<char>(c);
    size_t held = m_unfed.size() - m_seq_start;
    switch (m_scan) {
    case Scan::esc:
    case Scan::esc_intermediate:
        return scan_escape(c);
    case Scan::csi:
        if (held > k_max_held_csi) {  // nobody sends this much: drop it, do not hold it
            m_unfed.resize(m_seq_start);
            m_scan = Scan::discard_csi;
            return;
        }
        return scan_csi(c);
    case Scan::string:
        return scan_string(c, held);
    case Scan::string_esc:
        if (c == '\\') return end_string();
        // The ESC aborted the string and starts a sequence of its own.
        abort_string();
        begin_escape();
        return scan(c);
    default:
        TETHER_BUG("screen: unexpected scanner state");
    }
}

void EscapeScanner::scan_string(unsigned char c, size_t held) {
    if (c == 0x07) return end_string();
    if (c == 0x18 || c == 0x1a) return abort_string();
    if (c == 0x1b) m_scan = Scan::string_esc;
    if (held > k_max_held_string) {
        m_unfed.resize(m_seq_start);
        m_scan = m_scan == Scan::string_esc ? Scan::discard_string_esc : Scan::discard_string;
    }
}

// libvterm 0.1.4 does not know SOS, PM and APC (kitty graphics...) and would print their
// contents; terminals ignore them, so they are dropped here.
void EscapeScanner::end_string() {
    if (m_string_kind == 'X' || m_string_kind == '^' || m_string_kind == '_') m_unfed.resize(m_seq_start);
    finish();
}

// libvterm 0.1.4 drops a string ended by CAN, SUB or ESC-not-followed-by-backslash;
// never giving it the start spares it an unterminated string across writes.
void EscapeScanner::abort_string() {
    m_unfed.resize(m_seq_start);
    finish();
}

void EscapeScanner::scan_ground(unsigned char c) {
    if (c == 0x1b) return begin_escape();
    // libvterm 0.1.4 decodes a text run that reached a UTF-8 char as UTF-8 to its end, so
    // ASCII after it would escape a line-drawing charset, or not, as writes happen to fall.
    // A write of its own puts such ASCII through the charset, as in xterm.
    if (m_modes.drawing_charset() && m_after_utf8 && c >= 0x20 && c < 0x7f) write(m_unfed.size());
    m_unfed += static_cast<char>(c);
    if (c == 0x0e || c == 0x0f) m_modes.shift_out = c == 0x0e;
    if (c < 0x80)
        m_utf8_need = 0;
    else if ((c & 0xC0) == 0x80)
        m_utf8_need = std::max(m_utf8_need - 1, 0);
    else if (c >= 0xC2 && c <= 0xDF)
        m_utf8_need = 1;
    else if (c >= 0xE0 && c <= 0xEF)
        m_utf8_need = 2;
    else if (c >= 0xF0 && c <= 0xF4)
        m_utf8_need = 3;
    else
        m_utf8_need = 0;
    if (m_utf8_need == 0) m_safe = m_unfed.size();
    m_after_utf8 = c >= 0x80 && (m_utf8_need == 0 || m_after_utf8);
    m_after_text = c >= 0x20 && c != 0x7f;
}

// Called with c already appended; C0 controls inside a sequence are executed by libvterm
// and do not end it.
void EscapeScanner::scan_escape(unsigned char c) {
    if (c == 0x1b) {
        m_seq_start = m_unfed.size() - 1;
        m_scan = Scan::esc;
        return;
    }
    if (c == 0x18 || c == 0x1a) return finish();
    if (c < 0x20 || c == 0x7f) return;
    switch (c) {  // libvterm starts these even after intermediates (ESC $ [ is a CSI)
    case '[':
        m_csi = Csi{};
        m_scan = Scan::csi;
        return;
    case ']': case 'P': case 'X': case '^': case '_':
        m_string_kind = static_cast<char>(c);
        m_scan = Scan::string;
        return;
    default: break;
    }
    if (m_scan == Scan::esc_intermediate) {
        if (c <= 0x2f) return;
        if (m_intermediate == '(') m_modes.g0 = static_cast<char>(c);
        if (m_intermediate == ')') m_modes.g1 = static_cast<char>(c);
        return finish();
    }
    switch (c) {
    case '7': save_cursor(); break;
    case '=': m_modes.app_keypad = true; break;
    case '>': m_modes.app_keypad = false; break;
    case 'c': m_modes = Modes{}; break;  // RIS
    default: break;
    }
    if (c >= 0x20 && c <= 0x2f) {
        m_intermediate = static_cast<char>(c);
        m_scan = Scan::esc_intermediate;
        return;
    }
    finish();
}

void EscapeScanner::scan_csi(unsigned char c) {
    if (c >= 0x40 && c <= 0x7e) {
        m_csi.finish_param();
        dispatch_csi(static_cast<char>(c));
        return finish();
    }
    if (c >= 0x30 && c <= 0x3f) {
        if (m_csi.intermediate) m_csi.malformed = true;
        return m_csi.add(c);
    }
    if (c >= 0x20 && c <= 0x2f) {
        m_csi.intermediate = static_cast<char>(c);
        return;
    }
    if (c == 0x1b) {
        m_seq_start = m_unfed.size() - 1;
        m_scan = Scan::esc;
        return;
    }
    if (c == 0x18 || c == 0x1a || c >= 0x80) return finish();
}

void EscapeScanner::dispatch_csi(char final) {
    const Csi& csi = m_csi;
    if (csi.malformed) return;
    if (csi.leader == 0 && csi.intermediate == '!' && final == 'p') return soft_reset();
    if (csi.intermediate != 0) return;
    bool on = final == 'h';
    if (csi.leader == '?' && (final == 'h' || final == 'l')) {
        for (int i = 0; i < csi.count; ++i) set_dec_mode(csi.param(i, 0), on);
    } else if (csi.leader == 0 && (final == 'h' || final == 'l')) {
        for (int i = 0; i < csi.count; ++i)
            if (csi.param(i, 0) == 4) m_modes.insert = on;
    } else if (csi.leader == 0 && final == 'r') {
        set_region(csi.param(0, 1), csi.param(1, m_sink.terminal_rows()));
    }
}

void EscapeScanner::set_dec_mode(int mode, bool on) {
    switch (mode) {
    case 1: m_modes.app_cursor = on; break;
    case 5: m_modes.reverse_video = on; break;
    case 6: m_modes.origin = on; break;
    case 7: m_modes.autowrap = on; break;
    case 9: case 1000: case 1002: case 1003: m_modes.mouse = on ? mode : 0; break;
    case 1004: m_modes.focus_events = on; break;
    case 1005: case 1006: case 1015:
        if (on)
            m_modes.mouse_encoding = mode;
        else if (m_modes.mouse_encoding == mode)
            m_modes.mouse_encoding = 0;
        break;
    case 2004: m_modes.bracketed_paste = on; break;
    case 47: case 1047:
        if (on) enter_alt_screen();
        break;
    case 1048:
        if (on) save_cursor();
        break;
    case 1049:
        if (on) save_cursor();
        if (on) enter_alt_screen();
        break;
    default: break;
    }
}

// xterm's rules (0 or too big means the last row; top >= bottom is ignored), and libvterm
// is handed only the normalised result: left alone it accepts an inverted region.
void EscapeScanner::set_region(int top, int bottom) {
    int rows = m_sink.terminal_rows();
    m_unfed.resize(m_seq_start);
    top = std::max(top, 1);
    if (bottom <= 0 || bottom > rows) bottom = rows;
    if (top >= bottom) return;
    bool whole = top == 1 && bottom == rows;
    m_modes.top = whole ? 0 : top;
    m_modes.bottom = whole ? 0 : bottom;
    m_unfed += "\x1b[" + std::to_string(top) + ';' + std::to_string(bottom) + 'r';
}

// libvterm 0.1.4 ignores DECSTR, so it is replaced by what it means (the Sink writes it).
void EscapeScanner::soft_reset() {
    write(m_seq_start);
    m_unfed.resize(m_seq_start);
    m_modes.app_cursor = m_modes.app_keypad = m_modes.origin = m_modes.insert = false;
    m_modes.autowrap = true;
    m_modes.top = m_modes.bottom = 0;
    m_modes.g0 = 'B';
    m_modes.shift_out = false;
    m_sink.soft_reset();
}

// These run before libvterm sees the sequence, which changes nothing they read.
void EscapeScanner::save_cursor() {
    write(m_seq_start);
    m_sink.save_cursor();
}

void EscapeScanner::enter_alt_screen() {
    write(m_seq_start);
    m_sink.enter_alt_screen();
}

}  // namespace tether::screen
