// How the CLI prints a timeline entry (the daemon's `timeline` stream, recordings/timeline.h)
// and reads the moments people give on the command line (--at, --from, --to).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace tether {

// "2026-11-24 09:30:01.123  +1m02s  #1234  StateChanged  running -> needs_permission"
// (local time; offset from start_us).
std::string timeline_line(const nlohmann::json& entry, int64_t start_us);

// "1h02m03.5s", "+" prefixed by timeline_line; also what `screen --at` accepts.
std::string format_offset(int64_t us);

// A moment given on the command line: an offset from the session's start ("90",
// "90.5s", "1m30s", "2h", "+1m") or a local date and time ("2026-11-24 09:30:01",
// "2026-11-24T09:30:01.250", optionally ending in Z for UTC). nullopt when neither.
struct Moment {
    bool from_start = true;  // us is an offset from the start, else microseconds since the epoch
    int64_t us = 0;
};
std::optional<Moment> parse_moment(const std::string& text);

}  // namespace tether
