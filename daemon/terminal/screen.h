// Screen: a virtual terminal fed with one program's output. It owns the visible grid, a
// bounded history of lines scrolled off the primary screen, and the modes the program
// set, and renders them as plain ECMA-48/xterm bytes for attach and detach. Its parts
// (screen*.{h,cc}, escape_scanner.{h,cc}) are the only users of libvterm (the Debian
// 0.1.4 API); PTYs and sockets live elsewhere, and titles, bells and notifications as
// events are terminal_signals.h's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether {

// One cell as tests and debugging see it, independent of how it would be rendered.
struct ScreenCell {
    std::string chars;  // UTF-8, base char then combining chars; empty if erased
    int width = 1;      // 2 for a wide char, 0 for its right half
    std::string fg = "default";  // "default", "idx:N" (0-255) or "rgb:R,G,B"
    std::string bg = "default";
    bool bold = false, italic = false, blink = false, reverse = false, strike = false;
    int underline = 0;  // 0 none, 1 single, 2 double, 3 curly
    int font = 0;       // 0-9
    bool operator==(const ScreenCell&) const = default;
};

// A stretch of one row's cells with the same colours and attributes, for drawing.
struct ScreenRun {
    std::string text;  // UTF-8; an erased cell is a space
    int cols = 0;      // columns it covers (a wide char counts two)
    std::string fg = "default", bg = "default";  // as in ScreenCell
    bool bold = false, italic = false, blink = false, reverse = false, strike = false;
    int underline = 0;
};

// Not thread-safe, const members included (they fill a cache): one lock around every call.
class Screen {
public:
    static constexpr size_t k_default_history_lines = 10000;
    static constexpr size_t k_default_history_bytes = size_t{16} << 20;

    // History holds lines scrolled off the top of the primary screen, oldest first, bounded
    // by both a line count and an approximate memory size. At least 2 columns and 1 row.
    Screen(int cols, int rows, size_t max_history_lines = k_default_history_lines,
           size_t max_history_bytes = k_default_history_bytes);
    ~Screen();
    Screen(const Screen&) = delete;
    Screen& operator=(const Screen&) = delete;
    Screen(Screen&&) noexcept;
    Screen& operator=(Screen&&) noexcept;

    // Program output (UTF-8). Chunks may split anywhere, even inside an escape sequence or a
    // UTF-8 character: an incomplete tail is held back until the next feed(). A string
    // sequence (OSC, DCS, APC...) longer than 64 KiB is dropped whole.
    void feed(std::string_view bytes);
    // Bytes the terminal answers with (DA, DSR, ...), meant for the program's PTY. Taking
    // them clears them; at most 64 KiB is kept if nobody takes them.
    std::string take_replies();

    // Lines leave or return to history as libvterm shrinks or grows the primary screen.
    void resize(int cols, int rows);
    int cols() const;
    int rows() const;
    size_t history_size() const;

    // The newest max_lines history lines, oldest first, each with its colours and
    // attributes as SGR: EL (whatever the user's line held goes), the line, an SGR reset if
    // the line left a pen set, "\r\n". Written to the user's terminal they land in its own
    // scrollback.
    std::string render_history(size_t max_lines) const;
    // An exact redraw for a terminal of the same size in a sane default state: the primary
    // screen and the alternate one if active, every cell with its colours and attributes,
    // the saved cursor (DECSC), the modes the program set (cursor keys, keypad, bracketed
    // paste, mouse, focus, cursor visibility, reverse video, autowrap, insert, scroll region,
    // origin), the cursor position and finally the program's current SGR pen.
    std::string render_screen() const;
    // For attach: history, then enough newlines to push everything on the user's screen
    // into their scrollback, then render_screen().
    std::string render_attach(size_t max_history_lines) const;
    // For detach: undoes every mode the program set (only those), always shows the cursor
    // and resets SGR.
    std::string render_reset_modes() const;

    // Visible rows as plain text, trailing blanks trimmed per row, '\n'-joined, trailing
    // empty rows dropped.
    std::string text() const;
    // All history lines as plain text, oldest first, '\n'-joined.
    std::string history_text() const;

    // A keyframe: bytes that, fed to a fresh Screen of the same size, rebuild this one so
    // that any output fed to both afterwards leaves them equal (screen, modes, pen, saved
    // cursor, title, the newest history lines, a sequence cut short). nullopt at the
    // moments where the state cannot be carried over: inside a sequence being discarded,
    // or with the cursor in the last column (a pending wrap is invisible); the next chunk
    // boundary is usually fine. Tab stops are not kept. After text (after_text()), the
    // snapshot holds only if the output that follows does not begin with a combining
    // char, which libvterm would join to that text: the caller checks.
    std::optional<std::string> snapshot(size_t history_lines) const;
    bool after_text() const;
    // Lines ever scrolled into history (a counter that only grows), and the newest lines
    // of it as plain text: what scrolled off since an earlier count, for the text index.
    uint64_t history_pushed() const;
    std::string history_tail_text(size_t lines) const;

    // 0-based; out of range gives an erased cell. Reads the whole row: for tests, not loops.
    ScreenCell cell(int row, int col) const;
    // Every visible row as runs, left to right; trailing erased default cells are left out.
    std::vector<std::vector<ScreenRun>> runs() const;
    bool alt_screen() const;
    bool cursor_visible() const;
    int cursor_row() const;  // 0-based, absolute (not relative to an origin-mode region)
    int cursor_col() const;
    std::string title() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;  // owns the VTerm; libvterm's callbacks point at it
};

}  // namespace tether
