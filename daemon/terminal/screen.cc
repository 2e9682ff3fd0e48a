// Screen's public calls: feeding (through the escape scanner into libvterm) and reading
// back: text, cells and runs, and the redraws for attach, detach and keyframes. libvterm
// itself is driven from screen_vterm.cc, resizes from screen_resize.cc.
#include "terminal/screen.h"

#include <algorithm>
#include <utility>

#include "terminal/screen_impl.h"

namespace tether {

using namespace screen;

namespace {

Row as_row(const Row& row) { return row; }
Row as_row(const StoredLine& line) { return load(line); }

}  // namespace

// Clears the screen and draws rows on it; rows saved before a resize are clipped.
template <typename Line>
void Screen::Impl::paint_rows(Painter& painter, std::string& out, const std::vector<Line>& rows) const {
    painter.pen(default_style());  // the clear paints with the pen's background
    out += "\x1b[H\x1b[2J";
    for (int r = 0; r < std::min(m_rows, static_cast<int>(rows.size())); ++r) {
        Row row = as_row(rows[static_cast<size_t>(r)]);
        int width = 0;
        row.erase(std::find_if(row.begin(), row.end(), [&](const Cell& c) { return (width += c.width) > m_cols; }),
                  row.end());
        if (row_is_plain(row)) continue;
        append_cup(out, r, 0);
        painter.row(row, false);
    }
}

Screen::Screen(int cols, int rows, size_t max_history_lines, size_t max_history_bytes)
    : m_impl(std::make_unique<Impl>(cols, rows, max_history_lines, max_history_bytes)) {}
Screen::~Screen() = default;
Screen::Screen(Screen&&) noexcept = default;
Screen& Screen::operator=(Screen&&) noexcept = default;

void Screen::feed(std::string_view bytes) { m_impl->m_scanner.feed(bytes); }
std::string Screen::take_replies() { return std::exchange(m_impl->m_replies, {}); }
void Screen::resize(int cols, int rows) { m_impl->resize(cols, rows); }

int Screen::cols() const { return m_impl->m_cols; }
int Screen::rows() const { return m_impl->m_rows; }
size_t Screen::history_size() const { return m_impl->m_history.size(); }

std::string Screen::render_history(size_t max_lines) const { return m_impl->m_history.render(max_lines); }

// Order matters: the primary screen first, then the saved cursor (which 1049h or ESC 7
// stores in the terminal), then the visible screen, then the modes (DECSTBM and DECOM
// home the cursor), then the cursor and the pen the program will keep writing with.
std::string Screen::render_screen() const {
    const Impl& s = *m_impl;
    const Modes& modes = s.m_scanner.modes();
    std::string out = "\x1b[0m";
    Painter painter(out);
    bool visible = true;
    auto show_cursor = [&](bool v) {
        if (v != visible) out += v ? "\x1b[?25h" : "\x1b[?25l";
        visible = v;
    };
    auto restore_saved_cursor = [&] {
        SavedCursor saved = s.m_saved.value_or(SavedCursor{});
        append_cup(out, std::min(saved.pos.row, s.m_rows - 1), std::min(saved.pos.col, s.m_cols - 1));
        painter.pen(saved.pen);
        show_cursor(saved.visible);
    };
    if (s.m_alt) {
        if (s.m_primary) s.paint_rows(painter, out, *s.m_primary);
        restore_saved_cursor();
        out += "\x1b[?1049h";
    }
    std::vector<Row> rows;
    for (int r = 0; r < s.m_rows; ++r) rows.push_back(s.read_row(r));
    s.paint_rows(painter, out, rows);
    if (!s.m_alt && s.m_saved) {
        restore_saved_cursor();
        out += "\x1b" "7";
    }
    append_modes(out, modes);
    VTermPos pos = s.cursor();
    if (modes.origin && modes.top)  // DECRC can leave the cursor outside the region
        pos.row = std::clamp(pos.row, modes.top - 1, modes.bottom - 1) - (modes.top - 1);
    append_cup(out, pos.row, pos.col);
    painter.pen(s.current_pen());
    show_cursor(s.m_cursor_visible);
    return out;
}

std::string Screen::render_attach(size_t max_history_lines) const {
    return render_history(max_history_lines) + std::string(static_cast<size_t>(m_impl->m_rows), '\n') +
           render_screen();
}

std::string Screen::render_reset_modes() const {
    return reset_modes(m_impl->m_scanner.modes(), m_impl->m_alt, m_impl->cursor());
}

std::optional<std::string> Screen::snapshot(size_t history_lines) const {
    const Impl& s = *m_impl;
    // A sequence being discarded cannot be re-fed; one being collected is re-fed whole.
    if (s.m_scanner.discarding()) return std::nullopt;
    // See EscapeScanner::scan_ground.
    if (s.m_scanner.after_utf8() && s.m_scanner.modes().drawing_charset()) return std::nullopt;
    if (s.cursor().col >= s.m_cols - 1) return std::nullopt;
    std::string out;
    if (!s.m_title.empty()) out += "\x1b]2;" + s.m_title + "\x07";
    size_t lines = std::min(history_lines, s.m_history.size());
    if (lines > 0) {
        // Every history line scrolls off the top of a fresh screen: after the lines, as
        // many newlines as the screen has rows but one.
        out += render_history(lines);
        out.append(static_cast<size_t>(s.m_rows - 1), '\n');
    }
    return out + render_screen() + s.m_scanner.held();
}

bool Screen::after_text() const { return m_impl->m_scanner.after_text(); }
uint64_t Screen::history_pushed() const { return m_impl->m_history.pushed(); }
std::string Screen::history_tail_text(size_t lines) const { return m_impl->m_history.tail_text(lines); }
std::string Screen::history_text() const { return m_impl->m_history.text(); }

std::string Screen::text() const {
    std::vector<std::string> lines;
    for (int r = 0; r < m_impl->m_rows; ++r) lines.push_back(row_text(m_impl->read_row(r)));
    return join_lines(std::move(lines), true);
}

ScreenCell Screen::cell(int row, int col) const {
    ScreenCell out;
    if (row < 0 || row >= m_impl->m_rows || col < 0 || col >= m_impl->m_cols) return out;
    int at = 0;
    for (const Cell& c : m_impl->read_row(row)) {
        if (at + c.width <= col) {
            at += c.width;
            continue;
        }
        if (at < col) {  // the right half of a wide char: it has no pen of its own
            out.width = 0;
            return out;
        }
        for (int k = 0; k < c.nchars; ++k) append_utf8(out.chars, c.chars[static_cast<size_t>(k)]);
        out.width = c.width;
        out.fg = color_name(c.style.fg);
        out.bg = color_name(c.style.bg);
        out.bold = c.style.bold;
        out.italic = c.style.italic;
        out.blink = c.style.blink;
        out.reverse = c.style.reverse;
        out.strike = c.style.strike;
        out.underline = c.style.underline;
        out.font = c.style.font;
        break;
    }
    return out;
}

std::vector<std::vector<ScreenRun>> Screen::runs() const {
    std::vector<std::vector<ScreenRun>> rows;
    for (int r = 0; r < m_impl->m_rows; ++r) {
        Row row = m_impl->read_row(r);
        while (!row.empty() && row.back().nchars == 0 && row.back().style == default_style()) row.pop_back();
        std::vector<ScreenRun> runs;
        const Style* pen = nullptr;
        for (const Cell& c : row) {
            if (!pen || !(*pen == c.style)) {
                pen = &c.style;
                ScreenRun run;
                run.fg = color_name(c.style.fg);
                run.bg = color_name(c.style.bg);
                run.bold = c.style.bold;
                run.italic = c.style.italic;
                run.blink = c.style.blink;
                run.reverse = c.style.reverse;
                run.strike = c.style.strike;
                run.underline = c.style.underline;
                runs.push_back(std::move(run));
            }
            ScreenRun& run = runs.back();
            if (c.nchars == 0) run.text += ' ';
            for (int k = 0; k < c.nchars; ++k) append_utf8(run.text, c.chars[static_cast<size_t>(k)]);
            run.cols += c.nchars == 0 ? 1 : c.width;
        }
        rows.push_back(std::move(runs));
    }
    return rows;
}

bool Screen::alt_screen() const { return m_impl->m_alt; }
bool Screen::cursor_visible() const { return m_impl->m_cursor_visible; }
int Screen::cursor_row() const { return m_impl->cursor().row; }
int Screen::cursor_col() const { return m_impl->cursor().col; }
std::string Screen::title() const { return m_impl->m_title; }

}  // namespace tether
