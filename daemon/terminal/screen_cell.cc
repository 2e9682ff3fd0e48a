// The Screen's cell model: colours, pens, and the compact StoredLine form.
#include "terminal/screen_cell.h"

#include <algorithm>

namespace tether::screen {

namespace {
constexpr uint32_t k_combining_flag = 1u << 31;  // StoredLine: joins the previous cell
constexpr uint32_t k_wide_flag = 1u << 30;       // StoredLine: cell is two columns wide
constexpr uint32_t k_char_mask = k_wide_flag - 1;
}  // namespace

VTermColor default_color(uint8_t flag) {
    VTermColor c{};
    c.type = flag;
    return c;
}

bool is_default(const VTermColor& c) { return (c.type & VTERM_COLOR_DEFAULT_MASK) != 0; }

std::string color_name(const VTermColor& v) {
    if (is_default(v)) return "default";
    if (VTERM_COLOR_IS_INDEXED(&v)) return "idx:" + std::to_string(v.indexed.idx);
    return "rgb:" + std::to_string(v.rgb.red) + ',' + std::to_string(v.rgb.green) + ',' + std::to_string(v.rgb.blue);
}

bool same_color(const VTermColor& a, const VTermColor& b) {
    if (is_default(a) || is_default(b)) return is_default(a) == is_default(b);
    if (VTERM_COLOR_IS_INDEXED(&a) != VTERM_COLOR_IS_INDEXED(&b)) return false;
    if (VTERM_COLOR_IS_INDEXED(&a)) return a.indexed.idx == b.indexed.idx;
    return a.rgb.red == b.rgb.red && a.rgb.green == b.rgb.green && a.rgb.blue == b.rgb.blue;
}

bool operator==(const Style& a, const Style& b) {
    return same_color(a.fg, b.fg) && same_color(a.bg, b.bg) && a.bold == b.bold &&
           a.italic == b.italic && a.blink == b.blink && a.reverse == b.reverse &&
           a.strike == b.strike && a.underline == b.underline && a.font == b.font;
}

Style style_of(const VTermScreenCell& c) {
    Style s;
    s.fg = c.fg;
    s.bg = c.bg;
    s.bold = c.attrs.bold;
    s.italic = c.attrs.italic;
    s.blink = c.attrs.blink;
    s.reverse = c.attrs.reverse;
    s.strike = c.attrs.strike;
    s.underline = static_cast<uint8_t>(c.attrs.underline);
    s.font = static_cast<uint8_t>(c.attrs.font);
    return s;
}

bool is_blank(const Cell& c) {
    bool empty = c.nchars == 0 || (c.nchars == 1 && c.chars[0] == ' ');
    return empty && is_default(c.style.bg) && !c.style.reverse && !c.style.underline &&
           !c.style.strike;
}

bool is_plain(const Cell& c) { return c.nchars == 0 && c.style == default_style(); }

bool row_is_plain(const Row& row) { return std::all_of(row.begin(), row.end(), is_plain); }

StoredLine store(const Row& row, Trim trim) {
    size_t n = row.size();
    while (n > 0 && (trim == Trim::blank ? is_blank(row[n - 1]) : is_plain(row[n - 1]))) --n;
    StoredLine line;
    line.chars.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        const Cell& c = row[i];
        uint32_t first = c.nchars > 0 ? (c.chars[0] & k_char_mask) : 0;
        line.chars.push_back(first | (c.width == 2 ? k_wide_flag : 0));
        for (int k = 1; k < c.nchars; ++k)
            line.chars.push_back((c.chars[static_cast<size_t>(k)] & k_char_mask) | k_combining_flag);
        if (line.runs.empty() || !(line.runs.back().style == c.style) ||
            line.runs.back().cells == UINT16_MAX)
            line.runs.push_back({0, c.style});
        ++line.runs.back().cells;
    }
    line.chars.shrink_to_fit();
    line.runs.shrink_to_fit();
    return line;
}

Row load(const StoredLine& line) {
    Row row;
    size_t run = 0;
    uint16_t used = 0;
    for (uint32_t ch : line.chars) {
        if ((ch & k_combining_flag) && !row.empty()) {
            Cell& c = row.back();
            if (c.nchars < VTERM_MAX_CHARS_PER_CELL) c.chars[static_cast<size_t>(c.nchars++)] = ch & k_char_mask;
            continue;
        }
        Cell c;
        c.chars[0] = ch & k_char_mask;
        c.nchars = c.chars[0] != 0 ? 1 : 0;
        c.width = (ch & k_wide_flag) ? 2 : 1;
        while (run < line.runs.size() && used == line.runs[run].cells) {
            ++run;
            used = 0;
        }
        if (run < line.runs.size()) c.style = line.runs[run].style;
        ++used;
        row.push_back(c);
    }
    return row;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::string row_text(const Row& row) {
    std::string s;
    for (const Cell& c : row) {
        if (c.nchars == 0) s += ' ';
        for (int k = 0; k < c.nchars; ++k) append_utf8(s, c.chars[static_cast<size_t>(k)]);
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

std::string join_lines(std::vector<std::string> lines, bool drop_trailing_empty) {
    if (drop_trailing_empty)
        while (!lines.empty() && lines.back().empty()) lines.pop_back();
    std::string out;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (i > 0) out += '\n';
        out += lines[i];
    }
    return out;
}

}  // namespace tether::screen
