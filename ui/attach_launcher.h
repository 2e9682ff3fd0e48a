// Opens the user's terminal emulator running `tether attach ID` (Attach in tether-ui).
// The command is the config's ui.terminal, or TETHER_UI_TERMINAL (split at spaces),
// default `x-terminal-emulator -e`. The terminal is fully detached from the window:
// closing or crashing the window leaves it (and the agent) alone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace tether::ui {

// The terminal command: TETHER_UI_TERMINAL if set, else the configured one.
std::vector<std::string> terminal_command(const std::vector<std::string>& configured);
// The tether CLI beside this program (an install, or the build tree's daemon/), else PATH.
std::string tether_cli_path();
Status open_attach_terminal(const std::vector<std::string>& terminal, int64_t session, const std::string& socket_path);

}  // namespace tether::ui
