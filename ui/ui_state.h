// UiState: what tether-ui remembers between runs, in its own file
// ($XDG_STATE_HOME/tether/ui.json, else ~/.local/state/tether/ui.json; TETHER_UI_STATE
// overrides): the window's position and size, and muted or snoozed sessions.
// The daemon knows nothing of it: muting is this window's business.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "base/result.h"

namespace tether::ui {

struct UiState {
    int x = -1, y = -1;  // -1: let the window manager place it
    int width = 560, height = 640;
    // session id -> muted until (unix µs); 0 means until unmuted.
    std::map<int64_t, int64_t> muted;

    bool is_muted(int64_t session, int64_t now_us) const;
    bool operator==(const UiState&) const = default;
};

std::string default_ui_state_path();
// A missing file gives the defaults; a damaged one is an error naming it (and the
// caller starts from the defaults).
Result<UiState> load_ui_state(const std::string& path);
// Written to a temporary file and renamed over the old one: never half a file.
Status save_ui_state(const std::string& path, const UiState& state);

}  // namespace tether::ui
