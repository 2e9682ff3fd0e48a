// Screen::Impl, shared by the files that make up the Screen: screen.cc (the public calls
// and rendering), screen_vterm.cc (libvterm, its callbacks and reading cells back),
// screen_resize.cc (resizes and the alternate screen). Internal to them.
#pragma once

#include <vterm.h>

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "terminal/escape_scanner.h"
#include "terminal/screen.h"
#include "terminal/screen_cell.h"
#include "terminal/screen_history.h"
#include "terminal/screen_modes.h"
#include "terminal/screen_painter.h"

namespace tether {

constexpr int k_min_screen_cols = 2;  // libvterm 0.1.4 writes past the row for a wide char in 1 column

struct Screen::Impl final : screen::EscapeScanner::Sink {
    Impl(int cols, int rows, size_t max_lines, size_t max_bytes);
    ~Impl();
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    // libvterm's callbacks (screen_vterm.cc).
    static int on_settermprop(VTermProp prop, VTermValue* val, void* user);
    static int on_pushline(int cols, const VTermScreenCell* cells, void* user);
    static int on_popline(int cols, VTermScreenCell* cells, void* user);
    static void on_output(const char* bytes, size_t len, void* user);
    static const VTermScreenCallbacks k_screen_callbacks;  // libvterm keeps the pointer

    // EscapeScanner::Sink.
    void write_terminal(const char* bytes, size_t n) override;
    void save_cursor() override;
    void enter_alt_screen() override;
    void soft_reset() override;
    int terminal_rows() const override { return m_rows; }

    void resize(int cols, int rows);  // screen_resize.cc
    void repair_after_resize();
    void resize_primary_snapshot(int old_cols);

    void fill_popped(const screen::StoredLine& line, int cols, VTermScreenCell* cells) const;
    screen::Row decode_cells(const VTermScreenCell* cells, int cols) const;
    struct CharKind {
        bool wide = false;
        bool combining = false;
    };
    CharKind char_kind(uint32_t ch) const;

    screen::Row read_row(int row) const;
    VTermPos cursor() const;
    screen::Style current_pen() const;
    template <typename Line>
    void paint_rows(screen::Painter& painter, std::string& out, const std::vector<Line>& rows) const;

    VTerm* m_vt = nullptr;
    VTermScreen* m_screen = nullptr;
    VTermState* m_state = nullptr;
    int m_cols;
    int m_rows;

    screen::ScreenHistory m_history;
    screen::EscapeScanner m_scanner{*this};

    std::string m_replies;
    std::string m_title;
    bool m_alt = false;
    bool m_cursor_visible = true;
    std::optional<screen::SavedCursor> m_saved;
    // The primary screen's rows as the alternate screen was entered: libvterm 0.1.4 offers
    // no way to read the inactive buffer.
    std::optional<std::vector<screen::StoredLine>> m_primary;

    // A one-row terminal that tells which chars libvterm draws wide or combines.
    mutable VTerm* m_probe = nullptr;
    mutable std::unordered_map<uint32_t, CharKind> m_kinds;
};

}  // namespace tether
