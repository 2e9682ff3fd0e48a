#include "log/event_log_recovery.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "log/event_log.h"
#include "support.h"

using namespace tether;
using tether::test::TempDir;

namespace {

// 300 bytes that do not compress, so that the log's pages hold what the tests expect.
std::string noise(int i) {
    std::string s(300, ' ');
    uint32_t x = 2463534242u ^ static_cast<uint32_t>(i);
    for (auto& c : s) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;  // xorshift32
        c = static_cast<char>('!' + x % 90);
    }
    return s;
}

// A closed log of n events whose payloads name their seq, spread over many pages.
void make_log(const std::string& path, int n) {
    auto log = EventLog::open(path);
    REQUIRE(log);
    for (int i = 1; i <= n; ++i) (*log)->append(make_bytes_event(1 + i % 3, EventKind::OutputChunk, "event " + std::to_string(i) + " " + noise(i)));
    REQUIRE((*log)->commit());
}

std::vector<Event> all_events(const std::string& path) {
    auto log = EventLog::open_readonly(path);
    REQUIRE(log);
    auto cursor = (*log)->read({});
    REQUIRE(cursor);
    std::vector<Event> out;
    for (;;) {
        auto ev = cursor->next();
        REQUIRE(ev);
        if (!*ev) break;
        out.push_back(std::move(**ev));
    }
    return out;
}

void check_intact(const std::vector<Event>& events) {
    for (const auto& ev : events)
        CHECK(ev.payload.rfind("event " + std::to_string(ev.seq) + " ", 0) == 0);
}

}  // namespace

TEST_CASE("a truncated log gives back every event before the cut, unchanged") {
    TempDir dir;
    std::string path = dir.file("events.db");
    make_log(path, 3000);
    auto size = std::filesystem::file_size(path);
    std::filesystem::resize_file(path, size * 6 / 10);
    auto report = recover_event_log(path, dir.file("fresh.db"));
    REQUIRE(report);
    CHECK(report->events > 1000);
    CHECK(report->events < 3000);
    CHECK(report->first_seq == 1);
    CHECK(report->tail_lost);
    auto kept = all_events(dir.file("fresh.db"));
    CHECK(static_cast<int64_t>(kept.size()) == report->events);
    check_intact(kept);
}

TEST_CASE("a page destroyed in the middle costs only the events on it") {
    TempDir dir;
    std::string path = dir.file("events.db");
    make_log(path, 3000);
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(4096 * 200);
        std::string garbage(4096 * 3, '\xa5');
        f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    }
    auto report = recover_event_log(path, dir.file("fresh.db"));
    REQUIRE(report);
    CHECK(!report->skipped.empty());
    CHECK(report->last_seq == 3000);
    CHECK(report->events > 2900);
    CHECK(!report->first_error.empty());
    auto kept = all_events(dir.file("fresh.db"));
    check_intact(kept);
    for (size_t i = 1; i < kept.size(); ++i) CHECK(kept[i].seq > kept[i - 1].seq);
}

TEST_CASE("a file that is not a database is refused by name, and damage errors say what to do") {
    TempDir dir;
    tether::test::write_file(dir.file("events.db"), std::string(10000, 'z'));
    auto report = recover_event_log(dir.file("events.db"), dir.file("fresh.db"));
    if (report) CHECK(report->events == 0);
    auto opened = EventLog::open(dir.file("events.db"));
    REQUIRE_FALSE(opened);
    Error hinted = with_damage_hint(opened.error());
    CHECK(hinted.message.find(dir.file("events.db")) != std::string::npos);
    CHECK(hinted.message.find("tether admin recover") != std::string::npos);
}

TEST_CASE("a compressed payload damaged inside its blob is skipped alone, the rest kept") {
    TempDir dir;
    std::string path = dir.file("events.db");
    {
        auto log = EventLog::open(path);
        REQUIRE(log);
        // Repetitive output, so that each chunk is stored as a zstd frame.
        for (int i = 1; i <= 50; ++i) {
            std::string line = "event " + std::to_string(i) + " ";
            for (int k = 0; k < 100; ++k) line += "compiling module_" + std::to_string(k) + "\r\n";
            (*log)->append(make_bytes_event(1, EventKind::OutputChunk, line));
        }
        REQUIRE((*log)->commit());
        REQUIRE((*log)->db().query_int("SELECT count(*) FROM events WHERE codec = 1").value() == 50);
        // What SQLite cannot see: the frame's bytes overwritten, the row's format intact.
        REQUIRE((*log)->db().exec(
            "UPDATE events SET payload = CAST(substr(payload, 1, 8) || zeroblob(length(payload) - 8) AS BLOB) WHERE seq = 20"));
    }
    auto report = recover_event_log(path, dir.file("fresh.db"));
    REQUIRE(report);
    CHECK(report->events == 49);
    REQUIRE(report->skipped.size() == 1);
    CHECK(report->skipped[0] == std::pair<int64_t, int64_t>{20, 20});
    CHECK(report->first_error.find("event 20") != std::string::npos);
    auto kept = all_events(dir.file("fresh.db"));
    CHECK(kept.size() == 49);
    check_intact(kept);
}
