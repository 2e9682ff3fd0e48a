// What every command group of the tether CLI shares: the global options, the exit
// codes, reaching the daemon, and saying why a command failed. The groups themselves
// are listed in commands.h.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/paths.h"
#include "base/result.h"
#include "wire/client.h"

namespace tether {

// Exit codes: 0 success; 1 the command failed (message on stderr); 2 usage error;
// 3 the daemon is not running or not reachable.
constexpr int k_exit_failed = 1;
constexpr int k_exit_usage = 2;
constexpr int k_exit_unreachable = 3;

// The options every command takes (before its name).
struct Globals {
    std::string state_dir;
    std::string socket;
    std::string config;
    Paths paths() const { return resolve_paths(state_dir, socket, config); }
};

// What a command's callback reads and writes: the globals, and the exit code it sets.
struct Cli {
    Globals g;
    int rc = 0;
};

// "tether: <message>" on stderr; returns code.
int fail(const std::string& message, int code = k_exit_failed);

// Connects, or says why not on stderr (the caller exits with k_exit_unreachable).
Result<Client> connect_or_explain(const Paths& paths, bool autostart);
Result<Client> connect_or_explain(const Globals& g, bool autostart);

// One request; print (if any) shows the reply. 0, 1 (the daemon's error) or 3.
int cmd_simple(const Globals& g, nlohmann::json req, const std::function<void(const nlohmann::json&)>& print);

// A string that names a session: all digits is an id (sent as a number), else a name.
nlohmann::json session_ref(const std::string& s);

std::string human_duration(int64_t us);  // 45s, 12m, 3h4m, 2d5h
std::string human_bytes(int64_t n);      // 512B, 1.5K, 3.2M

// The daemon's word that its event log cannot be written (status and ls carry it), as a
// warning on `to`; nothing when it can.
void warn_log_health(const nlohmann::json& reply, FILE* to);

}  // namespace tether
