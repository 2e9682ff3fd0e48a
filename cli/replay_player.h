// The CLI side of `tether replay`: reads an asciicast stream from the daemon as it plays
// (the daemon produces it only as fast as it is read) and writes the output to the
// terminal with the recorded timing. Keys: space pauses, n or Right jumps to the next
// marked moment (a state change, a marker), + and - change the speed, q quits. The
// terminal is restored however it ends.
#pragma once

#include <nlohmann/json.hpp>

#include "wire/client.h"

namespace tether {

struct PlayOptions {
    double speed = 1.0;
    double max_idle_s = 0;  // longest pause played; 0: as recorded
};

// Sends the export request and plays its stream; returns the CLI exit code.
int play_recording(Client& client, const nlohmann::json& export_request, const PlayOptions& options);

}  // namespace tether
