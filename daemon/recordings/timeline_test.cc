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
