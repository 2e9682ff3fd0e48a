// The screen's cells as JSON runs, for clients that draw the screen themselves (tether-ui):
// `screen` with "cells": true. The Screen model makes the runs; this file writes them in
// the wire shape of wire/screen_cells_format.h (docs/PROTOCOL.md, "Screen cells").
#pragma once

#include <nlohmann/json.hpp>

#include "terminal/screen.h"
#include "wire/screen_cells_format.h"

namespace tether {

// [[run, ...] per visible row], as wire/screen_cells_format.h describes.
nlohmann::json screen_cells_json(const Screen& screen);

}  // namespace tether
