#include "state/projections.h"

#include <doctest/doctest.h>

#include "support.h"

using namespace tether;
using tether::test::TempDir;

namespace {

Event at(Event ev, int64_t seq, int64_t time_us) {
    ev.seq = seq;
    ev.time_us = time_us;
    return ev;
}

Event started(int64_t session, const std::string& name) {
    return make_json_event(session, EventKind::SessionStarted,
                           {{"name", name}, {"command", {"sh", "-c", "true"}}, {"cwd", "/tmp"},
                            {"agent", "shell"}, {"cols", 80}, {"rows", 24}, {"pid", 4242}});
}

}  // namespace

TEST_CASE("SessionStarted creates a starting session with its command and size") {
    SessionsState s;
    CHECK(apply(s, at(started(1, "one"), 1, 100)) == 1);
    const SessionRow* row = s.find(1);
    REQUIRE(row);
    CHECK(row->name == "one");
    CHECK(row->command == std::vector<std::string>{"sh", "-c", "true"});
    CHECK(row->cwd == "/tmp");
    CHECK(row->agent == "shell");
    CHECK(row->state == agent_state::starting);
    CHECK(row->state_since_us == 100);
    CHECK(row->cols == 80);
    CHECK(row->rows == 24);
    CHECK(row->pid == 4242);
    CHECK(s.applied_seq == 1);
}

TEST_CASE("output counts bytes and activity; StateChanged sets the state and what it waits for") {
    SessionsState s;
    apply(s, at(started(1, "one"), 1, 100));
    apply(s, at(make_bytes_event(1, EventKind::OutputChunk, "hello"), 2, 200));
    CHECK(s.find(1)->state == agent_state::starting);
    apply(s, at(make_json_event(1, EventKind::StateChanged, {{"from", "starting"}, {"to", "running"}, {"reason", "output"}}), 2, 200));
    apply(s, at(make_bytes_event(1, EventKind::OutputChunk, "abc"), 3, 300));
    apply(s, at(make_bytes_event(1, EventKind::InputSent, "ls\r"), 4, 400));
    const SessionRow* row = s.find(1);
    REQUIRE(row);
    CHECK(row->state == agent_state::running);
    CHECK(row->state_since_us == 200);
    CHECK(row->bytes_out == 8);
    CHECK(row->bytes_in == 3);
    CHECK(row->last_activity_us == 400);
    apply(s, at(make_json_event(1, EventKind::StateChanged,
                                {{"from", "running"}, {"to", "needs_permission"}, {"reason", "hook PermissionRequest"},
                                 {"tool", "Bash"}, {"tool_input", {{"command", "rm -rf build"}}}}), 5, 500));
    CHECK(row->state == agent_state::needs_permission);
    CHECK(row->state_since_us == 500);
    CHECK(row->waiting_tool == "Bash");
    CHECK(row->waiting_input == "{\"command\":\"rm -rf build\"}");
    CHECK(row->state_reason == "hook PermissionRequest");
}

TEST_CASE("exit by code and by signal are kept apart") {
    SessionsState s;
    apply(s, at(started(1, "a"), 1, 1));
    apply(s, at(started(2, "b"), 2, 1));
    apply(s, at(make_json_event(1, EventKind::SessionExited, {{"code", 3}}), 3, 50));
    apply(s, at(make_json_event(2, EventKind::SessionExited, {{"signal", 9}}), 4, 60));
    CHECK(s.find(1)->state == agent_state::exited);
    CHECK(s.find(1)->exit_code == 3);
    CHECK_FALSE(s.find(1)->exit_signal);
    CHECK(s.find(2)->exit_signal == 9);
    CHECK_FALSE(s.find(2)->exit_code);
    CHECK(s.find(2)->state_since_us == 60);
}

TEST_CASE("resize and title update the row; unknown sessions and kinds are ignored") {
    SessionsState s;
    apply(s, at(started(1, "a"), 1, 1));
    apply(s, at(make_json_event(1, EventKind::Resized, {{"cols", 120}, {"rows", 40}}), 2, 2));
    apply(s, at(make_json_event(1, EventKind::TitleChanged, {{"title", "✳ Claude Code"}}), 3, 3));
    CHECK(apply(s, at(make_bytes_event(9, EventKind::OutputChunk, "x"), 4, 4)) == 0);
    CHECK(apply(s, at(make_json_event(1, EventKind::MarkerAdded, {{"text", "note"}}), 5, 5)) == 0);
    CHECK(s.find(1)->cols == 120);
    CHECK(s.find(1)->rows == 40);
    CHECK(s.find(1)->title == "✳ Claude Code");
    CHECK(s.sessions.size() == 1);
    CHECK(s.applied_seq == 5);
}

TEST_CASE("a spawn failure is a failed session with its error") {
    SessionsState s;
    apply(s, at(make_json_event(4, EventKind::SessionSpawnFailed,
                                {{"name", "x"}, {"command", {"nosuch"}}, {"error", "exec \"nosuch\": No such file or directory"}}),
                1, 10));
    REQUIRE(s.find(4));
    CHECK(s.find(4)->state == session_state::failed);
    CHECK(s.find(4)->error.find("No such file") != std::string::npos);
    CHECK_FALSE(s.find(4)->live());
}

TEST_CASE("a malformed JSON payload does not stop the fold") {
    SessionsState s;
    Event bad = started(1, "a");
    bad.payload = "{not json";
    apply(s, at(bad, 1, 1));
    REQUIRE(s.find(1));
    CHECK(s.find(1)->name.empty());
    apply(s, at(make_bytes_event(1, EventKind::OutputChunk, "x"), 2, 2));
    CHECK(s.find(1)->bytes_out == 1);
}

TEST_CASE("find_by_name prefers the live session when a name was reused") {
    SessionsState s;
    apply(s, at(started(1, "dup"), 1, 1));
    apply(s, at(make_json_event(1, EventKind::SessionExited, {{"code", 0}}), 2, 2));
    apply(s, at(started(2, "dup"), 3, 3));
    REQUIRE(s.find_by_name("dup"));
    CHECK(s.find_by_name("dup")->id == 2);
    CHECK_FALSE(s.find_by_name("none"));
}

TEST_CASE("live projection tables equal a rebuild from seq 1 after a scripted workload") {
    TempDir dir;
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE(log);
    Projections live;
    REQUIRE(live.load(**log));
    auto append = [&](Event ev) { live.apply((*log)->append(std::move(ev))); };
    for (int round = 0; round < 20; ++round) {
        int64_t id = round + 1;
        append(started(id, "s" + std::to_string(id)));
        for (int i = 0; i < 10; ++i) append(make_bytes_event(id, EventKind::OutputChunk, std::string(i + 1, 'o')));
        append(make_bytes_event(id, EventKind::InputSent, "q"));
        append(make_json_event(id, EventKind::TitleChanged, {{"title", "t" + std::to_string(round)}}));
        if (round % 2) append(make_json_event(id, EventKind::SessionExited, {{"code", round}}));
        // Commit at uneven points, as the group-commit timer would.
        if (round % 3 == 0) REQUIRE((*log)->commit([&](SqliteDb& db) { return live.persist(db); }));
    }
    REQUIRE((*log)->commit([&](SqliteDb& db) { return live.persist(db); }));

    auto tables = Projections::read_tables((*log)->db());
    REQUIRE(tables);
    auto folded = Projections::fold_all(**log);
    REQUIRE(folded);
    CHECK(*tables == live.sessions());
    CHECK(*folded == live.sessions());

    Projections rebuilt;
    REQUIRE(rebuilt.rebuild(**log));
    CHECK(rebuilt.sessions() == live.sessions());
    auto after = Projections::read_tables((*log)->db());
    REQUIRE(after);
    CHECK(*after == live.sessions());
}

TEST_CASE("load rebuilds tables that lag the log, as after a migration") {
    TempDir dir;
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE(log);
    (*log)->append(started(1, "a"));
    (*log)->append(make_bytes_event(1, EventKind::OutputChunk, "xyz"));
    REQUIRE((*log)->commit());  // events without their projection rows
    Projections p;
    REQUIRE(p.load(**log));
    REQUIRE(p.sessions().find(1));
    CHECK(p.sessions().find(1)->bytes_out == 3);
    auto tables = Projections::read_tables((*log)->db());
    REQUIRE(tables);
    CHECK(*tables == p.sessions());
}
