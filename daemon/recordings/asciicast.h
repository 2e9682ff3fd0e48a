// Asciicast v2 (asciinema's recording format): a JSON header line, then one JSON array
// per event: [seconds since start, "o"|"r"|"m", data]. The encoder is pure: it turns
// output bytes, resizes and markers into lines; reading the log is the caller's job.
//
// Output is text in JSON, so bytes must be UTF-8: a character split across two chunks
// is carried over and written whole with the next chunk (the concatenated "o" data
// equals the recorded bytes exactly for UTF-8 output); bytes that are not UTF-8 become
// U+FFFD, the known limit of the format (asciinema's own recorder does the same).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tether {

struct AsciicastHeader {
    int cols = 80;
    int rows = 24;
    int64_t start_us = 0;  // the recording's time origin
    std::string title;
    std::string command;
};

class AsciicastEncoder {
public:
    explicit AsciicastEncoder(int64_t start_us) : m_start_us(start_us) {}

    static std::string header(const AsciicastHeader& h);
    // Each returns zero or more complete lines ("\n"-terminated).
    std::string output(int64_t time_us, std::string_view bytes);
    std::string resize(int64_t time_us, int cols, int rows);
    std::string marker(int64_t time_us, std::string_view label);
    // Writes a held-back partial character (as U+FFFD) at the last time seen.
    std::string finish();

private:
    std::string line(int64_t time_us, const char* type, std::string_view data);

    int64_t m_start_us;
    int64_t m_last_us = 0;
    std::string m_carry;  // the start of a UTF-8 character cut by a chunk boundary
};

// Length of the longest prefix of bytes that does not end inside a UTF-8 character
// that could still be completed by more bytes.
size_t utf8_complete_prefix(std::string_view bytes);

}  // namespace tether
