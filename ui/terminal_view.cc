// Terminal painting and key translation.
#include "terminal_view.h"

#include <GLFW/glfw3.h>
#include <imgui.h>

#include "wire/screen_cells_format.h"

namespace tether::ui {

namespace {

constexpr ImU32 k_default_fg = IM_COL32(220, 220, 220, 255);
constexpr ImU32 k_default_bg = IM_COL32(16, 16, 20, 255);

ImU32 xterm_color(int idx) {
    static const unsigned char k_base[16][3] = {
        {0, 0, 0},       {205, 49, 49},   {13, 188, 121},  {229, 229, 16},  {36, 114, 200},  {188, 63, 188},
        {17, 168, 205},  {229, 229, 229}, {102, 102, 102}, {241, 76, 76},   {35, 209, 139},  {245, 245, 67},
        {59, 142, 234},  {214, 112, 214}, {41, 184, 219},  {255, 255, 255}};
    if (idx < 16) return IM_COL32(k_base[idx][0], k_base[idx][1], k_base[idx][2], 255);
    if (idx < 232) {
        int i = idx - 16;
        auto level = [](int v) { return v == 0 ? 0 : 55 + v * 40; };
        return IM_COL32(level(i / 36), level((i / 6) % 6), level(i % 6), 255);
    }
    int g = 8 + (idx - 232) * 10;
    return IM_COL32(g, g, g, 255);
}

// Each character in its own column, whatever the font's advance: the grid stays straight.
// A run with combining or wide characters (code points != columns) is drawn as one string.
void draw_run_text(ImDrawList* draw, ImFont* font, float size, ImVec2 at, float cw, ImU32 fg, const ScreenRunView& run) {
    const char* begin = run.text.data();
    const char* end = begin + run.text.size();
    int points = 0;
    for (const char* p = begin; p < end; ++p) points += (static_cast<unsigned char>(*p) & 0xC0) != 0x80;
    if (points != run.cols) {
        draw->AddText(font, size, at, fg, begin, end);
        return;
    }
    for (const char* p = begin; p < end;) {
        const char* next = p + 1;
        while (next < end && (static_cast<unsigned char>(*next) & 0xC0) == 0x80) ++next;
        if (!(next - p == 1 && *p == ' ')) draw->AddText(font, size, at, fg, p, next);
        at.x += cw;
        p = next;
    }
}

}  // namespace

unsigned int terminal_color(int color, bool foreground, bool bold) {
    if (color < 0) return foreground ? k_default_fg : k_default_bg;
    if (color & (1 << 24)) return IM_COL32((color >> 16) & 0xff, (color >> 8) & 0xff, color & 0xff, 255);
    if (foreground && bold && color < 8) color += 8;  // bold brightens the first eight, as xterm does
    return xterm_color(color);
}

void draw_terminal(const ScreenView& screen, bool show_cursor) {
    ImDrawList* draw = ImGui::GetWindowDrawList();
    ImFont* font = ImGui::GetFont();
    float size = ImGui::GetFontSize();
    float cw = font->CalcTextSizeA(size, 1e9f, 0, "M").x;
    float lh = size + 1;
    ImVec2 origin = ImGui::GetCursorScreenPos();
    ImVec2 extent(cw * static_cast<float>(screen.cols), lh * static_cast<float>(screen.rows));
    draw->AddRectFilled(origin, ImVec2(origin.x + extent.x, origin.y + extent.y), k_default_bg);
    for (size_t r = 0; r < screen.cells.size(); ++r) {
        float y = origin.y + lh * static_cast<float>(r);
        int col = 0;
        for (const ScreenRunView& run : screen.cells[r]) {
            bool bold = run.attrs & k_cell_bold;
            ImU32 fg = terminal_color(run.fg, true, bold), bg = terminal_color(run.bg, false, false);
            if (run.attrs & k_cell_reverse) std::swap(fg, bg);
            float x = origin.x + cw * static_cast<float>(col);
            float w = cw * static_cast<float>(run.cols);
            if (bg != k_default_bg) draw->AddRectFilled(ImVec2(x, y), ImVec2(x + w, y + lh), bg);
            draw_run_text(draw, font, size, ImVec2(x, y), cw, fg, run);
            if (bold) draw_run_text(draw, font, size, ImVec2(x + 1, y), cw, fg, run);
            if (run.attrs & k_cell_underline) draw->AddLine(ImVec2(x, y + lh - 1), ImVec2(x + w, y + lh - 1), fg);
            if (run.attrs & k_cell_strike) draw->AddLine(ImVec2(x, y + lh / 2), ImVec2(x + w, y + lh / 2), fg);
            col += run.cols;
        }
    }
    if (show_cursor && screen.cursor_visible) {
        float x = origin.x + cw * static_cast<float>(screen.cursor_col), y = origin.y + lh * static_cast<float>(screen.cursor_row);
        draw->AddRectFilled(ImVec2(x, y), ImVec2(x + cw, y + lh), IM_COL32(220, 220, 220, 140));
    }
    ImGui::Dummy(extent);
}

std::string typed_bytes() {
    ImGuiIO& io = ImGui::GetIO();
    std::string out;
    auto pressed = [](int glfw_key) { return ImGui::IsKeyPressed(glfw_key, true); };
    if (io.KeyCtrl) {
        for (int k = GLFW_KEY_A; k <= GLFW_KEY_Z; ++k)
            if (pressed(k)) out.push_back(static_cast<char>(k - GLFW_KEY_A + 1));
    } else {
        for (ImWchar c : io.InputQueueCharacters) {
            unsigned cp = c;
            if (cp < 0x80) out.push_back(static_cast<char>(cp));
            else if (cp < 0x800) {
                out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
                out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
            } else {
                out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
                out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
                out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
            }
        }
    }
    struct Key {
        int glfw;
        const char* bytes;
    };
    static const Key k_keys[] = {{GLFW_KEY_ENTER, "\r"},     {GLFW_KEY_KP_ENTER, "\r"},  {GLFW_KEY_BACKSPACE, "\x7f"},
                                 {GLFW_KEY_TAB, "\t"},       {GLFW_KEY_ESCAPE, "\x1b"},  {GLFW_KEY_UP, "\x1b[A"},
                                 {GLFW_KEY_DOWN, "\x1b[B"},  {GLFW_KEY_RIGHT, "\x1b[C"}, {GLFW_KEY_LEFT, "\x1b[D"},
                                 {GLFW_KEY_HOME, "\x1b[H"},  {GLFW_KEY_END, "\x1b[F"},   {GLFW_KEY_DELETE, "\x1b[3~"},
                                 {GLFW_KEY_PAGE_UP, "\x1b[5~"}, {GLFW_KEY_PAGE_DOWN, "\x1b[6~"}};
    for (const Key& k : k_keys)
        if (pressed(k.glfw)) out += k.bytes;
    return out;
}

}  // namespace tether::ui
