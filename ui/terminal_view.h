// TerminalView: draws a session's screen (ScreenView cells) with its colours in the
// current ImGui window, and turns the keys typed into it into the bytes a terminal would
// send. The daemon's screen model is the truth; this only paints it.
#pragma once

#include <string>

#include "model.h"

namespace tether::ui {

// Draws the screen at the cursor position, a monospace cell grid; returns its size.
void draw_terminal(const ScreenView& screen, bool show_cursor);

// Bytes for the keys pressed this frame (characters, Enter, Backspace, arrows, Tab,
// Escape, Ctrl+letter), for `send`. Call only while typing into the view.
std::string typed_bytes();

// The xterm palette (0-255) and direct colours (| 1<<24) as ImGui colours (ImU32).
unsigned int terminal_color(int color, bool foreground, bool bold);

}  // namespace tether::ui
