// Fuzz target `asciicast`: a recording's events (output chunks cut anywhere, resizes,
// markers, titles for the header) through the asciicast v2 encoder, as `tether export`
// writes them. Checks: every line is JSON of the v2 shape, times never go back, and
// when the output is UTF-8 the concatenated "o" data is exactly the recorded bytes.
// Input: header title (to the first 0x1e), then operations: a selector byte, a time
// step byte, operands.
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "fuzz_target.h"
#include "recordings/asciicast.h"

using namespace tether;

namespace {

// nlohmann's strict dump throws on anything that is not UTF-8.
bool valid_utf8(std::string_view s) {
    try {
        (void)nlohmann::json(std::string(s)).dump();
        return true;
    } catch (const nlohmann::json::exception&) {
        return false;
    }
}

double check_line(const std::string& line, double last, std::string& output) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    FUZZ_CHECK(j.is_array() && j.size() == 3, line);
    FUZZ_CHECK(j[0].is_number() && j[1].is_string() && j[2].is_string(), line);
    double t = j[0].get<double>();
    FUZZ_CHECK(t >= last, "times never go back: " + line);
    std::string type = j[1].get<std::string>();
    FUZZ_CHECK(type == "o" || type == "r" || type == "m", line);
    if (type == "o") output += j[2].get<std::string>();
    return t;
}

}  // namespace

TETHER_FUZZ_TARGET(asciicast) {
    fuzz::FuzzInput in(data, size);
    int64_t start = 1'767'225'600'000'000, now = start;
    AsciicastHeader h{.cols = 80, .rows = 24, .start_us = start, .title = std::string(in.until("\x1e")), .command = "claude"};
    std::string header = AsciicastEncoder::header(h);
    FUZZ_CHECK(!header.empty() && header.back() == '\n', header);
    auto hj = nlohmann::json::parse(header, nullptr, false);
    FUZZ_CHECK(hj.is_object() && hj.value("version", 0) == 2, header);

    AsciicastEncoder enc(start);
    std::string lines, recorded;
    while (!in.empty()) {
        uint8_t op = in.byte();
        now += int64_t{in.byte()} * 37'000;
        if (op < 220) {
            std::string_view bytes = in.take(static_cast<size_t>(in.byte()) + 1);
            recorded += bytes;
            lines += enc.output(now, bytes);
        } else if (op < 240) {
            lines += enc.resize(now, in.range(1, 500), in.range(1, 200));
        } else {
            lines += enc.marker(now, in.take(in.byte()));
        }
    }
    lines += enc.finish();
    std::string output;
    double last = 0;
    size_t pos = 0;
    while (pos < lines.size()) {
        size_t end = lines.find('\n', pos);
        FUZZ_CHECK(end != std::string::npos, "every line ends in a newline");
        last = check_line(lines.substr(pos, end - pos), last, output);
        pos = end + 1;
    }
    if (valid_utf8(recorded)) FUZZ_CHECK(output == recorded, "UTF-8 output comes back byte for byte");
    return 0;
}
