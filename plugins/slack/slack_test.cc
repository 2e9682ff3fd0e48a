// tether-notifier-slack, loaded through the ABI, against a fake Slack (Web API and
// incoming webhook) served by a real HTTP server on 127.0.0.1.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <thread>

#include "http_test_server.h"
#include "notifier_loader.h"

using namespace tether::test;
using nlohmann::json;

namespace {

const std::string k_token = "xoxb-test-TOKEN-0123456789";

HttpReply slack_ok(const std::string& ts, const std::string& channel = "C0123") {
    return json_reply(json{{"ok", true}, {"channel", channel}, {"ts", ts}}.dump());
}

HttpReply slack_error(const std::string& error) { return json_reply(json{{"ok", false}, {"error", error}}.dump()); }

// A fake chat.postMessage that answers ts "100.<n>" for the n-th message.
HttpTestServer::Handler fake_api() {
    return [](const HttpRequest& q, int n) {
        if (q.uri != "/api/chat.postMessage") return reply(404, "unknown_method");
        if (q.header("authorization") != "Bearer " + k_token) return slack_error("invalid_auth");
        return slack_ok("100." + std::to_string(n));
    };
}

std::map<std::string, std::string> bot(const HttpTestServer& s, std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> o{{"token", k_token}, {"channel", "#agents"}, {"api_base", s.url("/api")}};
    for (auto& [k, v] : extra) o[k] = v;
    return o;
}

TestMessage for_session(const std::string& id, const std::string& kind = "permission") {
    TestMessage m;
    m.session_id = id;
    m.kind = kind;
    return m;
}

std::vector<std::string> texts_of(const json& elements) {
    std::vector<std::string> out;
    for (const auto& e : elements) out.push_back(e["text"]);
    return out;
}

}  // namespace

TEST_CASE("a bot-token message is Block Kit: header, text, fields and context") {
    HttpTestServer server(fake_api());
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    CHECK(std::string(n.plugin().name) == "slack");
    REQUIRE(n.create(bot(server)) == "");
    TestMessage m;
    m.tool_input_json = R"({"command":"make `deploy` <prod> & more"})";
    SendResult r = n.send(m);
    REQUIRE_MESSAGE(r.status == NOTIFIER_OK, r.error);

    auto reqs = server.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].method == "POST");
    CHECK(reqs[0].header("content-type") == "application/json; charset=utf-8");
    json p = json::parse(reqs[0].body);
    CHECK(p["channel"] == "#agents");
    CHECK(p["text"] == "api needs permission: Bash: make deploy");
    CHECK_FALSE(p.contains("thread_ts"));
    const json& b = p["blocks"];
    REQUIRE(b.size() == 4);
    CHECK(b[0]["type"] == "header");
    CHECK(b[0]["text"] == json{{"type", "plain_text"}, {"text", "api needs permission"}, {"emoji", true}});
    CHECK(b[1]["type"] == "section");
    CHECK(b[1]["text"]["text"] == "Bash: make deploy");
    CHECK(b[2]["type"] == "section");
    CHECK(texts_of(b[2]["fields"]) == std::vector<std::string>{"*Session*\napi (#7)", "*Agent*\nclaude",
                                                                "*State*\nrunning \u2192 needs_permission",
                                                                "*Tool*\nBash: `make 'deploy' &lt;prod&gt; &amp; more`"});
    CHECK(b[3]["type"] == "context");
    auto context = texts_of(b[3]["elements"]);
    REQUIRE(context.size() == 3);
    CHECK(context[0] == "<!date^1795000000^{date_short_pretty} {time_secs}|2026-11-18 11:06:40 UTC>");
    CHECK(context[1] == "`/home/me/api`");
    CHECK(context[2] == "rule permission");
}

TEST_CASE("with a token, later notifications of a session are threaded under its first") {
    HttpTestServer server(fake_api());
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(bot(server)) == "");
    REQUIRE(n.send(for_session("7")).status == NOTIFIER_OK);          // ts 100.1
    REQUIRE(n.send(for_session("7", "done")).status == NOTIFIER_OK);  // in its thread
    REQUIRE(n.send(for_session("8")).status == NOTIFIER_OK);          // a new thread, ts 100.3
    REQUIRE(n.send(for_session("8", "done")).status == NOTIFIER_OK);
    REQUIRE(n.send(for_session("7", "exited")).status == NOTIFIER_OK);

    auto reqs = server.requests();
    REQUIRE(reqs.size() == 5);
    std::vector<std::string> threads;
    for (const auto& q : reqs) threads.push_back(json::parse(q.body).value("thread_ts", "-"));
    CHECK(threads == std::vector<std::string>{"-", "100.1", "-", "100.3", "100.1"});
    // Replies go to the channel id Slack answered with, not the name configured.
    CHECK(json::parse(reqs[1].body)["channel"] == "C0123");
}

TEST_CASE("thread: false posts every notification at the top level") {
    HttpTestServer server(fake_api());
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(bot(server, {{"thread", "false"}})) == "");
    REQUIRE(n.send(for_session("7")).status == NOTIFIER_OK);
    REQUIRE(n.send(for_session("7")).status == NOTIFIER_OK);
    for (const auto& q : server.requests()) CHECK_FALSE(json::parse(q.body).contains("thread_ts"));
}

TEST_CASE("concurrent first notifications of a session start exactly one thread") {
    HttpTestServer server([](const HttpRequest&, int n) {
        HttpReply r = slack_ok("200." + std::to_string(n));
        if (n == 1) r.delay_ms = 300;  // the others arrive while the first is on its way
        return r;
    });
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(bot(server)) == "");
    std::vector<std::thread> senders;
    std::vector<SendResult> results(4);
    for (size_t i = 0; i < results.size(); ++i)
        senders.emplace_back([&, i] { results[i] = n.send(for_session("9")); });
    for (auto& t : senders) t.join();
    for (const auto& r : results) CHECK_MESSAGE(r.status == NOTIFIER_OK, r.error);
    auto reqs = server.requests();
    REQUIRE(reqs.size() == 4);
    int top_level = 0;
    for (const auto& q : reqs) {
        json p = json::parse(q.body);
        if (!p.contains("thread_ts")) ++top_level;
        else CHECK(p["thread_ts"] == "200.1");
    }
    CHECK(top_level == 1);
}

TEST_CASE("a 429 is retried, and nothing is sent again before its Retry-After ends") {
    HttpTestServer server([](const HttpRequest&, int) {
        HttpReply r = slack_error("ratelimited");
        r.status = 429;
        r.headers.push_back({"Retry-After", "30"});
        return r;
    });
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(bot(server, {{"max_retry_wait_ms", "0"}})) == "");
    SendResult first = n.send(TestMessage{});
    CHECK(first.status == NOTIFIER_RETRY);
    CHECK(first.error.find("HTTP 429, Retry-After 30 s") != std::string::npos);
    SendResult second = n.send(TestMessage{});
    CHECK(second.status == NOTIFIER_RETRY);
    CHECK(second.error.find("Retry-After") != std::string::npos);
    CHECK(server.requests().size() == 1);  // the second attempt did not ask Slack
}

TEST_CASE("a short Retry-After is waited out inside send, then the next attempt is delivered") {
    HttpTestServer server([](const HttpRequest&, int n) {
        if (n > 1) return slack_ok("300.1");
        HttpReply r = slack_error("ratelimited");
        r.status = 429;
        r.headers.push_back({"Retry-After", "1"});
        return r;
    });
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(bot(server, {{"max_retry_wait_ms", "3000"}})) == "");
    CHECK(n.send(TestMessage{}).status == NOTIFIER_RETRY);
    SendResult r = n.send(TestMessage{});
    CHECK_MESSAGE(r.status == NOTIFIER_OK, r.error);
    CHECK(server.requests().size() == 2);
}

TEST_CASE("Slack's ok:false errors: rate limits and internal errors retry, the rest fail") {
    std::vector<std::pair<std::string, int>> cases = {
        {"ratelimited", NOTIFIER_RETRY},     {"internal_error", NOTIFIER_RETRY}, {"fatal_error", NOTIFIER_RETRY},
        {"invalid_auth", NOTIFIER_FAIL},     {"channel_not_found", NOTIFIER_FAIL}, {"not_in_channel", NOTIFIER_FAIL},
        {"invalid_blocks", NOTIFIER_FAIL},
    };
    for (const auto& [error, want] : cases) {
        HttpTestServer server([error = error](const HttpRequest&, int) { return slack_error(error); });
        LoadedNotifier n(TETHER_PLUGIN_FILE);
        REQUIRE(n.create(bot(server)) == "");
        SendResult r = n.send(TestMessage{});
        INFO(error << ": " << r.error);
        CHECK(r.status == want);
        CHECK(r.error.find(error) != std::string::npos);
    }
    HttpTestServer server(
        [](const HttpRequest&, int n) { return n == 1 ? reply(503, "upstream down") : reply(200, "<html>a proxy</html>"); });
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(bot(server)) == "");
    CHECK(n.send(TestMessage{}).status == NOTIFIER_RETRY);
    SendResult odd = n.send(TestMessage{});
    CHECK(odd.status == NOTIFIER_RETRY);
    CHECK(odd.error.find("not Slack's JSON") != std::string::npos);
}

TEST_CASE("a failed first message leaves the thread to the session's next one") {
    HttpTestServer server([](const HttpRequest&, int n) { return n == 1 ? slack_error("internal_error") : slack_ok("400." + std::to_string(n)); });
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(bot(server)) == "");
    CHECK(n.send(for_session("5")).status == NOTIFIER_RETRY);
    CHECK(n.send(for_session("5")).status == NOTIFIER_OK);  // the retry starts the thread
    CHECK(n.send(for_session("5", "done")).status == NOTIFIER_OK);
    auto reqs = server.requests();
    REQUIRE(reqs.size() == 3);
    CHECK_FALSE(json::parse(reqs[1].body).contains("thread_ts"));
    CHECK(json::parse(reqs[2].body)["thread_ts"] == "400.2");
}

TEST_CASE("the token appears in no error or log, even when Slack echoes it") {
    HttpTestServer server([](const HttpRequest& q, int n) {
        if (n == 1) return reply(400, "bad request from " + q.header("authorization"));
        return slack_error("invalid_auth " + q.header("authorization"));
    });
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(bot(server)) == "");
    SendResult a = n.send(TestMessage{});
    SendResult b = n.send(TestMessage{});
    CHECK(a.status == NOTIFIER_FAIL);
    CHECK(b.status == NOTIFIER_FAIL);
    CHECK(server.requests().at(0).header("authorization") == "Bearer " + k_token);
    for (const std::string& text : {a.error, b.error, n.host_output()}) {
        INFO(text);
        CHECK(text.find("TOKEN-0123456789") == std::string::npos);
    }
    CHECK(a.error.find("HTTP 400") != std::string::npos);
}

TEST_CASE("an incoming webhook gets the same blocks, without channel or token") {
    const std::string path = "/services/T0000/B0000/WEBHOOKSECRET42";
    HttpTestServer server([path](const HttpRequest& q, int n) {
        if (q.uri != path) return reply(404, "no_service");
        switch (n) {
        case 1: return reply(200, "ok");
        case 2: return reply(400, "invalid_payload");
        case 3: return reply(500, "rollup_error");
        default: return reply(429, "rate limited", {{"Retry-After", "30"}});
        }
    });
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create({{"webhook", server.url(path)}, {"max_retry_wait_ms", "0"}}) == "");
    REQUIRE(n.send(TestMessage{}).status == NOTIFIER_OK);
    json p = json::parse(server.requests().at(0).body);
    CHECK_FALSE(p.contains("channel"));
    CHECK(p["blocks"].size() == 4);
    CHECK(p["text"] == "api needs permission: Bash: make deploy");
    CHECK(server.requests().at(0).header("authorization") == "");

    SendResult bad = n.send(TestMessage{});
    CHECK(bad.status == NOTIFIER_FAIL);
    CHECK(bad.error.find("invalid_payload") != std::string::npos);
    CHECK(n.send(TestMessage{}).status == NOTIFIER_RETRY);
    SendResult limited = n.send(TestMessage{});
    CHECK(limited.status == NOTIFIER_RETRY);
    CHECK(limited.error.find("Retry-After 30 s") != std::string::npos);
    for (const std::string& text : {bad.error, limited.error, n.host_output()}) CHECK(text.find("WEBHOOKSECRET42") == std::string::npos);
}

TEST_CASE("bad options are refused by name") {
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    CHECK(n.create({}).find("give either webhook") != std::string::npos);
    CHECK(n.create({{"webhook", "https://hooks.slack.com/x"}, {"token", "xoxb-1"}}).find("give either webhook") != std::string::npos);
    CHECK(n.create({{"token", "xoxb-1"}}) == "bad options: channel is required");
    CHECK(n.create({{"webhook", "https://hooks.slack.com/x"}, {"channel", "#a"}}).find("goes with token") != std::string::npos);
    CHECK(n.create({{"token", "xoxb-1"}, {"channel", "#a"}, {"api_base", "file:///etc"}}).find("api_base") != std::string::npos);
    CHECK(n.create({{"token", "xoxb-1\r\nX: y"}, {"channel", "#a"}}).find("line break") != std::string::npos);
    CHECK(n.create({{"token", "xoxb-1"}, {"channel", "#a"}, {"colour", "red"}}).find("unknown option colour") != std::string::npos);
    CHECK(n.create({{"token", "xoxb-1"}, {"channel", "#a"}}) == "");
}
