// The chat notifiers' words: suggestions, outcomes, cut text.
#include "chat_text.h"

#include <doctest/doctest.h>

using namespace notifier_chat;

TEST_CASE("what Always accepts is said in a few words, for each kind of Claude Code suggestion") {
    CHECK(suggestion_text(R"({"type":"addRules","rules":[{"toolName":"Bash","ruleContent":"npm test"}],"behavior":"allow","destination":"localSettings"})") ==
          "allow Bash(npm test) in this project");
    CHECK(suggestion_text(R"({"type":"addDirectories","directories":["/home/u/proj"],"destination":"session"})") ==
          "allow work in /home/u/proj for this session");
    CHECK(suggestion_text(R"({"type":"setMode","mode":"acceptEdits","destination":"session"})") == "accept edits for this session");
    CHECK(suggestion_text(R"({"type":"addRules","rules":[{"toolName":"Read"},{"toolName":"Bash","ruleContent":"ls:*"}],"destination":"userSettings"})") ==
          "allow Read, Bash(ls:*) everywhere");
    CHECK(suggestion_text("") == "");
    CHECK(suggestion_text("not json") == "");
    CHECK(suggestion_text(R"({"type":"somethingNew"})") == "somethingNew");
}

TEST_CASE("an outcome says who decided what, from where") {
    CHECK(outcome_text({"allow", "cli", "", false}) == "Approved from the command line");
    CHECK(outcome_text({"allow", "slack:U0123ABC", "", true}) == "Approved, always, by Slack user U0123ABC");
    CHECK(outcome_text({"deny", "telegram:456", "use make test", false}) == "Denied by Telegram user 456: use make test");
    CHECK(outcome_text({"allow", "rule:reads", "", false}) == "Approved by rule reads");
    CHECK(outcome_text({"deny", "notifier:desktop", "", false}) == "Denied by notifier desktop");
    CHECK(outcome_text({"allow", "ui", "", false}) == "Approved from the tether window");
    CHECK(outcome_text({"ask", "timeout", "", false}) ==
          "Not answered through tether: nobody answered in time; the agent asked in its own terminal");
    CHECK(outcome_text({"ask", "agent", "", false}).find("the agent moved on") != std::string::npos);
    auto person = [](std::string_view channel, std::string_view id) {
        return channel == "slack" ? "@" + std::string(id) + " from Slack" : std::string();
    };
    CHECK(outcome_text({"allow", "slack:U1", "", false}, person) == "Approved by @U1 from Slack");
    CHECK(outcome_text({"allow", "telegram:9", "", false}, person) == "Approved by Telegram user 9");
}

TEST_CASE("text is cut on a UTF-8 boundary, and the command is found in a tool input") {
    CHECK(truncated("hello", 10) == "hello");
    CHECK(truncated("h\xc3\xa9llo w\xc3\xb6rld", 6) == "h\xc3\xa9...");
    CHECK(truncated("\xc3\xa9\xc3\xa9\xc3\xa9", 5) == "\xc3\xa9...");
    CHECK(tool_input_text(R"({"command":"make deploy","description":"x"})") == "make deploy");
    CHECK(tool_input_text(R"({"file_path":"/a/b"})") == "/a/b");
    CHECK(tool_input_text(R"({"x":1})") == R"({"x":1})");
    CHECK(tool_input_text("not json") == "not json");
    CHECK(utc_clock(1795000000123) == "11:06:40 UTC");
}
