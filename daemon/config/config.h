// The daemon's configuration file (YAML): what exists so far is the daemon's and the
// sessions' tuning and the attach detach key; rules and notifiers come later. Loading
// collects EVERY error with file:line:column and a hint, and refuses the whole file.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace tether {

struct RuleConfig;   // rules.h
struct FleetConfig;  // fleet_config.h

// A configuration file larger than this is refused (it is a person's file; a bigger one
// is a mistake, and YAML's parser would hold all of it in memory).
inline constexpr size_t k_max_config_bytes = size_t{1} << 20;

struct Config {
    std::string path;  // empty: built-in defaults, no file
    long flush_ms = 5;
    size_t history_lines = 50000;
    size_t client_buffer_kib = 4096;
    std::string detach_key = "^\\";
    long permission_wait_s = 120;  // how long a PermissionRequest hook waits for an answer
    std::vector<std::string> plugin_path;  // extra directories searched for notifier plugins
    // tether-ui: the terminal emulator command that Attach runs, `tether attach ID` appended.
    std::vector<std::string> ui_terminal{"x-terminal-emulator", "-e"};
    long retention_max_age_days = 0;   // ended sessions idle longer than this are pruned; 0: kept
    long retention_max_total_mib = 0;  // then the oldest until the recordings fit; 0: no limit
    std::shared_ptr<const RuleConfig> rules;  // notifiers, quiet hours, rules (never null once loaded)
    std::shared_ptr<const FleetConfig> fleet;  // the fleet: section (never null once loaded; disabled when absent)
};

struct ConfigError {
    std::string file;
    int line = 0, column = 0;  // 1-based; 0 when unknown
    std::string message;
    std::string hint;
    std::string to_string() const;  // "file:line:col: message (hint)"
};

// Loads path; on failure returns every error found, one per line.
Result<Config> load_config(const std::string& path);
std::vector<ConfigError> check_config(const std::string& path, Config& out);
// "^\", "^]", "C-a", "ctrl-b" -> the control byte; nullopt when not understood.
std::optional<unsigned char> parse_detach_key(const std::string& spec);


}  // namespace tether
