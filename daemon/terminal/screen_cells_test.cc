// Screen runs and their JSON: each row's cells grouped by pen, with the oracle that the
// runs cover exactly the cells Screen::cell() reports.
#include "terminal/screen_cells.h"

#include <doctest/doctest.h>

#include <random>
#include <string>

using tether::Screen;
using tether::ScreenRun;

TEST_CASE("runs group a row's cells by colour and attributes") {
    Screen s(20, 3);
    s.feed("ab\x1b[31mcd\x1b[1;44mef\x1b[0m  \x1b[38;2;1;2;3mg\x1b[0m\r\n\x1b[7mX\x1b[0m");
    auto rows = s.runs();
    REQUIRE(rows.size() == 3);
    REQUIRE(rows[0].size() == 5);
    CHECK(rows[0][0].text == "ab");
    CHECK(rows[0][0].fg == "default");
    CHECK(rows[0][1].text == "cd");
    CHECK(rows[0][1].fg == "idx:1");
    CHECK(rows[0][2].text == "ef");
    CHECK(rows[0][2].bold);
    CHECK(rows[0][2].bg == "idx:4");
    CHECK(rows[0][3].text == "  ");
    CHECK(rows[0][4].text == "g");
    CHECK(rows[0][4].fg == "rgb:1,2,3");
    REQUIRE(rows[1].size() == 1);
    CHECK(rows[1][0].reverse);
    CHECK(rows[2].empty());  // trailing erased cells are left out
}

TEST_CASE("a wide character covers two columns in its run") {
    Screen s(10, 1);
    s.feed("a\xe7\x95\x8c" "b");  // a, U+754C (wide), b
    auto rows = s.runs();
    REQUIRE(rows[0].size() == 1);
    CHECK(rows[0][0].text == "a\xe7\x95\x8c" "b");
    CHECK(rows[0][0].cols == 4);
}

TEST_CASE("runs agree with cell() on random output") {
    std::mt19937 rng(7);
    const char* pieces[] = {"x", "yz", " ", "\x1b[31m", "\x1b[1m", "\x1b[0m", "\x1b[48;5;200m", "\r\n", "\x1b[2;5H",
                            "\x1b[K", "\xc3\xa9", "\x1b[4m", "\x1b[38;2;9;8;7m", "\x1b[7m"};
    for (int round = 0; round < 20; ++round) {
        Screen s(16, 4);
        std::string input;
        for (int i = 0; i < 60; ++i) input += pieces[rng() % std::size(pieces)];
        s.feed(input);
        auto rows = s.runs();
        REQUIRE(rows.size() == 4);
        for (int r = 0; r < 4; ++r) {
            int col = 0;
            for (const ScreenRun& run : rows[static_cast<size_t>(r)]) {
                for (int k = 0; k < run.cols; ++k, ++col) {
                    auto c = s.cell(r, col);
                    INFO("input " << input << " row " << r << " col " << col);
                    CHECK(c.fg == run.fg);
                    CHECK(c.bg == run.bg);
                    CHECK(c.bold == run.bold);
                    CHECK(c.reverse == run.reverse);
                    CHECK(c.underline == run.underline);
                }
            }
            for (; col < s.cols(); ++col) CHECK(s.cell(r, col).chars.empty());
        }
    }
}

TEST_CASE("cells JSON: palette indexes as numbers, RGB as #rrggbb, defaults left out, attribute bits") {
    Screen s(20, 2);
    s.feed("\x1b[1;4;32mok\x1b[0m \x1b[48;2;255;0;16mz\x1b[0m");
    auto j = tether::screen_cells_json(s);
    REQUIRE(j.size() == 2);
    REQUIRE(j[0].size() == 3);
    CHECK(j[0][0] == nlohmann::json{{"t", "ok"}, {"n", 2}, {"fg", 2}, {"a", tether::k_cell_bold | tether::k_cell_underline}});
    CHECK(j[0][1] == nlohmann::json{{"t", " "}, {"n", 1}});
    CHECK(j[0][2] == nlohmann::json{{"t", "z"}, {"n", 1}, {"bg", "#ff0010"}});
    CHECK(j[1] == nlohmann::json::array());
}
