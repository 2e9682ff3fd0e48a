// The wall clock, read in one place.
#pragma once

#include <chrono>
#include <cstdint>

namespace tether {

// The current wall clock in microseconds since the epoch.
inline int64_t now_us() {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace tether
