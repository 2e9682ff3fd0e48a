// Reading one field of a JSON object that may be absent or of the wrong type (a payload
// from the log, a reply from the daemon): the field's value, or empty / 0. Never throws.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace tether {

inline std::string json_text(const nlohmann::json& j, const char* key) {
    if (!j.is_object()) return {};
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

inline int64_t json_int(const nlohmann::json& j, const char* key) {
    if (!j.is_object()) return 0;
    auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

}  // namespace tether
