// The screen's cells as JSON runs, for clients that draw the screen themselves (tether-ui):
// `screen` with "cells": true. The Screen model makes the runs; this file owns their wire
// shape (docs/PROTOCOL.md, "Screen cells").
#pragma once

#include <nlohmann/json.hpp>

#include "terminal/screen.h"

namespace tether {

// [[run, ...] per visible row], each run {"t": text, "n": columns, "fg"/"bg": palette
// index (0-255) or "#rrggbb" (absent: the terminal's default), "a": attribute bits}.
nlohmann::json screen_cells_json(const Screen& screen);

// Attribute bits of "a".
inline constexpr int k_cell_bold = 1, k_cell_italic = 2, k_cell_underline = 4, k_cell_reverse = 8,
                     k_cell_strike = 16, k_cell_blink = 32;

}  // namespace tether
