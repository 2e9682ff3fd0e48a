// `tether admin recover`: with the daemon stopped, a damaged events.db is moved aside and
// every event that can still be read is copied into a new one (log/event_log_recovery.h).
#pragma once

#include "base/paths.h"

namespace tether {

// Prints what was kept and what could not be read; the process exit code.
int admin_recover(const Paths& paths);

}  // namespace tether
