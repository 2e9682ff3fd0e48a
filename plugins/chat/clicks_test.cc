// Button values, allow lists, replays, rate-limited events.
#include "clicks.h"

#include <doctest/doctest.h>

#include <thread>
#include <vector>

using namespace notifier_chat;

namespace {

struct Recorder {
    std::vector<std::string> events, logs;
    notifier_host host{NOTIFIER_ABI_MAJOR, NOTIFIER_ABI_MINOR, sizeof(notifier_host), this, &on_log, &on_event, nullptr, nullptr};
    static void on_log(void* ctx, int, const char* text) { static_cast<Recorder*>(ctx)->logs.push_back(text); }
    static void on_event(void* ctx, const char* code, const char* text) {
        static_cast<Recorder*>(ctx)->events.push_back(std::string(code) + ": " + text);
    }
};

bool upper_id(std::string_view id) {
    for (char c : id)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
    return !id.empty();
}

}  // namespace

TEST_CASE("a button value names a request and a session, and nothing else parses") {
    CHECK(button_value(42, "7") == "42:7");
    auto t = parse_button_value("42:7");
    REQUIRE(t);
    CHECK(t->request == 42);
    CHECK(t->session == "7");
    for (const char* bad : {"", "42", ":7", "42:", "0:7", "-1:7", "4x:7", "42:7:1", "42:a", "99999999999999999999:1", " 42:7"})
        CHECK_MESSAGE(!parse_button_value(bad), bad);
}

TEST_CASE("an allow list takes comma-separated ids and refuses malformed ones by option name") {
    AllowList a("allow_users", "U0123, W0456 ,U0789", &upper_id, "an id");
    CHECK(a.size() == 3);
    CHECK(a.allows("W0456"));
    CHECK_FALSE(a.allows("U9999"));
    CHECK_FALSE(a.allows("u0123"));
    CHECK_THROWS_WITH(AllowList("allow_users", "U1,bad id", &upper_id, "an id"), "bad options: allow_users: \"bad id\" is not an id");
    CHECK_THROWS_WITH(AllowList("allow_users", " , ", &upper_id, "an id"), "bad options: allow_users: name at least one (an id)");
}

TEST_CASE("a click is new once, and the memory of clicks is bounded") {
    SeenSet seen(2);
    CHECK(seen.first_time("a"));
    CHECK_FALSE(seen.first_time("a"));
    CHECK(seen.first_time("b"));
    CHECK(seen.first_time("c"));  // forgets a
    CHECK(seen.first_time("a"));
    CHECK_FALSE(seen.first_time("c"));
}

TEST_CASE("an event code is reported once per window; the rest go to the log and are counted") {
    Recorder r;
    EventLimiter limiter(notifier_sdk::Host(&r.host), std::chrono::milliseconds(50));
    limiter.report("bad_envelope", "one");
    limiter.report("bad_envelope", "two");
    limiter.report("click_refused", "three");
    CHECK(r.events == std::vector<std::string>{"bad_envelope: one", "click_refused: three"});
    CHECK(r.logs.size() == 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    limiter.report("bad_envelope", "four");
    CHECK(r.events.back() == "bad_envelope: four (and 1 more like it before)");
}
