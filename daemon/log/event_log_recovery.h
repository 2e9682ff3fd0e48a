// Salvaging a damaged event log (a truncated or corrupted events.db): every event that
// can still be read is copied, with its seq, time, session, kind and payload unchanged,
// into a fresh log; the stretches that cannot be read are skipped and reported. Runs with
// the daemon stopped (`tether admin recover`); the next daemon rebuilds the projections
// from what was kept. And the hint every damaged-log error carries.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace tether {

struct RecoveryReport {
    int64_t events = 0;                                 // copied
    int64_t first_seq = 0, last_seq = 0;                // of what was copied
    std::vector<std::pair<int64_t, int64_t>> skipped;   // seq ranges (inclusive) that could not be read
    bool tail_lost = false;                             // reading stopped at damage nothing after could pass
    std::string first_error;                            // what SQLite said at the first damage
};

// Reads damaged (read-only; it is never written) and writes every readable event into
// fresh, a path that must not exist yet.
Result<RecoveryReport> recover_event_log(const std::string& damaged, const std::string& fresh);

// True for SQLite's words for a damaged file ("database disk image is malformed",
// "file is not a database").
bool is_damage_error(const Error& e);
// e, with what to do about a damaged log when it is one.
Error with_damage_hint(Error e);

}  // namespace tether
