#include "notifier/notification.h"

#include <doctest/doctest.h>

using namespace tether;

TEST_CASE("a notification survives its JSON form, the form NotificationQueued keeps in the log") {
    Notification n;
    n.rule = "ask";
    n.kind = "permission";
    n.title = "api needs permission for Bash";
    n.body = "Bash: make test";
    n.session = 7;
    n.session_name = "api";
    n.agent = "claude";
    n.cwd = "/src/api";
    n.from = "running";
    n.to = "needs_permission";
    n.tool = "Bash";
    n.tool_input = {{"command", "make test"}};
    n.message = "Claude needs your permission";
    n.time_ms = 1700000000123;
    n.options = {{"volume", "0.5"}};
    n.permission_request = 42;
    n.escalation = true;
    nlohmann::json j = notification_json(n);
    CHECK(j["session"] == 7);
    CHECK(j["from"] == "running");
    CHECK(j["rule_options"] == nlohmann::json{{"volume", "0.5"}});
    CHECK(notification_from_json(j) == n);
    CHECK(notification_from_json(nlohmann::json::parse(j.dump())) == n);
}

TEST_CASE("the JSON form leaves out a permission_request of 0 and a first notification's escalation") {
    nlohmann::json j = notification_json(Notification{.rule = "done"});
    CHECK(!j.contains("permission_request"));
    CHECK(!j.contains("escalation"));
    CHECK(j["tool_input"].is_null());
    CHECK(j["rule_options"] == nlohmann::json::object());
}

TEST_CASE("a damaged message in the log reads as what it still holds, never throws") {
    auto n = notification_from_json({{"rule", 5}, {"title", "kept"}, {"session", "x"}, {"rule_options", {{"a", 1}, {"b", "2"}}},
                                     {"escalation", "yes"}, {"unknown", true}});
    CHECK(n.rule.empty());
    CHECK(n.title == "kept");
    CHECK(n.session == 0);
    CHECK(n.options == std::map<std::string, std::string>{{"b", "2"}});
    CHECK(!n.escalation);
    CHECK(notification_from_json(nlohmann::json::array()) == Notification{});
}
