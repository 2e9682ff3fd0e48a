// The terminal modes a program sets that libvterm 0.1.4 keeps private (or does not
// know), as the escape scanner tracks them, and the bytes that restore them on a redraw
// or undo them on detach.
#pragma once

#include <vterm.h>

#include <string>

#include "terminal/screen_cell.h"

namespace tether::screen {

// Defaults are a sane terminal's.
struct Modes {
    bool app_cursor = false;  // DECCKM ?1
    bool app_keypad = false;  // DECKPAM ESC =
    bool reverse_video = false;  // DECSCNM ?5
    bool origin = false;      // DECOM ?6
    bool autowrap = true;     // DECAWM ?7
    bool insert = false;      // IRM 4
    bool bracketed_paste = false;  // ?2004
    bool focus_events = false;     // ?1004
    int mouse = 0;           // 9, 1000, 1002 or 1003: one at a time, any reset ends it (xterm)
    int mouse_encoding = 0;  // 1005, 1006 or 1015
    int top = 0, bottom = 0;  // DECSTBM, 1-based inclusive; 0: the whole screen
    // Designated charsets: 0 never designated, 'B' ASCII, '0' DEC line drawing... An
    // explicit 'B' is kept: libvterm 0.1.4 then decodes ASCII apart from what follows,
    // which changes how a combining char after it lands, so a redraw must repeat it.
    char g0 = 0, g1 = 0;
    bool shift_out = false;   // SO: G1 in use

    // A charset other than ASCII is in GL: ASCII is translated.
    bool drawing_charset() const {
        char gl = shift_out ? g1 : g0;
        return gl != 0 && gl != 'B';
    }
};

// libvterm's one DECSC slot (ESC 7, ?1048h, ?1049h), which it does not expose.
struct SavedCursor {
    VTermPos pos{};
    Style pen;
    bool visible = true;  // libvterm saves it too, xterm does not
};

// Sets every mode that differs from a sane terminal's. Modes whose setting moves the
// cursor (DECSTBM, DECOM) come last; the caller then places the cursor.
void append_modes(std::string& out, const Modes& modes);
// Undoes every mode the program set (only those), leaves the alternate screen, shows the
// cursor and resets SGR; the cursor stays where it was.
std::string reset_modes(const Modes& modes, bool alt_screen, VTermPos cursor);

}  // namespace tether::screen
