// What the C++ benches write and how they count: a fixed-seed generator of the bytes a
// coding agent's TUI writes (diagnostics, coloured diffs, spinner redraws, boxed lines,
// prose, its input box redrawn in place), and the timing helpers they share.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

namespace tether::bench {

using Clock = std::chrono::steady_clock;

// splitmix64: a fixed seed makes every run write the same bytes.
class Rng {
public:
    explicit Rng(uint64_t seed = 0x5eed5eedull) : m_state(seed) {}
    uint64_t next() {
        uint64_t z = (m_state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    size_t below(size_t n) { return static_cast<size_t>(next() % n); }

private:
    uint64_t m_state;
};

inline const char* const k_words[] = {"the", "event", "log", "session", "commit", "error", "warning", "build", "target",
                               "include", "return", "const", "string", "value", "test", "passed", "failed", "agent",
                               "tool", "edit", "file", "update", "reading", "cache", "daemon", "socket", "resize",
                               "output", "chunk", "parse", "config", "\xe2\x9c\x93", "\xe2\x97\x8f"};

inline void agent_words(std::string& out, Rng& rng, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        if (i) out += ' ';
        out += k_words[rng.below(std::size(k_words))];
    }
}

// What a coding agent's TUI writes: diagnostics, coloured diffs, spinner redraws, boxed
// lines, prose, and its input box redrawn in place (cursor up, erase below).
inline void agent_output(std::string& out, Rng& rng) {
    switch (rng.below(7)) {
    case 0:
        out += "\x1b[1msrc/";
        agent_words(out, rng, 1);
        out += ".cc:" + std::to_string(1 + rng.below(900)) + ": \x1b[0m\x1b[1;35mwarning: \x1b[0m";
        agent_words(out, rng, 4 + rng.below(8));
        out += "\r\n";
        break;
    case 1:
        out += rng.below(2) ? "\x1b[32m+" : "\x1b[31m-";
        agent_words(out, rng, 2 + rng.below(9));
        out += "\x1b[m\r\n";
        break;
    case 2:
        out += "\r\x1b[2K\x1b[38;5;174m\xe2\x9c\xbb\x1b[39m ";
        agent_words(out, rng, 1);
        out += "\xe2\x80\xa6 (" + std::to_string(rng.below(300)) + "s \xc2\xb7 " + std::to_string(rng.below(20000)) +
               " tokens)";
        break;
    case 3:
        out += "\x1b[2m\xe2\x94\x82\x1b[22m ";
        agent_words(out, rng, 3 + rng.below(6));
        out += "\x1b[78G\x1b[2m\xe2\x94\x82\x1b[22m\r\n";
        break;
    case 4:
        out += "\x1b[4A\x1b[J\x1b[2m\xe2\x95\xad" + std::string(60, '-') + "\xe2\x95\xae\x1b[22m\r\n> ";
        agent_words(out, rng, rng.below(6));
        out += "\r\n\x1b[2m\xe2\x95\xb0" + std::string(60, '-') + "\xe2\x95\xaf\x1b[22m\r\n  ? for shortcuts\r\n";
        break;
    default:
        agent_words(out, rng, 6 + rng.below(10));
        out += "\r\n";
        break;
    }
}

inline double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

inline double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

}  // namespace tether::bench
