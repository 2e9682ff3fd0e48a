// Asciicast v2 encoding.
#include "recordings/asciicast.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace tether {

namespace {

std::string json_text(std::string_view s) {
    // replace: invalid UTF-8 becomes U+FFFD instead of throwing.
    return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// How many bytes a UTF-8 lead byte announces; 0 for a byte that cannot lead.
int utf8_length(unsigned char c) {
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return 2;
    if (c >= 0xE0 && c <= 0xEF) return 3;
    if (c >= 0xF0 && c <= 0xF4) return 4;
    return 0;
}

}  // namespace

size_t utf8_complete_prefix(std::string_view bytes) {
    // Look back at most 3 bytes for the lead of an unfinished character.
    size_t n = bytes.size();
    for (size_t back = 1; back <= std::min<size_t>(3, n); ++back) {
        auto c = static_cast<unsigned char>(bytes[n - back]);
        if ((c & 0xC0) == 0x80) continue;  // a continuation byte: keep looking
        int len = utf8_length(c);
        return len > static_cast<int>(back) ? n - back : n;
    }
    return n;
}

std::string AsciicastEncoder::header(const AsciicastHeader& h) {
    nlohmann::json j{{"version", 2},
                     {"width", h.cols},
                     {"height", h.rows},
                     {"timestamp", h.start_us / 1000000},
                     {"env", {{"TERM", "xterm-256color"}}}};
    if (!h.title.empty()) j["title"] = h.title;
    if (!h.command.empty()) j["command"] = h.command;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string AsciicastEncoder::line(int64_t time_us, const char* type, std::string_view data) {
    m_last_us = std::max(m_last_us, time_us);
    char t[48];
    int64_t rel = std::max<int64_t>(0, time_us - m_start_us);
    std::snprintf(t, sizeof t, "[%lld.%06lld, \"%s\", ", static_cast<long long>(rel / 1000000),
                  static_cast<long long>(rel % 1000000), type);
    return t + json_text(data) + "]\n";
}

std::string AsciicastEncoder::output(int64_t time_us, std::string_view bytes) {
    std::string data = std::move(m_carry);
    m_carry.clear();
    data.append(bytes);
    size_t whole = utf8_complete_prefix(data);
    m_carry = data.substr(whole);
    data.resize(whole);
    if (data.empty()) {
        m_last_us = std::max(m_last_us, time_us);
        return {};
    }
    return line(time_us, "o", data);
}

std::string AsciicastEncoder::resize(int64_t time_us, int cols, int rows) {
    return line(time_us, "r", std::to_string(cols) + "x" + std::to_string(rows));
}

std::string AsciicastEncoder::marker(int64_t time_us, std::string_view label) { return line(time_us, "m", label); }

std::string AsciicastEncoder::finish() {
    if (m_carry.empty()) return {};
    std::string rest = std::exchange(m_carry, {});
    return line(m_last_us, "o", rest);
}

}  // namespace tether
