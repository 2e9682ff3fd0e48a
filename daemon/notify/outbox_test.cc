#include "notify/outbox.h"

#include <doctest/doctest.h>

#include "support.h"

using namespace tether;
using tether::test::TempDir;

namespace {

struct Harness {
    TempDir dir;
    EventLoop loop;
    std::unique_ptr<Store> store;
    std::vector<std::pair<int64_t, int>> calls;  // (key, attempt)
    std::vector<bool> maybe_delivered;           // per call
    std::function<void(Outbox::SendDone)> behaviour = [](Outbox::SendDone done) { done(true, false, "", ""); };
    Outbox* listening = nullptr;  // the outbox the store's commits go to, as the Daemon wires it

    Harness() { open(); }
    void open() {
        auto log = EventLog::open(dir.file("events.db"));
        REQUIRE(log);
        store = std::make_unique<Store>(loop, std::move(*log), StoreOptions{.flush_interval_ms = 1});
        REQUIRE(store->load());
        store->add_listener([this](const Event& ev) {
            if (listening) listening->on_committed(ev);
        });
    }
    Outbox& listen(Outbox& o) { return *(listening = &o); }
    Outbox::Sender sender() {
        return [this](const std::string&, const Notification&, int64_t key, int attempt, bool maybe, Outbox::SendDone done) {
            calls.emplace_back(key, attempt);
            maybe_delivered.push_back(maybe);
            behaviour(std::move(done));
        };
    }
    // Runs the loop until pred holds (bounded: a safety stop, not a timing assertion).
    template <typename Pred>
    void run_until(Pred pred) {
        Timer tick(loop, [&] {
            (void)store->flush();
            if (pred()) loop.stop();
            else tick.arm_ms(1);
        });
        Timer guard(loop, [&] { loop.stop(); });
        guard.arm_ms(10000);
        tick.arm_ms(0);
        loop.run();
    }
    std::vector<Event> events(EventKind kind) {
        std::vector<Event> out;
        auto c = store->log().read(EventQuery{});
        REQUIRE(c);
        for (;;) {
            auto ev = c->next();
            REQUIRE(ev);
            if (!*ev) break;
            if ((*ev)->kind == kind) out.push_back(**ev);
        }
        return out;
    }
};

}  // namespace

TEST_CASE("a queued notification is delivered once, with its seq as the idempotency key") {
    Harness h;
    Outbox outbox(h.loop, *h.store, h.sender(), OutboxOptions{.max_attempts = 3, .base_backoff_ms = 1, .max_backoff_ms = 2});
    h.listen(outbox);
    int64_t key = outbox.enqueue(1, "rule", "fake", 0, 0, Notification{.title = "hi"});
    h.run_until([&] { return !h.events(EventKind::NotificationSent).empty(); });
    REQUIRE(h.calls.size() == 1);
    CHECK(h.calls[0] == std::make_pair(key, 1));
    auto sent = h.events(EventKind::NotificationSent);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].json()["queued"] == key);
    CHECK(outbox.in_flight() == 0);
}

TEST_CASE("retryable failures are retried with backoff until success") {
    Harness h;
    int failures = 2;
    h.behaviour = [&](Outbox::SendDone done) {
        if (failures-- > 0) done(false, true, "HTTP 500", "");
        else done(true, false, "", "");
    };
    Outbox outbox(h.loop, *h.store, h.sender(), OutboxOptions{.max_attempts = 5, .base_backoff_ms = 1, .max_backoff_ms = 4});
    h.listen(outbox);
    int64_t key = outbox.enqueue(1, "rule", "fake", 0, 0, Notification{});
    h.run_until([&] { return !h.events(EventKind::NotificationSent).empty(); });
    auto failed = h.events(EventKind::NotificationFailed);
    REQUIRE(failed.size() == 2);
    CHECK(failed[0].json()["attempt"] == 1);
    CHECK(failed[0].json()["error"] == "HTTP 500");
    CHECK(failed[0].json()["final"] == false);
    CHECK(failed[1].json()["attempt"] == 2);
    CHECK(h.events(EventKind::NotificationSent)[0].json()["attempt"] == 3);
    CHECK(h.calls == std::vector<std::pair<int64_t, int>>{{key, 1}, {key, 2}, {key, 3}});
}

TEST_CASE("a permanent failure, or the last attempt, is final") {
    Harness h;
    h.behaviour = [](Outbox::SendDone done) { done(false, false, "bad request", ""); };
    Outbox outbox(h.loop, *h.store, h.sender(), OutboxOptions{.max_attempts = 5, .base_backoff_ms = 1, .max_backoff_ms = 2});
    h.listen(outbox);
    outbox.enqueue(1, "rule", "fake", 0, 0, Notification{});
    h.run_until([&] { return !h.events(EventKind::NotificationFailed).empty(); });
    auto failed = h.events(EventKind::NotificationFailed);
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].json()["final"] == true);

    h.behaviour = [](Outbox::SendDone done) { done(false, true, "timeout", ""); };
    outbox.enqueue(1, "rule", "fake", 0, 0, Notification{});
    h.run_until([&] { return h.events(EventKind::NotificationFailed).size() == 4; });
    CHECK(outbox.in_flight() == 1);
}

TEST_CASE("a restart resumes what was queued and not confirmed, counting earlier attempts") {
    Harness h;
    int64_t done_key = 0, pending_key = 0, failed_key = 0;
    {
        // Nothing is sent by this first outbox: its sender never calls back (a crash).
        Outbox outbox(h.loop, *h.store, [](const std::string&, const Notification&, int64_t, int, bool, Outbox::SendDone) {}, {});
        h.listen(outbox);
        done_key = outbox.enqueue(1, "r", "fake", 0, 0, Notification{.body = "1"});
        pending_key = outbox.enqueue(1, "r", "fake", 0, 0, Notification{.body = "2"});
        failed_key = outbox.enqueue(1, "r", "fake", 0, 0, Notification{.body = "3"});
        h.store->append(make_json_event(1, EventKind::NotificationSent, {{"queued", done_key}, {"attempt", 1}}));
        h.store->append(make_json_event(1, EventKind::NotificationFailed,
                                        {{"queued", pending_key}, {"attempt", 1}, {"error", "x"}, {"final", false}}));
        h.store->append(make_json_event(1, EventKind::NotificationFailed,
                                        {{"queued", failed_key}, {"attempt", 1}, {"error", "x"}, {"final", true}}));
        REQUIRE(h.store->flush());
    }
    h.calls.clear();
    Outbox again(h.loop, *h.store, h.sender(), {});
    h.listen(again);
    auto resumed = again.resume();
    REQUIRE(resumed);
    CHECK(*resumed == 1);
    h.run_until([&] { return h.events(EventKind::NotificationSent).size() == 2; });
    REQUIRE(h.calls.size() == 1);
    CHECK(h.calls[0] == std::make_pair(pending_key, 2));
    CHECK(h.maybe_delivered == std::vector<bool>{true});
}

TEST_CASE("a receipt is recorded with the delivery, with its notifier and what it updates") {
    Harness h;
    int failures = 1;
    h.behaviour = [&](Outbox::SendDone done) {
        if (failures-- > 0) done(false, true, "timeout", "");
        else done(true, false, "", R"({"ts":"1.2"})");
    };
    Outbox outbox(h.loop, *h.store, h.sender(), OutboxOptions{.max_attempts = 3, .base_backoff_ms = 1, .max_backoff_ms = 2});
    h.listen(outbox);
    int64_t first = outbox.enqueue(1, "rule", "slack", 0, 0, Notification{});
    h.run_until([&] { return !h.events(EventKind::NotificationSent).empty(); });
    // The first attempt might have reached the receiver; the retry says so.
    CHECK(h.maybe_delivered == std::vector<bool>{false, true});
    int64_t update = outbox.enqueue(1, "rule", "slack", 0, 0, Notification{}, first);
    h.run_until([&] { return h.events(EventKind::NotificationSent).size() == 2; });
    auto queued = h.events(EventKind::NotificationQueued);
    CHECK(queued.back().json()["update_of"] == first);
    auto sent = h.events(EventKind::NotificationSent);
    CHECK(sent[0].json()["receipt"] == R"({"ts":"1.2"})");
    CHECK(sent[0].json()["notifier"] == "slack");
    CHECK_FALSE(sent[0].json().contains("update_of"));
    CHECK(sent[1].json()["queued"] == update);
    CHECK(sent[1].json()["update_of"] == first);
}
