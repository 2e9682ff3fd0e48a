// The Screen's history: lines scrolled off the top of the primary screen, oldest first, in
// their compact form, bounded by a line count and an approximate memory size, and what is
// read back from it (the attach replay, plain text for the search index).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

#include "terminal/screen_cell.h"

namespace tether::screen {

class ScreenHistory {
public:
    ScreenHistory(size_t max_lines, size_t max_bytes) : m_max_lines(max_lines), m_max_bytes(max_bytes) {}

    // Counts the line as pushed even when the bounds keep none; drops the oldest lines
    // beyond them.
    void push(StoredLine line);
    // The newest line goes back on screen (libvterm's sb_popline as the screen grows).
    const StoredLine& back() const { return m_lines.back(); }
    void pop_back();

    bool empty() const { return m_lines.empty(); }
    size_t size() const { return m_lines.size(); }
    uint64_t pushed() const { return m_pushed; }

    // The newest max_lines lines as SGR, each on a line of its own (Screen::render_history).
    std::string render(size_t max_lines) const;
    std::string text() const;                      // every line, '\n'-joined
    std::string tail_text(size_t lines) const;     // the newest lines, '\n'-joined

private:
    size_t first_of_last(size_t lines) const { return m_lines.size() - std::min(lines, m_lines.size()); }

    size_t m_max_lines;
    size_t m_max_bytes;
    std::deque<StoredLine> m_lines;
    size_t m_bytes = 0;
    uint64_t m_pushed = 0;  // lines ever scrolled off, kept or not
};

}  // namespace tether::screen
