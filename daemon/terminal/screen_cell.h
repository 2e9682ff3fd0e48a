// The Screen's cell model, shared by its parts: a pen (Style), a decoded cell and row, and
// StoredLine, the compact form of a history line or a saved row (about 4 bytes a cell
// instead of libvterm's 40). Internal to the Screen: nothing outside terminal/screen*
// includes it.
#pragma once

#include <vterm.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tether::screen {

constexpr uint32_t k_wide_continuation = 0xFFFFFFFF;  // libvterm: right half of a wide char

VTermColor default_color(uint8_t flag);
bool is_default(const VTermColor& c);
bool same_color(const VTermColor& a, const VTermColor& b);
// "default", "idx:N" or "rgb:R,G,B": how cell() and runs() name a colour.
std::string color_name(const VTermColor& v);

struct Style {  // defaults to the default pen
    VTermColor fg = default_color(VTERM_COLOR_DEFAULT_FG);
    VTermColor bg = default_color(VTERM_COLOR_DEFAULT_BG);
    bool bold = false, italic = false, blink = false, reverse = false, strike = false;
    uint8_t underline = 0;  // VTERM_UNDERLINE_*
    uint8_t font = 0;       // 0-9, SGR 10-19
};

bool operator==(const Style& a, const Style& b);
inline Style default_style() { return Style{}; }
Style style_of(const VTermScreenCell& c);

// One decoded cell: what the renderer and text() consume.
struct Cell {
    std::array<uint32_t, VTERM_MAX_CHARS_PER_CELL> chars{};
    int nchars = 0;  // 0: an erased cell
    int width = 1;
    Style style;
};
using Row = std::vector<Cell>;  // right halves of wide chars are left out

// A history line (or a saved primary-screen row).
struct StoredLine {
    struct Run {
        uint16_t cells;
        Style style;
    };
    // Per cell: its first char (0 if erased, | k_wide_flag if wide), then any combining
    // chars | k_combining_flag. Trailing blank cells are trimmed.
    std::vector<uint32_t> chars;
    std::vector<Run> runs;

    size_t bytes() const {
        return sizeof(StoredLine) + chars.capacity() * sizeof(uint32_t) + runs.capacity() * sizeof(Run);
    }
};

// Blank as far as the eye can tell: nothing drawn and no visible background or line.
bool is_blank(const Cell& c);
// An erased cell with the default pen: what a cleared screen is made of.
bool is_plain(const Cell& c);
bool row_is_plain(const Row& row);

// History trims what looks blank; a snapshot that must redraw exactly trims only what a
// clear recreates.
enum class Trim : uint8_t { blank, plain };
StoredLine store(const Row& row, Trim trim);
Row load(const StoredLine& line);

// UTF-8 of a code point; a surrogate or one past U+10FFFF becomes U+FFFD.
void append_utf8(std::string& out, uint32_t cp);
// A row as plain text, trailing spaces trimmed; an erased cell is a space.
std::string row_text(const Row& row);
std::string join_lines(std::vector<std::string> lines, bool drop_trailing_empty);

}  // namespace tether::screen
