// tether-notifier-telegram, loaded through the ABI, against a fake Bot API on 127.0.0.1
// (evhttp): sendMessage with the keyboard, presses through getUpdates long polling,
// refusals, stale and replayed presses, bad updates, 401/409/429, and the edit of a
// decided message.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <deque>
#include <thread>

#include "http_test_server.h"
#include "notifier_loader.h"

using namespace tether::test;
using nlohmann::json;

namespace {

const std::string k_token = "123456789:AAE-test_TOKEN-telegram-ab12";
const std::string k_person = "4242";

HttpReply api_ok(json result) { return json_reply(json{{"ok", true}, {"result", result}}.dump()); }
HttpReply api_error(int code, const std::string& description, json parameters = nullptr) {
    json body{{"ok", false}, {"error_code", code}, {"description", description}};
    if (!parameters.is_null()) body["parameters"] = parameters;
    return json_reply(body.dump(), code);
}

// A fake Bot API: updates the test queues come out of getUpdates (held 100 ms when there
// are none, like a short long poll); the other methods are recorded and accepted.
struct FakeBot {
    std::mutex mutex;
    std::deque<json> updates;
    int64_t next_update = 1;
    std::function<HttpReply(const std::string&)> override;  // per method, may return status 0 to pass
    std::atomic<int> sent{0};
    HttpTestServer api{[this](const HttpRequest& q, int) { return handle(q); }};

    HttpReply handle(const HttpRequest& q) {
        std::string prefix = "/bot" + k_token + "/";
        if (q.uri.rfind(prefix, 0) != 0) return api_error(401, "Unauthorized");
        std::string method = q.uri.substr(prefix.size());
        json args = json::parse(q.body, nullptr, false);
        std::lock_guard lock(mutex);
        if (override) {
            HttpReply r = override(method);
            if (r.status != 0) return r;
        }
        if (method == "getUpdates") {
            int64_t offset = args.value("offset", int64_t{0});
            while (!updates.empty() && updates.front().value("update_id", int64_t{0}) < offset) updates.pop_front();
            if (updates.empty()) {
                HttpReply r = api_ok(json::array());
                r.delay_ms = 100;
                return r;
            }
            return api_ok(json(updates));
        }
        if (method == "sendMessage") return api_ok({{"message_id", 500 + ++sent}, {"chat", {{"id", args["chat_id"]}}}});
        return api_ok(true);
    }
    void queue(json update) {
        std::lock_guard lock(mutex);
        update["update_id"] = next_update++;
        updates.push_back(std::move(update));
    }
    std::vector<json> calls(const std::string& method) const {
        std::vector<json> out;
        for (const auto& r : api.requests_to("/bot" + k_token + "/" + method)) out.push_back(json::parse(r.body));
        return out;
    }
    size_t wait_for_calls(const std::string& method, size_t n, long timeout_ms = 10000) const {
        return api.wait_for_requests_to("/bot" + k_token + "/" + method, n, timeout_ms);
    }
};

std::map<std::string, std::string> options(const FakeBot& b, std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> o{{"token", k_token}, {"chat_id", k_person}, {"api_base", b.api.url("")},
                                         {"poll_timeout_s", "1"}, {"retry_min_ms", "20"}};
    for (auto& [k, v] : extra) o[k] = v;
    return o;
}

json press(const std::string& id, int64_t user, const std::string& data, int64_t chat = 4242, bool keyboard = true) {
    json message{{"message_id", 501}, {"chat", {{"id", chat}, {"type", "private"}}}, {"text", "api needs permission\nBash: make deploy"}};
    if (keyboard) message["reply_markup"] = {{"inline_keyboard", json::array()}};
    return {{"callback_query", {{"id", id}, {"from", {{"id", user}, {"first_name", "Ann"}, {"username", "ann"}}},
                                {"message", message}, {"data", data}, {"chat_instance", "1"}}}};
}

TestMessage permission(int64_t request = 42) {
    TestMessage m;
    m.permission_request = request;
    m.tool_input_json = R"({"command":"make <deploy> & test"})";
    m.always_json = R"({"type":"addDirectories","directories":["/home/me/api"],"destination":"session"})";
    return m;
}

}  // namespace

TEST_CASE("a permission is a message with Approve, Always and Deny naming request and session; the rest are plain") {
    FakeBot b;
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    CHECK(std::string(n.plugin().name) == "telegram");
    REQUIRE(n.create(options(b)) == "");
    SendResult r = n.send(permission());
    REQUIRE_MESSAGE(r.status == NOTIFIER_OK, r.error);
    CHECK(json::parse(r.receipt) == json{{"chat_id", 4242}, {"message_id", 501}});
    auto sent = b.calls("sendMessage");
    REQUIRE(sent.size() == 1);
    CHECK(sent[0]["chat_id"] == 4242);
    CHECK(sent[0]["parse_mode"] == "HTML");
    std::string text = sent[0]["text"];
    CHECK(text.rfind("<b>api needs permission</b>\nBash: make deploy", 0) == 0);
    CHECK(text.find("Bash: <code>make &lt;deploy&gt; &amp; test</code>") != std::string::npos);
    CHECK(text.find("Always: allow work in /home/me/api for this session") != std::string::npos);
    json row = sent[0]["reply_markup"]["inline_keyboard"][0];
    REQUIRE(row.size() == 3);
    CHECK(row[0]["callback_data"] == "approve:42:7");
    CHECK(row[1]["callback_data"] == "always:42:7");
    CHECK(row[2]["callback_data"] == "deny:42:7");

    TestMessage done;
    done.kind = "done";
    REQUIRE(n.send(done).status == NOTIFIER_OK);
    CHECK_FALSE(b.calls("sendMessage")[1].contains("reply_markup"));
    CHECK(n.host_output().find(k_token) == std::string::npos);
    CHECK(n.host_output().find("AAE-test") == std::string::npos);
}

TEST_CASE("a press by the chat's person answers the request, and the press is answered") {
    FakeBot b;
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(options(b)) == "");
    b.queue(press("q1", 4242, "always:42:7"));
    auto answers = n.wait_for_answers(1);
    REQUIRE(answers.size() == 1);
    CHECK(answers[0].request == 42);
    CHECK(answers[0].decision == NOTIFIER_DECISION_ALLOW);
    CHECK(answers[0].always);
    CHECK(answers[0].who == "4242");
    CHECK(answers[0].session_id == "7");
    REQUIRE(b.wait_for_calls("answerCallbackQuery", 1) == 1);
    CHECK(b.calls("answerCallbackQuery")[0]["callback_query_id"] == "q1");
    CHECK(b.calls("answerCallbackQuery")[0]["text"] == "Approved, always");
    b.queue(press("q2", 4242, "deny:43:7"));
    answers = n.wait_for_answers(2);
    REQUIRE(answers.size() == 2);
    CHECK(answers[1].decision == NOTIFIER_DECISION_DENY);
    CHECK(answers[1].message == "Denied from Telegram.");
    // Each poll confirms what came before it.
    b.wait_for_calls("getUpdates", 4);
    CHECK(b.calls("getUpdates").back()["offset"] == 3);
}

TEST_CASE("a press by someone else, or in another chat, decides nothing and is refused with an alert and an event") {
    FakeBot b;
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(options(b)) == "");
    b.queue(press("q1", 666, "approve:42:7"));
    b.queue(press("q2", 4242, "approve:42:7", -100999));
    REQUIRE(b.wait_for_calls("answerCallbackQuery", 2) == 2);
    for (const auto& a : b.calls("answerCallbackQuery")) {
        CHECK(a["show_alert"] == true);
        CHECK(a["text"].get<std::string>().find("You may not answer") != std::string::npos);
    }
    CHECK(n.wait_for_event("click_refused"));
    CHECK(n.answers().empty());
}

TEST_CASE("a stale press says why and edits the message; a press that comes again is handled once") {
    FakeBot b;
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    n.set_answer_outcome(NOTIFIER_ANSWER_NOT_PENDING, "request 42 is not pending: it was already answered (allow by cli)");
    REQUIRE(n.create(options(b)) == "");
    b.queue(press("q1", 4242, "approve:42:7"));
    REQUIRE(b.wait_for_calls("editMessageText", 1) == 1);
    auto edit = b.calls("editMessageText")[0];
    CHECK(edit["chat_id"] == 4242);
    CHECK(edit["message_id"] == 501);
    CHECK_FALSE(edit.contains("reply_markup"));
    CHECK(edit["text"].get<std::string>().find("Not answered here: request 42 is not pending") != std::string::npos);
    REQUIRE(b.wait_for_calls("answerCallbackQuery", 1) == 1);
    CHECK(b.calls("answerCallbackQuery")[0]["text"].get<std::string>().rfind("Nothing was decided: request 42", 0) == 0);
    b.queue(press("q1", 4242, "approve:42:7"));
    b.queue(press("q3", 4242, "approve:44:7", 4242, false));
    REQUIRE(n.wait_for_answers(2).size() == 2);
    CHECK(n.answers()[1].request == 44);
    CHECK(b.calls("editMessageText").size() == 1);  // no keyboard left on that one: nothing to mark
}

TEST_CASE("bad updates are events; nothing is decided and polling goes on") {
    FakeBot b;
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(options(b)) == "");
    b.queue(press("q1", 4242, "launch:42:7"));
    b.queue(press("q2", 4242, "approve:42;7"));
    b.queue({{"callback_query", "not an object"}});
    b.queue({{"callback_query", {{"id", "q4"}}}});
    b.queue({{"message", {{"text", "hello bot"}}}});
    b.queue(press("q6", 4242, "approve:45:7"));
    auto answers = n.wait_for_answers(1);
    REQUIRE(answers.size() == 1);
    CHECK(answers[0].request == 45);
    CHECK(n.wait_for_event("unknown_action"));
    CHECK(n.wait_for_event("bad_action"));
    CHECK(n.wait_for_event("bad_update"));
}

TEST_CASE("a revoked token and a conflicting poller are events; a 429 is waited out and retried") {
    FakeBot b;
    {
        std::lock_guard lock(b.mutex);
        b.override = [](const std::string& method) {
            if (method == "getUpdates") return api_error(401, "Unauthorized");
            return HttpReply{0, "", {}, 0};
        };
    }
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(options(b)) == "");
    CHECK(n.wait_for_event("token_rejected"));
    n.destroy();
    CHECK(n.host_output().find(k_token) == std::string::npos);
    CHECK(n.host_output().find("401 Unauthorized") != std::string::npos);

    {
        std::lock_guard lock(b.mutex);
        b.override = [](const std::string& method) {
            if (method == "getUpdates") return api_error(409, "Conflict: terminated by other getUpdates request");
            return HttpReply{0, "", {}, 0};
        };
    }
    LoadedNotifier c(TETHER_PLUGIN_FILE);
    REQUIRE(c.create(options(b)) == "");
    CHECK(c.wait_for_event("poll_conflict"));
    c.destroy();

    std::atomic<int> tries{0};
    {
        std::lock_guard lock(b.mutex);
        b.override = [&](const std::string& method) {
            if (method == "sendMessage" && tries++ == 0) return api_error(429, "Too Many Requests: retry after 1", {{"retry_after", 1}});
            return HttpReply{0, "", {}, 0};
        };
    }
    LoadedNotifier s(TETHER_PLUGIN_FILE);
    REQUIRE(s.create(options(b, {{"max_retry_wait_ms", "0"}})) == "");
    SendResult first = s.send(permission());
    CHECK(first.status == NOTIFIER_RETRY);
    CHECK(first.error.find("retry after 1 s") != std::string::npos);
    SendResult soon = s.send(permission());
    CHECK(soon.status == NOTIFIER_RETRY);  // within the retry_after: not even asked
    CHECK(tries == 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    CHECK(s.send(permission()).status == NOTIFIER_OK);
}

TEST_CASE("update edits the message named by the receipt with who decided what, and drops the keyboard") {
    FakeBot b;
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(options(b)) == "");
    b.queue(press("q1", 4242, "approve:42:7"));  // so the plugin knows Ann's name
    REQUIRE(n.wait_for_answers(1).size() == 1);
    TestMessage u = permission();
    u.update_receipt = R"({"chat_id":4242,"message_id":501})";
    u.decision = "allow";
    u.decided_by = "telegram:4242";
    u.decided_time_ms = 1795000000123;
    SendResult r = n.update(u);
    REQUIRE_MESSAGE(r.status == NOTIFIER_OK, r.error);
    auto edit = b.calls("editMessageText");
    REQUIRE(edit.size() == 1);
    CHECK(edit[0]["message_id"] == 501);
    CHECK_FALSE(edit[0].contains("reply_markup"));
    std::string text = edit[0]["text"];
    CHECK(text.find("Approved by Ann (@ann) from Telegram \u00b7 11:06:40 UTC") != std::string::npos);
    CHECK(text.find("<b>api needs permission</b>") == 0);

    u.decision = "deny";
    u.decided_by = "cli";
    u.decision_message = "<b>no</b>";
    REQUIRE(n.update(u).status == NOTIFIER_OK);
    CHECK(b.calls("editMessageText")[1]["text"].get<std::string>().find("Denied from the command line: &lt;b&gt;no&lt;/b&gt;") !=
          std::string::npos);

    // Edited already (a retry after a lost answer): done, not an error.
    {
        std::lock_guard lock(b.mutex);
        b.override = [](const std::string& method) {
            if (method == "editMessageText") return api_error(400, "Bad Request: message is not modified");
            return HttpReply{0, "", {}, 0};
        };
    }
    CHECK(n.update(u).status == NOTIFIER_OK);
    u.update_receipt = "{}";
    CHECK(n.update(u).status == NOTIFIER_FAIL);
}

TEST_CASE("bad Telegram options are refused by name") {
    FakeBot b;
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    CHECK(n.create({}) == "bad options: token is required");
    CHECK(n.create(options(b, {{"token", "not a token"}})).find("not a bot token") != std::string::npos);
    CHECK(n.create(options(b, {{"chat_id", "@mychannel"}})).find("chat_id: expected a number") != std::string::npos);
    CHECK(n.create(options(b, {{"chat_id", "-1001234"}})).find("allow_from is required for a group chat") != std::string::npos);
    CHECK(n.create(options(b, {{"chat_id", "-1001234"}, {"allow_from", "4242, 17"}})) == "");
    CHECK(n.create(options(b, {{"allow_from", "ann"}})) ==
          "bad options: allow_from: \"ann\" is not a Telegram user id such as 123456789");
    CHECK(n.create(options(b, {{"answers", "false"}})).find("goes with answers: true") != std::string::npos);
    CHECK(n.create({{"token", k_token}, {"chat_id", "1"}, {"api_base", "ftp://x"}}).find("api_base") != std::string::npos);
}
