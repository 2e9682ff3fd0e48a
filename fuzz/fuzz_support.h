// What the fuzz targets share: a reader that turns the fuzzer's bytes into choices,
// checks that abort with a message (a finding, for libFuzzer and for fuzz_regress
// alike), a private scratch directory, and a log sink that keeps the daemon quiet but
// turns an exception caught by run_guarded (a request left unanswered) into a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#define FUZZ_CHECK(cond, what)                                                              \
    do {                                                                                    \
        if (!(cond)) ::tether::fuzz::check_failed(#cond, what, __FILE__, __LINE__);         \
    } while (0)

namespace tether::fuzz {

[[noreturn]] void check_failed(const char* cond, std::string_view what, const char* file, int line);

// Takes bytes from the front; past the end every read gives zeros / empty.
class FuzzInput {
public:
    FuzzInput(const uint8_t* data, size_t size) : m_rest(reinterpret_cast<const char*>(data), size) {}
    bool empty() const { return m_rest.empty(); }
    size_t left() const { return m_rest.size(); }
    uint8_t byte();
    uint32_t u32();
    // lo..hi inclusive.
    int range(int lo, int hi);
    bool flag() { return byte() & 1; }
    std::string_view take(size_t n);
    // Up to the next occurrence of sep (not included; consumed), or the rest.
    std::string_view until(std::string_view sep);
    std::string_view rest() { return take(m_rest.size()); }

private:
    std::string_view m_rest;
};

// Chunk sizes for splitting a stream "anywhere", decided by the input itself so that a
// reproducer replays the same cuts: 1..max bytes each.
class Cuts {
public:
    Cuts(std::string_view seed_bytes, size_t max);
    size_t next();

private:
    uint64_t m_state;
    size_t m_max;
};

// A directory of this process's own (created once, under $TMPDIR).
const std::string& scratch_dir();
// Drops the daemon's log lines; aborts on those that report an exception caught at a
// libevent boundary (an unanswered request is a bug, whatever the input).
void quiet_daemon_logs();

}  // namespace tether::fuzz
