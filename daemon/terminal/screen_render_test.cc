// Screen's redraws: the round-trip oracle (a fresh Screen fed another's render_screen()
// holds the same cells, cursor and modes), history and mode rendering, random output.
#include "terminal/screen_test_support.h"

#include <doctest/doctest.h>

using namespace screen_test;

TEST_CASE("round trip keeps 16-colour, bright and default colours") {
    check_round_trip("\x1b[31mred\x1b[42mongreen\x1b[39mdef\x1b[0m plain\r\n"
                     "\x1b[91mbright\x1b[103mbg\x1b[49m\x1b[97mwhite\x1b[m");
}

TEST_CASE("round trip keeps 256-colour and RGB colours") {
    check_round_trip("\x1b[38;5;196m256\x1b[48;5;22mbg\x1b[0m\r\n"
                     "\x1b[38;2;1;2;3mrgb\x1b[48;2;250;128;0mboth\x1b[38;5;3mx\x1b[0m");
}

TEST_CASE("round trip keeps bold, underline, italic, blink, reverse and strike") {
    check_round_trip("\x1b[1mB\x1b[22;4mU\x1b[21mD\x1b[4:3mC\x1b[24;3mI\x1b[23;5mK"
                     "\x1b[25;7mR\x1b[27;9mS\x1b[1;3;4;7;9;35;46mall\x1b[0mz");
}

TEST_CASE("round trip keeps erased cells that carry a pen") {
    check_round_trip("left\x1b[44m\x1b[K\x1b[0m\r\n\x1b[41m\x1b[3X\x1b[0m\x1b[5Cmid\r\nab\x1b[1;32m  \x1b[0mcd");
}

TEST_CASE("round trip keeps wide and combining characters") {
    check_round_trip("\xe6\xbc\xa2\xe5\xad\x97 e\xcc\x81 a\xcc\x88\xcc\x81 \x1b[31m\xe6\xbc\xa2\x1b[0m|");
    // A wide char that does not fit in the last column wraps to the next row.
    check_round_trip("123456789\xe6\xbc\xa2x", "", 10, 3);
}

TEST_CASE("round trip keeps the cursor position and visibility") {
    check_round_trip("abc\x1b[3;5H", "X");
    check_round_trip("abc\x1b[?25l\x1b[4;2H", "Y");
    Screen a(20, 6);
    a.feed("\x1b[?25l");
    CHECK_FALSE(a.cursor_visible());
}

TEST_CASE("round trip fills the last row and column without scrolling") {
    std::string full;
    for (int r = 0; r < 3; ++r) full += std::string(10, static_cast<char>('a' + r));
    check_round_trip(full, "", 10, 3);
    Screen a(10, 3);
    a.feed(full);
    Screen b(10, 3);
    b.feed(a.render_screen());
    CHECK(b.history_size() == 0);
    CHECK(b.text() == "aaaaaaaaaa\nbbbbbbbbbb\ncccccccccc");
}

TEST_CASE("round trip restores the program's pen for the output that follows") {
    check_round_trip("\x1b[1;4;38;5;200mhot", " more");
    check_round_trip("\x1b[48;2;9;8;7mx", "\x1b[K y");
}

TEST_CASE("round trip of the alternate screen keeps both screens") {
    std::string input = "\x1b[33mprimary\x1b[0m one\r\ntwo\x1b[2;2H" "\x1b[?1049h" "\x1b[44malt\x1b[0m screen\r\nline";
    check_round_trip(input, "+\x1b[?1049lafter");
    Screen a(20, 6);
    a.feed(input);
    CHECK(a.alt_screen());
    CHECK(a.text() == "\n alt screen\nline");  // entering does not move the cursor
    a.feed("\x1b[?1049l");
    CHECK_FALSE(a.alt_screen());
    CHECK(a.text() == "primary one\ntwo");
}

TEST_CASE("round trip keeps the scroll region and origin mode") {
    check_round_trip("top\x1b[2;4r\x1b[?6h\x1b[2;3Hx", "\x1b[1;1HQ\n\n\n\nW\x1b[?6l\x1b[6;1Hlast\n\n");
}

TEST_CASE("round trip keeps the DEC line-drawing charset the program selected") {
    check_round_trip("\x1b(0lqqk\x1b(Bab\x1b(0", "xqx\x1b(Bx");
    check_round_trip("\x1b)0a\x0eqq", "\x0fqq");
    Screen s(20, 3);
    s.feed("\x1b(0\x1b)0\x0e");
    std::string reset = s.render_reset_modes();
    CHECK(contains(reset, "\x1b(B"));
    CHECK(contains(reset, "\x1b)B"));
    CHECK(contains(reset, "\x0f"));
    s.feed("\x1b(B\x1b)B\x0f");
    CHECK(s.render_reset_modes() == "\x1b[?25h\x1b[0m");
}

TEST_CASE("round trip keeps autowrap off and insert mode") {
    check_round_trip("\x1b[?7lhello", "\x1b[1;18Hxyzzy");
    check_round_trip("abcdef\x1b[4h\x1b[1;2H", "ZZ");
}

TEST_CASE("render_history reproduces history lines with their colours") {
    std::string input;
    for (int i = 1; i <= 30; ++i)
        input += "\x1b[3" + std::to_string(i % 8) + "mline " + std::to_string(i) +
                 "\x1b[0m \x1b[1;48;5;" + std::to_string(i) + "mbold\x1b[0m \xe6\xbc\xa2\r\n";
    Screen a(24, 5);
    a.feed(input);
    REQUIRE(a.history_size() == 26);

    Screen direct(24, 40);  // tall enough that nothing scrolls
    direct.feed(input);
    Screen replay(24, 40);
    replay.feed(a.render_history(1000));
    for (int r = 0; r < 26; ++r) {
        INFO("row " << r);
        CHECK(dump_row(replay, r) == dump_row(direct, r));
    }
    CHECK(replay.text() == a.history_text());

    Screen newest(24, 40);
    newest.feed(a.render_history(3));
    CHECK(newest.text() == "line 24 bold \xe6\xbc\xa2\nline 25 bold \xe6\xbc\xa2\nline 26 bold \xe6\xbc\xa2");
}

TEST_CASE("render_history keeps the last char of a full-width line") {
    Screen a(10, 2);
    a.feed("0123456789\r\n\x1b[31mabcdefghij\x1b[0m\r\nx\r\n");
    REQUIRE(a.history_size() == 2);
    Screen replay(10, 5);
    replay.feed("old junk on the line");
    replay.feed("\x1b[H" + a.render_history(10));
    CHECK(replay.text() == "0123456789\nabcdefghij");
    CHECK(replay.cell(1, 9).fg == "idx:1");
}

TEST_CASE("render_reset_modes undoes only what is still set") {
    Screen s(20, 5);
    CHECK(s.render_reset_modes() == "\x1b[?25h\x1b[0m");
    s.feed("\x1b[?2004h\x1b[?1004h\x1b[?1002h\x1b[?2004l\x1b[?1000l\x1b[?1049h");
    std::string reset = s.render_reset_modes();
    CHECK_FALSE(contains(reset, "2004"));
    CHECK_FALSE(contains(reset, "\x1b[?1002l"));  // any mouse reset ends tracking (xterm)
    CHECK(contains(reset, "\x1b[?1004l"));
    CHECK(contains(reset, "\x1b[?1049l"));
    CHECK(s.render_screen().find("\x1b[?1004h") != std::string::npos);
}

TEST_CASE("render_reset_modes puts the cursor back after resetting a scroll region") {
    Screen s(20, 6);
    s.feed("\x1b[2;4r\x1b[3;7H");
    std::string reset = s.render_reset_modes();
    CHECK(contains(reset, "\x1b[r\x1b[3;7H"));
}

TEST_CASE("the cursor visibility saved on entering the alternate screen comes back") {
    check_round_trip("hidden\x1b[?25l\x1b[?1049h\x1b[?25halt", "\x1b[?1049l");
    Screen a(20, 6);
    a.feed("hidden\x1b[?25l\x1b[?1049h\x1b[?25halt\x1b[?1049l");
    CHECK_FALSE(a.cursor_visible());
}

TEST_CASE("the pen saved on entering the alternate screen comes back") {
    check_round_trip("\x1b[32;1mgreen\x1b[0m plain\x1b[35m\x1b[?1049h\x1b[0;44malt", "\x1b[?1049lX");
}

TEST_CASE("the cursor saved with DECSC comes back after a redraw") {
    check_round_trip("ab\x1b[31m\x1b" "7\x1b[0m\x1b[4;6Hcd", "\x1b" "8X");
    check_round_trip("ab\x1b[?1049h\x1b[3;3H\x1b[32m\x1b" "7\x1b[0mx", "\x1b[?1049lY");
    check_round_trip("\x1b[2;2H\x1b[?1049h\x1b[3;3H\x1b[?1049h\x1b[5;5H", "\x1b[?1049lZ");
}

TEST_CASE("round trip holds for random program output") {
    for (unsigned seed = 1; seed <= 300; ++seed) {
        INFO("seed " << seed);
        int cols = 8 + static_cast<int>(seed % 13);
        int rows = 3 + static_cast<int>(seed % 5);
        OutputGenerator gen(seed, cols, rows, seed % 2 == 0);
        std::string input = gen.tokens(60, true);
        std::string then = gen.tokens(30, true);
        check_round_trip(input, "\r" + then, cols, rows);
    }
}

TEST_CASE("round trip holds for random program output with resizes in between") {
    for (unsigned seed = 1; seed <= 200; ++seed) {
        INFO("seed " << seed);
        std::mt19937 rng(seed);
        OutputGenerator gen(seed, 12, 6, seed % 2 == 0);
        Screen a(12, 6);
        for (int part = 0; part < 4; ++part) {
            a.feed(gen.tokens(20, true));
            int cols = 4 + static_cast<int>(rng() % 16);
            a.resize(cols, 2 + static_cast<int>(rng() % 8));
        }
        Screen b(a.cols(), a.rows());
        b.feed(a.render_screen());
        check_same(a, b);
        std::string then = "\r" + gen.tokens(20, true);
        a.feed(then);
        b.feed(then);
        check_same(a, b);
    }
}

TEST_CASE("arbitrary bytes, chunks and resizes never break the screen") {
    std::mt19937 rng(7);
    const std::string alphabet = "\x1b[]?;0123456789hlmrHJKXP@\x07\x18\\_P^X\r\n\xcc\x81\xe6\xbc\xa2\xff\xc3";
    for (int round = 0; round < 200; ++round) {
        int cols = 1 + static_cast<int>(rng() % 30);
        int rows = 1 + static_cast<int>(rng() % 10);
        Screen s(cols, rows, rng() % 50);
        for (int chunk = 0; chunk < 20; ++chunk) {
            std::string bytes;
            for (int n = static_cast<int>(rng() % 64); n > 0; --n)
                bytes += rng() % 4 ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng() % 256);
            s.feed(bytes);
            if (rng() % 8 == 0) {
                cols = 1 + static_cast<int>(rng() % 30);
                s.resize(cols, 1 + static_cast<int>(rng() % 10));
            }
        }
        Screen b(s.cols(), s.rows());
        b.feed(s.render_screen());
        b.feed(s.render_history(100));
        b.feed(s.render_reset_modes());
        CHECK(b.rows() == s.rows());
        CHECK(s.cursor_row() < s.rows());
        CHECK(s.cursor_col() < s.cols());
        (void)s.text();
        (void)s.history_text();
        (void)s.take_replies();
    }
}
