// Model: what tether-ui knows of the daemon, folded from the watch stream (a snapshot,
// then notices; docs/PROTOCOL.md "The watch stream") plus the selected session's screen.
// Pure and copyable: the link thread folds into it, the window draws a copy.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tether::ui {

struct SessionView {
    int64_t id = 0;
    std::string name, agent, state;
    int64_t state_since_us = 0;
    std::string waiting_tool;     // what it waits for: the tool...
    nlohmann::json waiting_input;  // ...and its input
    std::string message;          // or the question / the agent's last words
    bool live = true;
    bool external = false;
};

struct PendingView {
    int64_t request = 0;
    int64_t session = 0;
    std::string tool;
    nlohmann::json tool_input;
};

// One run of a screen row: text, columns covered, colours (palette index, 0xRRGGBB | 1<<24
// for direct colour, or -1 for the default) and attribute bits (wire/screen_cells_format.h).
struct ScreenRunView {
    std::string text;
    int cols = 0;
    int fg = -1, bg = -1;
    int attrs = 0;
};

struct ScreenView {
    int64_t session = 0;
    int cols = 0, rows = 0, cursor_row = 0, cursor_col = 0;
    bool cursor_visible = true;
    std::vector<std::vector<ScreenRunView>> cells;
    std::string error;  // the screen could not be fetched (an ended session, ...)
};

// Another host of the fleet (daemon/fleet), as the daemon folds it from the fleet stream.
// Its sessions and requests are that host's; a request is answered as "host:REQ".
struct HostView {
    std::string host;
    bool self = false;  // this daemon's own host: its sessions are the local ones
    bool daemon_up = false;
    std::map<int64_t, SessionView> sessions;
    std::map<int64_t, PendingView> pending;  // by request on that host

    const PendingView* pending_for(int64_t session) const;
    bool operator==(const HostView&) const = default;
};

// States where the agent waits for the user.
bool needs_you(const std::string& state);

// "Bash: make test", "Which database should I use?", or "".
std::string waiting_for(const SessionView& s);

// A transition into a needs-you state, as the fold sees it.
struct Transition {
    int64_t session = 0;
    std::string from, to;
};

struct Model {
    bool connected = false;
    std::string link_error;  // why not connected ("daemon not running: ...")
    std::map<int64_t, SessionView> sessions;
    std::map<int64_t, PendingView> pending;  // by request
    std::map<std::string, HostView> fleet;   // by host; empty without a fleet
    std::optional<ScreenView> screen;
    std::string last_error;  // of the last action (approve, send, ...)
    std::vector<std::string> terminal;  // what Attach runs: the daemon's ui.terminal (ui_settings)

    // The watch reply. Returns no transitions: a state the user already had is no news.
    void apply_snapshot(const nlohmann::json& reply);
    // One notice; returns the transition into a needs-you state it makes, if any.
    std::optional<Transition> apply_notice(const nlohmann::json& notice);
    void apply_screen(const nlohmann::json& reply);

    const PendingView* pending_for(int64_t session) const;
    bool operator==(const Model&) const = default;
};

SessionView session_from_json(const nlohmann::json& j);
PendingView pending_from_json(const nlohmann::json& j);
HostView host_from_json(const nlohmann::json& j);

}  // namespace tether::ui
