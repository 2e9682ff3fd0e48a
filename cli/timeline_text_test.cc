#include "timeline_text.h"

#include <doctest/doctest.h>

using namespace tether;

TEST_CASE("a timeline line shows the offset from the start and the seq") {
    nlohmann::json e{{"seq", 42}, {"time_us", 5'000'000}, {"kind", "StateChanged"},
                     {"summary", "running -> needs_permission (Bash: rm -rf build)"}};
    std::string line = timeline_line(e, 3'000'000);
    CHECK(line.find("+2.000s") != std::string::npos);
    CHECK(line.find("#42") != std::string::npos);
    CHECK(line.find("running -> needs_permission (Bash: rm -rf build)") != std::string::npos);
}

TEST_CASE("moments are offsets from the start or dates and times") {
    CHECK(parse_moment("90")->us == 90'000'000);
    CHECK(parse_moment("1m30s")->us == 90'000'000);
    CHECK(parse_moment("+0.25s")->us == 250'000);
    CHECK(parse_moment("2h")->us == 7200'000'000);
    CHECK(parse_moment("1m30")->from_start);
    auto utc = parse_moment("2026-11-24T09:30:01.5Z");
    REQUIRE(utc);
    CHECK_FALSE(utc->from_start);
    CHECK(utc->us == 1795512601'500000);
    CHECK_FALSE(parse_moment("soon"));
    CHECK_FALSE(parse_moment("5x"));
    CHECK_FALSE(parse_moment("2026-11-24T09:30:01+02"));
}

TEST_CASE("offsets print as hours, minutes and seconds") {
    CHECK(format_offset(0) == "0.000s");
    CHECK(format_offset(62'500'000) == "1m02.500s");
    CHECK(format_offset(3723'000'000) == "1h02m03.000s");
}
