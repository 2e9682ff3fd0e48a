#include "log/fact_queries.h"

#include <doctest/doctest.h>

#include "support.h"

using namespace tether;

TEST_CASE("open facts are those no closing fact names, each with the count of facts that name it") {
    test::TempDir dir;
    auto log = EventLog::open(dir.file("events.db"));
    REQUIRE(log);
    EventLog& l = **log;
    int64_t sent = l.append(make_json_event(1, EventKind::NotificationQueued, {{"notifier", "a"}})).seq;
    int64_t retried = l.append(make_json_event(2, EventKind::NotificationQueued, {{"notifier", "b"}})).seq;
    int64_t failed = l.append(make_json_event(1, EventKind::NotificationQueued, {{"notifier", "c"}})).seq;
    int64_t fresh = l.append(make_json_event(3, EventKind::NotificationQueued, {{"notifier", "d"}})).seq;
    l.append(make_json_event(1, EventKind::NotificationSent, {{"queued", sent}}));
    l.append(make_json_event(2, EventKind::NotificationFailed, {{"queued", retried}, {"final", false}}));
    l.append(make_json_event(2, EventKind::NotificationFailed, {{"queued", retried}, {"final", false}}));
    l.append(make_json_event(1, EventKind::NotificationFailed, {{"queued", failed}, {"final", true}}));
    // Another kind naming the same seq in the same field closes nothing.
    l.append(make_json_event(3, EventKind::EscalationCancelled, {{"queued", fresh}}));
    REQUIRE(l.commit());

    auto open = open_facts(l, EventKind::NotificationQueued,
                           {{EventKind::NotificationSent, "queued", ""}, {EventKind::NotificationFailed, "queued", "final"}},
                           FactRef{EventKind::NotificationFailed, "queued", ""});
    REQUIRE(open);
    REQUIRE(open->size() == 2);
    CHECK((*open)[0].seq == retried);
    CHECK((*open)[0].session == 2);
    CHECK((*open)[0].counted == 2);
    CHECK(nlohmann::json::parse((*open)[0].payload)["notifier"] == "b");
    CHECK((*open)[1].seq == fresh);
    CHECK((*open)[1].counted == 0);

    auto uncounted = open_facts(l, EventKind::NotificationQueued, {{EventKind::NotificationSent, "queued", ""}});
    REQUIRE(uncounted);
    CHECK(uncounted->size() == 3);
}
