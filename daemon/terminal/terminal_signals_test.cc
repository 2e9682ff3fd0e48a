#include "terminal/terminal_signals.h"

#include <doctest/doctest.h>

using namespace tether;

namespace {

std::vector<TerminalSignal> scan_split(const std::string& bytes, size_t split) {
    TerminalSignalScanner s;
    std::vector<TerminalSignal> out;
    s.scan(std::string_view(bytes).substr(0, split), out);
    s.scan(std::string_view(bytes).substr(split), out);
    return out;
}

// Scans bytes split at every point and checks the result never depends on the split.
std::vector<TerminalSignal> scan_everywhere(const std::string& bytes) {
    auto whole = scan_split(bytes, bytes.size());
    for (size_t i = 0; i <= bytes.size(); ++i) {
        INFO("split at " << i);
        CHECK(scan_split(bytes, i) == whole);
    }
    return whole;
}

}  // namespace

TEST_CASE("titles from OSC 0 and OSC 2, terminated by BEL or ST") {
    auto out = scan_everywhere("a\x1b]0;\xe2\x9c\xb3 Claude Code\x07" "b\x1b]2;second\x1b\\c");
    REQUIRE(out.size() == 2);
    CHECK(out[0] == TerminalSignal{TerminalSignal::Title, "\xe2\x9c\xb3 Claude Code"});
    CHECK(out[1] == TerminalSignal{TerminalSignal::Title, "second"});
}

TEST_CASE("a BEL outside strings is a bell; a BEL ending an OSC is not") {
    auto out = scan_everywhere("x\x07y\x1b]0;t\x07z\x07");
    REQUIRE(out.size() == 3);
    CHECK(out[0].kind == TerminalSignal::Bell);
    CHECK(out[1].kind == TerminalSignal::Title);
    CHECK(out[2].kind == TerminalSignal::Bell);
}

TEST_CASE("OSC 9 and OSC 777 notifications; ConEmu progress is ignored") {
    auto out = scan_everywhere("\x1b]9;Claude needs your permission\x07\x1b]9;4;1;50\x07"
                               "\x1b]777;notify;Claude Code;Waiting for input\x1b\\");
    REQUIRE(out.size() == 2);
    CHECK(out[0] == TerminalSignal{TerminalSignal::Notification, "Claude needs your permission"});
    CHECK(out[1] == TerminalSignal{TerminalSignal::Notification, "Claude Code: Waiting for input"});
}

TEST_CASE("BEL bytes inside DCS and APC strings are not bells") {
    auto out = scan_everywhere("\x1bPq\x07\x07\x1b\\\x1b_G\x07\x1b\\");
    CHECK(out.empty());
}

TEST_CASE("an overlong OSC is dropped and the scanner recovers") {
    std::string big = "\x1b]0;" + std::string(TerminalSignalScanner::k_max_osc + 10, 'x') + "\x07";
    TerminalSignalScanner s;
    std::vector<TerminalSignal> out;
    s.scan(big + "\x1b]2;ok\x07", out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].text == "ok");
}

TEST_CASE("an OSC cut short by another escape is dropped") {
    auto out = scan_everywhere("\x1b]0;half\x1b[31mred\x1b]2;whole\x07");
    REQUIRE(out.size() == 1);
    CHECK(out[0].text == "whole");
}
