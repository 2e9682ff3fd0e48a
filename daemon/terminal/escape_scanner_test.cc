// EscapeScanner, through the Screen: sequences and UTF-8 split anywhere, the modes it
// tracks, what it drops or rewrites for libvterm 0.1.4.
#include "terminal/screen_test_support.h"

#include <doctest/doctest.h>

using namespace screen_test;

TEST_CASE("a CSI opened after ESC intermediates is tracked like libvterm parses it") {
    Screen s(25, 4);
    s.resize(33, 6);
    s.feed("\x1b$[3;5r");  // libvterm takes ESC $ [ as CSI: a scroll region
    CHECK(contains(s.render_screen(), "\x1b[3;5r"));
    s.feed("\x1b$[6r");  // top 6 = bottom 6: ignored
    s.resize(5, 1);       // found by fuzzing: a region below the screen made libvterm crash
    s.feed("'M7L\xf2L");
    CHECK(s.text() == "L");
}

TEST_CASE("bytes split inside UTF-8 characters and escapes are parsed as if whole") {
    std::string input = "e\xcc\x81 \xe6\xbc\xa2\x1b[1;38;2;10;20;30mX\x1b[0m\xf0\x9f\x98\x80y";
    Screen whole(20, 3);
    whole.feed(input);
    CHECK(whole.text() == "e\xcc\x81 \xe6\xbc\xa2X\xf0\x9f\x98\x80y");
    for (size_t cut = 0; cut <= input.size(); ++cut) {
        INFO("split at " << cut);
        Screen s(20, 3);
        s.feed(input.substr(0, cut));
        s.feed(input.substr(cut));
        check_same(whole, s);
    }
}

TEST_CASE("feeding one byte at a time gives the same screen, modes and title") {
    std::string input = "\x1b]0;t\x07\x1b[?2004h\x1b[?1h\x1b=\x1b[?1000;1006h\x1b[2;5r"
                        "\x1b[31mred\x1b[0m\r\n\xe6\xbc\xa2 e\xcc\x81\x1b[?25l\x1b[3;4H";
    Screen whole(20, 6);
    whole.feed(input);
    Screen bytes(20, 6);
    for (char c : input) bytes.feed(std::string(1, c));
    check_same(whole, bytes);
    CHECK(bytes.title() == "t");
    CHECK(bytes.render_screen() == whole.render_screen());
    CHECK(bytes.render_reset_modes() == whole.render_reset_modes());
}

TEST_CASE("modes set by the program are tracked, even split, and undone on detach") {
    std::string set = "\x1b[?2004h\x1b[?1h\x1b[?1000h\x1b[?1006h\x1b=";
    at_every_split(set, [](const Screen& s, const Recorder&) {
        std::string screen = s.render_screen();
        CHECK(contains(screen, "\x1b[?2004h"));
        CHECK(contains(screen, "\x1b[?1h"));
        CHECK(contains(screen, "\x1b[?1000h"));
        CHECK(contains(screen, "\x1b[?1006h"));
        CHECK(contains(screen, "\x1b="));
        std::string reset = s.render_reset_modes();
        CHECK(contains(reset, "\x1b[?2004l"));
        CHECK(contains(reset, "\x1b[?1l"));
        CHECK(contains(reset, "\x1b[?1000l"));
        CHECK(contains(reset, "\x1b[?1006l"));
        CHECK(contains(reset, "\x1b>"));
        CHECK(contains(reset, "\x1b[?25h"));
        CHECK_FALSE(contains(reset, "\x1b[?1004l"));
        CHECK_FALSE(contains(reset, "\x1b[?1049l"));
        CHECK(reset.substr(reset.size() - 4) == "\x1b[0m");
    });
}

TEST_CASE("soft reset (DECSTR) clears origin mode, scroll region and autowrap-off") {
    Screen s(10, 5);
    s.feed("\x1b[2;4r\x1b[?6h\x1b[?7l\x1b[?1h\x1b[3;3Hk\x1b[!p");
    CHECK(s.cursor_row() == 3);
    CHECK(s.cursor_col() == 3);
    s.feed("\x1b[1;1HX\x1b[5;1H0123456789AB");
    // Wrapped (autowrap on) and scrolled the whole screen (no region), so the X that
    // origin-free CUP 1;1 put in the top row went to history.
    CHECK(s.text() == "\n\n  k\n0123456789\nAB");
    CHECK(s.history_text() == "X");
    CHECK(s.render_reset_modes() == "\x1b[?25h\x1b[0m");
}

TEST_CASE("an OSC cut short by another escape or CAN is dropped, the rest is parsed") {
    Screen s(20, 3);
    Recorder rec;
    feed_both(s, rec, "\x1b]0;lost\x1b[31mred\x1b]2;cut\x18");
    feed_both(s, rec, "after");
    CHECK(s.text() == "redafter");
    CHECK(s.cell(0, 0).fg == "idx:1");
    CHECK(s.title().empty());
    CHECK(rec.titles.empty());
}

TEST_CASE("APC, PM and SOS strings are ignored, not printed") {
    at_every_split("a\x1b_Gf=100;AAAA\x1b\\b\x1b^pm\x07" "c\x1bXsos\x1b\\d", [](const Screen& s, const Recorder&) {
        CHECK(s.text() == "abcd");
    });
}

TEST_CASE("random program output fed in random chunks parses like whole") {
    for (unsigned seed = 1; seed <= 100; ++seed) {
        INFO("seed " << seed);
        OutputGenerator gen(seed, 12, 5, true);
        std::string input = gen.tokens(40, true) + "\x1b]0;title\x1b\\" + gen.tokens(40, true);
        Screen whole(12, 5);
        whole.feed(input);
        Screen chunked(12, 5);
        std::mt19937 rng(seed);
        for (size_t at = 0; at < input.size();) {
            size_t n = std::uniform_int_distribution<size_t>(1, 7)(rng);
            // libvterm 0.1.4 drops a combining char that arrives after its base was put in
            // the last column by an earlier write; that split is left out.
            while (at + n < input.size() && (input[at + n] == '\xcc' || input[at + n] == '\x81')) ++n;
            chunked.feed(input.substr(at, n));
            at += n;
        }
        check_same(whole, chunked);
        CHECK(chunked.title() == "title");
        CHECK(chunked.render_screen() == whole.render_screen());
    }
}
