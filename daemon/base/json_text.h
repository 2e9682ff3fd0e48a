// JSON text from outside the daemon (control frames, hook payloads, settings files),
// parsed with a bound on nesting: nlohmann's dump, copy, compare and destruction recurse
// once per level, so a 200 KB payload of nested brackets would overflow the stack of
// whoever touches the parsed value (measured: about 80 000 levels at -O2).
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace tether {

// Deeper than any real hook payload, settings file or request (they nest under 10).
inline constexpr int k_max_json_depth = 128;

// False when arrays and objects in text nest deeper than max_depth (strings skipped).
bool json_nesting_within(std::string_view text, int max_depth = k_max_json_depth);
// parse() without exceptions: discarded for text that is not JSON or nests too deep.
nlohmann::json parse_json_bounded(std::string_view text, int max_depth = k_max_json_depth);

}  // namespace tether
