// The wire shape of a screen's cells (`screen` with "cells": true; docs/PROTOCOL.md,
// "Screen cells"), shared by the daemon that writes it (terminal/screen_cells.h) and
// tether-ui that draws it: [[run, ...] per visible row], each run {"t": text, "n":
// columns, "fg"/"bg": palette index (0-255) or "#rrggbb" (absent: the terminal's
// default), "a": the attribute bits below}.
#pragma once

namespace tether {

inline constexpr int k_cell_bold = 1, k_cell_italic = 2, k_cell_underline = 4, k_cell_reverse = 8,
                     k_cell_strike = 16, k_cell_blink = 32;

}  // namespace tether
