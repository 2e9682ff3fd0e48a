#include "state/store.h"

#include <doctest/doctest.h>

#include "support.h"

using namespace tether;
using tether::test::TempDir;

TEST_CASE("the store commits a group on its timer and only then tells listeners and waiters") {
    TempDir dir;
    EventLoop loop;
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE(log);
    Store store(loop, std::move(*log), StoreOptions{.flush_interval_ms = 1});
    REQUIRE(store.load());
    std::vector<int64_t> seen;
    store.add_listener([&](const Event& ev) {
        // A listener only sees what is already durable.
        CHECK(store.log().durable_seq() >= ev.seq);
        seen.push_back(ev.seq);
    });
    bool durable = false;
    for (int i = 0; i < 100; ++i) store.append(make_json_event(0, EventKind::MarkerAdded, {{"i", i}}));
    store.when_durable([&] {
        durable = true;
        loop.stop();
    });
    CHECK_FALSE(durable);
    CHECK(seen.empty());
    Timer guard(loop, [&] { loop.stop(); });
    guard.arm_ms(5000);
    loop.run();
    CHECK(durable);
    REQUIRE(seen.size() == 100);
    CHECK(seen.front() == 1);
    CHECK(seen.back() == 100);
    CHECK(store.log().durable_seq() == 100);
}

TEST_CASE("when_durable runs at once when nothing is staged") {
    TempDir dir;
    EventLoop loop;
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE(log);
    Store store(loop, std::move(*log));
    bool ran = false;
    store.when_durable([&] { ran = true; });
    CHECK(ran);
}

TEST_CASE("verify_rebuild agrees with the live projections") {
    TempDir dir;
    EventLoop loop;
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE(log);
    Store store(loop, std::move(*log));
    REQUIRE(store.load());
    store.append(make_json_event(1, EventKind::SessionStarted, {{"name", "a"}, {"command", {"sh"}}}));
    store.append(make_bytes_event(1, EventKind::OutputChunk, "hello"));
    auto v = store.verify_rebuild();
    REQUIRE(v);
    CHECK(v->live_matches);
    CHECK(v->tables_match);
    CHECK(v->events == 2);
    CHECK(v->sessions == 1);
}

TEST_CASE("the store's last commit on destruction calls no listener (they may be gone)") {
    TempDir dir;
    EventLoop loop;
    int calls = 0;
    {
        auto log = EventLog::open(dir.file("events.db"));
        REQUIRE(log);
        Store store(loop, std::move(*log));
        store.add_listener([&](const Event&) { ++calls; });
        store.append(make_json_event(0, EventKind::MarkerAdded, {{"text", "last"}}));
    }
    CHECK(calls == 0);
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE(log);
    CHECK((*log)->last_seq() == 1);  // committed all the same
}
