#include "agent/claude_settings.h"

#include <doctest/doctest.h>

#include "support.h"

using namespace tether;
using nlohmann::json;

namespace {
const json k_user = json::parse(R"({
  "model": "opus",
  "hooks": {
    "Stop": [{"matcher": "", "hooks": [{"type": "command", "command": "/home/u/bin/ding.sh"}]}],
    "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "/home/u/bin/guard.sh"}]}]
  }
})");
}  // namespace

TEST_CASE("merging tether's hooks keeps the user's hooks and settings, and is idempotent") {
    json entries = tether_hook_entries("/opt/tether/tether-hook", 120);
    auto once = merge_tether_hooks(k_user, entries);
    REQUIRE(once);
    CHECK((*once)["model"] == "opus");
    CHECK((*once)["hooks"]["Stop"].size() == 2);
    CHECK((*once)["hooks"]["Stop"][0]["hooks"][0]["command"] == "/home/u/bin/ding.sh");
    CHECK((*once)["hooks"]["PreToolUse"][0]["matcher"] == "Bash");
    auto events = tether_hook_events(*once);
    CHECK(std::find(events.begin(), events.end(), "PermissionRequest") != events.end());
    auto twice = merge_tether_hooks(*once, entries);
    REQUIRE(twice);
    CHECK(*twice == *once);
}

TEST_CASE("removing tether's hooks gives back exactly the user's settings") {
    auto merged = merge_tether_hooks(k_user, tether_hook_entries("/opt/tether/tether-hook", 120));
    REQUIRE(merged);
    CHECK(remove_tether_hooks(*merged) == k_user);
    CHECK(tether_hook_events(k_user).empty());
    json only_tether = remove_tether_hooks(*merge_tether_hooks(json::object(), tether_hook_entries("/x/tether-hook", 5)));
    CHECK(only_tether == json::object());
}

TEST_CASE("settings of the wrong shape are refused") {
    CHECK_FALSE(merge_tether_hooks(json::array(), json::object()));
    CHECK_FALSE(merge_tether_hooks(json{{"hooks", 3}}, json::object()));
    CHECK_FALSE(merge_tether_hooks(json{{"hooks", {{"Stop", "x"}}}}, json::object()));
}

TEST_CASE("an unparsable settings file is an error naming it and is left alone") {
    tether::test::TempDir dir;
    std::string path = dir.file("settings.json");
    tether::test::write_file(path, "{ \"hooks\": [oops");
    auto r = read_settings(path);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("settings.json") != std::string::npos);
    CHECK(r.error().message.find("refusing") != std::string::npos);
    CHECK(tether::test::read_file(path) == "{ \"hooks\": [oops");
}

TEST_CASE("writing settings keeps a backup of the previous file") {
    tether::test::TempDir dir;
    std::string path = dir.file("settings.json");
    CHECK(read_settings(path)->empty());
    tether::test::write_file(path, "{\"a\":1}");
    auto backup = write_settings(path, json{{"a", 2}});
    REQUIRE(backup);
    REQUIRE_FALSE(backup->empty());
    CHECK(tether::test::read_file(*backup) == "{\"a\":1}");
    CHECK((*read_settings(path))["a"] == 2);
}
