// tether-notifier-slack's answers, loaded through the ABI: a fake Slack Web API on
// 127.0.0.1 (evhttp) whose apps.connections.open hands out a real WebSocket server
// (Beast) playing Socket Mode. Clicks, refusals, stale and replayed clicks, bad envelopes,
// a dropped or cut socket, a revoked token, 429, and the revision of a decided message.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>

#include "http_test_server.h"
#include "notifier_loader.h"
#include "support.h"
#include "ws_test_server.h"

using namespace tether::test;
using nlohmann::json;

namespace {

const std::string k_token = "xoxb-test-TOKEN-socket-42";
const std::string k_app_token = "xapp-1-A0-APPTOKEN-secret-77";

HttpReply ok_json(json body) {
    body["ok"] = true;
    return json_reply(body.dump());
}
HttpReply slack_error(const std::string& error) { return json_reply(json{{"ok", false}, {"error", error}}.dump()); }

// A fake Web API: apps.connections.open points at the WebSocket server (or answers what
// the test sets), chat.* are accepted and recorded.
struct FakeSlack {
    explicit FakeSlack(const TestCertificate* tls = nullptr) : ws(R"({"type":"hello","num_connections":1})", tls) {}
    WsTestServer ws;
    std::mutex mutex;
    std::function<HttpReply()> open_reply;  // null: the ws URL
    std::vector<json> history;              // conversations.replies / history messages
    std::atomic<int> posts{0};              // the n-th chat.postMessage gets ts "100.<n>"
    HttpTestServer api{[this](const HttpRequest& q, int n) { return handle(q, n); }};

    HttpReply handle(const HttpRequest& q, int) {
        std::string method = q.uri.substr(q.uri.rfind('/') + 1);
        bool app = method == "apps.connections.open";
        if (q.header("authorization") != "Bearer " + (app ? k_app_token : k_token)) return slack_error("invalid_auth");
        if (app) {
            std::lock_guard lock(mutex);
            if (open_reply) return open_reply();
            return ok_json({{"url", ws.url()}});
        }
        if (method == "chat.postMessage") return ok_json({{"channel", "C0SOCK"}, {"ts", "100." + std::to_string(++posts)}});
        if (method == "chat.update" || method == "chat.postEphemeral") return ok_json({{"channel", "C0SOCK"}});
        if (method == "conversations.replies" || method == "conversations.history") {
            std::lock_guard lock(mutex);
            return ok_json({{"messages", history}});
        }
        return slack_error("unknown_method");
    }
    std::vector<json> calls(const std::string& method) const {
        std::vector<json> out;
        for (const auto& r : api.requests_to("/api/" + method))
            out.push_back(r.header("content-type").find("json") != std::string::npos ? json::parse(r.body) : json(r.body));
        return out;
    }
    size_t wait_for_calls(const std::string& method, size_t n, long timeout_ms = 10000) const {
        return api.wait_for_requests_to("/api/" + method, n, timeout_ms);
    }
};

std::map<std::string, std::string> interactive(const FakeSlack& s, std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> o{{"token", k_token},         {"channel", "#agents"},
                                         {"api_base", s.api.url("/api")}, {"app_token", k_app_token},
                                         {"allow_users", "U0ANN,U0BOB"}, {"reconnect_min_ms", "20"}};
    for (auto& [k, v] : extra) o[k] = v;
    return o;
}

TestMessage permission(int64_t request = 42) {
    TestMessage m;
    m.permission_request = request;
    m.always_json = R"({"type":"addRules","rules":[{"toolName":"Bash","ruleContent":"make deploy"}],"behavior":"allow","destination":"localSettings"})";
    return m;
}

// A block_actions click as Slack sends it, in an envelope.
json click(const std::string& envelope, const std::string& user, const std::string& action, const std::string& value,
           const std::string& action_ts = "1795000000.000001", const std::string& reason = "", bool buttons = true) {
    json blocks = json::array({{{"type", "header"}, {"text", {{"type", "plain_text"}, {"text", "api needs permission"}}}}});
    if (buttons) blocks.push_back({{"type", "actions"}, {"block_id", "tether_answer"}, {"elements", json::array()}});
    json payload{{"type", "block_actions"},
                 {"user", {{"id", user}, {"username", "someone"}}},
                 {"container", {{"type", "message"}, {"message_ts", "100.1"}, {"channel_id", "C0SOCK"}}},
                 {"message", {{"ts", "100.1"}, {"text", "api needs permission"}, {"blocks", blocks}}},
                 {"actions", json::array({{{"action_id", action}, {"block_id", "tether_answer"}, {"value", value},
                                           {"type", "button"}, {"action_ts", action_ts}}})}};
    if (!reason.empty()) payload["state"] = {{"values", {{"tether_reason", {{"reason", {{"type", "plain_text_input"}, {"value", reason}}}}}}}};
    return {{"envelope_id", envelope}, {"type", "interactive"}, {"payload", payload}, {"accepts_response_payload", false}};
}

// The acknowledgements the plugin sent, as envelope ids.
std::vector<std::string> acks(const WsTestServer& ws, size_t n) {
    std::vector<std::string> out;
    for (const auto& m : ws.wait_for_messages(n)) out.push_back(json::parse(m).value("envelope_id", "?"));
    return out;
}

}  // namespace

TEST_CASE("an answerable request's message has a reason field and Approve, Always and Deny naming request and session") {
    FakeSlack s;
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(interactive(s)) == "");
    SendResult r = n.send(permission());
    REQUIRE_MESSAGE(r.status == NOTIFIER_OK, r.error);
    auto posted = s.calls("chat.postMessage");
    REQUIRE(posted.size() == 1);
    const json& blocks = posted[0]["blocks"];
    json actions, input;
    for (const auto& b : blocks) {
        if (b.value("block_id", "") == "tether_answer") actions = b;
        if (b.value("block_id", "") == "tether_reason") input = b;
    }
    REQUIRE(actions.is_object());
    REQUIRE(input.is_object());
    CHECK(input["type"] == "input");
    CHECK(input["element"]["action_id"] == "reason");
    std::vector<std::string> ids, values;
    for (const auto& e : actions["elements"]) ids.push_back(e["action_id"]), values.push_back(e["value"]);
    CHECK(ids == std::vector<std::string>{"tether_approve", "tether_always", "tether_deny"});
    CHECK(values == std::vector<std::string>{"42:7", "42:7", "42:7"});
    CHECK(blocks.dump().find("allow Bash(make deploy) in this project") != std::string::npos);
    CHECK(posted[0]["metadata"]["event_payload"]["key"] == "1");
    CHECK(json::parse(r.receipt) == json{{"channel", "C0SOCK"}, {"ts", "100.1"}, {"thread_ts", "100.1"}});

    // Without a suggestion there is nothing for Always to accept; without a request, no buttons.
    TestMessage plain = permission(43);
    plain.always_json = "";
    plain.session_id = "8";
    REQUIRE(n.send(plain).status == NOTIFIER_OK);
    CHECK(s.calls("chat.postMessage")[1]["blocks"].dump().find("tether_always") == std::string::npos);
    TestMessage done;
    done.kind = "done";
    done.session_id = "9";
    REQUIRE(n.send(done).status == NOTIFIER_OK);
    CHECK(s.calls("chat.postMessage")[2]["blocks"].dump().find("tether_answer") == std::string::npos);
}

TEST_CASE("a click by an allowed user is acknowledged and answers its request, with who, always and the reason") {
    FakeSlack s;
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(interactive(s)) == "");
    REQUIRE(s.ws.wait_for_connections(1) == 1);
    s.ws.send(click("e1", "U0ANN", "tether_always", "42:7").dump());
    auto answers = n.wait_for_answers(1);
    REQUIRE(answers.size() == 1);
    CHECK(answers[0].request == 42);
    CHECK(answers[0].decision == NOTIFIER_DECISION_ALLOW);
    CHECK(answers[0].always);
    CHECK(answers[0].who == "U0ANN");
    CHECK(answers[0].session_id == "7");
    CHECK(acks(s.ws, 1) == std::vector<std::string>{"e1"});

    s.ws.send(click("e2", "U0BOB", "tether_deny", "44:7", "1795000000.000002", "use make test").dump());
    answers = n.wait_for_answers(2);
    REQUIRE(answers.size() == 2);
    CHECK(answers[1].decision == NOTIFIER_DECISION_DENY);
    CHECK(answers[1].message == "use make test");
    s.ws.send(click("e3", "U0BOB", "tether_deny", "45:7", "1795000000.000003").dump());
    answers = n.wait_for_answers(3);
    REQUIRE(answers.size() == 3);
    CHECK(answers[2].message == "Denied from Slack.");
    // A decided click needs no reply: the host's update revises the message.
    CHECK(s.calls("chat.postEphemeral").empty());
}

TEST_CASE("a click by someone not allowed decides nothing, gets an ephemeral reply and an event") {
    FakeSlack s;
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(interactive(s)) == "");
    REQUIRE(s.ws.wait_for_connections(1) == 1);
    s.ws.send(click("e1", "U0EVE", "tether_approve", "42:7").dump());
    REQUIRE(s.wait_for_calls("chat.postEphemeral", 1) == 1);
    auto eph = s.calls("chat.postEphemeral")[0];
    CHECK(eph["user"] == "U0EVE");
    CHECK(eph["channel"] == "C0SOCK");
    CHECK(eph["text"].get<std::string>().find("not in allow_users") != std::string::npos);
    CHECK(n.wait_for_event("click_refused"));
    CHECK(n.answers().empty());
    CHECK(acks(s.ws, 1) == std::vector<std::string>{"e1"});
}

TEST_CASE("a stale click says why in the chat and marks the message; a replayed click is handled once") {
    FakeSlack s;
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    n.set_answer_outcome(NOTIFIER_ANSWER_NOT_PENDING, "request 42 is gone: it was asked before tether restarted");
    REQUIRE(n.create(interactive(s)) == "");
    REQUIRE(s.ws.wait_for_connections(1) == 1);
    json c = click("e1", "U0ANN", "tether_approve", "42:7");
    s.ws.send(c.dump());
    REQUIRE(s.wait_for_calls("chat.update", 1) == 1);
    auto upd = s.calls("chat.update")[0];
    CHECK(upd["channel"] == "C0SOCK");
    CHECK(upd["ts"] == "100.1");
    CHECK(upd["blocks"].dump().find("tether_answer") == std::string::npos);
    CHECK(upd["blocks"].dump().find("Not answered here: request 42 is gone") != std::string::npos);
    REQUIRE(s.wait_for_calls("chat.postEphemeral", 1) == 1);
    CHECK(s.calls("chat.postEphemeral")[0]["text"].get<std::string>().find("Nothing was decided: request 42 is gone") !=
          std::string::npos);

    // The same envelope again (Slack redelivers), and the same click in a new envelope.
    s.ws.send(c.dump());
    c["envelope_id"] = "e2";
    s.ws.send(c.dump());
    CHECK(acks(s.ws, 3) == std::vector<std::string>{"e1", "e1", "e2"});
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(n.answers().size() == 1);
    CHECK(s.calls("chat.postEphemeral").size() == 1);
}

TEST_CASE("bad envelopes and unknown actions are events; nothing is decided and the next click still works") {
    FakeSlack s;
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(interactive(s)) == "");
    REQUIRE(s.ws.wait_for_connections(1) == 1);
    s.ws.send("this is not JSON");
    s.ws.send(R"({"envelope_id": 17, "type": "interactive"})");
    s.ws.send(R"({"envelope_id": "e1", "type": "interactive"})");
    s.ws.send(R"({"envelope_id": "e2", "type": "events_api", "payload": {}})");
    s.ws.send(click("e3", "U0ANN", "tether_launch_missiles", "42:7").dump());
    s.ws.send(click("e4", "U0ANN", "tether_approve", "42; DROP", "1795000000.000009").dump());
    s.ws.send(R"({"type": "mystery"})");
    s.ws.send(click("e5", "U0ANN", "tether_approve", "46:7", "1795000000.000010").dump());
    auto answers = n.wait_for_answers(1);
    REQUIRE(answers.size() == 1);
    CHECK(answers[0].request == 46);
    CHECK(n.wait_for_event("bad_envelope"));
    CHECK(n.wait_for_event("unknown_action"));
    CHECK(n.wait_for_event("bad_action"));
    // Every envelope with an id was acknowledged, in order; the malformed id was not.
    CHECK(acks(s.ws, 5) == std::vector<std::string>{"e1", "e2", "e3", "e4", "e5"});
}

TEST_CASE("Socket Mode reconnects when Slack says disconnect, when the socket drops, and when a frame is cut short") {
    FakeSlack s;
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(interactive(s)) == "");
    REQUIRE(s.ws.wait_for_connections(1) == 1);
    s.ws.send(R"({"type":"disconnect","reason":"refresh_requested"})");
    REQUIRE(s.ws.wait_for_connections(2) == 2);
    s.ws.drop();
    REQUIRE(s.ws.wait_for_connections(3) == 3);
    CHECK(n.wait_for_event("socket_dropped"));
    s.ws.cut_frame_and_drop();
    REQUIRE(s.ws.wait_for_connections(4) == 4);
    s.ws.close(1011, "going away");
    REQUIRE(s.ws.wait_for_connections(5) == 5);
    CHECK(s.wait_for_calls("apps.connections.open", 5) >= 5);
    // The newest connection works.
    s.ws.send(click("e1", "U0ANN", "tether_approve", "42:7").dump());
    CHECK(n.wait_for_answers(1).size() == 1);
    CHECK(n.host_output().find(k_app_token) == std::string::npos);
}

TEST_CASE("a revoked app token and a 429 are events, retried later, and the token shows nowhere") {
    FakeSlack s;
    {
        std::lock_guard lock(s.mutex);
        s.open_reply = [] { return slack_error("token_revoked"); };
    }
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(interactive(s)) == "");
    CHECK(n.wait_for_event("app_token_rejected"));
    n.destroy();
    CHECK(n.host_output().find("token_revoked") != std::string::npos);
    CHECK(n.host_output().find(k_app_token) == std::string::npos);

    std::atomic<int> opens{0};
    {
        std::lock_guard lock(s.mutex);
        s.open_reply = [&] {
            if (opens++ > 0) return ok_json({{"url", s.ws.url()}});
            HttpReply r = slack_error("ratelimited");
            r.status = 429;
            r.headers.emplace_back("Retry-After", "1");
            return r;
        };
    }
    LoadedNotifier m(TETHER_PLUGIN_FILE);
    REQUIRE(m.create(interactive(s)) == "");
    CHECK(m.wait_for_event("socket_mode_unreachable"));
    CHECK(s.ws.wait_for_connections(1) == 1);  // after the Retry-After
    CHECK(m.host_output().find("Retry-After 1 s") != std::string::npos);
}

TEST_CASE("update revises the message named by the receipt: who decided what, and the buttons are gone") {
    FakeSlack s;
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(interactive(s)) == "");
    TestMessage u = permission();
    u.update_receipt = R"({"channel":"C0SOCK","ts":"100.1","thread_ts":"100.1"})";
    u.decision = "allow";
    u.decided_by = "slack:U0ANN";
    u.decided_time_ms = 1795000060000;
    SendResult r = n.update(u);
    REQUIRE_MESSAGE(r.status == NOTIFIER_OK, r.error);
    CHECK(r.receipt == u.update_receipt);
    auto upd = s.calls("chat.update");
    REQUIRE(upd.size() == 1);
    CHECK(upd[0]["channel"] == "C0SOCK");
    CHECK(upd[0]["ts"] == "100.1");
    std::string blocks = upd[0]["blocks"].dump();
    CHECK(blocks.find("Approved by <@U0ANN> from Slack") != std::string::npos);
    CHECK(blocks.find("tether_answer") == std::string::npos);
    CHECK(blocks.find("api needs permission") != std::string::npos);

    // A deny's reason is escaped: it cannot mention anyone.
    u.decision = "deny";
    u.decided_by = "cli";
    u.decision_message = "no <@U0BOB> & <!channel>";
    REQUIRE(n.update(u).status == NOTIFIER_OK);
    blocks = s.calls("chat.update")[1]["blocks"].dump();
    CHECK(blocks.find("Denied from the command line: no &lt;@U0BOB&gt; &amp; &lt;!channel&gt;") != std::string::npos);

    u.update_receipt = "garbage";
    CHECK(n.update(u).status == NOTIFIER_FAIL);
}

TEST_CASE("a retry whose first attempt was posted finds it and does not post twice; the thread survives a restart") {
    FakeSlack s;
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(interactive(s)) == "");
    // The host remembers the thread from before a restart: a new instance continues it.
    TestMessage m = permission();
    m.idempotency_key = "31";
    m.session_receipt = R"({"channel":"C0SOCK","ts":"100.5","thread_ts":"100.2"})";
    REQUIRE(n.send(m).status == NOTIFIER_OK);
    auto posted = s.calls("chat.postMessage");
    REQUIRE(posted.size() == 1);
    CHECK(posted[0]["thread_ts"] == "100.2");
    CHECK(posted[0]["channel"] == "C0SOCK");

    // The answer to that post was lost; the retry finds the message by its key.
    {
        std::lock_guard lock(s.mutex);
        s.history = {{{"ts", "100.9"}, {"metadata", {{"event_type", "tether_notification"}, {"event_payload", {{"key", "32"}}}}}}};
    }
    TestMessage again = permission();
    again.idempotency_key = "32";
    again.attempt = 2;
    again.maybe_delivered = true;
    SendResult r = n.send(again);
    REQUIRE_MESSAGE(r.status == NOTIFIER_OK, r.error);
    CHECK(s.calls("chat.postMessage").size() == 1);
    CHECK(json::parse(r.receipt)["ts"] == "100.9");
    auto replies = s.calls("conversations.replies");
    REQUIRE(replies.size() == 1);
    CHECK(replies[0].get<std::string>().find("ts=100.2") != std::string::npos);
    // Not found: posted.
    again.idempotency_key = "33";
    REQUIRE(n.send(again).status == NOTIFIER_OK);
    CHECK(s.calls("chat.postMessage").size() == 2);
}

TEST_CASE("interactive options: app_token needs allow_users, an xapp- token, and a bot token") {
    FakeSlack s;
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    auto o = interactive(s);
    o.erase("allow_users");
    CHECK(n.create(o).find("allow_users is required") != std::string::npos);
    CHECK(n.create(interactive(s, {{"app_token", "xoxb-not-an-app-token"}})).find("starts with xapp-") != std::string::npos);
    CHECK(n.create(interactive(s, {{"allow_users", "U0ANN,alice"}})) ==
          "bad options: allow_users: \"alice\" is not a Slack user id such as U0123ABCD");
    CHECK(n.create({{"webhook", s.api.url("/hook")}, {"app_token", k_app_token}}).find("goes with token") != std::string::npos);
    CHECK(n.create({{"token", k_token}, {"channel", "#a"}, {"allow_users", "U0ANN"}}).find("go with app_token") != std::string::npos);
}

TEST_CASE("Socket Mode over wss verifies the server's certificate: a CA it trusts connects, none refuses") {
    TestCertificate cert = TestCertificate::self_signed();
    FakeSlack s(&cert);
    tether::test::TempDir dir;
    tether::test::write_file(dir.file("ca.pem"), cert.cert_pem);
    {
        LoadedNotifier n(TETHER_PLUGIN_FILE);
        REQUIRE(n.create(interactive(s, {{"ca_file", dir.file("ca.pem")}})) == "");
        REQUIRE(s.ws.wait_for_connections(1) == 1);
        CHECK(s.ws.url().rfind("wss://127.0.0.1:", 0) == 0);
        s.ws.send(click("e1", "U0ANN", "tether_approve", "42:7").dump());
        CHECK(n.wait_for_answers(1).size() == 1);
        CHECK(acks(s.ws, 1) == std::vector<std::string>{"e1"});
    }
    LoadedNotifier untrusting(TETHER_PLUGIN_FILE);
    REQUIRE(untrusting.create(interactive(s)) == "");
    CHECK(untrusting.wait_for_event("socket_dropped"));
    untrusting.destroy();
    CHECK(untrusting.host_output().find("certificate verify failed") != std::string::npos);
    CHECK(s.ws.failed_handshakes() >= 1);
    CHECK(s.ws.wait_for_connections(2, 200) == 1);
}
