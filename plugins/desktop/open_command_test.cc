// The Open action's command line: splitting and placeholders (spawning is tested with
// the plugin, in desktop_notifier_test.cc).
#include "open_command.h"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace desktop;

TEST_CASE("the open command is split like a shell would, and placeholders stay inside their word") {
    OpenCommand c("term --title 'tether {session}' -e tether attach {session_id} --cwd={cwd}");
    REQUIRE(c.enabled());
    auto argv = c.argv_for({"my api; rm -rf ~ $(x)", "12", "/home/u/a b"});
    std::vector<std::string> want{"term", "--title", "tether my api; rm -rf ~ $(x)", "-e", "tether", "attach", "12",
                                  "--cwd=/home/u/a b"};
    CHECK(argv == want);
    // A value is not expanded again.
    CHECK(c.argv_for({"{cwd}", "1", "X"})[2] == "tether {cwd}");
}

TEST_CASE("{tether} is a tether CLI path or the bare name") {
    OpenCommand c("{tether} attach {session}");
    auto argv = c.argv_for({"s", "1", ""});
    REQUIRE(argv.size() == 3);
    CHECK((argv[0] == "tether" || argv[0].size() > 7));
    CHECK(argv[0].find("tether") != std::string::npos);
}

TEST_CASE("an empty open command disables Open; an unclosed quote is an error naming the option") {
    CHECK(!OpenCommand("").enabled());
    CHECK(!OpenCommand("   ").enabled());
    try {
        OpenCommand("term -e 'tether attach");
        FAIL("no error");
    } catch (const std::invalid_argument& e) {
        CHECK(std::string(e.what()).find("open_command:") == 0);
    }
}
