// The Screen's resizes and the state libvterm 0.1.4 does not keep for it: the saved
// cursor, the primary screen behind the alternate one, and the repairs a shrink needs.
#include <algorithm>

#include "terminal/screen_impl.h"

namespace tether {

using namespace screen;

void Screen::Impl::resize(int cols, int rows) {
    int old_cols = m_cols;
    m_cols = std::max(cols, k_min_screen_cols);
    m_rows = std::max(rows, 1);
    vterm_set_size(m_vt, m_rows, m_cols);
    resize_primary_snapshot(old_cols);
    repair_after_resize();
}

void Screen::Impl::save_cursor() { m_saved = SavedCursor{cursor(), current_pen(), m_cursor_visible}; }

void Screen::Impl::soft_reset() {
    std::string reset = "\x1b[?6l\x1b[?7h\x1b[4l\x1b[r\x1b[?1l\x1b>\x1b[?25h\x1b[0m\x1b(B\x0f";
    append_cup(reset, cursor().row, cursor().col);
    vterm_input_write(m_vt, reset.data(), reset.size());
}

void Screen::Impl::enter_alt_screen() {
    if (m_alt) return;
    std::vector<StoredLine> rows;
    for (int r = 0; r < m_rows; ++r) rows.push_back(store(read_row(r), Trim::plain));
    m_primary = std::move(rows);
}

// libvterm 0.1.4 can leave the cursor (even at row -1), its DECSC slot or its scroll
// region outside a shrunk screen, and then writes out of bounds: put them back inside.
void Screen::Impl::repair_after_resize() {
    Modes& modes = m_scanner.modes();
    auto inside = [this](VTermPos p) {
        return VTermPos{std::clamp(p.row, 0, m_rows - 1), std::clamp(p.col, 0, m_cols - 1)};
    };
    if (modes.bottom > m_rows) modes.top = modes.bottom = 0;
    std::string fix = "\x1b[?6l";  // CUP below is absolute
    if (modes.top)
        fix += "\x1b[" + std::to_string(modes.top) + ';' + std::to_string(modes.bottom) + 'r';
    else
        fix += "\x1b[r";
    if (m_saved && (m_saved->pos.row >= m_rows || m_saved->pos.col >= m_cols)) {
        // Save again, clamped, as ESC 7 would have: with its pen and cursor visibility.
        Style pen = current_pen();
        bool visible = m_cursor_visible;
        m_saved->pos = inside(m_saved->pos);
        fix += "\x1b[0m";
        Painter painter(fix);
        painter.pen(m_saved->pen);
        append_cup(fix, m_saved->pos.row, m_saved->pos.col);
        fix += m_saved->visible ? "\x1b[?25h\x1b" "7" : "\x1b[?25l\x1b" "7";
        painter.pen(pen);
        fix += visible ? "\x1b[?25h" : "\x1b[?25l";
    }
    VTermPos pos = inside(cursor());
    if (modes.origin) fix += "\x1b[?6h";
    if (modes.origin && modes.top)
        pos.row = std::clamp(pos.row, modes.top - 1, modes.bottom - 1) - (modes.top - 1);
    append_cup(fix, pos.row, pos.col);
    vterm_input_write(m_vt, fix.data(), fix.size());
}

// libvterm resizes the hidden primary buffer too, by cropping it or extending it at the
// right and bottom with cells erased in the current pen: the snapshot follows suit.
void Screen::Impl::resize_primary_snapshot(int old_cols) {
    if (!m_alt || !m_primary) return;
    Cell blank;
    blank.style = current_pen();
    std::vector<StoredLine>& rows = *m_primary;
    for (StoredLine& line : rows) {
        Row row = load(line);
        int width = 0;
        for (const Cell& c : row) width += c.width;
        row.resize(row.size() + static_cast<size_t>(std::max(old_cols - width, 0)));  // untrim
        Row fitted;
        width = 0;
        for (Cell c : row) {
            if (width >= m_cols) break;
            if (width + c.width > m_cols) {  // a wide char cut in half: what is left is erased
                c.nchars = 0;
                c.width = 1;
            }
            width += c.width;
            fitted.push_back(c);
        }
        fitted.resize(fitted.size() + static_cast<size_t>(std::max(m_cols - width, 0)), blank);
        line = store(fitted, Trim::plain);
    }
    rows.resize(static_cast<size_t>(m_rows), store(Row(static_cast<size_t>(m_cols), blank), Trim::plain));
}

}  // namespace tether
