#include "recordings/retention.h"

#include <doctest/doctest.h>

#include "support.h"

using namespace tether;

namespace {

SessionRow row(int64_t id, const char* state, int64_t last_activity_us, int64_t bytes) {
    SessionRow r;
    r.id = id;
    r.name = "s" + std::to_string(id);
    r.state = state;
    r.last_activity_us = last_activity_us;
    r.bytes_out = bytes;
    return r;
}

constexpr int64_t k_day = int64_t{86400} * 1000000;

}  // namespace

TEST_CASE("retention prunes ended sessions past the age, oldest first, and never a live one") {
    SessionsState s;
    int64_t now = 100 * k_day;
    s.sessions[1] = row(1, "exited", now - 40 * k_day, 10);
    s.sessions[2] = row(2, "running", now - 50 * k_day, 10);  // live, however old
    s.sessions[3] = row(3, "failed", now - 35 * k_day, 10);
    s.sessions[4] = row(4, "exited", now - 1 * k_day, 10);
    s.sessions[5] = row(5, "exited", now - 90 * k_day, 10);  // the newest id: kept
    auto out = choose_prunes(s, {.max_age_us = 30 * k_day}, now);
    REQUIRE(out.size() == 2);
    CHECK(out[0].session == 1);
    CHECK(out[1].session == 3);
    CHECK(out[0].reason.find("40.0 days") != std::string::npos);
}

TEST_CASE("retention by size prunes the oldest ended sessions until the rest fits") {
    SessionsState s;
    s.sessions[1] = row(1, "exited", 300, 100);
    s.sessions[2] = row(2, "exited", 100, 100);
    s.sessions[3] = row(3, "running", 50, 100);
    s.sessions[4] = row(4, "exited", 200, 100);
    s.sessions[5] = row(5, "exited", 400, 100);
    auto out = choose_prunes(s, {.max_total_bytes = 250}, 1000);
    REQUIRE(out.size() == 3);  // 500 -> 200: the live one and the newest stay
    CHECK(out[0].session == 2);
    CHECK(out[1].session == 4);
    CHECK(out[2].session == 1);
    CHECK(choose_prunes(s, {}, 1000).empty());
}

TEST_CASE("pruning deletes a session's events, leaves its tombstone, and a rebuild still equals the live state") {
    test::TempDir dir;
    EventLoop loop;
    int64_t last_seq = 0;
    {
        auto log = EventLog::open(dir.file("events.db"));
        REQUIRE(log);
        Store store(loop, std::move(*log));
        REQUIRE(store.load());
        for (int64_t id : {1, 2}) {
            store.append(make_json_event(id, EventKind::SessionStarted, {{"name", "s" + std::to_string(id)}, {"cols", 80}, {"rows", 24}}));
            store.append(make_bytes_event(id, EventKind::OutputChunk, std::string(1000, 'x')));
            store.append(make_json_event(id, EventKind::SessionExited, {{"code", 0}}));
        }
        REQUIRE(store.flush());
        std::vector<EventKind> heard;
        store.add_listener([&](const Event& ev) { heard.push_back(ev.kind); });
        auto seq = store.prune(1, {{"name", "s1"}, {"reason", "test"}});
        REQUIRE(seq);
        CHECK(heard == std::vector<EventKind>{EventKind::SessionPruned});
        CHECK(store.sessions().find(1) == nullptr);
        CHECK(store.sessions().find(2) != nullptr);
        auto left = store.log().db().query_int("SELECT count(*) FROM events WHERE session = 1");
        REQUIRE(left);
        CHECK(*left == 1);  // the tombstone
        auto v = store.verify_rebuild();
        REQUIRE(v);
        CHECK(v->live_matches);
        CHECK(v->tables_match);
        last_seq = store.log().durable_seq();
        CHECK(*seq == last_seq);
    }
    // Reopened: seq goes on after the tombstone, the pruned session stays gone.
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE(log);
    Store store(loop, std::move(*log));
    REQUIRE(store.load());
    CHECK(store.sessions().find(1) == nullptr);
    CHECK(store.append(make_json_event(0, EventKind::MarkerAdded, {{"text", "after"}})).seq == last_seq + 1);
}
