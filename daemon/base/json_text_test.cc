#include "base/json_text.h"

#include <doctest/doctest.h>

#include <string>

using namespace tether;

TEST_CASE("JSON from outside is parsed up to the nesting bound and refused beyond it") {
    auto nested = [](int n) { return "{\"a\":" + std::string(n - 1, '[') + std::string(n - 1, ']') + "}"; };
    CHECK(parse_json_bounded(nested(k_max_json_depth)).is_object());
    CHECK(parse_json_bounded(nested(k_max_json_depth + 1)).is_discarded());
    // Brackets inside strings, escaped quotes included, do not count.
    std::string in_string = "{\"a\":\"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"}";
    CHECK(parse_json_bounded(in_string).is_object());
    CHECK(parse_json_bounded("{not json").is_discarded());
}

TEST_CASE("a payload nested 200 000 deep is refused before anything recurses over it") {
    std::string deep = "{\"a\":" + std::string(200000, '[') + std::string(200000, ']') + "}";
    CHECK_FALSE(json_nesting_within(deep));
    CHECK(parse_json_bounded(deep).is_discarded());
}
