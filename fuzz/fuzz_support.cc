// Shared pieces of the fuzz targets.
#include "fuzz_support.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "base/log.h"

namespace tether::fuzz {

void check_failed(const char* cond, std::string_view what, const char* file, int line) {
    std::fprintf(stderr, "fuzz check failed at %s:%d: %s: %.*s\n", file, line, cond, static_cast<int>(what.size()),
                 what.data());
    std::abort();
}

uint8_t FuzzInput::byte() {
    if (m_rest.empty()) return 0;
    auto b = static_cast<uint8_t>(m_rest[0]);
    m_rest.remove_prefix(1);
    return b;
}

uint32_t FuzzInput::u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | byte();
    return v;
}

int FuzzInput::range(int lo, int hi) {
    uint32_t span = static_cast<uint32_t>(hi - lo) + 1;
    uint32_t v = span <= 256 ? byte() : u32();
    return lo + static_cast<int>(v % span);
}

std::string_view FuzzInput::take(size_t n) {
    n = std::min(n, m_rest.size());
    std::string_view out = m_rest.substr(0, n);
    m_rest.remove_prefix(n);
    return out;
}

std::string_view FuzzInput::until(std::string_view sep) {
    size_t at = m_rest.find(sep);
    if (at == std::string_view::npos) return rest();
    std::string_view out = m_rest.substr(0, at);
    m_rest.remove_prefix(at + sep.size());
    return out;
}

Cuts::Cuts(std::string_view seed_bytes, size_t max) : m_state(1469598103934665603ull), m_max(max ? max : 1) {
    for (unsigned char c : seed_bytes.substr(0, 64)) m_state = (m_state ^ c) * 1099511628211ull;
    m_state ^= seed_bytes.size();
}

size_t Cuts::next() {
    m_state = m_state * 6364136223846793005ull + 1442695040888963407ull;
    return 1 + static_cast<size_t>((m_state >> 33) % m_max);
}

const std::string& scratch_dir() {
    // Never freed: the exit handler that removes the directory runs after static
    // destructors registered later (the string's own would come first).
    static const std::string* dir = [] {
        std::string templ = (std::filesystem::temp_directory_path() / "tether-fuzz-XXXXXX").string();
        if (!mkdtemp(templ.data())) {
            std::perror("fuzz: mkdtemp");
            std::abort();
        }
        auto* made = new std::string(templ);
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(*dir, ec);
        });
        return made;
    }();
    return *dir;
}

namespace {
void quiet_sink(LogLevel, std::string_view message) {
    if (message.find("unexpected exception") != std::string_view::npos) {
        std::fprintf(stderr, "fuzz: %.*s\n", static_cast<int>(message.size()), message.data());
        std::abort();
    }
    if (std::getenv("TETHER_FUZZ_LOG"))
        std::fprintf(stderr, "log: %.*s\n", static_cast<int>(message.size()), message.data());
}
}  // namespace

void quiet_daemon_logs() { set_log_sink(&quiet_sink); }

}  // namespace tether::fuzz
