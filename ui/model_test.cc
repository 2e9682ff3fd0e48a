// The UI model's fold of the watch stream.
#include "model.h"

#include <doctest/doctest.h>

using namespace tether::ui;
using nlohmann::json;

namespace {
json row(int64_t id, const std::string& state, json extra = json::object()) {
    json j{{"id", id}, {"name", "s" + std::to_string(id)}, {"agent", "claude"}, {"state", state}, {"state_since_us", 100}};
    j.update(extra);
    return j;
}
json notice(json r, const char* change = "changed") { return {{"event", "session"}, {"change", change}, {"session", r}}; }
}  // namespace

TEST_CASE("a snapshot replaces everything; notices are upserts") {
    Model m;
    m.apply_snapshot({{"sessions", {row(1, "idle"), row(2, "running")}},
                      {"pending", {{{"request", 9}, {"session", 2}, {"tool", "Bash"}, {"tool_input", {{"command", "ls"}}}}}}});
    REQUIRE(m.sessions.size() == 2);
    REQUIRE(m.pending_for(2));
    CHECK(m.pending_for(2)->request == 9);
    CHECK(!m.pending_for(1));
    m.apply_notice(notice(row(3, "starting"), "added"));
    CHECK(m.sessions.size() == 3);
    m.apply_notice({{"event", "pending"}, {"change", "decided"}, {"request", 9}});
    CHECK(!m.pending_for(2));
    m.apply_snapshot({{"sessions", {row(1, "idle")}}, {"pending", json::array()}});
    CHECK(m.sessions.size() == 1);
}

TEST_CASE("a transition into a needs-you state is reported once") {
    Model m;
    m.apply_snapshot({{"sessions", {row(1, "running")}}});
    auto t = m.apply_notice(notice(row(1, "needs_permission", {{"waiting_tool", "Bash"}})));
    REQUIRE(t);
    CHECK(t->from == "running");
    CHECK(t->to == "needs_permission");
    // The same row again (a repeated notice, or a title change) is no new transition.
    CHECK(!m.apply_notice(notice(row(1, "needs_permission", {{"title", "x"}}))));
    CHECK(!m.apply_notice(notice(row(1, "running"))));
    CHECK(m.apply_notice(notice(row(1, "needs_answer"))));
    CHECK(!m.apply_notice(notice(row(1, "idle"))));
}

TEST_CASE("what a session waits for: tool and command, else its message") {
    SessionView s = session_from_json(row(1, "needs_permission", {{"waiting_tool", "Bash"},
                                                                  {"waiting_input", {{"command", "make test"}}}}));
    CHECK(waiting_for(s) == "Bash: make test");
    s = session_from_json(row(1, "needs_permission", {{"waiting_tool", "Edit"}, {"waiting_input", {{"file_path", "a.c"}}}}));
    CHECK(waiting_for(s) == "Edit: a.c");
    s = session_from_json(row(1, "needs_answer", {{"message", "Which database?"}}));
    CHECK(waiting_for(s) == "Which database?");
    CHECK(!session_from_json(row(1, "exited")).live);
}

TEST_CASE("screen cells: colours decoded, errors kept") {
    Model m;
    m.apply_screen({{"ok", true}, {"session", 4}, {"cols", 10}, {"rows", 2}, {"cursor_row", 1}, {"cursor_col", 3},
                    {"cells", {{{{"t", "ab"}, {"n", 2}, {"fg", 174}, {"bg", "#ff0010"}, {"a", 1}}}, json::array()}}});
    REQUIRE(m.screen);
    REQUIRE(m.screen->cells.size() == 2);
    const ScreenRunView& r = m.screen->cells[0][0];
    CHECK(r.text == "ab");
    CHECK(r.fg == 174);
    CHECK(r.bg == (0xff0010 | (1 << 24)));
    CHECK(r.attrs == 1);
    m.apply_screen({{"ok", false}, {"session", 4}, {"error", "screen: session 4 has ended"}});
    CHECK(m.screen->error == "screen: session 4 has ended");
}

TEST_CASE("the fleet's hosts: from the snapshot, replaced by each fleet notice") {
    Model m;
    m.apply_snapshot(nlohmann::json::parse(R"({"sessions": [], "pending": [], "fleet": [
        {"host": "a", "self": true, "daemon_up": true, "sessions": [], "pending": []},
        {"host": "b", "daemon_up": true,
         "sessions": [{"id": 1, "name": "api", "state": "needs_permission", "waiting_tool": "Bash"}],
         "pending": [{"request": "b:9", "session": 1, "tool": "Bash", "tool_input": {"command": "ls"}}]}]})"));
    REQUIRE(m.fleet.size() == 2);
    CHECK(m.fleet.at("a").self);
    const HostView& b = m.fleet.at("b");
    CHECK(b.sessions.at(1).state == "needs_permission");
    REQUIRE(b.pending_for(1));
    CHECK(b.pending_for(1)->request == 9);
    CHECK(!m.apply_notice(nlohmann::json::parse(R"({"event": "fleet", "host": {"host": "b", "daemon_up": true,
        "sessions": [{"id": 1, "name": "api", "state": "running"}], "pending": []}})")));
    CHECK(m.fleet.at("b").sessions.at(1).state == "running");
    CHECK(!m.fleet.at("b").pending_for(1));
}
