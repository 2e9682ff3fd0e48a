#include "notify/rules.h"

#include <sys/stat.h>

#include <date/date.h>
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>

#include "state/agent_state.h"
#include "state/projections.h"
#include "support.h"

using namespace tether;
using tether::test::TempDir;

namespace {

// A fuller notifications section in the style of config.example.yaml (secret file path
// substituted in tests).
const char* const k_example = R"yaml(
# Notifiers: where notifications go. `plugin` names a notifier plugin; `options` reach it
# as flat strings. Secrets: "${VAR}" (from tetherd's environment, at load) or
# {file: PATH} (mode 0600 or stricter, owned by you). Secrets are never printed.
notifiers:
  desktop:
    plugin: desktop
  phone:
    plugin: ntfy
    options:
      server: https://ntfy.sh
      topic: my-agents
      token: ${NTFY_TOKEN}
  slack:
    plugin: slack
    options:
      webhook: {file: ~/.config/tether/slack-webhook}

# Quiet hours: notifications are held back, except for the states in break_through.
# A mapping, or a list of them. A window that crosses midnight belongs to the day it
# starts on: with days [mon-fri], Friday 22:00 to Saturday 07:00 is quiet.
quiet_hours:
  days: [mon-fri]
  hours: "22:00-07:00"
  timezone: Europe/Paris           # IANA name; default: $TZ, else /etc/localtime
  break_through: [needs_permission]

# Rules: the FIRST rule whose `when` matches decides; put the specific ones first.
# when: from, to (state or list: starting, running, needs_permission, needs_answer, idle,
# exited); session, cwd, agent, tool, tool_input (globs, `*` also matches `/`; tool_input
# is the command, or the file path, of the request); message (regex, also tried on the
# question); min_previous (time spent in the previous state); days, hours, timezone.
# A matching rule's notifications are suppressed while a client is attached
# (suppress_when_attached: false to keep them), in quiet hours, within its cooldown
# (per rule and session) and for an identical notification within dedupe.
rules:
  - name: allow-reads
    when: {to: needs_permission, tool: [Read, Grep, Glob]}
    answer: allow
  - name: no-rm-rf
    when: {to: needs_permission, tool: Bash, tool_input: "rm -rf *"}
    answer: {decision: deny, message: "rm -rf is not allowed here; ask the user"}
    notify: [desktop]
  - name: mcp-tools
    when: {to: needs_permission, tool: "mcp__*"}
    notify: [desktop]
    dedupe: 10m
  - name: permission
    when: {to: [needs_permission, needs_answer]}
    notify: [desktop, phone]
    escalate: {after: 5m, notify: [slack]}   # still waiting after 5 minutes; an answer or an attach cancels
  - name: failed
    when: {to: idle, message: "^error: "}
    notify: [desktop, phone]
  - name: done-after-work
    when: {from: running, to: idle, min_previous: 2m}
    notify: [desktop]
    cooldown: 10m
  - name: api-exit-office-hours
    when: {to: exited, session: "api-*", cwd: "~/work/*", days: [mon-fri], hours: "09:00-18:00"}
    notify: [slack]
    suppress_when_attached: false
)yaml";

struct Parsed {
    RuleConfig config;
    std::vector<ConfigError> errors;
};

Parsed parse(const std::string& yaml, const std::string& file = "/nonexistent/config.yaml") {
    Parsed p;
    YAML::Node root = YAML::Load(yaml);
    p.errors = parse_notifiers_and_rules(root, file, p.config);
    return p;
}

RuleConfig parse_ok(const std::string& yaml) {
    Parsed p = parse(yaml);
    for (const auto& e : p.errors) INFO(e.to_string());
    REQUIRE(p.errors.empty());
    return std::move(p.config);
}

bool has_error(const std::vector<ConfigError>& errors, int line, int column, const std::string& part) {
    for (const auto& e : errors)
        if (e.line == line && e.column == column && e.message.find(part) != std::string::npos && !e.hint.empty()) return true;
    return false;
}

std::string dump(const std::vector<ConfigError>& errors) {
    std::string s;
    for (const auto& e : errors) s += e.to_string() + "\n";
    return s;
}

int64_t utc(int y, unsigned mo, unsigned d, int h, int mi) {
    using namespace std::chrono;
    auto day = date::sys_days{date::year{y} / mo / d};
    return duration_cast<microseconds>((day + hours{h} + minutes{mi}).time_since_epoch()).count();
}

constexpr int64_t k_min = 60'000'000;
const int64_t k_wed_noon = utc(2026, 6, 10, 12, 0);  // a Wednesday, outside any quiet hours below

Transition permission(const std::string& tool, nlohmann::json input, int64_t session = 1) {
    Transition t;
    t.session_id = session;
    t.session_name = "api-" + std::to_string(session);
    t.cwd = "/home/me/work/api";
    t.agent = "claude";
    t.from = "running";
    t.to = "needs_permission";
    t.previous_us = 30'000'000;
    t.tool = tool;
    t.tool_input = std::move(input);
    return t;
}

Transition done(int64_t worked_us, int64_t session = 1, const std::string& message = "All tests pass.") {
    Transition t = permission("", nullptr, session);
    t.to = "idle";
    t.previous_us = worked_us;
    t.message = message;
    return t;
}

std::vector<ActionKind> kinds(const std::vector<RuleAction>& actions) {
    std::vector<ActionKind> k;
    for (const auto& a : actions) k.push_back(a.kind);
    return k;
}

struct EnvVar {
    std::string name;
    EnvVar(const std::string& n, const std::string& v) : name(n) { setenv(n.c_str(), v.c_str(), 1); }
    ~EnvVar() { unsetenv(name.c_str()); }
};

const char* const k_simple = R"yaml(
notifiers:
  desktop: {plugin: desktop}
  phone: {plugin: ntfy}
rules:
  - name: quiet-test
    when: {to: [needs_permission, idle]}
    notify: [desktop]
)yaml";

}  // namespace

TEST_CASE("the example notifiers and rules parse completely") {
    TempDir dir;
    std::string secret = dir.file("slack-webhook");
    tether::test::write_file(secret, "https://hooks.slack.com/services/T0/B0/XYZ\n");
    ::chmod(secret.c_str(), 0600);
    std::string yaml = k_example;
    yaml.replace(yaml.find("~/.config/tether/slack-webhook"), std::strlen("~/.config/tether/slack-webhook"), secret);
    EnvVar token("NTFY_TOKEN", "tk_123");
    EnvVar home("HOME", "/home/me");

    Parsed p = parse(yaml);
    INFO(dump(p.errors));
    REQUIRE(p.errors.empty());
    const RuleConfig& c = p.config;
    REQUIRE(c.notifiers.size() == 3);
    CHECK(c.notifiers.at("phone").plugin == "ntfy");
    CHECK(c.notifiers.at("phone").options.size() == 3);
    CHECK(c.notifiers.at("phone").options[2].value == "tk_123");
    CHECK(c.notifiers.at("slack").options[0].value == "https://hooks.slack.com/services/T0/B0/XYZ");
    REQUIRE(c.quiet_hours.size() == 1);
    CHECK(c.quiet_hours[0].window.days == 0x1f);
    CHECK(c.quiet_hours[0].window.start_min == 22 * 60);
    CHECK(c.quiet_hours[0].window.end_min == 7 * 60);
    CHECK(c.quiet_hours[0].break_through == std::vector<std::string>{"needs_permission"});
    REQUIRE(c.rules.size() == 7);
    CHECK(c.rules[0].answer == "allow");
    CHECK(c.rules[1].answer == "deny");
    CHECK(c.rules[1].answer_message == "rm -rf is not allowed here; ask the user");
    CHECK(c.rules[2].dedupe_us == 10 * k_min);
    REQUIRE(c.rules[3].escalate);
    CHECK(c.rules[3].escalate->after_us == 5 * k_min);
    CHECK(c.rules[3].escalate->notify == std::vector<std::string>{"slack"});
    CHECK(c.rules[4].when.message);
    CHECK(c.rules[5].when.min_previous_us == 2 * k_min);
    CHECK(c.rules[5].cooldown_us == 10 * k_min);
    CHECK(c.rules[6].when.cwd == std::vector<std::string>{"/home/me/work/*"});
    CHECK_FALSE(c.rules[6].suppress_when_attached);
    CHECK(c.rules[6].when.window->describe().find("09:00-18:00") != std::string::npos);
    CHECK(c.rules[3].line > c.rules[2].line);
}

TEST_CASE("${NAME:-fallback} takes the fallback when NAME is unset or empty, the value otherwise") {
    unsetenv("TETHER_TEST_UNSET_VAR");
    EnvVar empty("TETHER_TEST_EMPTY_VAR", "");
    EnvVar set("TETHER_TEST_SET_VAR", "from-env");
    Parsed p = parse(R"yaml(notifiers:
  hook:
    plugin: webhook
    options:
      url: "${TETHER_TEST_UNSET_VAR:-http://127.0.0.1:8787/tether}"
      secret: "${TETHER_TEST_EMPTY_VAR:-}"
      header.X: "a-${TETHER_TEST_SET_VAR:-unused}-b"
rules:
  - name: r
    when: {to: idle}
    notify: [hook]
)yaml");
    INFO(dump(p.errors));
    REQUIRE(p.errors.empty());
    const auto& o = p.config.notifiers.at("hook").options;
    REQUIRE(o.size() == 3);
    CHECK(o[0].value == "http://127.0.0.1:8787/tether");
    CHECK(o[1].value == "");
    CHECK(o[2].value == "a-from-env-b");
    CHECK(o[2].secret);  // whatever comes from the environment is treated as a secret
}

TEST_CASE("every error is reported with its line and column and a hint") {
    unsetenv("TETHER_TEST_UNSET_VAR");
    const char* yaml = R"yaml(notifiers:
  desktop: {plugin: desktop, colour: red}
  phone:
    options: {token: "${TETHER_TEST_UNSET_VAR}"}
quiet_hours:
  hours: "22:00-22:00"
  break_through: [permission]
rules:
  - name: a
    when: {to: sleeping, from: idle}
    notify: [desktop, pager]
    cooldown: 5 minutes
    colour: blue
  - name: b
    when:
      to: idle
      message: "(unclosed"
      hours: "25:00-07:00"
      timezone: Mars/Olympus
      colour: red
    answer: allow
    notify: desktop
  - name: c
    when: {to: needs_permission}
    answer: maybe
    suppress_when_attached: perhaps
  - name: d
    when: {to: idle}
  - name: a
    when: {to: idle, days: [mon, someday]}
    escalate: {after: 0s, notify: [phone]}
    dedupe: [1m]
)yaml";
    Parsed p = parse(yaml);
    INFO(dump(p.errors));
    CHECK(has_error(p.errors, 2, 30, "unknown key \"colour\" in notifier \"desktop\""));
    CHECK(has_error(p.errors, 4, 22, "TETHER_TEST_UNSET_VAR"));
    CHECK(has_error(p.errors, 4, 5, "has no plugin"));
    CHECK(has_error(p.errors, 6, 10, "empty range"));
    CHECK(has_error(p.errors, 7, 19, "unknown state \"permission\""));
    CHECK(has_error(p.errors, 10, 16, "unknown state \"sleeping\""));
    CHECK(has_error(p.errors, 11, 23, "unknown notifier \"pager\""));
    CHECK(has_error(p.errors, 12, 15, "is not a duration"));
    CHECK(has_error(p.errors, 13, 5, "unknown key \"colour\" in rule \"a\""));
    CHECK(has_error(p.errors, 17, 16, "not a valid regular expression"));
    CHECK(has_error(p.errors, 18, 14, "not a range of times"));
    CHECK(has_error(p.errors, 19, 17, "unknown time zone \"Mars/Olympus\""));
    CHECK(has_error(p.errors, 20, 7, "unknown key \"colour\" in when"));
    CHECK(has_error(p.errors, 21, 13, "needs when.to: needs_permission"));
    CHECK(has_error(p.errors, 25, 13, "answer must be allow or deny"));
    CHECK(has_error(p.errors, 26, 29, "must be true or false"));
    CHECK(has_error(p.errors, 27, 5, "does nothing"));
    CHECK(has_error(p.errors, 29, 5, "a second rule is named \"a\""));
    CHECK(has_error(p.errors, 30, 34, "\"someday\" is not a day"));
    CHECK(has_error(p.errors, 31, 23, "longer than zero"));
    CHECK(has_error(p.errors, 32, 13, "is not a duration"));
    CHECK(p.errors.size() == 21);
    for (const auto& e : p.errors) CHECK(e.file == "/nonexistent/config.yaml");
}

TEST_CASE("wrong shapes are errors, not crashes") {
    CHECK(has_error(parse("rules: {a: 1}\n").errors, 1, 8, "rules must be a list"));
    CHECK(has_error(parse("notifiers: [a]\n").errors, 1, 12, "notifiers must be a mapping"));
    CHECK(has_error(parse("rules:\n  - just a string\n").errors, 2, 5, "each rule must be a mapping"));
    CHECK(has_error(parse("quiet_hours: {days: [sat]}\n").errors, 1, 14, "quiet_hours has no hours"));
    auto p = parse("notifiers: {d: {plugin: d, options: {x: {a: b}}}}\nrules:\n  - {name: r, when: {tool: {a: b}}, notify: [d]}\n");
    CHECK(has_error(p.errors, 1, 41, "option \"x\" must be"));
    CHECK(has_error(p.errors, 3, 28, "tool must be a string or a list"));
    CHECK(has_error(parse("rules:\n  - {name: r, when: {to: idle}, notify: [nobody]}\n").errors, 2, 42, "unknown notifier \"nobody\""));
    CHECK(has_error(parse("notifiers: {d: {plugin: d}}\nrules:\n  - {name: r, escalate: {after: 1m}, notify: [d]}\n").errors, 3, 25,
                    "needs after and notify"));
    CHECK(has_error(parse("notifiers: {d: {plugin: d}}\nrules:\n  - {name: r, when: {to: idle}, answer: {decision: allow, message: hi}, notify: [d]}\n").errors,
                    3, 68, "a message only goes with deny"));
    CHECK(parse("").errors.empty());
    CHECK(parse("daemon: {flush_ms: 5}\n").errors.empty());
}

TEST_CASE("globs match the session name, the cwd, the agent and the tool") {
    RuleConfig c = parse_ok(R"yaml(
notifiers: {d: {plugin: desktop}}
rules:
  - name: mcp
    when: {tool: "mcp__*", session: "api-*", cwd: "/home/me/work/*", agent: claude}
    notify: [d]
)yaml");
    RuleMemory m;
    Transition t = permission("mcp__github__create_issue", nlohmann::json::object());
    CHECK(kinds(evaluate(c, t, m, k_wed_noon)) == std::vector{ActionKind::notify});
    t.session_name = "web-1";
    CHECK(evaluate(c, t, m, k_wed_noon).empty());
    t.session_name = "api-1";
    t.cwd = "/home/me/play";
    CHECK(evaluate(c, t, m, k_wed_noon).empty());
    t.cwd = "/home/me/work/deep/down";  // `*` crosses `/`
    t.tool = "Bash";
    CHECK(evaluate(c, t, m, k_wed_noon).empty());
    t.tool = "mcp__x";
    t.agent = "codex";
    CHECK(evaluate(c, t, m, k_wed_noon).empty());
    t.agent = "claude";
    auto a = evaluate(c, t, m, k_wed_noon);
    REQUIRE(a.size() == 1);
    CHECK(a[0].why.find("tool \"mcp__x\" matches \"mcp__*\"") != std::string::npos);
    CHECK(a[0].title == "api-1 needs permission");
}

TEST_CASE("message is an ECMAScript regex searched in the message and the question") {
    RuleConfig c = parse_ok(R"yaml(
notifiers: {d: {plugin: desktop}}
rules:
  - name: failed
    when: {message: "^error: (rate|quota)"}
    notify: [d]
)yaml");
    RuleMemory m;
    CHECK(evaluate(c, done(0, 1, "error: rate limited"), m, k_wed_noon).size() == 1);
    CHECK(evaluate(c, done(0, 1, "an error: rate limited"), m, k_wed_noon).empty());
    Transition q = done(0, 1, "");
    q.to = "needs_answer";
    q.question = "error: quota exceeded, continue?";
    CHECK(evaluate(c, q, m, k_wed_noon).size() == 1);
    // A very long message does not overflow the regex engine's stack.
    CHECK(evaluate(c, done(0, 1, "error: rate " + std::string(1 << 20, 'x')), m, k_wed_noon).size() == 1);
}

TEST_CASE("min_previous: done only after enough time in the previous state") {
    RuleConfig c = parse_ok(R"yaml(
notifiers: {d: {plugin: desktop}}
rules:
  - name: done
    when: {from: running, to: idle, min_previous: 2m}
    notify: [d]
)yaml");
    RuleMemory m;
    CHECK(evaluate(c, done(2 * k_min - 1), m, k_wed_noon).empty());
    auto a = evaluate(c, done(2 * k_min), m, k_wed_noon);
    REQUIRE(a.size() == 1);
    CHECK(a[0].why.find("after 2m in running") != std::string::npos);
    auto v = dry_run(c, done(90'000'000), m, k_wed_noon);
    CHECK(v[0].why == "previous state lasted 1m30s, less than 2m");
}

TEST_CASE("quiet hours cross midnight and belong to the day they start on") {
    RuleConfig c = parse_ok(std::string(k_simple) + "quiet_hours: {days: [fri], hours: \"22:00-07:00\", timezone: UTC}\n");
    RuleMemory m;
    auto quiet = [&](int64_t at) { return kinds(evaluate(c, done(0), m, at)) == std::vector{ActionKind::suppressed}; };
    // 2026-06-12 is a Friday.
    CHECK_FALSE(quiet(utc(2026, 6, 12, 21, 59)));
    CHECK(quiet(utc(2026, 6, 12, 22, 0)));
    CHECK(quiet(utc(2026, 6, 13, 3, 0)));  // Saturday early: Friday's night
    CHECK_FALSE(quiet(utc(2026, 6, 13, 7, 0)));
    CHECK_FALSE(quiet(utc(2026, 6, 13, 23, 0)));  // Saturday night is not quiet
    CHECK_FALSE(quiet(utc(2026, 6, 12, 3, 0)));   // Thursday's night is not either
    auto a = evaluate(c, done(0), m, utc(2026, 6, 12, 23, 0));
    CHECK(a[0].why.find("quiet hours (fri 22:00-07:00 UTC)") != std::string::npos);
    CHECK(a[0].notifiers == std::vector<std::string>{"desktop"});
}

TEST_CASE("quiet hours follow America/New_York across the 2026 DST changes") {
    RuleConfig c = parse_ok(std::string(k_simple) + "quiet_hours: {hours: \"22:00-07:00\", timezone: America/New_York}\n");
    auto quiet = [&](int64_t at) { return in_quiet_hours(c, "idle", at); };
    // 2026-03-08: EST (UTC-5) until 07:00 UTC, then EDT (UTC-4).
    CHECK(quiet(utc(2026, 3, 8, 10, 30)));       // 06:30 EDT
    CHECK_FALSE(quiet(utc(2026, 3, 8, 11, 30)));  // 07:30 EDT (06:30 in EST: a fixed offset gets it wrong)
    CHECK_FALSE(quiet(utc(2026, 3, 9, 1, 30)));   // 21:30 EDT on the 8th
    CHECK(quiet(utc(2026, 3, 9, 2, 0)));          // 22:00 EDT
    // 2026-11-01: EDT until 06:00 UTC, then EST.
    CHECK(quiet(utc(2026, 11, 1, 11, 30)));       // 06:30 EST (07:30 in EDT)
    CHECK_FALSE(quiet(utc(2026, 11, 1, 12, 0)));  // 07:00 EST
    CHECK_FALSE(quiet(utc(2026, 11, 2, 2, 30)));  // 21:30 EST on the 1st
    CHECK(quiet(utc(2026, 11, 2, 3, 0)));         // 22:00 EST
}

TEST_CASE("quiet hours follow Europe/Paris in winter and summer") {
    RuleConfig c = parse_ok(std::string(k_simple) + "quiet_hours: {hours: \"22:00-07:00\", timezone: Europe/Paris}\n");
    auto quiet = [&](int64_t at) { return in_quiet_hours(c, "idle", at); };
    CHECK(quiet(utc(2026, 1, 15, 21, 30)));       // 22:30 CET
    CHECK_FALSE(quiet(utc(2026, 1, 15, 20, 30)));  // 21:30 CET
    CHECK(quiet(utc(2026, 3, 29, 4, 30)));        // 06:30 CEST, the night of the change
    CHECK_FALSE(quiet(utc(2026, 3, 29, 5, 30)));  // 07:30 CEST
    CHECK(quiet(utc(2026, 7, 1, 20, 0)));         // 22:00 CEST
    CHECK_FALSE(quiet(utc(2026, 7, 1, 19, 59)));
}

TEST_CASE("permission requests break through quiet hours, done does not") {
    RuleConfig c = parse_ok(std::string(k_simple) +
                            "quiet_hours: {hours: \"00:00-24:00\", timezone: UTC, break_through: [needs_permission]}\n");
    RuleMemory m;
    CHECK(kinds(evaluate(c, permission("Bash", "make"), m, k_wed_noon)) == std::vector{ActionKind::notify});
    CHECK(kinds(evaluate(c, done(0), m, k_wed_noon)) == std::vector{ActionKind::suppressed});
}

TEST_CASE("cooldown and dedupe hold per rule and per session") {
    RuleConfig c = parse_ok(R"yaml(
notifiers: {d: {plugin: desktop}}
rules:
  - name: perm
    when: {to: needs_permission}
    notify: [d]
    dedupe: 1m
  - name: done
    when: {to: idle}
    notify: [d]
    cooldown: 10m
)yaml");
    RuleMemory m;
    int64_t t0 = k_wed_noon;
    auto sent = [&](const Transition& t, int64_t at) { return kinds(evaluate(c, t, m, at)) == std::vector{ActionKind::notify}; };

    CHECK(sent(done(0, 1), t0));
    CHECK_FALSE(sent(done(0, 1, "other message"), t0 + 5 * k_min));  // cooldown is per rule+session, any content
    CHECK(sent(done(0, 2), t0 + 5 * k_min));                          // another session has its own
    CHECK(sent(done(0, 1), t0 + 10 * k_min));

    CHECK(sent(permission("Bash", "make"), t0));
    CHECK_FALSE(sent(permission("Bash", "make"), t0 + 30'000'000));  // identical within 1m
    CHECK(sent(permission("Bash", "make test"), t0 + 30'000'000));   // different input
    CHECK(sent(permission("Bash", "make", 2), t0 + 30'000'000));     // different session
    CHECK(sent(permission("Bash", "make"), t0 + k_min));             // the minute is over
    auto a = evaluate(c, permission("Bash", "make"), m, t0 + k_min + 1'000'000);
    CHECK(a[0].why.find("identical notification went out 1s ago (dedupe 1m)") != std::string::npos);

    m.forget_session(1);
    CHECK(sent(done(0, 1), t0 + 11 * k_min));
}

TEST_CASE("an escalation comes with its delay and only when the notification goes out") {
    RuleConfig c = parse_ok(R"yaml(
notifiers: {desktop: {plugin: desktop}, phone: {plugin: ntfy}}
rules:
  - name: permission
    when: {to: needs_permission}
    notify: [desktop]
    escalate: {after: 5m, notify: [phone]}
)yaml");
    RuleMemory m;
    auto a = evaluate(c, permission("Bash", {{"command", "make deploy"}}), m, k_wed_noon);
    REQUIRE(a.size() == 2);
    CHECK(a[0].kind == ActionKind::notify);
    CHECK(a[0].message == "Bash: make deploy");
    CHECK(a[1].kind == ActionKind::escalate_later);
    CHECK(a[1].after_us == 5 * k_min);
    CHECK(a[1].notifiers == std::vector<std::string>{"phone"});
    CHECK(describe_action(a[1]).rfind("escalate_later after 5m [phone]", 0) == 0);

    Transition attached = permission("Bash", "make");
    attached.attached = true;
    a = evaluate(c, attached, m, k_wed_noon);
    REQUIRE(a.size() == 1);
    CHECK(a[0].kind == ActionKind::suppressed);
    CHECK(a[0].notifiers == std::vector<std::string>{"desktop", "phone"});
}

TEST_CASE("a rule's options reach the notifiers it notifies, and only those") {
    RuleConfig c = parse_ok(R"yaml(
notifiers: {chime: {plugin: sound}, phone: {plugin: ntfy}}
rules:
  - name: permission
    when: {to: needs_permission}
    notify: [chime]
    escalate: {after: 5m, notify: [phone]}
    options: {chime: {file: question.wav, volume: 0.5}, phone: {priority: 5}}
)yaml");
    REQUIRE(c.rules.size() == 1);
    CHECK(c.rules[0].notifier_options.at("chime") == std::map<std::string, std::string>{{"file", "question.wav"}, {"volume", "0.5"}});
    CHECK(c.rules[0].notifier_options.at("phone").at("priority") == "5");

    auto p = parse("notifiers: {chime: {plugin: sound}, d: {plugin: desktop}}\nrules:\n"
                   "  - {name: r, when: {to: idle}, notify: [chime], options: {d: {x: 1}}}\n"
                   "  - {name: s, when: {to: idle}, notify: [chime], options: {chime: {file: [a]}}}\n"
                   "  - {name: t, when: {to: idle}, notify: [chime], options: [chime]}\n");
    INFO(dump(p.errors));
    CHECK(has_error(p.errors, 3, 60, "options for \"d\" in rule \"r\", which does not notify it"));
    CHECK(has_error(p.errors, 4, 74, "option \"file\" of \"chime\" in rule \"s\" must be a string"));
    CHECK(has_error(p.errors, 5, 59, "options in rule \"t\" must be a mapping"));
}

TEST_CASE("auto-answer allows Read, Grep and Glob and denies Bash rm -rf") {
    RuleConfig c = parse_ok(R"yaml(
notifiers: {d: {plugin: desktop}}
rules:
  - name: allow-reads
    when: {to: needs_permission, tool: [Read, Grep, Glob]}
    answer: allow
  - name: no-rm-rf
    when: {to: needs_permission, tool: Bash, tool_input: "rm -rf *"}
    answer: {decision: deny, message: "not here"}
  - name: permission
    when: {to: needs_permission}
    notify: [d]
)yaml");
    RuleMemory m;
    for (const char* tool : {"Read", "Grep", "Glob"}) {
        auto a = evaluate(c, permission(tool, {{"file_path", "/etc/hosts"}}), m, k_wed_noon);
        REQUIRE(a.size() == 1);
        CHECK(a[0].kind == ActionKind::answer);
        CHECK(a[0].decision == "allow");
        CHECK(a[0].rule == "allow-reads");
    }
    auto a = evaluate(c, permission("Bash", {{"command", "rm -rf /tmp/build"}, {"description", "clean"}}), m, k_wed_noon);
    REQUIRE(a.size() == 1);
    CHECK(a[0].decision == "deny");
    CHECK(a[0].message == "not here");
    a = evaluate(c, permission("Bash", {{"command", "rm -r /tmp/build"}}), m, k_wed_noon);
    REQUIRE(a.size() == 1);
    CHECK(a[0].kind == ActionKind::notify);
    CHECK(a[0].rule == "permission");
    // Answers do not depend on presence.
    Transition t = permission("Read", {{"file_path", "x"}});
    t.attached = true;
    CHECK(kinds(evaluate(c, t, m, k_wed_noon)) == std::vector{ActionKind::answer});
}

TEST_CASE("notifications are suppressed while a client is attached, unless the rule says otherwise") {
    RuleConfig c = parse_ok(R"yaml(
notifiers: {d: {plugin: desktop}}
rules:
  - name: exit
    when: {to: exited}
    notify: [d]
    suppress_when_attached: false
  - name: done
    when: {to: idle}
    notify: [d]
)yaml");
    RuleMemory m;
    Transition t = done(0);
    t.attached = true;
    auto a = evaluate(c, t, m, k_wed_noon);
    REQUIRE(a.size() == 1);
    CHECK(a[0].kind == ActionKind::suppressed);
    CHECK(a[0].why.find("a client is attached") != std::string::npos);
    t.to = "exited";
    CHECK(kinds(evaluate(c, t, m, k_wed_noon)) == std::vector{ActionKind::notify});
}

TEST_CASE("secrets come from the environment and from private files and are redacted") {
    TempDir dir;
    std::string config = dir.file("config.yaml");
    tether::test::write_file(dir.file("good"), "s3cret-file\n");
    ::chmod(dir.file("good").c_str(), 0600);
    tether::test::write_file(dir.file("open"), "leaky\n");
    ::chmod(dir.file("open").c_str(), 0644);
    EnvVar env("TETHER_TEST_TOKEN", "s3cret-env");

    const char* yaml = R"yaml(notifiers:
  hook:
    plugin: webhook
    options:
      url: https://example.com/hook
      auth: "Bearer ${TETHER_TEST_TOKEN}"
      key: {file: good}
      retries: 3
)yaml";
    Parsed p = parse(yaml, config);
    INFO(dump(p.errors));
    REQUIRE(p.errors.empty());
    const Notifier& n = p.config.notifiers.at("hook");
    REQUIRE(n.options.size() == 4);
    CHECK(n.options[1].value == "Bearer s3cret-env");
    CHECK(n.options[2].value == "s3cret-file");
    CHECK(n.options[3].value == "3");
    std::string shown = describe_notifier(n);
    CHECK(shown == "hook: plugin webhook, url=https://example.com/hook, auth=<secret from $TETHER_TEST_TOKEN>, key=<secret from file " +
                       dir.file("good") + ">, retries=3");
    CHECK(shown.find("s3cret") == std::string::npos);

    p = parse("notifiers:\n  hook:\n    plugin: webhook\n    options: {key: {file: open}}\n", config);
    REQUIRE(p.errors.size() == 1);
    CHECK(p.errors[0].line == 4);
    CHECK(p.errors[0].column == 27);
    CHECK(p.errors[0].message.find("has mode 0644") != std::string::npos);
    CHECK(p.errors[0].hint == "chmod 600 " + dir.file("open"));

    p = parse("notifiers:\n  hook:\n    plugin: webhook\n    options: {key: {file: missing}}\n", config);
    REQUIRE(p.errors.size() == 1);
    CHECK(p.errors[0].message.find("cannot read secret file") != std::string::npos);
}

TEST_CASE("a list option reaches the plugin as one comma-separated value; other shapes are errors with their line") {
    TempDir dir;
    std::string config = dir.file("config.yaml");
    Parsed p = parse("notifiers:\n  s:\n    plugin: slack\n    options:\n      allow_users: [U0ANN, U0BOB]\n", config);
    INFO(dump(p.errors));
    REQUIRE(p.errors.empty());
    const Notifier& n = p.config.notifiers.at("s");
    REQUIRE(n.options.size() == 1);
    CHECK(n.options[0].value == "U0ANN,U0BOB");
    CHECK_FALSE(n.options[0].secret);

    p = parse("notifiers:\n  s:\n    plugin: slack\n    options:\n      allow_users: [U0ANN, \"a,b\", [x]]\n", config);
    REQUIRE(p.errors.size() == 2);
    CHECK(p.errors[0].line == 5);
    CHECK(p.errors[0].message.find("holds a comma") != std::string::npos);
    CHECK(p.errors[1].message.find("plain values only") != std::string::npos);
}

TEST_CASE("dry run reports every rule, the first failed condition, and leaves memory alone") {
    RuleConfig c = parse_ok(R"yaml(
notifiers: {d: {plugin: desktop}}
rules:
  - name: reads
    when: {to: needs_permission, tool: Read}
    answer: allow
  - name: perm
    when: {to: needs_permission}
    notify: [d]
    cooldown: 1h
  - name: any
    when: {}
    notify: [d]
)yaml");
    RuleMemory m;
    auto v = dry_run(c, permission("Bash", "ls"), m, k_wed_noon);
    REQUIRE(v.size() == 3);
    CHECK_FALSE(v[0].matched);
    CHECK(v[0].why == "tool \"Bash\" matches none of \"Read\"");
    CHECK(v[1].matched);
    CHECK(v[1].decides);
    REQUIRE(v[1].actions.size() == 1);
    CHECK(v[1].actions[0].kind == ActionKind::notify);
    CHECK(v[2].matched);
    CHECK_FALSE(v[2].decides);
    CHECK(v[2].why.find("comes first") != std::string::npos);
    CHECK(m.entries.empty());
    CHECK(dry_run(c, permission("Bash", "ls"), m, k_wed_noon)[1].actions[0].kind == ActionKind::notify);
}

TEST_CASE("durations parse with units, largest first") {
    CHECK(parse_duration_us("30s") == 30'000'000);
    CHECK(parse_duration_us("2m") == 120'000'000);
    CHECK(parse_duration_us("1h30m") == 5'400'000'000);
    CHECK(parse_duration_us("500ms") == 500'000);
    CHECK(parse_duration_us("1m500ms") == 60'500'000);
    CHECK(parse_duration_us("1d") == 86'400'000'000);
    CHECK(parse_duration_us("0s") == 0);
    CHECK_FALSE(parse_duration_us("30"));
    CHECK_FALSE(parse_duration_us("30m1h"));
    CHECK_FALSE(parse_duration_us("1m1m"));
    CHECK_FALSE(parse_duration_us("5 minutes"));
    CHECK_FALSE(parse_duration_us("-1s"));
    CHECK_FALSE(parse_duration_us(""));
    CHECK(format_duration(5'400'000'000) == "1h30m");
    CHECK(format_duration(90'000'000) == "1m30s");
    CHECK(format_duration(500'000) == "500ms");
    CHECK(format_duration(0) == "0us");
}

TEST_CASE("a transition is built from the row before the change") {
    SessionRow row;
    row.id = 7;
    row.name = "api";
    row.cwd = "/w";
    row.agent = "claude";
    row.state = "running";
    row.state_since_us = 1'000'000;
    StateChange ch{"running", "needs_permission", "hook PermissionRequest", "Bash", {{"command", "ls"}}, "", ""};
    Transition t = make_transition(row, ch, 61'000'000, true);
    CHECK(t.session_id == 7);
    CHECK(t.previous_us == 60'000'000);
    CHECK(t.tool == "Bash");
    CHECK(tool_input_text(t.tool_input) == "ls");
    CHECK(t.attached);
    CHECK(tool_input_text(nlohmann::json{{"a", 1}}) == "{\"a\":1}");
}
