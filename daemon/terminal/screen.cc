// Screen over libvterm 0.1.4: its callbacks, the compact history, a byte scanner that
// tracks the modes libvterm keeps private, and the SGR renderer used for attach. The
// scanner also shields libvterm from its bugs, each fixed where it bites: it loses strings
// and UTF-8 split across writes (feed() hands it whole sequences only), accepts inverted
// scroll regions, and leaves the cursor off a shrunk screen (repair_after_resize).
#include "terminal/screen.h"

#include <vterm.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/bug.h"

namespace tether {
namespace {

constexpr uint32_t k_wide_continuation = 0xFFFFFFFF;  // libvterm: right half of a wide char
constexpr uint32_t k_combining_flag = 1u << 31;       // StoredLine: joins the previous cell
constexpr uint32_t k_wide_flag = 1u << 30;            // StoredLine: cell is two columns wide
constexpr uint32_t k_char_mask = k_wide_flag - 1;
constexpr size_t k_max_held_string = size_t{64} << 10;
constexpr size_t k_max_held_csi = size_t{4} << 10;
constexpr size_t k_max_replies = size_t{64} << 10;
constexpr int k_min_cols = 2;  // libvterm 0.1.4 writes past the row for a wide char in 1 column

VTermColor default_color(uint8_t flag) {
    VTermColor c{};
    c.type = flag;
    return c;
}

struct Style {  // defaults to the default pen
    VTermColor fg = default_color(VTERM_COLOR_DEFAULT_FG);
    VTermColor bg = default_color(VTERM_COLOR_DEFAULT_BG);
    bool bold = false, italic = false, blink = false, reverse = false, strike = false;
    uint8_t underline = 0;  // VTERM_UNDERLINE_*
    uint8_t font = 0;       // 0-9, SGR 10-19
};

bool is_default(const VTermColor& c) { return (c.type & VTERM_COLOR_DEFAULT_MASK) != 0; }

// "default", "idx:N" or "rgb:R,G,B": how cell() and runs() name a colour.
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

Style default_style() { return Style{}; }

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

// One decoded cell: what the renderer and text() consume.
struct Cell {
    std::array<uint32_t, VTERM_MAX_CHARS_PER_CELL> chars{};
    int nchars = 0;  // 0: an erased cell
    int width = 1;
    Style style;
};
using Row = std::vector<Cell>;  // right halves of wide chars are left out

// A history line (or a saved primary-screen row) in about 4 bytes a cell instead of 40.
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
        return sizeof(StoredLine) + chars.capacity() * sizeof(uint32_t) +
               runs.capacity() * sizeof(Run);
    }
};

// Blank as far as the eye can tell: nothing drawn and no visible background or line.
bool is_blank(const Cell& c) {
    bool empty = c.nchars == 0 || (c.nchars == 1 && c.chars[0] == ' ');
    return empty && is_default(c.style.bg) && !c.style.reverse && !c.style.underline &&
           !c.style.strike;
}

// An erased cell with the default pen: what a cleared screen is made of.
bool is_plain(const Cell& c) { return c.nchars == 0 && c.style == default_style(); }

// History trims what looks blank; a snapshot that must redraw exactly trims only what a
// clear recreates.
enum class Trim : uint8_t { blank, plain };

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

// CSI [n] final, with n left out when it is 1 (every use here defaults to 1).
void append_csi(std::string& out, int n, char final) {
    out += "\x1b[";
    if (n != 1) out += std::to_string(n);
    out += final;
}

void append_cup(std::string& out, int row, int col) {  // 0-based in, 1-based out
    out += "\x1b[" + std::to_string(row + 1) + ';' + std::to_string(col + 1) + 'H';
}

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

// SGR parameters that turn pen `from` into pen `to`, without a reset.
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

// Writes rows of cells, tracking the pen it left the terminal with so it only emits
// SGR differences.
class Painter {
public:
    explicit Painter(std::string& out) : m_out(out) {}

    void pen(const Style& to) {
        if (to == m_pen) return;
        std::string diff = sgr_params(m_pen, to);
        std::string full = sgr_params(default_style(), to);
        full = full.empty() ? "0" : "0;" + full;
        m_out += "\x1b[";
        m_out += diff.size() <= full.size() ? diff : full;
        m_out += 'm';
        m_pen = to;
    }

    void reset() {
        if (!(m_pen == default_style())) m_out += "\x1b[0m";
        m_pen = default_style();
    }

    // A screen row lands on a cleared line, so gaps are skipped with CUF and erased cells
    // that carry a pen are recreated with ECH (exact in libvterm, BCE elsewhere). A
    // history line lands wherever the user's cursor is, so gaps become spaces.
    void row(const Row& row, bool gaps_as_spaces) {
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

private:
    std::string& m_out;
    Style m_pen = default_style();
};

bool row_is_plain(const Row& row) { return std::all_of(row.begin(), row.end(), is_plain); }

// Is this OSC 9 body one of ConEmu's numeric sub-commands (9;4;st;pr progress...)?
bool is_conemu_command(std::string_view body) {
    size_t i = 0;
    while (i < body.size() && body[i] >= '0' && body[i] <= '9') ++i;
    return i > 0 && (i == body.size() || body[i] == ';');
}

std::optional<std::string> notification_of(std::string_view cmd) {
    if (cmd.substr(0, 2) == "9;") {
        std::string_view body = cmd.substr(2);
        if (body.empty() || is_conemu_command(body)) return std::nullopt;
        return std::string(body);
    }
    constexpr std::string_view k_777 = "777;notify;";
    if (cmd.substr(0, k_777.size()) != k_777) return std::nullopt;
    std::string_view rest = cmd.substr(k_777.size());
    size_t semi = rest.find(';');
    if (semi == std::string_view::npos) return rest.empty() ? std::nullopt : std::optional(std::string(rest));
    std::string title(rest.substr(0, semi));
    std::string body(rest.substr(semi + 1));
    if (title.empty() || body.empty()) return title + body;
    return title + ": " + body;
}

enum class Scan : uint8_t {
    ground,
    esc,
    esc_intermediate,
    csi,
    string,  // OSC, DCS, SOS, PM, APC: up to BEL or ST
    string_esc,
    discard_csi,
    discard_string,
    discard_string_esc,
};

struct Csi {
    static constexpr int k_max_params = 16;
    std::array<int, k_max_params> params{};  // -1: left out
    int count = 0;
    int current = -1;
    char leader = 0;        // '?', '>', '<', '=' right after CSI
    char intermediate = 0;  // the last of 0x20-0x2F
    bool malformed = false;

    void add(unsigned char c) {
        if (c >= '0' && c <= '9') {
            current = std::min((current < 0 ? 0 : current) * 10 + (c - '0'), 99999);
        } else if (c == ';' || c == ':') {
            finish_param();
        } else if (count == 0 && current < 0 && leader == 0) {
            leader = static_cast<char>(c);
        } else {
            malformed = true;
        }
    }
    void finish_param() {
        if (count < k_max_params) params[static_cast<size_t>(count++)] = current;
        current = -1;
    }
    int param(int i, int fallback) const {
        return i < count && params[static_cast<size_t>(i)] >= 0 ? params[static_cast<size_t>(i)] : fallback;
    }
};

// What the program set that libvterm 0.1.4 keeps private. Defaults are a sane terminal's.
struct Modes {
    bool app_cursor = false;  // DECCKM ?1
    bool app_keypad = false;  // DECKPAM ESC =
    bool reverse_video = false;  // DECSCNM ?5
    bool origin = false;      // DECOM ?6
    bool autowrap = true;     // DECAWM ?7
    bool insert = false;      // IRM 4
    bool bracketed_paste = false;  // ?2004
    bool focus_events = false;     // ?1004
    int mouse = 0;           // 9, 1000, 1002 or 1003: one at a time, any reset ends it (xterm)
    int mouse_encoding = 0;  // 1005, 1006 or 1015
    int top = 0, bottom = 0;  // DECSTBM, 1-based inclusive; 0: the whole screen
    // Designated charsets: 0 never designated, 'B' ASCII, '0' DEC line drawing... An
    // explicit 'B' is kept: libvterm 0.1.4 then decodes ASCII apart from what follows,
    // which changes how a combining char after it lands, so a redraw must repeat it.
    char g0 = 0, g1 = 0;
    bool shift_out = false;   // SO: G1 in use
};

// libvterm's one DECSC slot (ESC 7, ?1048h, ?1049h), which it does not expose.
struct SavedCursor {
    VTermPos pos{};
    Style pen;
    bool visible = true;  // libvterm saves it too, xterm does not
};

enum class SignalKind : uint8_t { title, bell, notification };
struct QueuedSignal {
    SignalKind kind;
    std::string text;
};

}  // namespace

struct Screen::Impl {
    Impl(int cols, int rows, size_t max_lines, size_t max_bytes);
    ~Impl() {
        vterm_free(m_vt);
        if (m_probe) vterm_free(m_probe);
    }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    static int on_settermprop(VTermProp prop, VTermValue* val, void* user);
    static int on_bell(void* user);
    static int on_pushline(int cols, const VTermScreenCell* cells, void* user);
    static int on_popline(int cols, VTermScreenCell* cells, void* user);
    static int on_osc(const char* command, size_t len, void* user);
    static void on_output(const char* bytes, size_t len, void* user);
    static const VTermScreenCallbacks k_screen_callbacks;  // libvterm keeps the pointers
    static const VTermParserCallbacks k_fallbacks;

    void feed(std::string_view bytes);
    void scan(unsigned char c);
    void scan_ground(unsigned char c);
    void scan_escape(unsigned char c);
    void scan_csi(unsigned char c);
    void begin_escape();
    void finish();
    void end_string();
    void abort_string();
    void write_vterm(size_t n);
    void dispatch_csi(char final);
    void set_dec_mode(int mode, bool on);
    void set_region(int top, int bottom);
    void soft_reset();
    void save_cursor();
    void repair_after_resize();
    void resize_primary_snapshot(int old_cols);
    void enter_alt_screen();
    void dispatch_signals();
    void push_history(StoredLine line);
    void fill_popped(const StoredLine& line, int cols, VTermScreenCell* cells) const;
    Row decode_cells(const VTermScreenCell* cells, int cols) const;
    struct CharKind {
        bool wide = false;
        bool combining = false;
    };
    CharKind char_kind(uint32_t ch) const;

    Row read_row(int row) const;
    VTermPos cursor() const;
    Style current_pen() const;
    void render_modes(std::string& out) const;
    template <typename Line>
    void paint_rows(Painter& painter, std::string& out, const std::vector<Line>& rows) const;

    VTerm* m_vt = nullptr;
    VTermScreen* m_screen = nullptr;
    VTermState* m_state = nullptr;
    int m_cols;
    int m_rows;

    size_t m_max_history_lines;
    size_t m_max_history_bytes;
    std::deque<StoredLine> m_history;
    size_t m_history_bytes = 0;
    uint64_t m_history_pushed = 0;  // lines ever scrolled off, kept or not

    ScreenSignals m_signals;
    std::vector<QueuedSignal> m_queued;
    std::string m_replies;
    std::string m_title;
    bool m_alt = false;
    bool m_cursor_visible = true;
    Modes m_modes;
    std::optional<SavedCursor> m_saved;
    // The primary screen's rows as the alternate screen was entered: libvterm 0.1.4 offers
    // no way to read the inactive buffer.
    std::optional<std::vector<StoredLine>> m_primary;

    // Scanned bytes not yet given to libvterm: [0, m_safe) is whole, the rest is an
    // unfinished sequence or UTF-8 character starting at m_seq_start.
    std::string m_unfed;
    size_t m_safe = 0;
    size_t m_seq_start = 0;
    Scan m_scan = Scan::ground;
    char m_string_kind = 0;  // the byte after ESC that opened the string
    char m_intermediate = 0;  // ESC's intermediate byte, as in ESC ( 0
    int m_utf8_need = 0;
    bool m_after_utf8 = false;  // the last byte in ground state ended or continued a UTF-8 char
    // The last byte fed was text: libvterm would join a combining char that comes next to
    // it, which a redraw cannot carry over (see snapshot()).
    bool m_after_text = false;
    Csi m_csi;

    // A one-row terminal that tells which chars libvterm draws wide or combines.
    mutable VTerm* m_probe = nullptr;
    mutable std::unordered_map<uint32_t, CharKind> m_kinds;
};

const VTermScreenCallbacks Screen::Impl::k_screen_callbacks = {
    .damage = nullptr,
    .moverect = nullptr,
    .movecursor = nullptr,
    .settermprop = &on_settermprop,
    .bell = &on_bell,
    .resize = nullptr,
    .sb_pushline = &on_pushline,
    .sb_popline = &on_popline,
};

const VTermParserCallbacks Screen::Impl::k_fallbacks = {
    .text = nullptr,
    .control = nullptr,
    .escape = nullptr,
    .csi = nullptr,
    .osc = &on_osc,
    .dcs = nullptr,
    .resize = nullptr,
};

Screen::Impl::Impl(int cols, int rows, size_t max_lines, size_t max_bytes)
    : m_cols(std::max(cols, k_min_cols)),
      m_rows(std::max(rows, 1)),
      m_max_history_lines(max_lines),
      m_max_history_bytes(max_bytes) {
    m_vt = vterm_new(m_rows, m_cols);
    TETHER_ASSERT(m_vt != nullptr);
    vterm_set_utf8(m_vt, 1);
    vterm_output_set_callback(m_vt, &Impl::on_output, this);
    m_screen = vterm_obtain_screen(m_vt);
    m_state = vterm_obtain_state(m_vt);
    vterm_screen_set_callbacks(m_screen, &k_screen_callbacks, this);
    vterm_screen_set_unrecognised_fallbacks(m_screen, &k_fallbacks, this);
    vterm_screen_enable_altscreen(m_screen, 1);
    vterm_screen_reset(m_screen, 1);
}

// libvterm calls back from C: nothing may throw through it.
int Screen::Impl::on_settermprop(VTermProp prop, VTermValue* val, void* user) {
    auto* self = static_cast<Impl*>(user);
    try {
        switch (prop) {
        case VTERM_PROP_TITLE:
            self->m_title = val->string ? val->string : "";
            self->m_queued.push_back({SignalKind::title, self->m_title});
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

int Screen::Impl::on_bell(void* user) {
    try {
        static_cast<Impl*>(user)->m_queued.push_back({SignalKind::bell, {}});
    } catch (...) {
    }
    return 1;
}

int Screen::Impl::on_pushline(int cols, const VTermScreenCell* cells, void* user) {
    try {
        auto* self = static_cast<Impl*>(user);
        // Most lines end in erased cells that store() would trim anyway: skip decoding them.
        while (cols > 0 && cells[cols - 1].chars[0] == 0 && is_default(cells[cols - 1].bg) &&
               !cells[cols - 1].attrs.reverse)
            --cols;
        self->push_history(store(self->decode_cells(cells, cols), Trim::blank));
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
    self->m_history_bytes -= self->m_history.back().bytes();
    self->m_history.pop_back();
    return 1;
}

int Screen::Impl::on_osc(const char* command, size_t len, void* user) {
    // 0.1.4 reports a length of SIZE_MAX for an OSC whose ST was split; feed() prevents
    // that, this is a second line of defence.
    if (len > k_max_held_string) return 0;
    try {
        std::optional<std::string> message = notification_of(std::string_view(command, len));
        if (!message) return 0;
        static_cast<Impl*>(user)->m_queued.push_back({SignalKind::notification, std::move(*message)});
    } catch (...) {
    }
    return 1;
}

void Screen::Impl::on_output(const char* bytes, size_t len, void* user) {
    auto* self = static_cast<Impl*>(user);
    try {
        if (self->m_replies.size() + len <= k_max_replies) self->m_replies.append(bytes, len);
    } catch (...) {
    }
}

void Screen::Impl::push_history(StoredLine line) {
    ++m_history_pushed;
    if (m_max_history_lines == 0) return;
    m_history_bytes += line.bytes();
    m_history.push_back(std::move(line));
    while (!m_history.empty() &&
           (m_history.size() > m_max_history_lines || m_history_bytes > m_max_history_bytes)) {
        m_history_bytes -= m_history.front().bytes();
        m_history.pop_front();
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

void Screen::Impl::feed(std::string_view bytes) {
    for (char ch : bytes) scan(static_cast<unsigned char>(ch));
    write_vterm(m_safe);
    dispatch_signals();
}

void Screen::Impl::write_vterm(size_t n) {
    if (n == 0) return;
    vterm_input_write(m_vt, m_unfed.data(), n);
    m_unfed.erase(0, n);
    m_safe -= std::min(m_safe, n);
    m_seq_start -= std::min(m_seq_start, n);
}

void Screen::Impl::begin_escape() {
    m_after_text = false;
    m_seq_start = m_unfed.size();
    m_unfed += '\x1b';
    m_scan = Scan::esc;
    m_utf8_need = 0;
}

void Screen::Impl::finish() {
    m_scan = Scan::ground;
    m_safe = m_unfed.size();
}

void Screen::Impl::scan(unsigned char c) {
    switch (m_scan) {
    case Scan::ground:
        return scan_ground(c);
    case Scan::discard_csi:
        if (c == 0x1b) return begin_escape();
        if ((c >= 0x40 && c <= 0x7e) || c == 0x18 || c == 0x1a) finish();
        return;
    case Scan::discard_string:
        if (c == 0x07) finish();
        if (c == 0x1b) m_scan = Scan::discard_string_esc;
        return;
    case Scan::discard_string_esc:
        if (c == '\\') return finish();
        begin_escape();
        return scan(c);
    default:
        break;
    }
    m_unfed += static_cast<char>(c);
    size_t held = m_unfed.size() - m_seq_start;
    switch (m_scan) {
    case Scan::esc:
    case Scan::esc_intermediate:
        return scan_escape(c);
    case Scan::csi:
        if (held > k_max_held_csi) {  // nobody sends this much: drop it, do not hold it
            m_unfed.resize(m_seq_start);
            m_scan = Scan::discard_csi;
            return;
        }
        return scan_csi(c);
    case Scan::string:
        if (c == 0x07) return end_string();
        if (c == 0x18 || c == 0x1a) return abort_string();
        if (c == 0x1b) m_scan = Scan::string_esc;
        if (held > k_max_held_string) {
            m_unfed.resize(m_seq_start);
            m_scan = m_scan == Scan::string_esc ? Scan::discard_string_esc : Scan::discard_string;
        }
        return;
    case Scan::string_esc:
        if (c == '\\') return end_string();
        // The ESC aborted the string and starts a sequence of its own.
        abort_string();
        begin_escape();
        return scan(c);
    default:
        TETHER_BUG("screen: unexpected scanner state");
    }
}

// libvterm 0.1.4 does not know SOS, PM and APC (kitty graphics...) and would print their
// contents; terminals ignore them, so they are dropped here.
void Screen::Impl::end_string() {
    if (m_string_kind == 'X' || m_string_kind == '^' || m_string_kind == '_') m_unfed.resize(m_seq_start);
    finish();
}

// libvterm 0.1.4 drops a string ended by CAN, SUB or ESC-not-followed-by-backslash;
// never giving it the start spares it an unterminated string across writes.
void Screen::Impl::abort_string() {
    m_unfed.resize(m_seq_start);
    finish();
}

void Screen::Impl::scan_ground(unsigned char c) {
    if (c == 0x1b) return begin_escape();
    // libvterm 0.1.4 decodes a text run that reached a UTF-8 char as UTF-8 to its end, so
    // ASCII after it would escape a line-drawing charset, or not, as writes happen to fall.
    // A write of its own puts such ASCII through the charset, as in xterm.
    char gl = m_modes.shift_out ? m_modes.g1 : m_modes.g0;
    bool drawing = gl != 0 && gl != 'B';
    if (drawing && m_after_utf8 && c >= 0x20 && c < 0x7f) write_vterm(m_unfed.size());
    m_unfed += static_cast<char>(c);
    if (c == 0x0e || c == 0x0f) m_modes.shift_out = c == 0x0e;
    if (c < 0x80)
        m_utf8_need = 0;
    else if ((c & 0xC0) == 0x80)
        m_utf8_need = std::max(m_utf8_need - 1, 0);
    else if (c >= 0xC2 && c <= 0xDF)
        m_utf8_need = 1;
    else if (c >= 0xE0 && c <= 0xEF)
        m_utf8_need = 2;
    else if (c >= 0xF0 && c <= 0xF4)
        m_utf8_need = 3;
    else
        m_utf8_need = 0;
    if (m_utf8_need == 0) m_safe = m_unfed.size();
    m_after_utf8 = c >= 0x80 && (m_utf8_need == 0 || m_after_utf8);
    m_after_text = c >= 0x20 && c != 0x7f;
}

// Called with c already appended; C0 controls inside a sequence are executed by libvterm
// and do not end it.
void Screen::Impl::scan_escape(unsigned char c) {
    if (c == 0x1b) {
        m_seq_start = m_unfed.size() - 1;
        m_scan = Scan::esc;
        return;
    }
    if (c == 0x18 || c == 0x1a) return finish();
    if (c < 0x20 || c == 0x7f) return;
    switch (c) {  // libvterm starts these even after intermediates (ESC $ [ is a CSI)
    case '[':
        m_csi = Csi{};
        m_scan = Scan::csi;
        return;
    case ']': case 'P': case 'X': case '^': case '_':
        m_string_kind = static_cast<char>(c);
        m_scan = Scan::string;
        return;
    default: break;
    }
    if (m_scan == Scan::esc_intermediate) {
        if (c <= 0x2f) return;
        if (m_intermediate == '(') m_modes.g0 = static_cast<char>(c);
        if (m_intermediate == ')') m_modes.g1 = static_cast<char>(c);
        return finish();
    }
    switch (c) {
    case '7': save_cursor(); break;
    case '=': m_modes.app_keypad = true; break;
    case '>': m_modes.app_keypad = false; break;
    case 'c': m_modes = Modes{}; break;  // RIS
    default: break;
    }
    if (c >= 0x20 && c <= 0x2f) {
        m_intermediate = static_cast<char>(c);
        m_scan = Scan::esc_intermediate;
        return;
    }
    finish();
}

void Screen::Impl::scan_csi(unsigned char c) {
    if (c >= 0x40 && c <= 0x7e) {
        m_csi.finish_param();
        dispatch_csi(static_cast<char>(c));
        return finish();
    }
    if (c >= 0x30 && c <= 0x3f) {
        if (m_csi.intermediate) m_csi.malformed = true;
        return m_csi.add(c);
    }
    if (c >= 0x20 && c <= 0x2f) {
        m_csi.intermediate = static_cast<char>(c);
        return;
    }
    if (c == 0x1b) {
        m_seq_start = m_unfed.size() - 1;
        m_scan = Scan::esc;
        return;
    }
    if (c == 0x18 || c == 0x1a || c >= 0x80) return finish();
}

void Screen::Impl::dispatch_csi(char final) {
    const Csi& csi = m_csi;
    if (csi.malformed) return;
    if (csi.leader == 0 && csi.intermediate == '!' && final == 'p') return soft_reset();
    if (csi.intermediate != 0) return;
    bool on = final == 'h';
    if (csi.leader == '?' && (final == 'h' || final == 'l')) {
        for (int i = 0; i < csi.count; ++i) set_dec_mode(csi.param(i, 0), on);
    } else if (csi.leader == 0 && (final == 'h' || final == 'l')) {
        for (int i = 0; i < csi.count; ++i)
            if (csi.param(i, 0) == 4) m_modes.insert = on;
    } else if (csi.leader == 0 && final == 'r') {
        set_region(csi.param(0, 1), csi.param(1, m_rows));
    }
}

void Screen::Impl::set_dec_mode(int mode, bool on) {
    switch (mode) {
    case 1: m_modes.app_cursor = on; break;
    case 5: m_modes.reverse_video = on; break;
    case 6: m_modes.origin = on; break;
    case 7: m_modes.autowrap = on; break;
    case 9: case 1000: case 1002: case 1003: m_modes.mouse = on ? mode : 0; break;
    case 1004: m_modes.focus_events = on; break;
    case 1005: case 1006: case 1015:
        if (on)
            m_modes.mouse_encoding = mode;
        else if (m_modes.mouse_encoding == mode)
            m_modes.mouse_encoding = 0;
        break;
    case 2004: m_modes.bracketed_paste = on; break;
    case 47: case 1047:
        if (on) enter_alt_screen();
        break;
    case 1048:
        if (on) save_cursor();
        break;
    case 1049:
        if (on) save_cursor();
        if (on) enter_alt_screen();
        break;
    default: break;
    }
}

// xterm's rules (0 or too big means the last row; top >= bottom is ignored), and libvterm
// is handed only the normalised result: left alone it accepts an inverted region.
void Screen::Impl::set_region(int top, int bottom) {
    m_unfed.resize(m_seq_start);
    top = std::max(top, 1);
    if (bottom <= 0 || bottom > m_rows) bottom = m_rows;
    if (top >= bottom) return;
    bool whole = top == 1 && bottom == m_rows;
    m_modes.top = whole ? 0 : top;
    m_modes.bottom = whole ? 0 : bottom;
    m_unfed += "\x1b[" + std::to_string(top) + ';' + std::to_string(bottom) + 'r';
}

// libvterm 0.1.4 ignores DECSTR, so it is replaced by what it means, cursor kept.
void Screen::Impl::soft_reset() {
    write_vterm(m_seq_start);
    m_unfed.resize(m_seq_start);
    m_modes.app_cursor = m_modes.app_keypad = m_modes.origin = m_modes.insert = false;
    m_modes.autowrap = true;
    m_modes.top = m_modes.bottom = 0;
    m_modes.g0 = 'B';
    m_modes.shift_out = false;
    std::string reset = "\x1b[?6l\x1b[?7h\x1b[4l\x1b[r\x1b[?1l\x1b>\x1b[?25h\x1b[0m\x1b(B\x0f";
    append_cup(reset, cursor().row, cursor().col);
    vterm_input_write(m_vt, reset.data(), reset.size());
}

// These run before libvterm sees the sequence, which changes nothing they read.
void Screen::Impl::save_cursor() {
    write_vterm(m_seq_start);
    m_saved = SavedCursor{cursor(), current_pen(), m_cursor_visible};
}

// libvterm 0.1.4 can leave the cursor (even at row -1), its DECSC slot or its scroll
// region outside a shrunk screen, and then writes out of bounds: put them back inside.
void Screen::Impl::repair_after_resize() {
    auto inside = [this](VTermPos p) {
        return VTermPos{std::clamp(p.row, 0, m_rows - 1), std::clamp(p.col, 0, m_cols - 1)};
    };
    if (m_modes.bottom > m_rows) m_modes.top = m_modes.bottom = 0;
    std::string fix = "\x1b[?6l";  // CUP below is absolute
    if (m_modes.top)
        fix += "\x1b[" + std::to_string(m_modes.top) + ';' + std::to_string(m_modes.bottom) + 'r';
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
    if (m_modes.origin) fix += "\x1b[?6h";
    if (m_modes.origin && m_modes.top)
        pos.row = std::clamp(pos.row, m_modes.top - 1, m_modes.bottom - 1) - (m_modes.top - 1);
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

void Screen::Impl::enter_alt_screen() {
    write_vterm(m_seq_start);
    if (m_alt) return;
    std::vector<StoredLine> rows;
    for (int r = 0; r < m_rows; ++r) rows.push_back(store(read_row(r), Trim::plain));
    m_primary = std::move(rows);
}

void Screen::Impl::dispatch_signals() {
    if (m_queued.empty()) return;
    std::vector<QueuedSignal> queued = std::exchange(m_queued, {});
    ScreenSignals signals = m_signals;  // a callback may replace them or feed more
    for (const QueuedSignal& s : queued) {
        try {
            if (s.kind == SignalKind::title && signals.on_title) signals.on_title(s.text);
            if (s.kind == SignalKind::bell && signals.on_bell) signals.on_bell();
            if (s.kind == SignalKind::notification && signals.on_notification)
                signals.on_notification(s.text);
        } catch (...) {
        }
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

Row as_row(const Row& row) { return row; }
Row as_row(const StoredLine& line) { return load(line); }

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

// Modes whose setting moves the cursor (DECSTBM, DECOM) come last; the caller then
// places the cursor.
void Screen::Impl::render_modes(std::string& out) const {
    auto dec = [&out](int mode, bool on) {
        out += "\x1b[?" + std::to_string(mode) + (on ? 'h' : 'l');
    };
    if (m_modes.app_cursor) dec(1, true);
    if (m_modes.app_keypad) out += "\x1b=";
    if (m_modes.reverse_video) dec(5, true);
    if (!m_modes.autowrap) dec(7, false);
    if (m_modes.insert) out += "\x1b[4h";
    if (m_modes.bracketed_paste) dec(2004, true);
    if (m_modes.mouse) dec(m_modes.mouse, true);
    if (m_modes.mouse_encoding) dec(m_modes.mouse_encoding, true);
    if (m_modes.focus_events) dec(1004, true);
    // After the cells: they are already Unicode and must not be translated again.
    if (m_modes.g0) out += std::string("\x1b(") + m_modes.g0;
    if (m_modes.g1) out += std::string("\x1b)") + m_modes.g1;
    if (m_modes.shift_out) out += '\x0e';
    if (m_modes.top)
        out += "\x1b[" + std::to_string(m_modes.top) + ';' + std::to_string(m_modes.bottom) + 'r';
    if (m_modes.origin) dec(6, true);
}

Screen::Screen(int cols, int rows, size_t max_history_lines, size_t max_history_bytes)
    : m_impl(std::make_unique<Impl>(cols, rows, max_history_lines, max_history_bytes)) {}
Screen::~Screen() = default;
Screen::Screen(Screen&&) noexcept = default;
Screen& Screen::operator=(Screen&&) noexcept = default;

void Screen::set_signals(ScreenSignals signals) { m_impl->m_signals = std::move(signals); }
void Screen::feed(std::string_view bytes) { m_impl->feed(bytes); }
std::string Screen::take_replies() { return std::exchange(m_impl->m_replies, {}); }

void Screen::resize(int cols, int rows) {
    Impl& s = *m_impl;
    int old_cols = s.m_cols;
    s.m_cols = std::max(cols, k_min_cols);
    s.m_rows = std::max(rows, 1);
    vterm_set_size(s.m_vt, s.m_rows, s.m_cols);
    s.resize_primary_snapshot(old_cols);
    s.repair_after_resize();
    s.dispatch_signals();
}

int Screen::cols() const { return m_impl->m_cols; }
int Screen::rows() const { return m_impl->m_rows; }
size_t Screen::history_size() const { return m_impl->m_history.size(); }

std::string Screen::render_history(size_t max_lines) const {
    const auto& history = m_impl->m_history;
    std::string out;
    Painter painter(out);
    for (size_t i = history.size() - std::min(max_lines, history.size()); i < history.size(); ++i) {
        // EL first: after a full-width line it would erase the last char (pending wrap).
        out += "\x1b[K";
        painter.row(load(history[i]), true);
        painter.reset();
        out += "\r\n";
    }
    return out;
}

// Order matters: the primary screen first, then the saved cursor (which 1049h or ESC 7
// stores in the terminal), then the visible screen, then the modes (DECSTBM and DECOM
// home the cursor), then the cursor and the pen the program will keep writing with.
std::string Screen::render_screen() const {
    const Impl& s = *m_impl;
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
    s.render_modes(out);
    VTermPos pos = s.cursor();
    if (s.m_modes.origin && s.m_modes.top)  // DECRC can leave the cursor outside the region
        pos.row = std::clamp(pos.row, s.m_modes.top - 1, s.m_modes.bottom - 1) - (s.m_modes.top - 1);
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
    const Impl& s = *m_impl;
    const Modes& m = s.m_modes;
    std::string out;
    // Both home the cursor: do them first and put the cursor back.
    if (m.origin) out += "\x1b[?6l";
    if (m.top) out += "\x1b[r";
    if (m.origin || m.top) append_cup(out, s.cursor().row, s.cursor().col);
    if (s.m_alt) out += "\x1b[?1049l";
    out += "\x1b[?25h";
    if (m.app_cursor) out += "\x1b[?1l";
    if (m.app_keypad) out += "\x1b>";
    if (m.reverse_video) out += "\x1b[?5l";
    if (!m.autowrap) out += "\x1b[?7h";
    if (m.insert) out += "\x1b[4l";
    if (m.bracketed_paste) out += "\x1b[?2004l";
    if (m.mouse) out += "\x1b[?" + std::to_string(m.mouse) + 'l';
    if (m.mouse_encoding) out += "\x1b[?" + std::to_string(m.mouse_encoding) + 'l';
    if (m.focus_events) out += "\x1b[?1004l";
    if (m.g0 && m.g0 != 'B') out += "\x1b(B";
    if (m.g1 && m.g1 != 'B') out += "\x1b)B";
    if (m.shift_out) out += '\x0f';
    out += "\x1b[0m";
    return out;
}

std::optional<std::string> Screen::snapshot(size_t history_lines) const {
    const Impl& s = *m_impl;
    // A sequence being discarded cannot be re-fed; one being collected is re-fed whole.
    if (s.m_scan == Scan::discard_csi || s.m_scan == Scan::discard_string || s.m_scan == Scan::discard_string_esc)
        return std::nullopt;
    char gl = s.m_modes.shift_out ? s.m_modes.g1 : s.m_modes.g0;
    if (s.m_after_utf8 && gl != 0 && gl != 'B') return std::nullopt;  // see scan_ground
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
    return out + render_screen() + s.m_unfed;
}

bool Screen::after_text() const { return m_impl->m_after_text; }

uint64_t Screen::history_pushed() const { return m_impl->m_history_pushed; }

std::string Screen::history_tail_text(size_t lines) const {
    const auto& history = m_impl->m_history;
    std::vector<std::string> out;
    for (size_t i = history.size() - std::min(lines, history.size()); i < history.size(); ++i)
        out.push_back(row_text(load(history[i])));
    return join_lines(std::move(out), false);
}

std::string Screen::text() const {
    std::vector<std::string> lines;
    for (int r = 0; r < m_impl->m_rows; ++r) lines.push_back(row_text(m_impl->read_row(r)));
    return join_lines(std::move(lines), true);
}

std::string Screen::history_text() const {
    std::vector<std::string> lines;
    for (const StoredLine& line : m_impl->m_history) lines.push_back(row_text(load(line)));
    return join_lines(std::move(lines), false);
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
