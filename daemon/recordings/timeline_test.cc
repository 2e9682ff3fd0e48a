#include "recordings/timeline.h"

#include <doctest/doctest.h>

using namespace tether;

TEST_CASE("the timeline leaves out terminal data and daemon-wide facts") {
    CHECK_FALSE(timeline_entry(make_bytes_event(1, EventKind::OutputChunk, "x")));
    CHECK_FALSE(timeline_entry(make_bytes_event(1, EventKind::InputSent, "x")));
    CHECK_FALSE(timeline_entry(make_json_event(0, EventKind::DaemonStarted, {{"pid", 1}})));
}

TEST_CASE("a transition reads as from -> to with the tool and its command") {
    Event ev = make_json_event(3, EventKind::StateChanged,
                               {{"from", "running"}, {"to", "needs_permission"}, {"tool", "Bash"},
                                {"tool_input", {{"command", "rm -rf build"}}}});
    ev.seq = 42;
    ev.time_us = 5'000'000;
    auto e = timeline_entry(ev);
    REQUIRE(e);
    CHECK((*e)["kind"] == "StateChanged");
    CHECK((*e)["seq"] == 42);
    CHECK((*e)["summary"] == "running -> needs_permission (Bash: rm -rf build)");
}

TEST_CASE("a hook's own payload is cut down to its event, tool and message") {
    Event ev = make_json_event(3, EventKind::HookReceived,
                               {{"agent", "claude"},
                                {"payload", {{"hook_event_name", "PreToolUse"}, {"tool_name", "Bash"},
                                             {"tool_response", std::string(10000, 'x')}}}});
    auto e = timeline_entry(ev);
    REQUIRE(e);
    CHECK((*e)["summary"] == "hook PreToolUse Bash");
    CHECK_FALSE((*e)["data"].contains("payload"));
}

TEST_CASE("a decision says who gave it and through which notifier; a revision names the message it revises") {
    auto e = timeline_entry(make_json_event(3, EventKind::PermissionDecided,
                                            {{"request", 40}, {"decision", "allow"}, {"by", "slack:U0ANN"},
                                             {"notifier", "slack-bot"}, {"always", true}, {"latency_ms", 812}}));
    REQUIRE(e);
    CHECK((*e)["summary"] == "permission allow (always) by slack:U0ANN via slack-bot after 812 ms");
    e = timeline_entry(make_json_event(3, EventKind::PermissionDecided,
                                       {{"request", 40}, {"decision", "deny"}, {"by", "notifier:desktop"}, {"notifier", "desktop"}}));
    REQUIRE(e);
    CHECK((*e)["summary"] == "permission deny by notifier:desktop");
    e = timeline_entry(make_json_event(3, EventKind::NotificationQueued,
                                       {{"rule", "permission"}, {"notifier", "slack-bot"}, {"update_of", 41}, {"cause", 44}}));
    REQUIRE(e);
    CHECK((*e)["summary"] == "notification 41 to be revised by slack-bot (its request was decided)");
}
