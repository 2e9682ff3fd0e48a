#include "terminal/screen_seek.h"

#include <doctest/doctest.h>

#include "support.h"

using namespace tether;
using tether::test::TempDir;

namespace {

// A session of `chunks` output chunks with a resize in the middle, committed to a log.
std::unique_ptr<EventLog> recorded_session(const TempDir& dir, int chunks) {
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE(log);
    (*log)->append(make_json_event(1, EventKind::SessionStarted, {{"name", "s"}, {"cols", 40}, {"rows", 10}}));
    for (int i = 0; i < chunks; ++i) {
        std::string out;
        for (int k = 0; k < 1000; ++k)
            out += "\x1b[3" + std::to_string(k % 7) + "mrow " + std::to_string(i) + "." + std::to_string(k) + " \xe2\x9c\x93\r\n";
        (*log)->append(make_bytes_event(1, EventKind::OutputChunk, out));
        if (i == chunks / 2) (*log)->append(make_json_event(1, EventKind::Resized, {{"cols", 60}, {"rows", 15}}));
        (*log)->append(make_bytes_event(2, EventKind::OutputChunk, "another session\r\n"));
    }
    REQUIRE((*log)->commit());
    return std::move(*log);
}

}  // namespace

TEST_CASE("a seek through keyframes gives the screen a replay from the start gives") {
    TempDir dir;
    auto log = recorded_session(dir, 60);
    auto keyframes = KeyframeStore::open(dir.file("keyframes.db"));
    REQUIRE(keyframes);
    // Without keyframes: the oracle, and the first seek stores keyframes on its way.
    auto whole = screen_at(*log, nullptr, 1, 1000);
    REQUIRE(whole);
    CHECK(whole->keyframe_seq == 0);
    auto first = screen_at(*log, keyframes->get(), 1, 1000);
    REQUIRE(first);
    CHECK(first->screen->render_screen() == whole->screen->render_screen());
    for (int64_t seq : {2, 50, 61, 62, 63, 120, 179, 1000}) {
        INFO("seq " << seq);
        auto plain = screen_at(*log, nullptr, 1, seq);
        auto fast = screen_at(*log, keyframes->get(), 1, seq);
        REQUIRE(plain);
        REQUIRE(fast);
        CHECK(fast->seq == plain->seq);
        CHECK(fast->screen->text() == plain->screen->text());
        CHECK(fast->screen->render_screen() == plain->screen->render_screen());
        CHECK(fast->replayed_bytes <= k_keyframe_interval_bytes + 8192);
    }
    auto late = screen_at(*log, keyframes->get(), 1, 1000);
    REQUIRE(late);
    CHECK(late->keyframe_seq > 0);
    CHECK(late->screen->cols() == 60);
}

TEST_CASE("a seek into a session without a recorded start is an error naming it") {
    TempDir dir;
    auto log = recorded_session(dir, 2);
    auto r = screen_at(*log, nullptr, 2, 1000);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("session 2") != std::string::npos);
}

TEST_CASE("a moment maps to the session's last event at or before it") {
    TempDir dir;
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE(log);
    Event a = make_json_event(1, EventKind::SessionStarted, {{"cols", 20}, {"rows", 5}});
    a.time_us = 1000;
    Event b = make_bytes_event(1, EventKind::OutputChunk, "x");
    b.time_us = 2000;
    Event other = make_bytes_event(2, EventKind::OutputChunk, "y");
    other.time_us = 2500;
    (*log)->append(a);
    (*log)->append(b);
    (*log)->append(other);
    REQUIRE((*log)->commit());
    CHECK(*seq_at_time(**log, 1, 999) == 0);
    CHECK(*seq_at_time(**log, 1, 1500) == 1);
    CHECK(*seq_at_time(**log, 1, 9999) == 2);
}
