// Screen runs as JSON.
#include "terminal/screen_cells.h"

#include <cstdio>

namespace tether {

namespace {

// "idx:N" -> N, "rgb:R,G,B" -> "#rrggbb", "default" -> null (the key is left out).
nlohmann::json color_json(const std::string& c) {
    if (c.rfind("idx:", 0) == 0) return std::stoi(c.substr(4));
    unsigned r = 0, g = 0, b = 0;
    if (std::sscanf(c.c_str(), "rgb:%u,%u,%u", &r, &g, &b) == 3) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "#%02x%02x%02x", r & 0xff, g & 0xff, b & 0xff);
        return hex;
    }
    return nullptr;
}

}  // namespace

nlohmann::json screen_cells_json(const Screen& screen) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& row : screen.runs()) {
        nlohmann::json runs = nlohmann::json::array();
        for (const ScreenRun& r : row) {
            nlohmann::json j{{"t", r.text}, {"n", r.cols}};
            if (auto fg = color_json(r.fg); !fg.is_null()) j["fg"] = fg;
            if (auto bg = color_json(r.bg); !bg.is_null()) j["bg"] = bg;
            int a = (r.bold ? k_cell_bold : 0) | (r.italic ? k_cell_italic : 0) | (r.underline ? k_cell_underline : 0) |
                    (r.reverse ? k_cell_reverse : 0) | (r.strike ? k_cell_strike : 0) | (r.blink ? k_cell_blink : 0);
            if (a) j["a"] = a;
            runs.push_back(std::move(j));
        }
        rows.push_back(std::move(runs));
    }
    return rows;
}

}  // namespace tether
