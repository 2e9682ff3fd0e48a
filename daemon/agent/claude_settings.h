// Claude Code settings files and tether's hook entries in them: merge in (idempotent,
// other hooks untouched), take out, and inspect. Pure functions over JSON, plus the
// careful file handling for `tether hooks install|uninstall|status`.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace tether {

// The --settings JSON that wires Claude Code's hooks to tether-hook.
nlohmann::json claude_hook_settings(const std::string& hook_command, long permission_wait_s);
// The hook entries tether wants: event -> command line (see claude_hook_settings).
nlohmann::json tether_hook_entries(const std::string& hook_binary, long permission_wait_s);

// Adds tether's entries to settings["hooks"], replacing earlier tether entries, leaving
// every other hook in place. A settings value that is not an object is an error.
Result<nlohmann::json> merge_tether_hooks(nlohmann::json settings, const nlohmann::json& entries);
// Removes every handler whose command runs tether-hook; drops groups and events left empty.
nlohmann::json remove_tether_hooks(nlohmann::json settings);
// Events for which settings has a tether-hook handler.
std::vector<std::string> tether_hook_events(const nlohmann::json& settings);

// File side. A missing file reads as {}; an unparsable one is an error naming it, and is
// never written. Writes keep a backup of the previous file and replace atomically.
Result<nlohmann::json> read_settings(const std::string& path);
Result<std::string> write_settings(const std::string& path, const nlohmann::json& settings);  // returns the backup path ("" if none)

}  // namespace tether
