// Restoring and undoing the tracked modes.
#include "terminal/screen_modes.h"

#include "terminal/screen_painter.h"

namespace tether::screen {

void append_modes(std::string& out, const Modes& m) {
    auto dec = [&out](int mode, bool on) {
        out += "\x1b[?" + std::to_string(mode) + (on ? 'h' : 'l');
    };
    if (m.app_cursor) dec(1, true);
    if (m.app_keypad) out += "\x1b=";
    if (m.reverse_video) dec(5, true);
    if (!m.autowrap) dec(7, false);
    if (m.insert) out += "\x1b[4h";
    if (m.bracketed_paste) dec(2004, true);
    if (m.mouse) dec(m.mouse, true);
    if (m.mouse_encoding) dec(m.mouse_encoding, true);
    if (m.focus_events) dec(1004, true);
    // After the cells: they are already Unicode and must not be translated again.
    if (m.g0) out += std::string("\x1b(") + m.g0;
    if (m.g1) out += std::string("\x1b)") + m.g1;
    if (m.shift_out) out += '\x0e';
    if (m.top) out += "\x1b[" + std::to_string(m.top) + ';' + std::to_string(m.bottom) + 'r';
    if (m.origin) dec(6, true);
}

std::string reset_modes(const Modes& m, bool alt_screen, VTermPos cursor) {
    std::string out;
    // Both home the cursor: do them first and put the cursor back.
    if (m.origin) out += "\x1b[?6l";
    if (m.top) out += "\x1b[r";
    if (m.origin || m.top) append_cup(out, cursor.row, cursor.col);
    if (alt_screen) out += "\x1b[?1049l";
    out += "\x1b[?25h";
    if (m.app_cursor) out += "\x1b[?1l";
    if (m.app_keypad) out += "\x1b>";
    if (m.reverse_video) out += "\x1b[?5l";
    if (!m.autowrap) out += "\x1b[?7h";
    if (m.insert) out += "\x1b[4l";
    if (m.bracketed_paste) out += "\x1b[?2004l";
    if (m.mouse) out += "\x1b[?" + std::to_string(m.mouse) + 'l';
    if (m.mouse_encoding) out += "\x1b[?" + std::to_string(m.mouse_encoding) + 'l';
    if (m.focus_events) out += "\x1b[?1004l";
    if (m.g0 && m.g0 != 'B') out += "\x1b(B";
    if (m.g1 && m.g1 != 'B') out += "\x1b)B";
    if (m.shift_out) out += '\x0f';
    out += "\x1b[0m";
    return out;
}

}  // namespace tether::screen
