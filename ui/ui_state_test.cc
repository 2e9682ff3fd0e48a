// The UI's state file: round trip, defaults, damage.
#include "ui_state.h"

#include <doctest/doctest.h>

#include "support.h"

using namespace tether::ui;

TEST_CASE("ui state survives a save and a load; a missing file is the defaults") {
    tether::test::TempDir dir;
    std::string path = dir.file("sub/ui.json");
    auto fresh = load_ui_state(path);
    REQUIRE(fresh);
    CHECK(*fresh == UiState{});
    UiState s;
    s.x = 10;
    s.y = 20;
    s.width = 700;
    s.height = 500;
    s.muted = {{3, 0}, {5, 1234}};
    REQUIRE(save_ui_state(path, s));
    auto back = load_ui_state(path);
    REQUIRE(back);
    CHECK(*back == s);
    CHECK(back->is_muted(3, 99999));
    CHECK(back->is_muted(5, 1000));
    CHECK(!back->is_muted(5, 2000));  // a snooze runs out
    CHECK(!back->is_muted(4, 0));
}

TEST_CASE("a damaged ui state file is an error naming it") {
    tether::test::TempDir dir;
    std::string path = dir.file("ui.json");
    tether::test::write_file(path, "{not json");
    auto s = load_ui_state(path);
    REQUIRE(!s);
    CHECK(s.error().message.find(path) != std::string::npos);
}
