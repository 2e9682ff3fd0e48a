// View: one ImGui frame of tether-ui: the connection line, a card per session (name,
// agent, state in colour, what it waits for, time in that state; an accent ring around
// the one that needs you; Approve/Deny/Attach/Ack/Mute/Snooze) and the live screen of
// the selected session. It reads a Model and UiState and returns what the user asked
// for; it does no IO. With a layout file set it records every button's rectangle, so
// tests can click them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model.h"
#include "ui_state.h"

namespace tether::ui {

struct ViewState {
    int64_t selected = 0;
    bool typing = false;                  // keys go to the selected session
    std::map<int64_t, int64_t> acked;     // session -> the state_since_us acknowledged
};

struct Actions {
    std::vector<nlohmann::json> requests;  // for the daemon
    int64_t attach = 0;                    // open a terminal attached to this session
    bool state_changed = false;            // UiState changed (mute): save it
};

// A button's rectangle in window coordinates, by "action:session name".
using Layout = std::map<std::string, std::vector<float>>;

Actions draw_view(const Model& model, UiState& ui, ViewState& view, int64_t now_us, Layout* layout);

// "4s", "2m 05s", "1h 02m"
std::string format_duration(int64_t us);

}  // namespace tether::ui
