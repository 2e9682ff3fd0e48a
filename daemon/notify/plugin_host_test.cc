// PluginHost against the test plugins in tests/fake_plugin (TETHER_TEST_PLUGIN_DIR).
#include "notify/plugin_host.h"

#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "base/event_loop.h"
#include "notifier_abi.h"
#include "support.h"

using namespace tether;
using tether::test::TempDir;

namespace {

const std::string k_dir = TETHER_TEST_PLUGIN_DIR;

// Runs the loop until pred holds (true) or timeout_ms passes (false).
bool run_until(EventLoop& loop, const std::function<bool()>& pred, long timeout_ms = 5000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    bool ok = false;
    Timer* self = nullptr;
    Timer poll(loop, [&] {
        if (pred()) {
            ok = true;
            loop.stop();
        } else if (std::chrono::steady_clock::now() > deadline) {
            loop.stop();
        } else {
            self->arm_ms(2);
        }
    });
    self = &poll;
    poll.arm_ms(0);
    loop.run();
    return ok;
}

std::vector<nlohmann::json> read_lines(const std::string& path) {
    std::vector<nlohmann::json> lines;
    std::istringstream in(tether::test::read_file(path));
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
}

PluginHostOptions options_for_tests() {
    PluginHostOptions o;
    o.search_path = {"/nonexistent/tether/plugins", k_dir};
    o.send_timeout_ms = 5000;
    return o;
}

// The message every test sends; the idempotency key and attempt travel beside it.
Notification sample() {
    return Notification{.rule = "ask-me", .kind = "permission", .title = "Claude wants to run Bash",
                        .body = "rm -rf build \"quoted\"\nsecond line", .session = 17, .session_name = "refactor",
                        .agent = "claude", .cwd = "/home/u/src", .from = "working", .to = "waiting_permission",
                        .tool = "Bash", .tool_input = {{"command", "rm -rf build"}},
                        .message = "Claude needs your permission to use Bash", .time_ms = 1700000000123,
                        .options = {{"sound", "bell.oga"}, {"volume", "70"}}, .permission_request = 1234};
}
constexpr uint32_t k_attempt = 3;

// Delivers one message and runs the loop until its result arrives.
DeliveryResult deliver_one(EventLoop& loop, PluginHost& host, PluginHost::InstanceId id, const std::string& key,
                           Notification m = sample(), DeliveryContext context = {}) {
    std::optional<DeliveryResult> result;
    host.deliver(id, std::move(m), key, k_attempt, std::move(context), [&](DeliveryResult r) { result = std::move(r); });
    REQUIRE(run_until(loop, [&] { return result.has_value(); }));
    return *result;
}

}  // namespace

TEST_CASE("plugin host delivers every message field to the fake plugin, on worker threads") {
    TempDir tmp;
    EventLoop loop;
    PluginHost host(loop, options_for_tests());
    std::vector<PluginEvent> events;
    host.on_event([&](const PluginEvent& e) { events.push_back(e); });

    auto info = host.load("fake");
    REQUIRE(info);
    CHECK(info->name == "fake");
    CHECK(info->path == k_dir + "/tether-notifier-fake.so");
    CHECK(info->abi_major == 1);

    auto id = host.create("fake", {{"file", tmp.file("out.jsonl")}, {"event", "no audio device"}}, "my-fake");
    REQUIRE_MESSAGE(id, (id ? "" : id.error().message));

    auto loop_thread = std::this_thread::get_id();
    std::optional<DeliveryResult> result;
    std::thread::id done_thread;
    host.deliver(*id, sample(), "42", k_attempt, {}, [&](DeliveryResult r) {
        done_thread = std::this_thread::get_id();
        result = std::move(r);
    });
    CHECK(!result);  // never from inside deliver
    REQUIRE(run_until(loop, [&] { return result.has_value() && !events.empty(); }));
    CHECK(result->ok());
    CHECK(result->error == "");
    CHECK(done_thread == loop_thread);

    REQUIRE(events.size() == 1);
    CHECK(events[0].instance == *id);
    CHECK(events[0].label == "my-fake");
    CHECK(events[0].plugin == "fake");
    CHECK(events[0].code == "fake_event");
    CHECK(events[0].text == "no audio device");

    auto lines = read_lines(tmp.file("out.jsonl"));
    REQUIRE(lines.size() == 1);
    const auto& l = lines[0];
    Notification m = sample();
    CHECK(l["idempotency_key"] == "42");
    CHECK(l["attempt"] == 3);
    CHECK(l["time_ms"] == 1700000000123);
    CHECK(l["rule"] == m.rule);
    CHECK(l["session_id"] == "17");
    CHECK(l["session_name"] == m.session_name);
    CHECK(l["agent"] == m.agent);
    CHECK(l["state_from"] == m.from);
    CHECK(l["state_to"] == m.to);
    CHECK(l["kind"] == m.kind);
    CHECK(l["title"] == m.title);
    CHECK(l["body"] == m.body);
    CHECK(l["tool"] == m.tool);
    CHECK(l["tool_input_json"] == R"({"command":"rm -rf build"})");
    CHECK(l["cwd"] == m.cwd);
    CHECK(l["message"] == m.message);
    CHECK(l["rule_options"] == nlohmann::json{{"sound", "bell.oga"}, {"volume", "70"}});
    CHECK(l["permission_request"] == 1234);
    auto payload = nlohmann::json::parse(l["json_payload"].get<std::string>());
    CHECK(payload == notifier_payload(m, "42", 3));
    CHECK(payload["body"] == m.body);
}

TEST_CASE("a plugin's retryable failure is reported as Retry with its text (fail_first)") {
    TempDir tmp;
    EventLoop loop;
    PluginHost host(loop, options_for_tests());
    auto id = host.create("fake", {{"file", tmp.file("out.jsonl")}, {"fail_first", "2"}});
    REQUIRE(id);

    auto r1 = deliver_one(loop, host, *id, "7");
    CHECK(r1.status == DeliveryResult::Status::Retry);
    CHECK(r1.error == "simulated failure 1");
    auto r2 = deliver_one(loop, host, *id, "7");
    CHECK(r2.retryable());
    CHECK(r2.error == "simulated failure 2");
    auto r3 = deliver_one(loop, host, *id, "7");
    CHECK(r3.ok());
    CHECK(read_lines(tmp.file("out.jsonl")).size() == 3);
}

TEST_CASE("a plugin send past its timeout is a retryable failure and does not hold up other deliveries") {
    TempDir tmp;
    EventLoop loop;
    auto options = options_for_tests();
    options.threads = 1;  // the only worker hangs: a replacement must take over
    options.max_overdue_sends = 1;
    PluginHost host(loop, options);
    auto slow = host.create("fake", {{"file", tmp.file("slow.jsonl")}, {"sleep_ms", "1500"}}, "slow", 100);
    auto fast = host.create("fake", {{"file", tmp.file("fast.jsonl")}}, "fast");
    REQUIRE(slow);
    REQUIRE(fast);

    auto start = std::chrono::steady_clock::now();
    std::optional<DeliveryResult> slow_result, fast_result;
    host.deliver(*slow, sample(), "1", k_attempt, {}, [&](DeliveryResult r) { slow_result = std::move(r); });
    host.deliver(*fast, sample(), "2", k_attempt, {}, [&](DeliveryResult r) { fast_result = std::move(r); });
    REQUIRE(run_until(loop, [&] { return slow_result && fast_result; }));
    auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(elapsed < std::chrono::milliseconds(1000));
    CHECK(slow_result->retryable());
    CHECK(slow_result->error == "timed out after 100 ms");
    CHECK(fast_result->ok());
    CHECK(host.overdue_sends() == 1);

    // The hung instance may not take another thread while its call is still running.
    auto again = deliver_one(loop, host, *slow, "3");
    CHECK(again.retryable());
    CHECK(again.error == "1 earlier sends are still running past their timeout");

    // Once the overdue call returns, the instance is usable again.
    REQUIRE(run_until(loop, [&] { return host.overdue_sends() == 0; }, 5000));
    CHECK(read_lines(tmp.file("slow.jsonl")).size() == 1);
}

TEST_CASE("the SDK turns exceptions in a plugin into errors; none crosses the ABI") {
    TempDir tmp;
    EventLoop loop;
    PluginHost host(loop, options_for_tests());

    auto std_throw = host.create("fake", {{"file", tmp.file("a")}, {"throw", "send"}});
    REQUIRE(std_throw);
    auto r = deliver_one(loop, host, *std_throw, "1");
    CHECK(r.status == DeliveryResult::Status::Fail);
    CHECK(r.error == "simulated exception in send");

    auto other_throw = host.create("fake", {{"file", tmp.file("b")}, {"throw", "send-nonstd"}});
    REQUIRE(other_throw);
    r = deliver_one(loop, host, *other_throw, "2");
    CHECK(r.status == DeliveryResult::Status::Fail);
    CHECK(r.error == "send failed: unknown exception");

    auto in_create = host.create("fake", {{"file", tmp.file("c")}, {"throw", "create"}});
    REQUIRE(!in_create);
    CHECK(in_create.error().message ==
          "plugin fake (" + k_dir + "/tether-notifier-fake.so): simulated exception in create");
}

TEST_CASE("plugin load and create errors name the plugin file and the problem") {
    TempDir tmp;
    EventLoop loop;
    PluginHost host(loop, options_for_tests());
    const std::string fake = "plugin fake (" + k_dir + "/tether-notifier-fake.so): ";

    auto bad_abi = host.create("bad-abi", {});
    REQUIRE(!bad_abi);
    CHECK(bad_abi.error().message ==
          "plugin bad-abi (" + k_dir + "/tether-notifier-bad-abi.so): ABI version 2.0, this tether speaks 1.2");

    auto no_entry = host.load("no-entry");
    REQUIRE(!no_entry);
    CHECK(no_entry.error().message ==
          "plugin no-entry (" + k_dir + "/tether-notifier-no-entry.so): missing symbol notifier_plugin_entry");

    auto unknown = host.create("nope", {});
    REQUIRE(!unknown);
    CHECK(unknown.error().message ==
          "plugin nope: tether-notifier-nope.so not found in /nonexistent/tether/plugins, " + k_dir);

    auto traversal = host.load("..");
    REQUIRE(!traversal);
    CHECK(traversal.error().message.find("a name is letters, digits") != std::string::npos);

    auto missing = host.create("fake", {});
    REQUIRE(!missing);
    CHECK(missing.error().message == fake + "bad options: file is required");

    auto not_int = host.create("fake", {{"file", tmp.file("x")}, {"fail_first", "two"}});
    REQUIRE(!not_int);
    CHECK(not_int.error().message == fake + "bad options: fail_first: expected an integer, got \"two\"");

    auto negative = host.create("fake", {{"file", tmp.file("x")}, {"sleep_ms", "-5"}});
    REQUIRE(!negative);
    CHECK(negative.error().message == fake + "bad options: sleep_ms: -5 is out of range [0, 600000]");

    auto typo = host.create("fake", {{"file", tmp.file("x")}, {"fail_frist", "1"}});
    REQUIRE(!typo);
    CHECK(typo.error().message == fake + "bad options: unknown option fail_frist");

    tether::test::write_file(tmp.file("tether-notifier-junk.so"), std::string(200, 'x'));
    auto junk = host.load(tmp.file("tether-notifier-junk.so"));
    REQUIRE(!junk);
    CHECK(junk.error().message == "plugin " + tmp.file("tether-notifier-junk.so") + ": cannot load: " +
                                      tmp.file("tether-notifier-junk.so") + ": invalid ELF header");

    auto no_file = host.load(tmp.file("absent.so"));
    REQUIRE(!no_file);
    CHECK(no_file.error().message == "plugin " + tmp.file("absent.so") + ": no such file");
}

TEST_CASE("a plugin of ABI 1.0 still loads and receives messages") {
    TempDir tmp;
    EventLoop loop;
    PluginHost host(loop, options_for_tests());
    auto info = host.load("abi-1-0");
    REQUIRE_MESSAGE(info, (info ? "" : info.error().message));
    CHECK(info->abi_major == 1);
    CHECK(info->abi_minor == 0);
    auto id = host.create("abi-1-0", {{"file", tmp.file("out")}});
    REQUIRE(id);
    CHECK(deliver_one(loop, host, *id, "1").ok());
    CHECK(tether::test::read_file(tmp.file("out")) == "Claude wants to run Bash\n");
}

TEST_CASE("a plugin's decide reaches on_decision on the loop thread, with the request and the notifier's label") {
    TempDir tmp;
    EventLoop loop;
    PluginHost host(loop, options_for_tests());
    std::vector<PluginDecision> decisions;
    std::thread::id decided_on;
    host.on_decision([&](const PluginDecision& d) {
        decided_on = std::this_thread::get_id();
        decisions.push_back(d);
    });
    auto deny = host.create("fake", {{"file", tmp.file("deny")}, {"decide", "deny"}}, "phone");
    auto bad = host.create("fake", {{"file", tmp.file("bad")}, {"decide", "bad"}}, "broken");
    REQUIRE(deny);
    REQUIRE(bad);
    CHECK(deliver_one(loop, host, *deny, "1").ok());
    REQUIRE(run_until(loop, [&] { return decisions.size() == 1; }));
    CHECK(decided_on == std::this_thread::get_id());
    CHECK(decisions[0].label == "phone");
    CHECK(decisions[0].request == 1234);
    CHECK(!decisions[0].allow);
    CHECK(decisions[0].message == "decided by the fake");
    CHECK(read_lines(tmp.file("deny"))[0]["decide_ok"] == true);

    // A request that cannot exist is refused at once, and nothing reaches the loop.
    CHECK(deliver_one(loop, host, *bad, "2").ok());
    CHECK(read_lines(tmp.file("bad"))[0]["decide_ok"] == false);
    Notification none = sample();
    none.permission_request = 0;
    CHECK(deliver_one(loop, host, *deny, "3", none).ok());
    CHECK(!read_lines(tmp.file("deny"))[1].contains("decide_ok"));
    run_until(loop, [] { return false; }, 100);
    CHECK(decisions.size() == 1);
}

TEST_CASE("a plugin loads by path, and its library is loaded once") {
    TempDir tmp;
    EventLoop loop;
    PluginHostOptions options;  // empty search path: only paths work
    PluginHost host(loop, options);
    auto a = host.create(k_dir + "/tether-notifier-fake.so", {{"file", tmp.file("out")}});
    REQUIRE(a);
    auto b = host.create(k_dir + "/../fake_plugin/tether-notifier-fake.so", {{"file", tmp.file("out")}});
    REQUIRE(b);
    CHECK(*a != *b);
    CHECK(deliver_one(loop, host, *a, "1").ok());
    CHECK(deliver_one(loop, host, *b, "2").ok());
    CHECK(read_lines(tmp.file("out")).size() == 2);
}

TEST_CASE("delivery to an unknown or destroyed plugin instance fails on the loop, not inside deliver") {
    TempDir tmp;
    EventLoop loop;
    PluginHost host(loop, options_for_tests());
    auto r = deliver_one(loop, host, 999, "1");
    CHECK(r.status == DeliveryResult::Status::Fail);
    CHECK(r.error == "no notifier instance 999");

    // Destroying an instance with a send in progress lets the send finish first.
    auto id = host.create("fake", {{"file", tmp.file("out")}, {"sleep_ms", "200"}});
    REQUIRE(id);
    std::optional<DeliveryResult> in_flight;
    host.deliver(*id, sample(), "2", k_attempt, {}, [&](DeliveryResult res) { in_flight = std::move(res); });
    host.destroy(*id);
    REQUIRE(run_until(loop, [&] { return in_flight.has_value(); }));
    CHECK(in_flight->ok());
    CHECK(deliver_one(loop, host, *id, "3").error == "no notifier instance " + std::to_string(*id));
}

TEST_CASE("many concurrent plugin deliveries all arrive exactly once") {
    TempDir tmp;
    EventLoop loop;
    auto options = options_for_tests();
    options.threads = 4;
    PluginHost host(loop, options);
    auto a = host.create("fake", {{"file", tmp.file("a.jsonl")}});
    auto b = host.create("fake", {{"file", tmp.file("b.jsonl")}, {"fail_first", "10"}});
    REQUIRE(a);
    REQUIRE(b);

    const int n = 300;
    std::map<std::string, int> done_count;
    int retries = 0;
    auto loop_thread = std::this_thread::get_id();
    bool off_loop = false;
    for (int i = 0; i < n; ++i) {
        std::string key = std::to_string(i);
        host.deliver(i % 2 ? *b : *a, sample(), key, k_attempt, {}, [&, key](DeliveryResult r) {
            off_loop = off_loop || std::this_thread::get_id() != loop_thread;
            ++done_count[key];
            if (r.retryable()) ++retries;
        });
    }
    REQUIRE(run_until(loop, [&] { return done_count.size() == size_t(n); }, 20000));
    CHECK(!off_loop);
    for (const auto& [key, count] : done_count) CHECK_MESSAGE(count == 1, key);
    CHECK(retries == 10);

    std::multiset<std::string> keys;
    for (const auto* file : {"a.jsonl", "b.jsonl"})
        for (const auto& line : read_lines(tmp.file(file))) keys.insert(line["idempotency_key"].get<std::string>());
    CHECK(keys.size() == size_t(n));
    for (int i = 0; i < n; ++i) CHECK(keys.count(std::to_string(i)) == 1);
}

TEST_CASE("the plugin search path puts config paths first and ends at the install prefix") {
    auto path = plugin_search_path({"/etc/tether/plugins"});
    REQUIRE(path.size() >= 3);
    CHECK(path.front() == "/etc/tether/plugins");
    CHECK(path.back() == TETHER_PLUGIN_INSTALL_DIR);
    // The directory of the running binary (daemon/ in the build tree) comes next.
    CHECK(path[1].find("daemon") != std::string::npos);
}

TEST_CASE("a plugin's answer reaches on_answer with who, always and session, and its outcome goes back to the plugin") {
    TempDir tmp;
    EventLoop loop;
    PluginHost host(loop, options_for_tests());
    std::vector<PluginAnswer> answers;
    std::thread::id answered_on;
    host.on_answer([&](const PluginAnswer& a) {
        answered_on = std::this_thread::get_id();
        answers.push_back(a);
        return AnswerOutcome{a.answer.allow ? NOTIFIER_ANSWER_DECIDED : NOTIFIER_ANSWER_NOT_PENDING,
                             "request " + std::to_string(a.answer.request) + (a.answer.allow ? ": allowed" : " is not pending")};
    });
    auto always = host.create("fake", {{"file", tmp.file("always")}, {"answer", "always"}}, "phone");
    auto deny = host.create("fake", {{"file", tmp.file("deny")}, {"answer", "deny"}}, "phone");
    auto bad = host.create("fake", {{"file", tmp.file("bad")}, {"answer", "bad-who"}}, "phone");
    REQUIRE(always);
    REQUIRE(deny);
    REQUIRE(bad);
    CHECK(deliver_one(loop, host, *always, "1").ok());
    REQUIRE(answers.size() == 1);
    CHECK(answered_on == std::this_thread::get_id());
    CHECK(answers[0].label == "phone");
    CHECK(answers[0].plugin == "fake");
    CHECK(answers[0].answer.who == "tester");
    CHECK(answers[0].answer.request == 1234);
    CHECK(answers[0].answer.allow);
    CHECK(answers[0].answer.always);
    CHECK(answers[0].answer.session_id == "17");
    auto line = read_lines(tmp.file("always"))[0];
    CHECK(line["answer_status"] == NOTIFIER_ANSWER_DECIDED);
    CHECK(line["answer_reason"] == "request 1234: allowed");

    CHECK(deliver_one(loop, host, *deny, "2").ok());
    REQUIRE(answers.size() == 2);
    CHECK_FALSE(answers[1].answer.allow);
    CHECK_FALSE(answers[1].answer.always);
    CHECK(answers[1].answer.message == "answered by the fake");
    line = read_lines(tmp.file("deny"))[0];
    CHECK(line["answer_status"] == NOTIFIER_ANSWER_NOT_PENDING);
    CHECK(line["answer_reason"] == "request 1234 is not pending");

    // A who that cannot be part of "by" is refused before it reaches the loop.
    CHECK(deliver_one(loop, host, *bad, "3").ok());
    CHECK(answers.size() == 2);
    CHECK(read_lines(tmp.file("bad"))[0]["answer_status"] == NOTIFIER_ANSWER_INVALID);
}

TEST_CASE("answer refuses the host's main thread, says when nothing takes answers, and when the loop is too slow") {
    TempDir tmp;
    EventLoop loop;
    PluginHostOptions o = options_for_tests();
    o.answer_wait_ms = 100;
    PluginHost host(loop, o);
    // In create (the loop thread): waiting for the loop there would deadlock.
    auto early = host.create("fake", {{"file", tmp.file("early")}, {"answer_in_create", "yes"}});
    REQUIRE(early);
    CHECK(deliver_one(loop, host, *early, "1").ok());
    auto line = read_lines(tmp.file("early"))[0];
    CHECK(line["create_answer_status"] == NOTIFIER_ANSWER_INVALID);
    CHECK(line["create_answer_reason"].get<std::string>().find("main thread") != std::string::npos);

    auto id = host.create("fake", {{"file", tmp.file("out")}, {"answer", "allow"}});
    REQUIRE(id);
    CHECK(deliver_one(loop, host, *id, "2").ok());
    line = read_lines(tmp.file("out"))[0];
    CHECK(line["answer_status"] == NOTIFIER_ANSWER_NOT_PENDING);
    CHECK(line["answer_reason"] == "nothing in this tether takes answers");

    // A loop busy past the wait: the plugin hears "unconfirmed", the answer still applies.
    int applied = 0;
    host.on_answer([&](const PluginAnswer&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        ++applied;
        return AnswerOutcome{NOTIFIER_ANSWER_DECIDED, "ok"};
    });
    CHECK(deliver_one(loop, host, *id, "3").ok());
    line = read_lines(tmp.file("out"))[1];
    CHECK(line["answer_status"] == NOTIFIER_ANSWER_UNCONFIRMED);
    CHECK(applied == 1);
}

TEST_CASE("receipts come back with the delivery, and updates reach only plugins that take them") {
    TempDir tmp;
    EventLoop loop;
    PluginHost host(loop, options_for_tests());
    auto fake = host.create("fake", {{"file", tmp.file("out")}, {"receipt", "yes"}});
    auto old = host.create("abi-1-0", {{"file", tmp.file("old")}});
    REQUIRE(fake);
    REQUIRE(old);
    CHECK(host.takes_updates(*fake));
    CHECK_FALSE(host.takes_updates(*old));

    Notification m = sample();
    m.always = nlohmann::json::parse(R"({"type":"addRules"})");
    DeliveryResult sent = deliver_one(loop, host, *fake, "5", m, DeliveryContext{.session_receipt = "fake:4", .maybe_delivered = true});
    CHECK(sent.ok());
    CHECK(sent.receipt == "fake:5");
    auto line = read_lines(tmp.file("out"))[0];
    CHECK(line["always_json"] == R"({"type":"addRules"})");
    CHECK(line["session_receipt"] == "fake:4");
    CHECK(line["maybe_delivered"] == true);

    Notification u = sample();
    u.update = NotificationUpdate{.receipt = "fake:5", .decision = "allow", .by = "slack:U0123", .time_ms = 1700000000999, .always = true};
    DeliveryResult updated = deliver_one(loop, host, *fake, "6", u);
    CHECK(updated.ok());
    CHECK(updated.receipt == "fake-update:6");
    line = read_lines(tmp.file("out"))[1];
    CHECK(line["update"] == true);
    CHECK(line["update_receipt"] == "fake:5");
    CHECK(line["decision"] == "allow");
    CHECK(line["decided_by"] == "slack:U0123");
    CHECK(line["decided_time_ms"] == 1700000000999);
    CHECK(line["decided_always"] == true);
    CHECK(line["permission_request"] == 1234);

    // An ABI 1.0 plugin is never asked to revise anything: the update is done at once.
    CHECK(deliver_one(loop, host, *old, "7", u).ok());
    CHECK_FALSE(std::ifstream(tmp.file("old")).good());
}
