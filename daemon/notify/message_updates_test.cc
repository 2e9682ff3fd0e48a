#include "notify/message_updates.h"

#include <doctest/doctest.h>

#include "support.h"

using namespace tether;
using tether::test::TempDir;

namespace {

// A store, an outbox whose sender answers with a receipt per notifier (or none), and the
// updates under test. Deliveries finish when the test says (finish_all).
struct Harness {
    TempDir dir;
    EventLoop loop;
    std::unique_ptr<Store> store;
    std::unique_ptr<Outbox> outbox;
    std::unique_ptr<MessageUpdates> updates;
    std::set<std::string> takes = {"slack", "silent"};  // notifiers whose plugin takes updates
    std::vector<std::pair<int64_t, Outbox::SendDone>> waiting;  // deliveries not finished yet
    std::map<int64_t, Notification> delivered;                  // key -> message

    Harness() { open(); }
    void open() {
        updates.reset();
        outbox.reset();
        store.reset();
        auto log = EventLog::open(dir.file("events.db"));
        REQUIRE(log);
        store = std::make_unique<Store>(loop, std::move(*log), StoreOptions{.flush_interval_ms = 1});
        REQUIRE(store->load());
        // As the Daemon wires the pipeline: the outbox, then the updates (through Notifications).
        store->add_listener([this](const Event& ev) {
            if (outbox) outbox->on_committed(ev);
            if (updates) updates->on_committed(ev);
        });
        outbox = std::make_unique<Outbox>(
            loop, *store,
            [this](const std::string&, const Notification& m, int64_t key, int, bool, Outbox::SendDone done) {
                delivered[key] = m;
                waiting.emplace_back(key, std::move(done));
            },
            OutboxOptions{});
        updates = std::make_unique<MessageUpdates>(*store, *outbox, [this](const std::string& n) { return takes.count(n) > 0; });
    }
    void flush() {
        Timer t(loop, [&] { loop.stop(); });
        for (int i = 0; i < 3; ++i) {
            REQUIRE(store->flush());
            t.arm_ms(1);
            loop.run();
        }
    }
    // Finishes every waiting delivery; "silent" ones give no receipt.
    void finish_all(const std::string& receipt_prefix = "r") {
        auto now = std::move(waiting);
        waiting.clear();
        for (auto& [key, done] : now) done(true, false, "", receipt_prefix + std::to_string(key));
        flush();
    }
    int64_t started() {
        store->append(make_json_event(1, EventKind::SessionStarted, {{"name", "api"}, {"agent", "claude"}}));
        flush();
        return 1;
    }
    int64_t show(const std::string& notifier, int64_t request) {
        int64_t key = outbox->enqueue(1, "permission", notifier, 0, 0,
                                      Notification{.kind = "permission", .title = "api needs permission", .permission_request = request});
        flush();
        return key;
    }
    int64_t decide(int64_t request, const std::string& decision, const std::string& by) {
        int64_t seq = store->append(make_json_event(1, EventKind::PermissionDecided,
                                                    {{"request", request}, {"decision", decision}, {"by", by}}))
                          .seq;
        flush();
        return seq;
    }
    std::vector<Event> queued_updates() {
        std::vector<Event> out;
        auto c = store->log().read(EventQuery{});
        REQUIRE(c);
        for (;;) {
            auto ev = c->next();
            REQUIRE(ev);
            if (!*ev) break;
            if ((*ev)->kind == EventKind::NotificationQueued && (*ev)->json().contains("update_of")) out.push_back(**ev);
        }
        return out;
    }
};

}  // namespace

TEST_CASE("a request decided after its message was sent queues one update, with the receipt and the outcome") {
    Harness h;
    h.started();
    int64_t key = h.show("slack", 42);
    h.finish_all();
    int64_t decided = h.decide(42, "allow", "cli");
    auto updates = h.queued_updates();
    REQUIRE(updates.size() == 1);
    auto j = updates[0].json();
    CHECK(j["update_of"] == key);
    CHECK(j["cause"] == decided);
    CHECK(j["notifier"] == "slack");
    CHECK(j["message"]["title"] == "api needs permission");
    CHECK(j["message"]["update"]["receipt"] == "r" + std::to_string(key));
    CHECK(j["message"]["update"]["decision"] == "allow");
    CHECK(j["message"]["update"]["by"] == "cli");
    // The update's own delivery is not a message to revise again.
    h.finish_all();
    h.decide(42, "deny", "cli");
    CHECK(h.queued_updates().size() == 1);
}

TEST_CASE("a request decided while its message is on its way is updated once the message is sent") {
    Harness h;
    h.started();
    int64_t key = h.show("slack", 7);
    h.decide(7, "deny", "slack:U0123");
    CHECK(h.queued_updates().empty());
    h.finish_all();
    auto updates = h.queued_updates();
    REQUIRE(updates.size() == 1);
    CHECK(updates[0].json()["update_of"] == key);
    CHECK(updates[0].json()["message"]["update"]["by"] == "slack:U0123");
}

TEST_CASE("no update without a receipt, for a notifier that takes none, or for a message without a request") {
    Harness h;
    h.started();
    h.show("webhook", 5);  // its plugin takes no updates
    h.finish_all();
    h.show("slack", 0);  // nothing to answer
    h.finish_all();
    h.show("silent", 5);  // no receipt comes back
    for (auto& [key, done] : h.waiting) done(true, false, "", "");
    h.flush();
    h.decide(5, "allow", "ui");
    CHECK(h.queued_updates().empty());
}

TEST_CASE("the latest receipt per notifier and session is rebuilt from the log after a restart") {
    Harness h;
    h.started();
    h.show("slack", 0);
    h.finish_all("first-");
    int64_t second = h.show("slack", 0);
    h.finish_all("second-");
    CHECK(h.updates->session_receipt("slack", 1) == "second-" + std::to_string(second));
    CHECK(h.updates->session_receipt("telegram", 1) == "");

    h.open();
    CHECK(h.updates->session_receipt("slack", 1) == "");
    REQUIRE(h.updates->load());
    CHECK(h.updates->session_receipt("slack", 1) == "second-" + std::to_string(second));

    // An ended session starts no thread again.
    h.store->append(make_json_event(1, EventKind::SessionExited, {{"code", 0}}));
    h.flush();
    CHECK(h.updates->session_receipt("slack", 1) == "");
    h.open();
    REQUIRE(h.updates->load());
    CHECK(h.updates->session_receipt("slack", 1) == "");
}
