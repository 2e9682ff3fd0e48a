// Screen::snapshot, the keyframe: the oracle is a screen fed everything versus a fresh
// screen fed the snapshot and then the rest: equal at every later point.
#include "terminal/screen.h"

#include "terminal/keyframes.h"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

using tether::Screen;

namespace {

// Everything a caller can see, cell attributes included (via the exact redraw).
std::string state(const Screen& s) {
    return s.text() + "|" + s.render_screen() + "|" + s.title() + "|" + std::to_string(s.cursor_row()) + "," +
           std::to_string(s.cursor_col()) + "|" + (s.alt_screen() ? "alt" : "main");
}

// Output of a terminal program: text, colours, cursor moves, erases, scroll regions,
// the alternate screen, titles, UTF-8 (wide and combining), in chunks cut anywhere.
std::vector<std::string> program_output(unsigned seed, int chunks) {
    std::mt19937 rng(seed);
    const std::vector<std::string> pieces = {
        "hello ", "world\r\n", "\x1b[31m", "\x1b[1;44m", "\x1b[0m", "\x1b[38;5;208mx", "\x1b[2J", "\x1b[H",
        "\x1b[5;3H", "\x1b[K", "\x1b[2;5r", "\x1b[r", "\x1b[?1049h", "\x1b[?1049l", "\x1b]2;title\x07",
        "\xe2\x9c\x93", "\xe6\xbc\xa2", "e\xcc\x81", "\x1b[?25l", "\x1b[?25h", "\x1b" "7", "\x1b" "8", "\x1b[4h",
        "\x1b[4l", "\x1b(0lqk\x1b(B", "\r\n", "\r\n", "\n", "\t", "\x1b[3L", "\x1b[2M", "\x1b[?7l", "\x1b[?7h",
        "a long line that wraps around the right margin of the screen ", "\x1b[?1h", "\x1b[?2004h", "\x1b[10C",
    };
    std::string all;
    for (int i = 0; i < chunks * 6; ++i) all += pieces[rng() % pieces.size()];
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos < all.size()) {
        size_t n = 1 + rng() % 40;
        out.push_back(all.substr(pos, n));
        pos += n;
    }
    return out;
}

}  // namespace

TEST_CASE("a screen rebuilt from a snapshot follows the same output to the same state") {
    for (unsigned seed = 1; seed <= 40; ++seed) {
        auto chunks = program_output(seed, 60);
        Screen whole(30, 8, 500);
        int restored = 0;
        for (size_t i = 0; i < chunks.size(); ++i) {
            whole.feed(chunks[i]);
            auto snap = whole.snapshot(200);
            if (!snap || i % 5 != 0) continue;
            // After text, a snapshot holds only if what follows cannot combine with it.
            if (whole.after_text() && i + 1 < chunks.size() && static_cast<unsigned char>(chunks[i + 1][0]) >= 0x80)
                continue;
            ++restored;
            Screen copy(30, 8, 500);
            copy.feed(*snap);
            INFO("seed " << seed << ", after chunk " << i);
            REQUIRE(state(copy) == state(whole));
            for (size_t k = i + 1; k < chunks.size(); ++k) copy.feed(chunks[k]);
            Screen check(30, 8, 500);
            for (const auto& c : chunks) check.feed(c);
            CHECK(state(copy) == state(check));
        }
        CHECK(restored > 0);
    }
}

TEST_CASE("a snapshot keeps the newest history lines, which a taller screen brings back") {
    Screen a(20, 4, 1000);
    for (int i = 0; i < 50; ++i) a.feed("line " + std::to_string(i) + "\r\n");
    auto snap = a.snapshot(10);
    REQUIRE(snap);
    Screen b(20, 4, 1000);
    b.feed(*snap);
    CHECK(b.history_size() == 10);
    CHECK(b.text() == a.text());
    a.resize(20, 10);
    b.resize(20, 10);
    CHECK(b.text() == a.text());
}

TEST_CASE("a snapshot carries a sequence cut short; none with the cursor in the last column") {
    Screen s(10, 3);
    s.feed("ab");
    CHECK(s.after_text());  // a combining char may follow and join the b
    s.feed("\x1b[3");
    CHECK_FALSE(s.after_text());
    auto mid_sequence = s.snapshot(0);
    REQUIRE(mid_sequence);
    Screen a(10, 3);
    a.feed(*mid_sequence);
    a.feed("1mred\r\n");
    s.feed("1mred\r\n");
    CHECK(a.render_screen() == s.render_screen());
    s.feed("0123456789\x1b[0m");
    CHECK_FALSE(s.snapshot(0));  // a pending wrap is not visible in a redraw
    s.feed("\r\n");
    CHECK(s.snapshot(0));
}

TEST_CASE("a keyframe after text is kept only if the next output cannot combine with it") {
    tether::KeyframeCadence cadence(4);
    Screen s(40, 3);
    std::vector<tether::Keyframe> out;
    auto chunk = [&](int64_t seq, const std::string& bytes) {
        tether::Event ev = tether::make_bytes_event(1, tether::EventKind::OutputChunk, bytes);
        ev.seq = seq;
        s.feed(bytes);
        cadence.after(s, ev, out);
    };
    chunk(1, "hello e");
    CHECK(out.empty());  // pending: it ends in text
    chunk(2, "\xcc\x81 world");  // a combining acute joins the e: seq 1 is dropped, seq 2 pending
    CHECK(out.empty());
    chunk(3, " again");  // ASCII: seq 2 holds; seq 3 pending
    REQUIRE(out.size() == 1);
    CHECK(out[0].seq == 2);
    chunk(4, "\r\n");  // seq 3 holds
    REQUIRE(out.size() == 2);
    CHECK(out[1].seq == 3);
}
