// The client side of `tether attach`: the local terminal in raw mode, keystrokes to the
// session, its output to the terminal, resizes forwarded, and on detach the terminal
// restored exactly (the daemon sends the undo of every mode the program set).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "wire/client.h"

namespace tether {

struct AttachOptions {
    bool read_only = false;
    // Set from --detach-key or $TETHER_DETACH_KEY; else the daemon's configured key.
    std::optional<unsigned char> detach_key;
};

// Attaches the terminal on stdin/stdout to the session and returns the CLI exit code.
int attach_session(Client& client, const nlohmann::json& session_ref, const AttachOptions& options);

}  // namespace tether
