// Fuzz target `screen`: program output and resizes into the libvterm driver (Screen),
// then everything that reads it back: the redraw for attach, the mode resets for
// detach, text, history, cells and runs (the UI's JSON), and keyframes: a snapshot fed
// to a fresh screen must rebuild the same state (the oracle of screen_snapshot_test).
// Input: two size bytes, then operations: a selector byte, then its operands (output
// of up to 256 bytes, a new size, a snapshot round trip, a render of everything).
#include <string>

#include "fuzz_support.h"
#include "fuzz_target.h"
#include "terminal/screen.h"
#include "terminal/screen_cells.h"

using namespace tether;

namespace {

// Everything a caller can see, cell attributes included (through the exact redraw).
std::string state(const Screen& s) {
    return s.text() + "|" + s.render_screen() + "|" + s.title() + "|" + std::to_string(s.cursor_row()) + "," +
           std::to_string(s.cursor_col()) + "|" + (s.alt_screen() ? "alt" : "main") + "|" +
           std::to_string(s.cols()) + "x" + std::to_string(s.rows());
}

void read_everything(const Screen& s) {
    (void)s.render_attach(50);
    (void)s.render_reset_modes();
    (void)s.history_text();
    (void)s.history_tail_text(10);
    (void)screen_cells_json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    for (int r = -1; r <= s.rows(); r += 7)
        for (int c = -1; c <= s.cols(); c += 13) (void)s.cell(r, c);
}

}  // namespace

TETHER_FUZZ_TARGET(screen) {
    fuzz::FuzzInput in(data, size);
    int cols = in.range(2, 160), rows = in.range(1, 60);
    Screen screen(cols, rows, 300, 1u << 20);
    int ops = 0, snapshots = 0, reads = 0;  // the round trips and full reads cost most: bounded
    while (!in.empty() && ++ops < 200) {
        uint8_t op = in.byte();
        if (op < 200) {
            screen.feed(in.take(static_cast<size_t>(in.byte()) + 1));
            (void)screen.take_replies();
        } else if (op < 215) {
            cols = in.range(2, 160);
            rows = in.range(1, 60);
            screen.resize(cols, rows);
            FUZZ_CHECK(screen.cols() == cols && screen.rows() == rows, "the new size");
        } else if (op < 240) {
            if (++snapshots > 6) continue;
            auto snap = screen.snapshot(200);
            if (!snap) continue;
            Screen copy(screen.cols(), screen.rows(), 300, 1u << 20);
            copy.feed(*snap);
            FUZZ_CHECK(state(copy) == state(screen), "a keyframe restores the screen it was taken from");
        } else if (++reads <= 3) {
            read_everything(screen);
        }
        FUZZ_CHECK(screen.cursor_row() >= 0 && screen.cursor_row() < screen.rows(), "cursor row on the screen");
        FUZZ_CHECK(screen.cursor_col() >= 0 && screen.cursor_col() <= screen.cols(), "cursor column on the screen");
    }
    read_everything(screen);
    return 0;
}
