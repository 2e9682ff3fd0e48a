// The timeline of a session: which logged facts a person reads as "what happened"
// (start, transitions, hook events, permission answers, notifications, markers,
// resizes, exit) and a one-line summary of each. Pure: events in, entries out;
// terminal data (OutputChunk, InputSent) is never part of it.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "log/events.h"

namespace tether {

// {"seq", "time_us", "kind", "summary", "data": the payload (a hook's own JSON is cut
// down to its event name, tool and message)}, or nullopt for kinds left out.
std::optional<nlohmann::json> timeline_entry(const Event& ev);

}  // namespace tether
