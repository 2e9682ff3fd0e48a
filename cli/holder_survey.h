// What `tether doctor` sees in a holders directory, reached directly so that it works
// with no daemon running: each holder's hello, or that a daemon is connected to it, or
// that nothing answers its socket. And the one repair that needs no daemon: ending the
// program of a holder nobody will adopt.
#pragma once

#include <string>
#include <vector>

#include "wire/holder_protocol.h"
#include "base/result.h"

namespace tether {

struct HolderReport {
    enum class Status { Free, Connected, Dead };
    int64_t session = 0;  // from the socket's name
    std::string socket;
    Status status = Status::Dead;
    HolderHello hello;  // for Free
    std::string detail; // why Connected or Dead
};

std::vector<HolderReport> survey_holders(const std::string& holders_dir);

// Hangs up the program of a holder no daemon is connected to (SIGHUP, SIGKILL after
// grace_ms), discards its unlogged output, and lets the holder end.
Status end_holder(const std::string& socket_path, int grace_ms);

}  // namespace tether
