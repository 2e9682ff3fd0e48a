// TerminalSignalScanner, the one reader of titles, bells and notifications: alone, and fed
// beside a Screen (as the session and the screen follower see the same bytes).
#include "terminal/terminal_signals.h"

#include <doctest/doctest.h>

#include "terminal/screen_test_support.h"

using namespace tether;
using screen_test::at_every_split;
using screen_test::feed_both;
using screen_test::Recorder;

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

TEST_CASE("title comes from OSC 0 and OSC 2, ended by BEL or ST, even split") {
    for (std::string seq : {"\x1b]0;zero\x07", "\x1b]2;zero\x1b\\", "\x1b]0;zero\x1b\\", "\x1b]2;zero\x07"}) {
        INFO(seq.substr(1));
        at_every_split("a" + seq + "b", [](const Screen& s, const Recorder& rec) {
            CHECK(s.title() == "zero");
            REQUIRE(rec.titles.size() == 1);
            CHECK(rec.titles[0] == "zero");
            CHECK(rec.bells == 0);
            CHECK(s.text() == "ab");
        });
    }
}

TEST_CASE("BEL rings the bell, even between split sequences") {
    at_every_split("x\x07y\x1b[31m\x07", [](const Screen& s, const Recorder& rec) {
        CHECK(rec.bells == 2);
        CHECK(s.text() == "xy");
    });
}

TEST_CASE("OSC 9 and OSC 777 notify, even split") {
    at_every_split("\x1b]9;build done\x07", [](const Screen&, const Recorder& rec) {
        REQUIRE(rec.notifications.size() == 1);
        CHECK(rec.notifications[0] == "build done");
    });
    at_every_split("\x1b]777;notify;Claude;needs input; now\x1b\\",
                   [](const Screen&, const Recorder& rec) {
                       REQUIRE(rec.notifications.size() == 1);
                       CHECK(rec.notifications[0] == "Claude: needs input; now");
                   });
}

TEST_CASE("OSC 777 without a title passes the body; ConEmu OSC 9 commands are ignored") {
    Screen s(20, 3);
    Recorder rec;
    feed_both(s, rec, "\x1b]777;notify;;just body\x07\x1b]777;notify;only\x07\x1b]9;4;1;50\x07\x1b]9;\x07");
    CHECK(rec.notifications == std::vector<std::string>{"just body", "only"});
}

TEST_CASE("a notification longer than libvterm's small buffers arrives whole") {
    std::string body(4000, 'n');
    Screen s(20, 3);
    Recorder rec;
    feed_both(s, rec, "\x1b]9;" + body.substr(0, 1000));
    feed_both(s, rec, body.substr(1000) + "\x1b\\after");
    REQUIRE(rec.notifications.size() == 1);
    CHECK(rec.notifications[0] == body);
    CHECK(s.text() == "after");
}

TEST_CASE("an over-long OSC is dropped without swallowing the text after it") {
    Screen s(20, 3);
    Recorder rec;
    feed_both(s, rec, "\x1b]9;" + std::string(70000, 'x'));
    feed_both(s, rec, std::string(1000, 'x') + "\x07" + "after");
    CHECK(rec.notifications.empty());
    CHECK(s.text() == "after");
}

TEST_CASE("ConEmu's other numeric OSC 9 commands and empty messages are not notifications") {
    auto out = scan_everywhere("\x1b]9;9;/home/me\x07\x1b]9;1;500\x1b\\\x1b]777;notify;\x07\x1b]9;42 files\x07");
    REQUIRE(out.size() == 1);
    CHECK(out[0].text == "42 files");
}
