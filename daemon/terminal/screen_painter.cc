// SGR differences and the row painter.
#include "terminal/screen_painter.h"

namespace tether::screen {

void append_csi(std::string& out, int n, char final) {
    out += "\x1b[";
    if (n != 1) out += std::to_string(n);
    out += final;
}

void append_cup(std::string& out, int row, int col) {
    out += "\x1b[" + std::to_string(row + 1) + ';' + std::to_string(col + 1) + 'H';
}

namespace {

void append_color(std::string& p, const VTermColor& c, bool fg) {
    if (!p.empty()) p += ';';
    if (is_default(c)) {
        p += fg ? "39" : "49";
    } else if (VTERM_COLOR_IS_INDEXED(&c)) {
        int idx = c.indexed.idx;
        if (idx < 8)
            p += std::to_string((fg ? 30 : 40) + idx);
        else if (idx < 16)
            p += std::to_string((fg ? 90 : 100) + idx - 8);
        else
            p += (fg ? "38;5;" : "48;5;") + std::to_string(idx);
    } else {
        p += (fg ? "38;2;" : "48;2;") + std::to_string(c.rgb.red) + ';' +
             std::to_string(c.rgb.green) + ';' + std::to_string(c.rgb.blue);
    }
}

}  // namespace

std::string sgr_params(const Style& from, const Style& to) {
    std::string p;
    auto add = [&p](bool changed, const char* code) {
        if (!changed) return;
        if (!p.empty()) p += ';';
        p += code;
    };
    static const char* const k_underline[] = {"24", "4", "21", "4:3"};
    add(from.bold != to.bold, to.bold ? "1" : "22");
    add(from.italic != to.italic, to.italic ? "3" : "23");
    add(from.underline != to.underline, k_underline[to.underline & 3]);
    add(from.blink != to.blink, to.blink ? "5" : "25");
    add(from.reverse != to.reverse, to.reverse ? "7" : "27");
    add(from.strike != to.strike, to.strike ? "9" : "29");
    if (from.font != to.font) {
        if (!p.empty()) p += ';';
        p += std::to_string(10 + to.font);
    }
    if (!same_color(from.fg, to.fg)) append_color(p, to.fg, true);
    if (!same_color(from.bg, to.bg)) append_color(p, to.bg, false);
    return p;
}

void Painter::pen(const Style& to) {
    if (to == m_pen) return;
    std::string diff = sgr_params(m_pen, to);
    std::string full = sgr_params(default_style(), to);
    full = full.empty() ? "0" : "0;" + full;
    m_out += "\x1b[";
    m_out += diff.size() <= full.size() ? diff : full;
    m_out += 'm';
    m_pen = to;
}

void Painter::reset() {
    if (!(m_pen == default_style())) m_out += "\x1b[0m";
    m_pen = default_style();
}

void Painter::row(const Row& row, bool gaps_as_spaces) {
    size_t end = row.size();
    while (end > 0 && is_plain(row[end - 1])) --end;
    for (size_t i = 0; i < end;) {
        const Cell& c = row[i];
        if (c.nchars > 0 || gaps_as_spaces) {
            pen(c.style);
            if (c.nchars == 0) m_out += ' ';
            for (int k = 0; k < c.nchars; ++k) append_utf8(m_out, c.chars[static_cast<size_t>(k)]);
            ++i;
            continue;
        }
        size_t j = i;
        while (j < end && row[j].nchars == 0 && row[j].style == c.style) ++j;
        int n = static_cast<int>(j - i);
        if (!(c.style == default_style())) {
            pen(c.style);
            append_csi(m_out, n, 'X');
        }
        if (j < end) append_csi(m_out, n, 'C');
        i = j;
    }
}

}  // namespace tether::screen
