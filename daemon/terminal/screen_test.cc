// Screen: golden text dumps, and the round-trip oracle: a fresh Screen fed another's
// render_screen() must hold the same cells, cursor and modes.
#include "terminal/screen.h"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

using tether::Screen;
using tether::ScreenCell;
using tether::ScreenSignals;

namespace {

std::string dump_row(const Screen& s, int row) {
    std::string out;
    for (int col = 0; col < s.cols(); ++col) {
        ScreenCell c = s.cell(row, col);
        out += "[" + c.chars + "|" + std::to_string(c.width) + "|" + c.fg + "|" + c.bg + "|" +
               (c.bold ? "b" : "") + (c.italic ? "i" : "") + (c.blink ? "k" : "") +
               (c.reverse ? "r" : "") + (c.strike ? "s" : "") + "u" + std::to_string(c.underline) +
               "f" + std::to_string(c.font) + "]";
    }
    return out;
}

void check_same(const Screen& a, const Screen& b) {
    REQUIRE(a.cols() == b.cols());
    REQUIRE(a.rows() == b.rows());
    for (int r = 0; r < a.rows(); ++r) {
        INFO("row " << r);
        CHECK(dump_row(a, r) == dump_row(b, r));
    }
    CHECK(a.cursor_row() == b.cursor_row());
    CHECK(a.cursor_col() == b.cursor_col());
    CHECK(a.cursor_visible() == b.cursor_visible());
    CHECK(a.alt_screen() == b.alt_screen());
}

// Feeds `input` to A, A's redraw to B, checks them equal, then feeds both `then` (which
// exercises the modes, pen and cursor the redraw had to restore) and checks again.
std::string escaped(const std::string& bytes) {
    std::string out;
    for (unsigned char c : bytes) {
        if (c == 0x1b)
            out += "\\e";
        else if (c < 0x20)
            out += "^" + std::string(1, static_cast<char>(c + 64));
        else
            out += static_cast<char>(c);
    }
    return out;
}

void check_round_trip(const std::string& input, const std::string& then = "", int cols = 20,
                      int rows = 6) {
    INFO("input: " << escaped(input));
    INFO("then: " << escaped(then));
    Screen a(cols, rows);
    a.feed(input);
    Screen b(cols, rows);
    b.feed(a.render_screen());
    INFO("render: " << escaped(a.render_screen()));
    check_same(a, b);
    if (then.empty()) return;
    a.feed(then);
    b.feed(then);
    INFO("after feeding both the same continuation");
    check_same(a, b);
}

std::string numbered_lines(int from, int to) {
    std::string s;
    for (int i = from; i <= to; ++i) s += std::to_string(i) + "\r\n";
    return s;
}

std::string lines_text(int from, int to) {
    std::string s;
    for (int i = from; i <= to; ++i) s += (i > from ? "\n" : "") + std::to_string(i);
    return s;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

struct Recorder {
    std::vector<std::string> titles;
    std::vector<std::string> notifications;
    int bells = 0;

    ScreenSignals signals() {
        ScreenSignals s;
        s.on_title = [this](const std::string& t) { titles.push_back(t); };
        s.on_bell = [this] { ++bells; };
        s.on_notification = [this](const std::string& m) { notifications.push_back(m); };
        return s;
    }
};

// Runs `check` on a fresh Screen fed `bytes` whole, then split in two at every offset.
template <typename Check>
void at_every_split(const std::string& bytes, Check check) {
    for (size_t cut = 0; cut <= bytes.size(); ++cut) {
        INFO("split at " << cut);
        Screen s(40, 5);
        Recorder rec;
        s.set_signals(rec.signals());
        s.feed(bytes.substr(0, cut));
        s.feed(bytes.substr(cut));
        check(s, rec);
    }
}

// Random program output from the sequences agents and TUIs use (text, wide and combining
// chars, SGR, cursor motion, erase, insert/delete, scroll regions, modes, alt screen).
// Origin mode is left out: DECRC can put the cursor where origin-mode CUP cannot reach.
class OutputGenerator {
public:
    // libvterm lets ICH and insert mode split wide chars, which no terminal can redraw, so
    // a run has either wide chars or those.
    OutputGenerator(unsigned seed, int cols, int rows, bool wide_chars)
        : m_rng(seed), m_cols(cols), m_rows(rows), m_wide(wide_chars) {}

    std::string tokens(int count, bool allow_restore) {
        std::string out;
        for (int i = 0; i < count; ++i) out += token(allow_restore);
        return out;
    }

private:
    int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(m_rng); }
    std::string num(int lo, int hi) { return std::to_string(lo + pick(hi - lo + 1)); }

    std::string sgr() {
        static const char* const k_codes[] = {"0", "1", "22", "3", "23", "4", "21", "4:3", "24", "5",
                                              "25", "7", "27", "9", "29", "31", "42", "91", "104",
                                              "39", "49", "11", "10"};
        switch (pick(5)) {
        case 0: return "38;5;" + num(0, 255);
        case 1: return "48;5;" + num(0, 255);
        case 2: return "38;2;" + num(0, 255) + ";" + num(0, 255) + ";" + num(0, 255);
        case 3: return "48;2;" + num(0, 255) + ";" + num(0, 255) + ";" + num(0, 255);
        default: return k_codes[pick(static_cast<int>(std::size(k_codes)))];
        }
    }

    std::string token(bool allow_restore) {
        std::string t = any_token(allow_restore);
        bool is_wide = t.find("\xe6") != std::string::npos;
        bool splits_wide = t == "\x1b[4h" || (t.size() > 2 && t.back() == '@');
        return (m_wide ? splits_wide : is_wide) ? "z" : t;
    }

    std::string any_token(bool allow_restore) {
        static const char* const k_fixed[] = {
            "\r\n", "\r", "\n", "\t", "\b", "\xe6\xbc\xa2", "e\xcc\x81", "\xc3\xa4", " ",
            "\x1b[K", "\x1b[1K", "\x1b[2K", "\x1b[J", "\x1b[1J", "\x1b[2J", "\x1b[?25l",
            "\x1b[?25h", "\x1b[?1049h", "\x1b[?1049l", "\x1b[?7l", "\x1b[?7h", "\x1b[r",
            "\x1b[4h", "\x1b[4l", "\x1b" "M", "\x1b" "D", "\x1b" "E", "\x1b" "7",
            "\x1b[?2004h", "\x1b[?1002h", "\x1b[?1000l", "\x1b[?1006h", "\x1b=", "\x1b>",
            "\x1b(0", "\x1b(B", "\x1b)0", "\x0e", "\x0f", "lqqk"};
        switch (pick(12)) {
        case 0: case 1: case 2: {
            std::string word;
            for (int n = 1 + pick(14); n > 0; --n) word += static_cast<char>('a' + pick(26));
            return word;
        }
        case 3: case 4: return "\x1b[" + sgr() + ";" + sgr() + "m";
        case 5: return "\x1b[" + num(1, m_rows + 1) + ";" + num(1, m_cols + 1) + "H";
        case 6: return "\x1b[" + num(1, 4) + "XCDAB@PLM"[pick(9)];
        case 7: return "\x1b[" + num(1, m_rows) + ";" + num(1, m_rows) + "r";
        case 8: return allow_restore ? "\x1b" "8" : "\x1b" "7";
        default: return k_fixed[pick(static_cast<int>(std::size(k_fixed)))];
        }
    }

    std::mt19937 m_rng;
    int m_cols, m_rows;
    bool m_wide;
};

}  // namespace

TEST_CASE("plain text lands on the screen and wraps at the right margin") {
    Screen s(10, 4);
    s.feed("hello world, wrapped");
    CHECK(s.text() == "hello worl\nd, wrapped");
    CHECK(s.cursor_row() == 1);
    CHECK(s.cols() == 10);
    CHECK(s.rows() == 4);
}

TEST_CASE("a one-column screen becomes two: libvterm overruns the row with a wide char") {
    Screen s(1, 3);
    CHECK(s.cols() == 2);
    s.feed("\xe6\xbc\xa2\xe6\xbc\xa2");
    s.resize(0, 0);
    CHECK(s.cols() == 2);
    CHECK(s.rows() == 1);
    CHECK(s.text() == "\xe6\xbc\xa2");
}

TEST_CASE("carriage return overwrites from the start of the line") {
    Screen s(10, 3);
    s.feed("abc\rX");
    CHECK(s.text() == "Xbc");
}

TEST_CASE("text trims trailing blanks per row and drops trailing empty rows") {
    Screen s(10, 5);
    s.feed("a   \r\n\r\nb  \r\n   ");
    CHECK(s.text() == "a\n\nb");
}

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

TEST_CASE("history keeps lines scrolled off the primary screen, oldest first") {
    Screen s(20, 10);
    s.feed(numbered_lines(1, 100));
    CHECK(s.history_size() == 91);
    CHECK(s.history_text() == lines_text(1, 91));
    CHECK(s.text() == lines_text(92, 100));
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

TEST_CASE("history is bounded by its line count") {
    Screen s(10, 5, 20);
    s.feed(numbered_lines(1, 100));
    CHECK(s.history_size() == 20);
    CHECK(s.history_text() == lines_text(77, 96));
}

TEST_CASE("history is bounded by its memory size, newest lines kept") {
    Screen s(10, 5, 10000, 4000);
    s.feed(numbered_lines(1, 500));
    CHECK(s.history_size() > 5);
    CHECK(s.history_size() < 200);
    std::string text = s.history_text();
    CHECK(text.substr(text.size() - 4) == "\n496");
}

TEST_CASE("a screen without history keeps none") {
    Screen s(10, 5, 0);
    s.feed(numbered_lines(1, 50));
    CHECK(s.history_size() == 0);
    CHECK(s.render_history(10).empty());
}

TEST_CASE("alternate screen output does not enter history") {
    Screen s(10, 5);
    s.feed(numbered_lines(1, 7));
    size_t before = s.history_size();
    s.feed("\x1b[?1049h" + numbered_lines(100, 150));
    CHECK(s.history_size() == before);
    s.feed("\x1b[?1049l");
    CHECK(s.text() == lines_text(4, 7));
}

TEST_CASE("resize keeps the content and brings lines back from history") {
    Screen s(20, 5);
    s.feed("\x1b[32mgreen 1\x1b[0m\r\n" + numbered_lines(2, 8) + "end");
    CHECK(s.history_size() == 4);
    CHECK(s.text() == lines_text(5, 8) + "\nend");

    s.resize(30, 5);
    CHECK(s.cols() == 30);
    CHECK(s.text() == lines_text(5, 8) + "\nend");

    s.resize(30, 9);  // grows: libvterm pulls the four history lines back
    CHECK(s.history_size() == 0);
    CHECK(s.text() == "green 1\n" + lines_text(2, 8) + "\nend");
    CHECK(s.cell(0, 0).fg == "idx:2");
    CHECK(s.cell(0, 0).chars == "g");

    s.resize(10, 3);
    CHECK(s.text() == "7\n8\nend");
    CHECK(s.history_size() == 6);
    CHECK(s.history_text() == "green 1\n" + lines_text(2, 6));
}

TEST_CASE("shrinking keeps the cursor and the saved cursor on the screen") {
    // libvterm 0.1.4 moves the cursor to row -1 here, and the next erase writes out of
    // bounds (ASan catches it).
    Screen s(20, 11);
    s.feed("\x1b[11;1Hbottom\x1b[10;15H\x1b" "7\x1b[1;1H");
    s.resize(10, 6);
    CHECK(s.cursor_row() == 0);
    CHECK(s.cursor_col() == 0);
    s.feed("\x1b[X\x1b" "8\x1b[Xz");
    CHECK(s.cursor_row() == 5);
    CHECK(s.cursor_col() == 9);  // z put at the clamped saved position
    CHECK(s.cell(5, 9).chars == "z");
}

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

TEST_CASE("wide characters survive a trip through history and back") {
    Screen s(10, 2);
    s.feed("\xe6\xbc\xa2\xe5\xad\x97 e\xcc\x81\r\nb\r\nc");
    CHECK(s.history_text() == "\xe6\xbc\xa2\xe5\xad\x97 e\xcc\x81");
    s.resize(10, 3);
    CHECK(s.cell(0, 0).chars == "\xe6\xbc\xa2");
    CHECK(s.cell(0, 0).width == 2);
    CHECK(s.cell(0, 1).width == 0);
    CHECK(s.cell(0, 5).chars == "e\xcc\x81");
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
    s.set_signals(rec.signals());
    s.feed("\x1b]777;notify;;just body\x07\x1b]777;notify;only\x07\x1b]9;4;1;50\x07\x1b]9;\x07");
    CHECK(rec.notifications == std::vector<std::string>{"just body", "only"});
}

TEST_CASE("a notification longer than libvterm's small buffers arrives whole") {
    std::string body(4000, 'n');
    Screen s(20, 3);
    Recorder rec;
    s.set_signals(rec.signals());
    s.feed("\x1b]9;" + body.substr(0, 1000));
    s.feed(body.substr(1000) + "\x1b\\after");
    REQUIRE(rec.notifications.size() == 1);
    CHECK(rec.notifications[0] == body);
    CHECK(s.text() == "after");
}

TEST_CASE("an over-long OSC is dropped without swallowing the text after it") {
    Screen s(20, 3);
    Recorder rec;
    s.set_signals(rec.signals());
    s.feed("\x1b]9;" + std::string(70000, 'x'));
    s.feed(std::string(1000, 'x') + "\x07" + "after");
    CHECK(rec.notifications.empty());
    CHECK(s.text() == "after");
}

TEST_CASE("a callback may feed the screen again") {
    Screen s(20, 3);
    ScreenSignals sig;
    sig.on_bell = [&s] { s.feed("rang"); };
    s.set_signals(sig);
    s.feed("a\x07");
    CHECK(s.text() == "arang");
}

TEST_CASE("a throwing callback does not escape feed") {
    Screen s(20, 3);
    ScreenSignals sig;
    sig.on_title = [](const std::string&) { throw std::runtime_error("boom"); };
    s.set_signals(sig);
    CHECK_NOTHROW(s.feed("\x1b]2;t\x07x"));
    CHECK(s.title() == "t");
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

TEST_CASE("terminal queries are answered through take_replies") {
    Screen s(20, 5);
    s.feed("\x1b[c\x1b[6n");
    std::string replies = s.take_replies();
    CHECK(replies.substr(0, 3) == "\x1b[?");
    CHECK(contains(replies, "\x1b[1;1R"));
    CHECK(s.take_replies().empty());
}

TEST_CASE("render_attach writes history, pushes the user's screen up, then redraws") {
    Screen a(20, 4);
    a.feed(numbered_lines(1, 10) + "tail");
    std::string attach = a.render_attach(100);
    Screen user(20, 4, 1000);
    user.feed("$ tether attach\r\n");
    user.feed(attach);
    CHECK(user.text() == a.text());
    // The blank line the user's cursor sat on goes up too.
    CHECK(user.history_text() == "$ tether attach\n" + lines_text(1, 7) + "\n");
}

TEST_CASE("an OSC cut short by another escape or CAN is dropped, the rest is parsed") {
    Screen s(20, 3);
    Recorder rec;
    s.set_signals(rec.signals());
    s.feed("\x1b]0;lost\x1b[31mred\x1b]2;cut\x18");
    s.feed("after");
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

TEST_CASE("the cursor visibility saved on entering the alternate screen comes back") {
    check_round_trip("hidden\x1b[?25l\x1b[?1049h\x1b[?25halt", "\x1b[?1049l");
    Screen a(20, 6);
    a.feed("hidden\x1b[?25l\x1b[?1049h\x1b[?25halt\x1b[?1049l");
    CHECK_FALSE(a.cursor_visible());
}

TEST_CASE("the pen saved on entering the alternate screen comes back") {
    check_round_trip("\x1b[32;1mgreen\x1b[0m plain\x1b[35m\x1b[?1049h\x1b[0;44malt", "\x1b[?1049lX");
}

TEST_CASE("a scroll region that no longer fits after a resize is forgotten") {
    Screen s(20, 10);
    s.feed("\x1b[2;8r");
    CHECK(s.render_screen().find("\x1b[2;8r") != std::string::npos);
    s.resize(20, 5);
    CHECK(s.render_screen().find("r\x1b") == std::string::npos);
    CHECK(s.render_reset_modes() == "\x1b[?25h\x1b[0m");
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

TEST_CASE("a wide char that libvterm squeezes into one column is shown erased") {
    Screen a(6, 3);
    a.feed("abc\xe6\xbc\xa2\x1b[1;1H\x1b[2@");  // ICH pushes the wide char into the last column
    CHECK(a.cell(0, 5).chars.empty());
    CHECK(a.cell(0, 5).width == 1);
    CHECK(a.text() == "  abc");
    Screen b(6, 3);
    b.feed(a.render_screen());
    check_same(a, b);

    Screen c(6, 3);
    c.feed("\xe6\xbc\xa2xy\x1b[1;1Hq");  // a narrow char over the left half
    CHECK(c.cell(0, 0).width == 1);
    CHECK(c.cell(0, 1).chars.empty());
    CHECK(c.text() == "q xy");
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
