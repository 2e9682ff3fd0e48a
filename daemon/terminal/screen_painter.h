// Writing cells back out as ECMA-48/xterm bytes: CSI helpers, SGR differences between two
// pens, and the Painter that draws rows for attach, keyframes and resize repairs.
#pragma once

#include <string>

#include "terminal/screen_cell.h"

namespace tether::screen {

// CSI [n] final, with n left out when it is 1 (every use here defaults to 1).
void append_csi(std::string& out, int n, char final);
void append_cup(std::string& out, int row, int col);  // 0-based in, 1-based out
// SGR parameters that turn pen `from` into pen `to`, without a reset.
std::string sgr_params(const Style& from, const Style& to);

// Writes rows of cells, tracking the pen it left the terminal with so it only emits
// SGR differences.
class Painter {
public:
    explicit Painter(std::string& out) : m_out(out) {}

    void pen(const Style& to);
    void reset();
    // A screen row lands on a cleared line, so gaps are skipped with CUF and erased cells
    // that carry a pen are recreated with ECH (exact in libvterm, BCE elsewhere). A
    // history line lands wherever the user's cursor is, so gaps become spaces.
    void row(const Row& row, bool gaps_as_spaces);

private:
    std::string& m_out;
    Style m_pen = default_style();
};

}  // namespace tether::screen
