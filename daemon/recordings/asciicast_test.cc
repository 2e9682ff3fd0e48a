#include "recordings/asciicast.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

using namespace tether;

namespace {

// The "o" data of every line, concatenated: what `asciinema cat` prints.
std::string played(const std::string& lines) {
    std::string out;
    size_t pos = 0, nl;
    while ((nl = lines.find('\n', pos)) != std::string::npos) {
        auto j = nlohmann::json::parse(lines.substr(pos, nl - pos));
        if (j[1] == "o") out += j[2].get<std::string>();
        pos = nl + 1;
    }
    return out;
}

}  // namespace

TEST_CASE("asciicast output lines carry seconds since the start and the bytes as JSON text") {
    AsciicastEncoder enc(1'000'000);
    std::string line = enc.output(2'500'000, "a\x1b[31m\"b\"\r\n");
    CHECK(line == "[1.500000, \"o\", \"a\\u001b[31m\\\"b\\\"\\r\\n\"]\n");
}

TEST_CASE("a UTF-8 character split across chunks is written whole with the next chunk") {
    AsciicastEncoder enc(0);
    std::string check = "\xe2\x9c\x93";  // U+2713
    std::string lines = enc.output(1, "ok " + check.substr(0, 1));
    lines += enc.output(2, check.substr(1, 1));
    lines += enc.output(3, check.substr(2) + "!");
    lines += enc.finish();
    CHECK(played(lines) == "ok " + check + "!");
    CHECK(lines.find("\\ufffd") == std::string::npos);
}

TEST_CASE("bytes that are not UTF-8 become U+FFFD and the rest is kept") {
    AsciicastEncoder enc(0);
    std::string lines = enc.output(1, "a\xff" "b") + enc.finish();
    CHECK(played(lines) == "a\xef\xbf\xbd" "b");
}

TEST_CASE("a partial character left at the end is flushed as U+FFFD") {
    AsciicastEncoder enc(0);
    std::string lines = enc.output(5, "x\xe2\x9c");
    CHECK(played(lines) == "x");
    CHECK(played(enc.finish()) == "\xef\xbf\xbd");
}

TEST_CASE("utf8_complete_prefix stops before an unfinished character only") {
    CHECK(utf8_complete_prefix("abc") == 3);
    CHECK(utf8_complete_prefix("ab\xe2\x9c") == 2);
    CHECK(utf8_complete_prefix("ab\xe2\x9c\x93") == 5);
    CHECK(utf8_complete_prefix("\xf0\x9f\x98") == 0);
    CHECK(utf8_complete_prefix("a\x80\x80\x80\x80") == 5);  // stray continuations: not ours to hold
}

TEST_CASE("the asciicast header names size, start, title and command; resizes and markers are events") {
    auto h = nlohmann::json::parse(AsciicastEncoder::header({.cols = 120, .rows = 40, .start_us = 1'700'000'000'250'000,
                                                             .title = "job", .command = "claude"}));
    CHECK(h["version"] == 2);
    CHECK(h["width"] == 120);
    CHECK(h["height"] == 40);
    CHECK(h["timestamp"] == 1'700'000'000);
    CHECK(h["title"] == "job");
    AsciicastEncoder enc(0);
    CHECK(enc.resize(1'000'000, 100, 30) == "[1.000000, \"r\", \"100x30\"]\n");
    CHECK(enc.marker(2'000'000, "needs_permission") == "[2.000000, \"m\", \"needs_permission\"]\n");
}
