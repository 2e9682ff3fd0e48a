// The bounded history of scrolled-off lines.
#include "terminal/screen_history.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "terminal/screen_painter.h"

namespace tether::screen {

void ScreenHistory::push(StoredLine line) {
    ++m_pushed;
    if (m_max_lines == 0) return;
    m_bytes += line.bytes();
    m_lines.push_back(std::move(line));
    while (!m_lines.empty() && (m_lines.size() > m_max_lines || m_bytes > m_max_bytes)) {
        m_bytes -= m_lines.front().bytes();
        m_lines.pop_front();
    }
}

void ScreenHistory::pop_back() {
    m_bytes -= m_lines.back().bytes();
    m_lines.pop_back();
}

std::string ScreenHistory::render(size_t max_lines) const {
    std::string out;
    Painter painter(out);
    for (size_t i = first_of_last(max_lines); i < m_lines.size(); ++i) {
        // EL first: after a full-width line it would erase the last char (pending wrap).
        out += "\x1b[K";
        painter.row(load(m_lines[i]), true);
        painter.reset();
        out += "\r\n";
    }
    return out;
}

std::string ScreenHistory::text() const { return tail_text(m_lines.size()); }

std::string ScreenHistory::tail_text(size_t lines) const {
    std::vector<std::string> out;
    for (size_t i = first_of_last(lines); i < m_lines.size(); ++i) out.push_back(row_text(load(m_lines[i])));
    return join_lines(std::move(out), false);
}

}  // namespace tether::screen
