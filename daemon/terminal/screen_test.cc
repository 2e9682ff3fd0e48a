// Screen: what lands on the screen, history and its bounds, resizes, replies, attach.
#include "terminal/screen_test_support.h"

#include <doctest/doctest.h>

using namespace screen_test;

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

TEST_CASE("history keeps lines scrolled off the primary screen, oldest first") {
    Screen s(20, 10);
    s.feed(numbered_lines(1, 100));
    CHECK(s.history_size() == 91);
    CHECK(s.history_text() == lines_text(1, 91));
    CHECK(s.text() == lines_text(92, 100));
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

TEST_CASE("a scroll region that no longer fits after a resize is forgotten") {
    Screen s(20, 10);
    s.feed("\x1b[2;8r");
    CHECK(s.render_screen().find("\x1b[2;8r") != std::string::npos);
    s.resize(20, 5);
    CHECK(s.render_screen().find("r\x1b") == std::string::npos);
    CHECK(s.render_reset_modes() == "\x1b[?25h\x1b[0m");
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
