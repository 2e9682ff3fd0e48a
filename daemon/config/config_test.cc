#include "config/config.h"
#include "notify/rules.h"

#include <doctest/doctest.h>

#include "support.h"

using namespace tether;
using tether::test::TempDir;

namespace {
std::vector<ConfigError> check(const std::string& text, Config& c) {
    TempDir dir;
    std::string path = dir.file("config.yaml");
    tether::test::write_file(path, text);
    return check_config(path, c);
}
}  // namespace

TEST_CASE("the example configuration loads as it is") {
    Config c;
    auto errors = check_config(std::string(TETHER_SOURCE_DIR) + "/config.example.yaml", c);
    for (const auto& e : errors) INFO(e.to_string());
    CHECK(errors.empty());
    CHECK(c.flush_ms == 5);
    CHECK(c.history_lines == 50000);
    CHECK(c.detach_key == "^\\");
    // Its notifications section is live: the shipped plugins, wired to the states that need a person.
    REQUIRE(c.rules);
    CHECK(c.rules->notifiers.size() == 3);
    CHECK(c.rules->notifiers.at("desktop").plugin == "desktop");
    CHECK(c.rules->notifiers.at("chime").plugin == "sound");
    CHECK(c.rules->notifiers.at("hook").plugin == "webhook");
    CHECK(c.rules->rules.size() == 4);
}

TEST_CASE("an empty file means the defaults") {
    Config c;
    CHECK(check("", c).empty());
    CHECK(c.history_lines == 50000);
}

TEST_CASE("values are read") {
    Config c;
    CHECK(check("daemon:\n  flush_ms: 20\nsessions:\n  history_lines: 7\n  client_buffer_kib: 128\nattach:\n  detach_key: \"^]\"\n", c).empty());
    CHECK(c.flush_ms == 20);
    CHECK(c.history_lines == 7);
    CHECK(c.client_buffer_kib == 128);
    CHECK(c.detach_key == "^]");
}

TEST_CASE("every error is collected with its line and column and a hint") {
    Config c;
    auto errors = check("daemon:\n  flush_ms: fast\n  flsh: 3\nsessions:\n  history_lines: -4\nattach:\n  detach_key: x\nbogus: 1\n", c);
    REQUIRE(errors.size() == 5);
    CHECK(errors[0].message.find("unknown key \"bogus\"") != std::string::npos);
    CHECK(errors[0].line == 8);
    CHECK(errors[1].message.find("unknown key \"flsh\" in daemon") != std::string::npos);
    CHECK(errors[1].hint.find("flush_ms") != std::string::npos);
    CHECK(errors[1].line == 3);
    CHECK(errors[2].message.find("flush_ms must be a whole number") != std::string::npos);
    CHECK(errors[2].line == 2);
    CHECK(errors[2].column == 13);
    CHECK(errors[3].message.find("out of range") != std::string::npos);
    CHECK(errors[3].line == 5);
    CHECK(errors[4].message.find("detach_key") != std::string::npos);
    CHECK(errors[4].to_string().find(":7:15: ") != std::string::npos);
}

TEST_CASE("a YAML syntax error names the line") {
    Config c;
    auto errors = check("daemon:\n  flush_ms: [1,\n", c);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].message.find("YAML syntax error") != std::string::npos);
    CHECK(errors[0].line >= 2);
}

TEST_CASE("a section of the wrong shape is an error, not a crash") {
    Config c;
    auto errors = check("sessions: 5\n", c);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].message.find("sessions must be a mapping") != std::string::npos);
}

TEST_CASE("load_config refuses a bad file with every error in one message") {
    TempDir dir;
    tether::test::write_file(dir.file("c.yaml"), "daemon:\n  flush_ms: x\nnope: 1\n");
    auto c = load_config(dir.file("c.yaml"));
    REQUIRE_FALSE(c);
    CHECK(c.error().message.find("2 errors") != std::string::npos);
    CHECK(c.error().message.find("c.yaml:2:") != std::string::npos);
    CHECK(c.error().message.find("c.yaml:3:") != std::string::npos);
    CHECK_FALSE(load_config(dir.file("missing.yaml")));
}

TEST_CASE("ui.terminal: a command line or a list; empty is an error") {
    Config c;
    CHECK(c.ui_terminal == std::vector<std::string>{"x-terminal-emulator", "-e"});
    CHECK(check("ui:\n  terminal: \"xterm -T tether -e\"\n", c).empty());
    CHECK(c.ui_terminal == std::vector<std::string>{"xterm", "-T", "tether", "-e"});
    CHECK(check("ui:\n  terminal: [foot, --]\n", c).empty());
    CHECK(c.ui_terminal == std::vector<std::string>{"foot", "--"});
    auto errors = check("ui:\n  terminal: \"\"\n  colour: red\n", c);
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].message.find("unknown key \"colour\" in ui") != std::string::npos);
    CHECK(errors[1].message.find("ui.terminal") != std::string::npos);
    CHECK(errors[1].line == 2);
}
