// Helpers the Screen's tests share: cell dumps, the round-trip oracle (a fresh Screen fed
// another's render_screen() must hold the same cells, cursor and modes), split feeding,
// and a generator of random program output.
#pragma once

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "terminal/screen.h"
#include "terminal/terminal_signals.h"

namespace screen_test {

using tether::Screen;
using tether::ScreenCell;

inline std::string dump_row(const Screen& s, int row) {
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

inline void check_same(const Screen& a, const Screen& b) {
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
inline std::string escaped(const std::string& bytes) {
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

inline void check_round_trip(const std::string& input, const std::string& then = "", int cols = 20,
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

inline std::string numbered_lines(int from, int to) {
    std::string s;
    for (int i = from; i <= to; ++i) s += std::to_string(i) + "\r\n";
    return s;
}

inline std::string lines_text(int from, int to) {
    std::string s;
    for (int i = from; i <= to; ++i) s += (i > from ? "\n" : "") + std::to_string(i);
    return s;
}

inline bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// Titles, bells and notifications as the daemon reads them: the one signal scanner
// (terminal_signals.h) fed the same bytes as the Screen.
struct Recorder {
    std::vector<std::string> titles;
    std::vector<std::string> notifications;
    int bells = 0;
    tether::TerminalSignalScanner scanner;

    void scan(std::string_view bytes) {
        std::vector<tether::TerminalSignal> found;
        scanner.scan(bytes, found);
        for (const tether::TerminalSignal& s : found) {
            if (s.kind == tether::TerminalSignal::Title) titles.push_back(s.text);
            if (s.kind == tether::TerminalSignal::Bell) ++bells;
            if (s.kind == tether::TerminalSignal::Notification) notifications.push_back(s.text);
        }
    }
};

inline void feed_both(Screen& s, Recorder& rec, std::string_view bytes) {
    s.feed(bytes);
    rec.scan(bytes);
}

// Runs `check` on a fresh Screen (and Recorder) fed `bytes` whole, then split in two at
// every offset.
template <typename Check>
inline void at_every_split(const std::string& bytes, Check check) {
    for (size_t cut = 0; cut <= bytes.size(); ++cut) {
        INFO("split at " << cut);
        Screen s(40, 5);
        Recorder rec;
        feed_both(s, rec, std::string_view(bytes).substr(0, cut));
        feed_both(s, rec, std::string_view(bytes).substr(cut));
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

}  // namespace screen_test
