// The client side of `tether attach`: the local terminal in raw mode, keystrokes to the
// session, its output to the terminal, resizes forwarded, and on detach the terminal
// restored exactly (the daemon sends the undo of every mode the program set).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "client.h"

namespace tether {

struct AttachOptions {
    bool read_only = false;
    // Set from --detach-key or $TETHER_DETACH_KEY; else the daemon's configured key.
    std::optional<unsigned char> detach_key;
};

// "^\", "^]", "C-a", "ctrl-b" -> the control byte; nullopt when not understood.
std::optional<unsigned char> parse_detach_key(const std::string& spec);

// Attaches the terminal on stdin/stdout to the session and returns the CLI exit code.
int attach_session(Client& client, const nlohmann::json& session_ref, const AttachOptions& options);

}  // namespace tether
