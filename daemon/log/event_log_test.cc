#include "log/event_log.h"

#include <sys/stat.h>

#include <doctest/doctest.h>

#include "support.h"

using namespace tether;
using tether::test::TempDir;

namespace {

std::vector<Event> read_all(EventLog& log, EventQuery q = {}) {
    std::vector<Event> out;
    auto cursor = log.read(q);
    REQUIRE(cursor);
    for (;;) {
        auto ev = cursor->next();
        REQUIRE(ev);
        if (!*ev) break;
        out.push_back(**ev);
    }
    return out;
}

}  // namespace

TEST_CASE("an event round-trips through the log byte for byte") {
    TempDir dir;
    std::string binary("\x00\x1b[31mred\xff\xfe", 12);
    Event appended;
    {
        auto log = EventLog::open(dir.file("events.db"));
        REQUIRE(log);
        appended = (*log)->append(make_bytes_event(7, EventKind::OutputChunk, binary));
        REQUIRE((*log)->commit());
    }
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE(log);
    auto events = read_all(**log);
    REQUIRE(events.size() == 1);
    CHECK(events[0] == appended);
    CHECK(events[0].payload == binary);
    CHECK(events[0].seq == 1);
    CHECK(events[0].time_us > 0);
}

TEST_CASE("appends are staged until commit and seq keeps counting after reopen") {
    TempDir dir;
    {
        auto log = EventLog::open(dir.file("events.db"));
        REQUIRE(log);
        for (int i = 0; i < 5; ++i)
            (*log)->append(make_json_event(1, EventKind::MarkerAdded, {{"text", std::to_string(i)}}));
        CHECK((*log)->pending_events() == 5);
        CHECK((*log)->durable_seq() == 0);
        CHECK(read_all(**log).empty());
        REQUIRE((*log)->commit());
        CHECK((*log)->durable_seq() == 5);
        CHECK((*log)->pending_events() == 0);
    }
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE(log);
    CHECK((*log)->last_seq() == 5);
    CHECK((*log)->append(make_json_event(1, EventKind::MarkerAdded, {})).seq == 6);
}

TEST_CASE("a group commit writes many events in one transaction") {
    TempDir dir;
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE(log);
    for (int i = 0; i < 1000; ++i)
        (*log)->append(make_bytes_event(1 + i % 3, EventKind::OutputChunk, std::string(100, 'a' + i % 26)));
    int commits_seen = 0;
    REQUIRE((*log)->commit([&](SqliteDb& db) {
        ++commits_seen;
        // Inside the transaction the events are visible to the same connection.
        auto n = db.query_int("SELECT count(*) FROM events");
        REQUIRE(n);
        CHECK(*n == 1000);
        return Status{};
    }));
    CHECK(commits_seen == 1);
    CHECK(read_all(**log).size() == 1000);
}

TEST_CASE("a failed commit keeps the staged events for the next try") {
    TempDir dir;
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE(log);
    (*log)->append(make_json_event(1, EventKind::MarkerAdded, {{"text", "kept"}}));
    auto s = (*log)->commit([](SqliteDb&) -> Status { return Error{"projection write failed"}; });
    CHECK_FALSE(s);
    CHECK((*log)->pending_events() == 1);
    CHECK(read_all(**log).empty());
    REQUIRE((*log)->commit());
    auto events = read_all(**log);
    REQUIRE(events.size() == 1);
    CHECK(events[0].json()["text"] == "kept");
}

TEST_CASE("reads filter by session and by seq and time ranges") {
    TempDir dir;
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE(log);
    for (int i = 1; i <= 30; ++i) {
        Event ev = make_json_event(i % 3, EventKind::MarkerAdded, {{"i", i}});
        ev.time_us = 1000 * i;
        (*log)->append(ev);
    }
    REQUIRE((*log)->commit());
    auto s1 = read_all(**log, EventQuery{.session = 1});
    CHECK(s1.size() == 10);
    for (const auto& ev : s1) CHECK(ev.session == 1);
    auto range = read_all(**log, EventQuery{.session = std::nullopt, .from_seq = 5, .to_seq = 9});
    REQUIRE(range.size() == 5);
    CHECK(range.front().seq == 5);
    CHECK(range.back().seq == 9);
    auto by_time = read_all(**log, EventQuery{.session = 2, .from_time_us = 10000, .to_time_us = 20000});
    for (const auto& ev : by_time) {
        CHECK(ev.session == 2);
        CHECK(ev.time_us >= 10000);
        CHECK(ev.time_us <= 20000);
    }
    CHECK(by_time.size() == 4);  // i = 11, 14, 17, 20
}

TEST_CASE("time in the log never runs backwards") {
    TempDir dir;
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE(log);
    Event late = make_json_event(1, EventKind::MarkerAdded, {});
    late.time_us = 5000;
    Event early = late;
    early.time_us = 4000;
    (*log)->append(late);
    CHECK((*log)->append(early).time_us == 5000);
}

TEST_CASE("the database is WAL with 0600 files in whatever umask") {
    TempDir dir;
    mode_t old = umask(0);
    auto log = EventLog::open(dir.file("events.db"));
    umask(old);
    REQUIRE(log);
    (*log)->append(make_json_event(1, EventKind::MarkerAdded, {}));
    REQUIRE((*log)->commit());
    auto mode = (*log)->db().prepare("PRAGMA journal_mode");
    REQUIRE(mode);
    REQUIRE(*mode->step());
    CHECK(mode->column_text(0) == "wal");
    struct stat st {};
    REQUIRE(stat(dir.file("events.db").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("a newer schema version is refused naming both versions") {
    TempDir dir;
    {
        auto db = SqliteDb::open(dir.file("events.db"), SqliteDb::Mode::ReadWrite);
        REQUIRE(db);
        REQUIRE(db->exec("PRAGMA user_version=99"));
    }
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE_FALSE(log);
    CHECK(log.error().message.find("99") != std::string::npos);
    CHECK(log.error().message.find(std::to_string(EventLog::k_schema_version)) != std::string::npos);
    CHECK(log.error().message.find("events.db") != std::string::npos);
}

TEST_CASE("a version 1 database is migrated and keeps its events") {
    TempDir dir;
    {
        auto db = SqliteDb::open(dir.file("events.db"), SqliteDb::Mode::ReadWrite);
        REQUIRE(db);
        REQUIRE(db->exec("CREATE TABLE events(seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, "
                         "session INTEGER NOT NULL, kind INTEGER NOT NULL, payload BLOB NOT NULL) STRICT;"
                         "INSERT INTO events VALUES(1, 10, 3, 12, CAST('{\"text\":\"old\"}' AS BLOB));"
                         "PRAGMA user_version=1;"));
    }
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE(log);
    CHECK((*log)->migrated_from() == 1);
    auto version = (*log)->db().query_int("PRAGMA user_version");
    REQUIRE(version);
    CHECK(*version == EventLog::k_schema_version);
    auto events = read_all(**log);
    REQUIRE(events.size() == 1);
    CHECK(events[0].json()["text"] == "old");
    CHECK((*log)->append(make_json_event(3, EventKind::MarkerAdded, {})).seq == 2);
}

TEST_CASE("a file that is not a database gives an error naming it, not a crash") {
    TempDir dir;
    tether::test::write_file(dir.file("events.db"), std::string(8192, 'x'));
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE_FALSE(log);
    CHECK(log.error().message.find("events.db") != std::string::npos);
    CHECK(log.error().message.find("not a database") != std::string::npos);
}

TEST_CASE("a truncated database gives an error naming it, not a crash") {
    TempDir dir;
    std::string path = dir.file("events.db");
    {
        auto log = EventLog::open(path);
        REQUIRE(log);
        for (int i = 0; i < 2000; ++i)
            (*log)->append(make_bytes_event(1, EventKind::OutputChunk, std::string(4000, 'z')));
        REQUIRE((*log)->commit());
        REQUIRE((*log)->db().exec("PRAGMA wal_checkpoint(TRUNCATE)"));
    }
    std::string bytes = tether::test::read_file(path);
    REQUIRE(bytes.size() > 100000);
    tether::test::write_file(path, bytes.substr(0, bytes.size() / 2));
    auto log = EventLog::open(path);
    if (!log) {
        CHECK(log.error().message.find("events.db") != std::string::npos);
        return;
    }
    // Opening may succeed (the header is intact); reading the damaged part must fail cleanly.
    auto cursor = (*log)->read(EventQuery{});
    REQUIRE(cursor);
    bool failed = false;
    for (;;) {
        auto ev = cursor->next();
        if (!ev) {
            failed = true;
            CHECK(ev.error().message.find("events.db") != std::string::npos);
            break;
        }
        if (!*ev) break;
    }
    CHECK(failed);
}
