#include "log/event_log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "recordings/asciicast.h"
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


// Output that compresses the way terminal output does: lines with colours and numbers.
std::string terminal_like(size_t bytes, unsigned seed) {
    std::string out;
    unsigned x = seed;
    while (out.size() < bytes) {
        x = x * 1103515245u + 12345u;
        out += "\x1b[38;5;" + std::to_string(x % 256) + "mline " + std::to_string(x % 100000) +
               " of the build log: compiling module_" + std::to_string((x >> 8) % 97) + ".cc\x1b[0m\r\n";
    }
    out.resize(bytes);
    return out;
}

// Bytes that do not compress, so that the database really grows.
std::string noise(size_t bytes, unsigned seed) {
    std::string out(bytes, '\0');
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (char& c : out) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c = static_cast<char>(x);
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
            (*log)->append(make_bytes_event(1, EventKind::OutputChunk, noise(4000, static_cast<unsigned>(i))));
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

TEST_CASE("output is stored compressed and read back as it was written") {
    TempDir dir;
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE(log);
    std::string big = terminal_like(65536, 1);
    (*log)->append(make_bytes_event(1, EventKind::OutputChunk, big));
    (*log)->append(make_bytes_event(1, EventKind::OutputChunk, "$ "));  // too small to pay
    (*log)->append(make_bytes_event(1, EventKind::InputSent, big));     // only output is compressed
    REQUIRE((*log)->commit());
    auto stmt = (*log)->db().prepare("SELECT codec, length(payload) FROM events ORDER BY seq");
    REQUIRE(stmt);
    std::vector<std::pair<int64_t, int64_t>> stored;
    while (*stmt->step()) stored.emplace_back(stmt->column_int(0), stmt->column_int(1));
    REQUIRE(stored.size() == 3);
    CHECK(stored[0].first == 1);
    CHECK(stored[0].second < static_cast<int64_t>(big.size() / 3));
    CHECK(stored[1] == std::pair<int64_t, int64_t>{0, 2});
    CHECK(stored[2].first == 0);
    auto events = read_all(**log);
    REQUIRE(events.size() == 3);
    CHECK(events[0].payload == big);
    CHECK(events[1].payload == "$ ");
    CHECK(events[2].payload == big);
}

TEST_CASE("a log of schema version 4 opens, reads and exports its old output after the upgrade") {
    TempDir dir;
    std::string path = dir.file("events.db");
    std::string old_output = terminal_like(20000, 2);
    {
        // Version 4 is version 5 without the codec column, every payload as written.
        auto log = EventLog::open(path);
        REQUIRE(log);
        REQUIRE((*log)->db().exec("ALTER TABLE events DROP COLUMN codec; PRAGMA user_version=4;"));
        auto ins = (*log)->db().prepare("INSERT INTO events(seq, time, session, kind, payload) VALUES(?1, ?2, 1, ?3, ?4)");
        REQUIRE(ins);
        ins->bind(1, 1).bind(2, 10).bind(3, static_cast<int64_t>(EventKind::SessionStarted)).bind_blob(4, "{}");
        REQUIRE(ins->run());
        ins->bind(1, 2).bind(2, 20).bind(3, static_cast<int64_t>(EventKind::OutputChunk)).bind_blob(4, old_output);
        REQUIRE(ins->run());
    }
    auto log = EventLog::open(path);
    REQUIRE(log);
    CHECK((*log)->migrated_from() == 4);
    std::string new_output = terminal_like(20000, 3);
    (*log)->append(make_bytes_event(1, EventKind::OutputChunk, new_output));
    REQUIRE((*log)->commit());
    auto events = read_all(**log, EventQuery{.session = 1});
    REQUIRE(events.size() == 3);
    CHECK(events[1].payload == old_output);
    CHECK(events[2].payload == new_output);
    // Export reads through the same cursor: the asciicast holds the old output too.
    AsciicastEncoder encoder(events[0].time_us);
    std::string cast;
    for (const Event& ev : events)
        if (ev.kind == EventKind::OutputChunk) cast += encoder.output(ev.time_us, ev.payload);
    CHECK(cast.find("compiling module_") != std::string::npos);
    auto compressed = (*log)->db().query_int("SELECT count(*) FROM events WHERE codec = 1");
    REQUIRE(compressed);
    CHECK(*compressed == 1);  // the new chunk; the old rows stay as they were
}

TEST_CASE("a damaged compressed payload is an error naming the event, not a crash") {
    TempDir dir;
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE(log);
    (*log)->append(make_bytes_event(1, EventKind::OutputChunk, terminal_like(4096, 4)));
    REQUIRE((*log)->commit());
    REQUIRE((*log)->db().exec("UPDATE events SET payload = substr(payload, 1, 20) WHERE seq = 1"));
    auto cursor = (*log)->read(EventQuery{});
    REQUIRE(cursor);
    auto ev = cursor->next();
    REQUIRE_FALSE(ev);
    CHECK(ev.error().message.find("event 1 ") != std::string::npos);
    CHECK(ev.error().message.find(dir.file("events.db")) != std::string::npos);
    CHECK(ev.error().message.find("tether admin recover") != std::string::npos);
}

TEST_CASE("checkpoints run on their own thread and the WAL starts over behind them") {
    TempDir dir;
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE(log);
    const WalCheckpointer* checkpointer = (*log)->checkpointer();
    REQUIRE(checkpointer != nullptr);
    // About 1500 pages of WAL, past the checkpointer's 1000.
    for (int group = 0; group < 6; ++group) {
        for (int i = 0; i < 256; ++i) (*log)->append(make_bytes_event(1, EventKind::OutputChunk, noise(4000, group * 256 + i)));
        REQUIRE((*log)->commit());
    }
    CHECK(checkpointer->largest_wal_pages() >= WalCheckpointer::k_default_pages);
    for (int tries = 0; checkpointer->checkpoints() == 0 && tries < 1000; ++tries) usleep(10000);
    REQUIRE(checkpointer->checkpoints() > 0);
    // Once a checkpoint has copied every frame back, the next commit writes at the start
    // of the WAL again (each commit past the threshold asks for another checkpoint).
    int extra = 0;
    for (; checkpointer->last_wal_pages() >= WalCheckpointer::k_default_pages && extra < 500; ++extra) {
        (*log)->append(make_bytes_event(1, EventKind::OutputChunk, noise(100, 1000 + extra)));
        REQUIRE((*log)->commit());
        usleep(10000);
    }
    CHECK(checkpointer->last_wal_pages() < WalCheckpointer::k_default_pages);
    CHECK(read_all(**log).size() == static_cast<size_t>(6 * 256 + extra));
}
