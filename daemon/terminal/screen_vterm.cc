// The Screen's libvterm side: creating the terminal, its callbacks (title and modes it
// reports, lines scrolled into and back out of history, replies), and reading cells back
// as a terminal would show them.
#include <algorithm>

#include "base/bug.h"
#include "terminal/screen_impl.h"

namespace tether {

using namespace screen;

namespace {
constexpr size_t k_max_replies = size_t{64} << 10;
}  // namespace

const VTermScreenCallbacks Screen::Impl::k_screen_callbacks = {
    .damage = nullptr,
    .moverect = nullptr,
    .movecursor = nullptr,
    .settermprop = &on_settermprop,
    .bell = nullptr,
    .resize = nullptr,
    .sb_pushline = &on_pushline,
    .sb_popline = &on_popline,
};

Screen::Impl::Impl(int cols, int rows, size_t max_lines, size_t max_bytes)
    : m_cols(std::max(cols, k_min_screen_cols)), m_rows(std::max(rows, 1)), m_history(max_lines, max_bytes) {
    m_vt = vterm_new(m_rows, m_cols);
    TETHER_ASSERT(m_vt != nullptr);
    vterm_set_utf8(m_vt, 1);
    vterm_output_set_callback(m_vt, &Impl::on_output, this);
    m_screen = vterm_obtain_screen(m_vt);
    m_state = vterm_obtain_state(m_vt);
    vterm_screen_set_callbacks(m_screen, &k_screen_callbacks, this);
    vterm_screen_enable_altscreen(m_screen, 1);
    vterm_screen_reset(m_screen, 1);
}

Screen::Impl::~Impl() {
    vterm_free(m_vt);
    if (m_probe) vterm_free(m_probe);
}

void Screen::Impl::write_terminal(const char* bytes, size_t n) { vterm_input_write(m_vt, bytes, n); }

// libvterm calls back from C: nothing may throw through it.
int Screen::Impl::on_settermprop(VTermProp prop, VTermValue* val, void* user) {
    auto* self = static_cast<Impl*>(user);
    try {
        switch (prop) {
        case VTERM_PROP_TITLE:
            self->m_title = val->string ? val->string : "";
            break;
        case VTERM_PROP_ALTSCREEN:
            self->m_alt = val->boolean != 0;
            if (!self->m_alt) self->m_primary.reset();
            break;
        case VTERM_PROP_CURSORVISIBLE:
            self->m_cursor_visible = val->boolean != 0;
            break;
        default:
            break;
        }
    } catch (...) {
    }
    return 1;  // 0 would tell libvterm the alternate screen switch did not happen
}

int Screen::Impl::on_pushline(int cols, const VTermScreenCell* cells, void* user) {
    try {
        auto* self = static_cast<Impl*>(user);
        // Most lines end in erased cells that store() would trim anyway: skip decoding them.
        while (cols > 0 && cells[cols - 1].chars[0] == 0 && is_default(cells[cols - 1].bg) &&
               !cells[cols - 1].attrs.reverse)
            --cols;
        self->m_history.push(store(self->decode_cells(cells, cols), Trim::blank));
    } catch (...) {
    }
    return 1;
}

int Screen::Impl::on_popline(int cols, VTermScreenCell* cells, void* user) {
    auto* self = static_cast<Impl*>(user);
    if (self->m_history.empty()) return 0;
    try {
        self->fill_popped(self->m_history.back(), cols, cells);
    } catch (...) {
        return 0;
    }
    self->m_history.pop_back();
    return 1;
}

void Screen::Impl::on_output(const char* bytes, size_t len, void* user) {
    auto* self = static_cast<Impl*>(user);
    try {
        if (self->m_replies.size() + len <= k_max_replies) self->m_replies.append(bytes, len);
    } catch (...) {
    }
}

// Attributes come back exactly; libvterm copies `width` cells at a time, so every cell
// gets a width of at least 1.
void Screen::Impl::fill_popped(const StoredLine& line, int cols, VTermScreenCell* cells) const {
    VTermColor default_fg, default_bg;
    vterm_state_get_default_colors(m_state, &default_fg, &default_bg);
    default_fg.type |= VTERM_COLOR_DEFAULT_FG;
    default_bg.type |= VTERM_COLOR_DEFAULT_BG;
    VTermScreenCell blank{};
    blank.width = 1;
    blank.fg = default_fg;
    blank.bg = default_bg;
    std::fill(cells, cells + cols, blank);
    int col = 0;
    for (const Cell& c : load(line)) {
        if (col + c.width > cols) break;
        VTermScreenCell& vc = cells[col];
        for (int k = 0; k < c.nchars; ++k) vc.chars[k] = c.chars[static_cast<size_t>(k)];
        vc.width = static_cast<char>(c.width);
        vc.attrs.bold = c.style.bold;
        vc.attrs.underline = c.style.underline & 3;
        vc.attrs.italic = c.style.italic;
        vc.attrs.blink = c.style.blink;
        vc.attrs.reverse = c.style.reverse;
        vc.attrs.strike = c.style.strike;
        vc.attrs.font = c.style.font & 15;
        vc.fg = is_default(c.style.fg) ? default_fg : c.style.fg;
        vc.bg = is_default(c.style.bg) ? default_bg : c.style.bg;
        if (c.width == 2) {
            cells[col + 1] = vc;
            cells[col + 1].chars[0] = k_wide_continuation;
            cells[col + 1].chars[1] = 0;
            cells[col + 1].width = 1;
        }
        col += c.width;
    }
}

// libvterm 0.1.4 can leave a row that no terminal could show: a narrow char over the left
// half of a wide one keeps the right half (and is then reported as wide); ICH, DCH or
// insert mode can split a wide char or push it into the last column; a combining char it
// could not attach becomes a cell of its own. Such cells are decoded as what a terminal
// would show: erased, or the mark on a space.
Row Screen::Impl::decode_cells(const VTermScreenCell* cells, int cols) const {
    Row row;
    row.reserve(static_cast<size_t>(cols));
    for (int col = 0; col < cols;) {
        const VTermScreenCell& vc = cells[col];
        Cell& c = row.emplace_back();
        if (vc.chars[0] == k_wide_continuation) {  // orphaned: its pen is stale, never shown
            c.style = default_style();
            ++col;
            continue;
        }
        c.style = style_of(vc);
        while (c.nchars < VTERM_MAX_CHARS_PER_CELL && vc.chars[c.nchars] != 0) {
            c.chars[static_cast<size_t>(c.nchars)] = vc.chars[c.nchars];
            ++c.nchars;
        }
        CharKind kind = c.nchars > 0 ? char_kind(c.chars[0]) : CharKind{};
        if (kind.combining) {
            std::copy_backward(c.chars.begin(), c.chars.end() - 1, c.chars.end());
            c.chars[0] = ' ';
            c.nchars = std::min(c.nchars + 1, VTERM_MAX_CHARS_PER_CELL);
        }
        bool has_room = vc.width == 2 && col + 1 < cols;
        if (kind.wide && !has_room) c.nchars = 0;
        c.width = kind.wide && has_room ? 2 : 1;
        col += c.width;
    }
    return row;
}

Screen::Impl::CharKind Screen::Impl::char_kind(uint32_t ch) const {
    if (ch < 0x300) return {};  // nothing below combines or is wide; spares the probe for ASCII
    if (auto it = m_kinds.find(ch); it != m_kinds.end()) return it->second;
    if (!m_probe) {
        m_probe = vterm_new(1, 4);
        TETHER_ASSERT(m_probe != nullptr);
        vterm_set_utf8(m_probe, 1);
        vterm_screen_reset(vterm_obtain_screen(m_probe), 1);
    }
    std::string bytes = "\r\x1b[Ka";  // the erase drops the previous probe's right half
    append_utf8(bytes, ch);
    vterm_input_write(m_probe, bytes.data(), bytes.size());
    VTermScreenCell first{}, second{};
    vterm_screen_get_cell(vterm_obtain_screen(m_probe), VTermPos{0, 0}, &first);
    vterm_screen_get_cell(vterm_obtain_screen(m_probe), VTermPos{0, 1}, &second);
    CharKind kind;
    kind.combining = first.chars[1] == ch;
    kind.wide = !kind.combining && second.width == 2;
    if (m_kinds.size() < 4096) m_kinds.emplace(ch, kind);
    return kind;
}

Row Screen::Impl::read_row(int row) const {
    std::vector<VTermScreenCell> cells(static_cast<size_t>(m_cols));
    for (int col = 0; col < m_cols; ++col)
        vterm_screen_get_cell(m_screen, VTermPos{row, col}, &cells[static_cast<size_t>(col)]);
    return decode_cells(cells.data(), m_cols);
}

VTermPos Screen::Impl::cursor() const {
    VTermPos pos{};
    vterm_state_get_cursorpos(m_state, &pos);
    return pos;
}

Style Screen::Impl::current_pen() const {
    Style s;
    VTermValue v{};
    auto get = [&](VTermAttr attr) {
        v = VTermValue{};
        vterm_state_get_penattr(m_state, attr, &v);
        return v;
    };
    s.bold = get(VTERM_ATTR_BOLD).boolean;
    s.underline = static_cast<uint8_t>(get(VTERM_ATTR_UNDERLINE).number & 3);
    s.italic = get(VTERM_ATTR_ITALIC).boolean;
    s.blink = get(VTERM_ATTR_BLINK).boolean;
    s.reverse = get(VTERM_ATTR_REVERSE).boolean;
    s.strike = get(VTERM_ATTR_STRIKE).boolean;
    s.font = static_cast<uint8_t>(get(VTERM_ATTR_FONT).number & 15);
    s.fg = get(VTERM_ATTR_FOREGROUND).color;
    s.bg = get(VTERM_ATTR_BACKGROUND).color;
    return s;
}

}  // namespace tether
