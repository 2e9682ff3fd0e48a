// The UI's state file.
#include "ui_state.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace tether::ui {

bool UiState::is_muted(int64_t session, int64_t now_us) const {
    auto it = muted.find(session);
    return it != muted.end() && (it->second == 0 || it->second > now_us);
}

std::string default_ui_state_path() {
    if (const char* p = std::getenv("TETHER_UI_STATE"); p && *p) return p;
    if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return std::string(x) + "/tether/ui.json";
    const char* home = std::getenv("HOME");
    return std::string(home ? home : ".") + "/.local/state/tether/ui.json";
}

Result<UiState> load_ui_state(const std::string& path) {
    UiState s;
    std::ifstream in(path);
    if (!in) return s;
    std::stringstream text;
    text << in.rdbuf();
    auto j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return Error{"ui state " + path + ": not a JSON object; starting afresh"};
    auto number = [&](const char* key, int& out) {
        if (auto it = j.find(key); it != j.end() && it->is_number_integer()) out = it->get<int>();
    };
    number("x", s.x);
    number("y", s.y);
    number("width", s.width);
    number("height", s.height);
    if (s.width < 200 || s.height < 120 || s.width > 10000 || s.height > 10000) {
        s.width = UiState{}.width;
        s.height = UiState{}.height;
    }
    if (auto m = j.find("muted"); m != j.end() && m->is_object())
        for (const auto& [id, until] : m->items())
            if (until.is_number_integer()) s.muted[std::atoll(id.c_str())] = until.get<int64_t>();
    return s;
}

Status save_ui_state(const std::string& path, const UiState& state) {
    nlohmann::json muted = nlohmann::json::object();
    for (const auto& [id, until] : state.muted) muted[std::to_string(id)] = until;
    nlohmann::json j{{"x", state.x}, {"y", state.y}, {"width", state.width}, {"height", state.height}, {"muted", muted}};
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out) return Error{"ui state: cannot write " + tmp};
        out << j.dump(2) << "\n";
        if (!out.flush()) return Error{"ui state: cannot write " + tmp};
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec) return Error{"ui state: cannot replace " + path + ": " + ec.message()};
    return {};
}

}  // namespace tether::ui
