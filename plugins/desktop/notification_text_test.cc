// The text of desktop notifications: summary, body, urgency, category.
#include "notification_text.h"

#include <doctest/doctest.h>

using namespace desktop;

TEST_CASE("the summary names the session and the reason") {
    MessageText m{"7", "api", "permission", "", "", "Bash", R"({"command":"make deploy"})", ""};
    CHECK(summary_for(m) == "api needs permission for Bash");
    m.kind = "question";
    CHECK(summary_for(m) == "api has a question");
    m.kind = "done";
    CHECK(summary_for(m) == "api is done");
    m.kind = "exited";
    CHECK(summary_for(m) == "api exited");
    m.kind = "starting";
    CHECK(summary_for(m) == "api: starting");
    m.title = "api is starting";
    CHECK(summary_for(m) == "api is starting");
    m.session_name = "";
    m.kind = "done";
    CHECK(summary_for(m) == "session 7 is done");
}

TEST_CASE("a permission's body is the tool and its command, then the agent's words") {
    MessageText m{"7", "api", "permission", "", "Bash: make", "Bash", R"({"command":"make deploy","timeout":5})", ""};
    CHECK(body_for(m, false) == "Bash: make deploy");
    m.message = "Claude needs your permission to use Bash";
    CHECK(body_for(m, false) == "Bash: make deploy\nClaude needs your permission to use Bash");
    m = {"7", "api", "permission", "", "", "Edit", R"({"file_path":"/src/a.cc","old_string":"x"})", ""};
    CHECK(body_for(m, false) == "Edit: /src/a.cc");
    m = {"7", "api", "permission", "", "", "WebFetch", R"({"url":"https://example.org","prompt":"p"})", ""};
    CHECK(body_for(m, false) == "WebFetch: https://example.org");
    m = {"7", "api", "permission", "", "", "mcp__x", R"({"n":1})", ""};
    CHECK(body_for(m, false) == "mcp__x: {\"n\":1}");
    m = {"7", "api", "permission", "", "", "Bash", "{}", ""};
    CHECK(body_for(m, false) == "Bash");
}

TEST_CASE("other kinds show the agent's message, else the daemon's body") {
    MessageText m{"7", "api", "done", "", "after 3m of work", "", "", "All tests pass."};
    CHECK(body_for(m, false) == "All tests pass.");
    m.message = "";
    CHECK(body_for(m, false) == "after 3m of work");
    m = {"7", "api", "question", "", "", "", "", "Which database?"};
    CHECK(body_for(m, false) == "Which database?");
}

TEST_CASE("with body-markup the body is escaped and the tool is bold") {
    MessageText m{"7", "api", "permission", "", "", "Bash", R"({"command":"grep '<a & b>' x"})", ""};
    CHECK(body_for(m, true) == "<b>Bash</b>: grep &apos;&lt;a &amp; b&gt;&apos; x");
    CHECK(body_for(m, false) == "Bash: grep '<a & b>' x");
}

TEST_CASE("long text is cut at a character boundary with an ellipsis") {
    std::string s = "ab\xc3\xa9" "cdef";  // abécdef: é is 2 bytes
    CHECK(truncated(s, 8) == s);
    CHECK(truncated(s, 6) == "ab\xe2\x80\xa6");  // the cut would split é: backs off
    CHECK(truncated(s, 7) == "ab\xc3\xa9\xe2\x80\xa6");
    std::string long_message(5000, 'x');  // outlives m, which only views it
    MessageText m{"7", "api", "done", "", "", "", "", long_message};
    CHECK(body_for(m, false, 1000).size() <= 1000);
}

TEST_CASE("urgency follows the kind") {
    CHECK(urgency_for("permission") == Urgency::critical);
    CHECK(urgency_for("question") == Urgency::critical);
    CHECK(urgency_for("done") == Urgency::normal);
    CHECK(urgency_for("exited") == Urgency::normal);
    CHECK(urgency_for("idle") == Urgency::low);
    CHECK(urgency_for("running") == Urgency::low);
    CHECK(parse_urgency("critical") == Urgency::critical);
    CHECK(!parse_urgency("loud"));
    CHECK(category_for("permission") == "x-tether.permission");
    CHECK(category_for("a b") == "x-tether.a_b");
}

TEST_CASE("command_of picks the field that says what the tool does") {
    CHECK(command_of("") == "");
    CHECK(command_of(R"({"pattern":"TODO","path":"src"})") == "src");
    CHECK(command_of(R"({"query":"libvterm"})") == "libvterm");
    CHECK(command_of(R"("just text")") == "just text");
    CHECK(command_of("not json") == "not json");
}
