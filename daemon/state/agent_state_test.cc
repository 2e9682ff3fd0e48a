#include "state/agent_state.h"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace tether;
using nlohmann::json;
namespace as = tether::agent_state;

namespace {

// Payloads from /work/shared/research/agent-hooks.md.
// §1.8: observed from the real 2.1.330 binary, one payload per line, verbatim.
constexpr const char* k_session_start = R"json({"session_id":"f183e74f-41c7-4a96-957e-4256e11bab7c","transcript_path":"/home/u/.claude/projects/-home-u-proj/f183e74f-41c7-4a96-957e-4256e11bab7c.jsonl","cwd":"/home/u/proj","hook_event_name":"SessionStart","source":"startup","model":"claude-opus-5-5"})json";
constexpr const char* k_user_prompt_submit = R"json({"session_id":"f183e74f-41c7-4a96-957e-4256e11bab7c","transcript_path":"/home/u/.claude/projects/-home-u-proj/f183e74f-41c7-4a96-957e-4256e11bab7c.jsonl","cwd":"/home/u/proj","prompt_id":"9168b273-f868-4143-bd22-040a20852ed7","permission_mode":"default","hook_event_name":"UserPromptSubmit","prompt":"please create the marker file"})json";
constexpr const char* k_pre_tool_use = R"json({"session_id":"f183e74f-41c7-4a96-957e-4256e11bab7c","transcript_path":"/home/u/.claude/projects/-home-u-proj/f183e74f-41c7-4a96-957e-4256e11bab7c.jsonl","cwd":"/home/u/proj","prompt_id":"9168b273-f868-4143-bd22-040a20852ed7","permission_mode":"default","effort":{"level":"medium"},"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"touch /home/u/mock/created-by-claude.txt","description":"Create a marker file"},"tool_use_id":"toolu_01MOCK2"})json";
constexpr const char* k_permission_request = R"json({"session_id":"f183e74f-41c7-4a96-957e-4256e11bab7c","transcript_path":"/home/u/.claude/projects/-home-u-proj/f183e74f-41c7-4a96-957e-4256e11bab7c.jsonl","cwd":"/home/u/proj","prompt_id":"9168b273-f868-4143-bd22-040a20852ed7","permission_mode":"default","effort":{"level":"medium"},"hook_event_name":"PermissionRequest","tool_name":"Bash","tool_input":{"command":"touch /home/u/mock/created-by-claude.txt","description":"Create a marker file"},"permission_suggestions":[{"type":"addDirectories","directories":["/home/u/mock"],"destination":"session"},{"type":"setMode","mode":"acceptEdits","destination":"session"}]})json";
constexpr const char* k_notification_permission_prompt = R"json({"session_id":"d46414a5-6f75-4e34-a23a-0fe8eb3174fa","transcript_path":"/home/u/.claude/projects/-home-u-proj/d46414a5-6f75-4e34-a23a-0fe8eb3174fa.jsonl","cwd":"/home/u/proj","prompt_id":"a6826a8c-6ecd-4ab6-8edf-121bd0f44fb8","hook_event_name":"Notification","message":"Claude needs your permission","notification_type":"permission_prompt"})json";
constexpr const char* k_post_tool_use = R"json({"session_id":"f183e74f-41c7-4a96-957e-4256e11bab7c","transcript_path":"/home/u/.claude/projects/-home-u-proj/f183e74f-41c7-4a96-957e-4256e11bab7c.jsonl","cwd":"/home/u/proj","prompt_id":"9168b273-f868-4143-bd22-040a20852ed7","permission_mode":"default","effort":{"level":"medium"},"hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"touch /home/u/mock/created-by-claude.txt","description":"Create a marker file"},"tool_response":{"stdout":"","stderr":"","interrupted":false,"isImage":false,"noOutputExpected":true},"tool_use_id":"toolu_01MOCK2","duration_ms":47})json";
constexpr const char* k_stop = R"json({"session_id":"f183e74f-41c7-4a96-957e-4256e11bab7c","transcript_path":"/home/u/.claude/projects/-home-u-proj/f183e74f-41c7-4a96-957e-4256e11bab7c.jsonl","cwd":"/home/u/proj","prompt_id":"9168b273-f868-4143-bd22-040a20852ed7","permission_mode":"default","effort":{"level":"medium"},"hook_event_name":"Stop","stop_hook_active":false,"last_assistant_message":"Done. This is a mock reply.","background_tasks":[],"session_crons":[]})json";
constexpr const char* k_notification_idle_prompt = R"json({"session_id":"d46414a5-6f75-4e34-a23a-0fe8eb3174fa","transcript_path":"/home/u/.claude/projects/-home-u-proj/d46414a5-6f75-4e34-a23a-0fe8eb3174fa.jsonl","cwd":"/home/u/proj","prompt_id":"a6826a8c-6ecd-4ab6-8edf-121bd0f44fb8","hook_event_name":"Notification","message":"Claude is waiting for your input","notification_type":"idle_prompt"})json";
constexpr const char* k_session_end = R"json({"session_id":"f183e74f-41c7-4a96-957e-4256e11bab7c","transcript_path":"/home/u/.claude/projects/-home-u-proj/f183e74f-41c7-4a96-957e-4256e11bab7c.jsonl","cwd":"/home/u/proj","prompt_id":"a67dea4d-3ce6-4483-b08f-df618809751e","hook_event_name":"SessionEnd","reason":"prompt_input_exit"})json";
// §1.7: the docs' examples (Aug 2026) and the legacy shapes of 2025-07-09, verbatim.
constexpr const char* k_docs_pre_tool_use = R"json({
  "session_id": "abc123",
  "prompt_id": "550e8400-e29b-41d4-a716-446655440000",
  "transcript_path": "/home/user/.claude/projects/.../transcript.jsonl",
  "cwd": "/home/user/my-project",
  "permission_mode": "default",
  "hook_event_name": "PreToolUse",
  "tool_name": "Bash",
  "tool_input": {
    "command": "npm test",
    "description": "Run test suite",
    "timeout": 120000,
    "run_in_background": false
  },
  "tool_use_id": "toolu_01ABC123..."
})json";
constexpr const char* k_docs_permission_request = R"json({
  "session_id": "abc123",
  "transcript_path": "/Users/.../.claude/projects/.../00893aaf-19fa-41d2-8238-13269b9b3ca0.jsonl",
  "cwd": "/Users/...",
  "permission_mode": "default",
  "hook_event_name": "PermissionRequest",
  "tool_name": "Bash",
  "tool_input": {
    "command": "rm -rf node_modules",
    "description": "Remove node_modules directory"
  },
  "permission_suggestions": [
    {
      "type": "addRules",
      "rules": [{ "toolName": "Bash", "ruleContent": "rm -rf node_modules" }],
      "behavior": "allow",
      "destination": "localSettings"
    }
  ]
})json";
constexpr const char* k_docs_notification = R"json({
  "session_id": "abc123",
  "transcript_path": "/Users/.../.claude/projects/.../00893aaf-19fa-41d2-8238-13269b9b3ca0.jsonl",
  "cwd": "/Users/...",
  "hook_event_name": "Notification",
  "message": "Claude needs your permission",
  "title": "Permission needed",
  "notification_type": "permission_prompt"
})json";
constexpr const char* k_docs_stop = R"json({
  "session_id": "abc123",
  "transcript_path": "~/.claude/projects/.../00893aaf-19fa-41d2-8238-13269b9b3ca0.jsonl",
  "cwd": "/Users/...",
  "permission_mode": "default",
  "hook_event_name": "Stop",
  "stop_hook_active": true,
  "last_assistant_message": "I've completed the refactoring. Here's a summary...",
  "background_tasks": [
    {
      "id": "task-001",
      "type": "shell",
      "status": "running",
      "description": "tail logs",
      "command": "tail -f /var/log/syslog"
    }
  ],
  "session_crons": [
    {
      "id": "cron-001",
      "schedule": "0 9 * * 1-5",
      "recurring": true,
      "prompt": "check the build"
    }
  ]
})json";
constexpr const char* k_docs_stop_failure = R"json({
  "session_id": "abc123",
  "transcript_path": "/Users/.../.claude/projects/.../00893aaf-19fa-41d2-8238-13269b9b3ca0.jsonl",
  "cwd": "/Users/...",
  "hook_event_name": "StopFailure",
  "error": "rate_limit",
  "error_details": "429 Too Many Requests",
  "last_assistant_message": "API Error: Rate limit reached"
})json";
constexpr const char* k_docs_session_end = R"json({
  "session_id": "abc123",
  "transcript_path": "/Users/.../.claude/projects/.../00893aaf-19fa-41d2-8238-13269b9b3ca0.jsonl",
  "cwd": "/Users/...",
  "hook_event_name": "SessionEnd",
  "reason": "other"
})json";
constexpr const char* k_legacy_notification = R"json({
  "session_id": "abc123",
  "transcript_path": "~/.claude/projects/.../00893aaf-19fa-41d2-8238-13269b9b3ca0.jsonl",
  "hook_event_name": "Notification",
  "message": "Task completed successfully"
})json";
constexpr const char* k_legacy_stop = R"json({
  "session_id": "abc123",
  "transcript_path": "~/.claude/projects/.../00893aaf-19fa-41d2-8238-13269b9b3ca0.jsonl",
  "hook_event_name": "Stop",
  "stop_hook_active": true
})json";
// §3.1: Codex notify (docs/config.md) and a Codex PermissionRequest hook (PR text), verbatim.
constexpr const char* k_codex_notify = R"json({
  "type": "agent-turn-complete",
  "thread-id": "b5f6c1c2-1111-2222-3333-444455556666",
  "turn-id": "12345",
  "cwd": "/Users/alice/projects/example",
  "input-messages": ["Rename `foo` to `bar` and update the callsites."],
  "last-assistant-message": "Rename complete and verified `cargo build` succeeds."
})json";
constexpr const char* k_codex_permission_request = R"json({"session_id":"<session-id>","turn_id":"<turn-id>","transcript_path":"/path/to/transcript.jsonl","cwd":"/path/to/cwd","hook_event_name":"PermissionRequest","model":"gpt-5","permission_mode":"default","tool_name":"Bash","tool_input":{"command":"rm -f /tmp/example"}})json";

// The research has no verbatim AskUserQuestion, Elicitation or Gemini payload; these are
// built from the observed common fields and the schema fields listed in §1.3 and §3.2,
// with AskUserQuestion's tool_input shaped as the tool's schema ({"questions":[...]}).
constexpr const char* k_pre_tool_use_ask = R"json({"session_id":"f183e74f-41c7-4a96-957e-4256e11bab7c","transcript_path":"/home/u/.claude/projects/-home-u-proj/f183e74f-41c7-4a96-957e-4256e11bab7c.jsonl","cwd":"/home/u/proj","prompt_id":"9168b273-f868-4143-bd22-040a20852ed7","permission_mode":"default","effort":{"level":"medium"},"hook_event_name":"PreToolUse","tool_name":"AskUserQuestion","tool_input":{"questions":[{"question":"Which file name should the marker use?","header":"Marker","options":[{"label":"created-by-claude.txt","description":"The default name"},{"label":"marker.txt","description":"A shorter name"}],"multiSelect":false}]},"tool_use_id":"toolu_01MOCK3"})json";
constexpr const char* k_permission_request_ask = R"json({"session_id":"f183e74f-41c7-4a96-957e-4256e11bab7c","transcript_path":"/home/u/.claude/projects/-home-u-proj/f183e74f-41c7-4a96-957e-4256e11bab7c.jsonl","cwd":"/home/u/proj","prompt_id":"9168b273-f868-4143-bd22-040a20852ed7","permission_mode":"default","hook_event_name":"PermissionRequest","tool_name":"AskUserQuestion","tool_input":{"questions":[{"question":"Which file name should the marker use?","header":"Marker","options":[{"label":"created-by-claude.txt","description":"The default name"},{"label":"marker.txt","description":"A shorter name"}],"multiSelect":false}]}})json";
constexpr const char* k_post_tool_use_ask = R"json({"session_id":"f183e74f-41c7-4a96-957e-4256e11bab7c","transcript_path":"/home/u/.claude/projects/-home-u-proj/f183e74f-41c7-4a96-957e-4256e11bab7c.jsonl","cwd":"/home/u/proj","prompt_id":"9168b273-f868-4143-bd22-040a20852ed7","permission_mode":"default","hook_event_name":"PostToolUse","tool_name":"AskUserQuestion","tool_input":{"questions":[{"question":"Which file name should the marker use?","header":"Marker","options":[{"label":"created-by-claude.txt","description":"The default name"},{"label":"marker.txt","description":"A shorter name"}],"multiSelect":false}]},"tool_response":{"answers":{"Which file name should the marker use?":"marker.txt"}},"tool_use_id":"toolu_01MOCK3"})json";
constexpr const char* k_elicitation = R"json({"session_id":"f183e74f-41c7-4a96-957e-4256e11bab7c","transcript_path":"/home/u/.claude/projects/-home-u-proj/f183e74f-41c7-4a96-957e-4256e11bab7c.jsonl","cwd":"/home/u/proj","prompt_id":"9168b273-f868-4143-bd22-040a20852ed7","hook_event_name":"Elicitation","mcp_server_name":"github","message":"Which repository should I open the issue in?","mode":"form","elicitation_id":"el-1","requested_schema":{"type":"object","properties":{"repo":{"type":"string"}}}})json";
constexpr const char* k_notification_elicitation = R"json({"session_id":"f183e74f-41c7-4a96-957e-4256e11bab7c","transcript_path":"/home/u/.claude/projects/-home-u-proj/f183e74f-41c7-4a96-957e-4256e11bab7c.jsonl","cwd":"/home/u/proj","prompt_id":"9168b273-f868-4143-bd22-040a20852ed7","hook_event_name":"Notification","message":"MCP server github needs your input","notification_type":"elicitation_dialog"})json";
constexpr const char* k_elicitation_result = R"json({"session_id":"f183e74f-41c7-4a96-957e-4256e11bab7c","transcript_path":"/home/u/.claude/projects/-home-u-proj/f183e74f-41c7-4a96-957e-4256e11bab7c.jsonl","cwd":"/home/u/proj","prompt_id":"9168b273-f868-4143-bd22-040a20852ed7","hook_event_name":"ElicitationResult","mcp_server_name":"github","action":"accept","content":{"repo":"u/proj"}})json";
constexpr const char* k_notification_agent_needs_input = R"json({"session_id":"d46414a5-6f75-4e34-a23a-0fe8eb3174fa","transcript_path":"/home/u/.claude/projects/-home-u-proj/d46414a5-6f75-4e34-a23a-0fe8eb3174fa.jsonl","cwd":"/home/u/proj","prompt_id":"a6826a8c-6ecd-4ab6-8edf-121bd0f44fb8","hook_event_name":"Notification","message":"Auto mode can't check actions in this session and needs your choice","notification_type":"agent_needs_input"})json";
constexpr const char* k_gemini_before_agent = R"json({"session_id":"g-1","transcript_path":"/home/u/.gemini/tmp/g-1.json","cwd":"/home/u/proj","hook_event_name":"BeforeAgent","timestamp":"2026-11-24T10:00:00.000Z","prompt":"list the files"})json";
constexpr const char* k_gemini_before_tool = R"json({"session_id":"g-1","transcript_path":"/home/u/.gemini/tmp/g-1.json","cwd":"/home/u/proj","hook_event_name":"BeforeTool","timestamp":"2026-11-24T10:00:01.000Z","tool_name":"run_shell_command","tool_input":{"command":"ls"}})json";
constexpr const char* k_gemini_tool_permission = R"json({"session_id":"g-1","transcript_path":"/home/u/.gemini/tmp/g-1.json","cwd":"/home/u/proj","hook_event_name":"Notification","timestamp":"2026-11-24T10:00:01.200Z","notification_type":"ToolPermission","message":"Tool run_shell_command requires permission","details":{"command":"ls"}})json";
constexpr const char* k_gemini_after_tool = R"json({"session_id":"g-1","transcript_path":"/home/u/.gemini/tmp/g-1.json","cwd":"/home/u/proj","hook_event_name":"AfterTool","timestamp":"2026-11-24T10:00:09.000Z","tool_name":"run_shell_command","tool_input":{"command":"ls"},"tool_response":{"llmContent":"a b c"}})json";
constexpr const char* k_gemini_after_agent = R"json({"session_id":"g-1","transcript_path":"/home/u/.gemini/tmp/g-1.json","cwd":"/home/u/proj","hook_event_name":"AfterAgent","timestamp":"2026-11-24T10:00:10.000Z","prompt":"list the files","prompt_response":"There are three files.","stop_hook_active":false})json";

// Copies a payload with some fields replaced, for sequences the captures do not cover.
std::string with(const char* payload, const json& changes) {
    json j = json::parse(payload);
    for (const auto& [k, v] : changes.items()) j[k] = v;
    return j.dump();
}

// One session fed in order: assigns seq and time, keeps every transition, and checks on
// each one that it really is a change and that the status agrees with it.
struct Agent {
    static constexpr int64_t k_t0 = 1'795'000'000'000'000;  // Nov 2026, in microseconds
    AgentStatus status;
    int64_t seq = 0;
    std::vector<StateChange> changes;

    explicit Agent(const char* agent = "claude", bool start = true) {
        if (start) feed(make_json_event(1, EventKind::SessionStarted,
                                        {{"name", "s"}, {"command", {agent}}, {"cwd", "/home/u/proj"}, {"agent", agent}}),
                        0.0);
    }

    std::optional<StateChange> feed(Event ev, double at_s) {
        ev.seq = ++seq;
        ev.session = 1;
        ev.time_us = k_t0 + std::llround(at_s * 1e6);
        auto c = reduce(status, ev);
        if (c) {
            CHECK(c->from != c->to);
            CHECK(c->to == status.state);
            CHECK(status.since_us == ev.time_us);
            changes.push_back(*c);
        }
        return c;
    }
    std::optional<StateChange> hook(const std::string& payload, double at, const char* agent = "claude") {
        return feed(make_json_event(1, EventKind::HookReceived, {{"agent", agent}, {"payload", json::parse(payload)}}),
                    at);
    }
    std::optional<StateChange> output(std::string bytes, double at) {
        return feed(make_bytes_event(1, EventKind::OutputChunk, std::move(bytes)), at);
    }
    std::optional<StateChange> input(std::string bytes, double at) {
        return feed(make_bytes_event(1, EventKind::InputSent, std::move(bytes)), at);
    }
    std::optional<StateChange> title(const std::string& t, double at) {
        return feed(make_json_event(1, EventKind::TitleChanged, {{"title", t}}), at);
    }
    std::optional<StateChange> bell(double at) { return feed(make_json_event(1, EventKind::BellRang, json::object()), at); }
    std::optional<StateChange> osc(const std::string& message, double at) {
        return feed(make_json_event(1, EventKind::TerminalNotified, {{"message", message}}), at);
    }
    std::optional<StateChange> screen(const std::string& prompt, const std::string& text, double at) {
        return feed(make_json_event(1, EventKind::ScreenPromptSeen, {{"prompt", prompt}, {"text", text}}), at);
    }
    std::optional<StateChange> decided(int64_t request, const std::string& decision, const std::string& by, double at) {
        return feed(make_json_event(1, EventKind::PermissionDecided,
                                    {{"request", request}, {"decision", decision}, {"by", by}}),
                    at);
    }
    std::optional<StateChange> notify(const std::string& state, const std::string& message, double at) {
        return feed(make_json_event(1, EventKind::AgentNotified, {{"state", state}, {"message", message}}), at);
    }
    std::optional<StateChange> exited(const json& payload, double at) {
        return feed(make_json_event(1, EventKind::SessionExited, payload), at);
    }

    std::vector<std::string> path() const {
        std::vector<std::string> out;
        for (const auto& c : changes) out.push_back(c.from + ">" + c.to);
        return out;
    }
};

using Path = std::vector<std::string>;

}  // namespace

TEST_CASE("a full Claude turn: one transition per real change, duplicates and late notifications absorbed") {
    // Timings of run 3 (§1.8); payloads of run 4, except the two Notifications of run 3.
    Agent a;
    CHECK(a.output("\x1b[?1049h\x1b[H\x1b[2J  Claude Code v2.1.330", 0.1)->reason == "output");
    CHECK_FALSE(a.title("\xe2\x9c\xb3 Claude Code", 0.15));
    CHECK_FALSE(a.hook(k_session_start, 0.2));
    CHECK_FALSE(a.input("please create the marker file", 5.0));
    CHECK_FALSE(a.input("\r", 6.9));
    CHECK_FALSE(a.hook(k_user_prompt_submit, 7.0));
    CHECK_FALSE(a.title("\xe2\x97\x90 Claude Code", 7.05));
    CHECK_FALSE(a.hook(k_pre_tool_use, 7.3));

    auto perm = a.hook(k_permission_request, 7.43);
    REQUIRE(perm);
    CHECK(perm->from == as::running);
    CHECK(perm->to == as::needs_permission);
    CHECK(perm->reason == "hook PermissionRequest");
    CHECK(perm->tool == "Bash");
    CHECK(perm->tool_input == json{{"command", "touch /home/u/mock/created-by-claude.txt"},
                                   {"description", "Create a marker file"}});
    CHECK(perm->message.empty());

    // The TUI keeps drawing while the dialog is up.
    for (int i = 0; i < 20; ++i) CHECK_FALSE(a.output("\r\x1b[2K\xe2\xa0\x82 Waiting\xe2\x80\xa6", 7.5 + i * 0.1));
    CHECK_FALSE(a.osc("Claude needs your permission", 13.55));
    CHECK_FALSE(a.bell(13.55));
    CHECK_FALSE(a.hook(k_notification_permission_prompt, 13.6));
    CHECK(a.status.message == "Claude needs your permission");
    CHECK(a.status.tool == "Bash");

    auto done_waiting = a.hook(k_post_tool_use, 20.3);
    REQUIRE(done_waiting);
    CHECK(done_waiting->to == as::running);
    CHECK(done_waiting->reason == "hook PostToolUse");

    auto stop = a.hook(k_stop, 20.35);
    REQUIRE(stop);
    CHECK(stop->to == as::idle);
    CHECK(stop->reason == "hook Stop");
    CHECK(stop->message == "Done. This is a mock reply.");
    CHECK_FALSE(a.hook(k_stop, 20.351));  // #3465: the same hook twice
    CHECK_FALSE(a.title("\xe2\x9c\xb3 Claude Code", 20.4));
    CHECK_FALSE(a.hook(k_notification_idle_prompt, 80.4));
    CHECK_FALSE(a.osc("Claude is waiting for your input", 80.4));
    CHECK_FALSE(a.input("/exit\r", 85.0));
    CHECK_FALSE(a.output("/exit\r\n", 85.01));
    CHECK_FALSE(a.hook(k_session_end, 85.2));
    auto exit = a.exited({{"code", 0}}, 85.3);
    REQUIRE(exit);
    CHECK(exit->reason == "exit");
    CHECK(exit->message == "code 0");

    CHECK(a.path() == Path{"starting>running", "running>needs_permission", "needs_permission>running",
                           "running>idle", "idle>exited"});
}

TEST_CASE("a permission answered through tether is one wait, whatever the hooks do afterwards") {
    Agent a;
    a.output("x", 0.1);
    a.hook(k_session_start, 0.2);
    a.hook(k_user_prompt_submit, 7.0);
    a.hook(k_pre_tool_use, 7.3);
    REQUIRE(a.hook(k_permission_request, 7.43));
    int64_t request_seq = a.seq + 1;  // the daemon's PermissionRequested follows the hook
    ++a.seq;
    auto c = a.decided(request_seq, "allow", "cli", 9.0);
    REQUIRE(c);
    CHECK(c->to == as::running);
    CHECK(c->reason == "permission allow by cli");
    CHECK_FALSE(a.hook(k_post_tool_use, 9.05));
    CHECK_FALSE(a.decided(request_seq, "allow", "ui", 9.1));  // a second answer changes nothing
    CHECK(a.hook(k_stop, 9.2)->to == as::idle);
    CHECK(a.path() == Path{"starting>running", "running>needs_permission", "needs_permission>running",
                           "running>idle"});
}

TEST_CASE("a permission answered by a keystroke; the notification that was already on its way is stale") {
    Agent a;
    a.output("x", 0.1);
    a.hook(k_user_prompt_submit, 7.0);
    a.hook(k_pre_tool_use, 7.3);
    a.hook(k_permission_request, 7.43);
    CHECK_FALSE(a.input("\x1b[I", 12.0));  // attaching: focus-in is not an answer
    CHECK(a.input("\r", 13.4)->reason == "input");
    CHECK_FALSE(a.hook(k_notification_permission_prompt, 13.6));
    CHECK_FALSE(a.osc("Claude needs your permission", 13.6));
    CHECK_FALSE(a.hook(k_post_tool_use, 13.7));
    CHECK(a.status.state == as::running);
    // A dialog still up 6 s after the last keystroke is a real wait again.
    CHECK(a.hook(k_notification_permission_prompt, 30.0)->to == as::needs_permission);
}

TEST_CASE("a stale decision for an older request does not end the current wait") {
    Agent a;
    a.output("x", 0.1);
    a.hook(k_pre_tool_use, 7.3);
    a.hook(k_permission_request, 7.4);  // seq 4
    int64_t first = a.seq;
    a.hook(k_post_tool_use, 8.0);
    a.hook(with(k_pre_tool_use, {{"tool_input", {{"command", "rm x"}}}}), 9.0);
    REQUIRE(a.hook(with(k_permission_request, {{"tool_input", {{"command", "rm x"}}}}), 9.1));
    CHECK_FALSE(a.decided(first, "deny", "ui", 9.5));
    CHECK(a.status.state == as::needs_permission);
    CHECK(a.decided(a.seq + 1, "deny", "rule", 9.6)->reason == "permission deny by rule");
}

TEST_CASE("a permission_prompt without PermissionRequest (older versions, auto mode) is needs_permission") {
    Agent a;
    a.output("x", 0.1);
    a.hook(k_user_prompt_submit, 7.0);
    a.hook(k_pre_tool_use, 7.3);
    auto c = a.hook(k_docs_notification, 13.4);
    REQUIRE(c);
    CHECK(c->to == as::needs_permission);
    CHECK(c->reason == "hook Notification permission_prompt");
    CHECK(c->tool == "Bash");  // from the PreToolUse still pending
    CHECK(c->tool_input["command"] == "touch /home/u/mock/created-by-claude.txt");
    CHECK(c->message == "Claude needs your permission");
    CHECK(a.hook(k_post_tool_use, 20.0)->to == as::running);

    Agent b;
    b.output("x", 0.1);
    b.hook(k_user_prompt_submit, 7.0);
    auto d = b.hook(k_notification_agent_needs_input, 9.0);
    REQUIRE(d);
    CHECK(d->to == as::needs_permission);
    CHECK(d->message == "Auto mode can't check actions in this session and needs your choice");
    CHECK_FALSE(b.hook(k_notification_permission_prompt, 15.0));  // "and later a permission_prompt"

    Agent legacy;  // 2025 shape: no notification_type, the message says it
    legacy.output("x", 0.1);
    auto e = legacy.hook(with(k_legacy_notification, {{"message", "Claude needs your permission to use Bash"}}), 5.0);
    REQUIRE(e);
    CHECK(e->to == as::needs_permission);
    CHECK_FALSE(legacy.hook(k_legacy_notification, 6.0));  // "Task completed successfully": nothing
}

TEST_CASE("AskUserQuestion through PreToolUse is needs_answer with the question, once") {
    Agent a;
    a.output("x", 0.1);
    a.hook(k_user_prompt_submit, 7.0);
    auto c = a.hook(k_pre_tool_use_ask, 7.3);
    REQUIRE(c);
    CHECK(c->to == as::needs_answer);
    CHECK(c->reason == "hook PreToolUse");
    CHECK(c->tool == "AskUserQuestion");
    CHECK(c->question == "Which file name should the marker use?");
    CHECK(c->tool_input["questions"][0]["header"] == "Marker");
    CHECK_FALSE(a.hook(k_permission_request_ask, 7.43));
    CHECK_FALSE(a.hook(k_notification_permission_prompt, 13.6));  // #74052
    CHECK(a.status.message.empty());                               // not "needs your permission"
    CHECK(a.hook(k_post_tool_use_ask, 20.0)->to == as::running);
    CHECK(a.path() == Path{"starting>running", "running>needs_answer", "needs_answer>running"});
}

TEST_CASE("AskUserQuestion reported only as a permission_prompt (#74052) is needs_answer") {
    // PermissionRequest for AskUserQuestion without a PreToolUse hook first.
    Agent a;
    a.output("x", 0.1);
    auto c = a.hook(k_permission_request_ask, 7.4);
    REQUIRE(c);
    CHECK(c->to == as::needs_answer);
    CHECK(c->question == "Which file name should the marker use?");

    // The question is up, the person pressed a key, then went away: only the
    // permission_prompt Notification (and OSC 9) says so, and they mean the question.
    Agent b;
    b.output("x", 0.1);
    b.hook(k_pre_tool_use_ask, 7.3);
    CHECK(b.input("\x1b[B", 8.0)->to == as::running);
    auto d = b.hook(k_notification_permission_prompt, 14.1);
    REQUIRE(d);
    CHECK(d->to == as::needs_answer);
    CHECK(d->tool == "AskUserQuestion");
    CHECK(d->question == "Which file name should the marker use?");

    Agent s;  // the same through the screen recogniser
    s.output("x", 0.1);
    s.hook(k_pre_tool_use_ask, 7.3);
    s.input("\x1b[B", 8.0);
    CHECK(s.screen("permission", "Which file name should the marker use?", 14.0)->to == as::needs_answer);
}

TEST_CASE("an MCP elicitation is needs_answer until its result") {
    Agent a;
    a.output("x", 0.1);
    a.hook(k_user_prompt_submit, 7.0);
    auto c = a.hook(k_elicitation, 8.0);
    REQUIRE(c);
    CHECK(c->to == as::needs_answer);
    CHECK(c->question == "Which repository should I open the issue in?");
    CHECK(c->message == "github");
    CHECK_FALSE(a.hook(k_notification_elicitation, 14.0));
    CHECK(a.hook(k_elicitation_result, 20.0)->to == as::running);

    Agent b;  // only the Notification arrives
    b.output("x", 0.1);
    auto d = b.hook(k_notification_elicitation, 14.0);
    REQUIRE(d);
    CHECK(d->to == as::needs_answer);
    CHECK(d->question == "MCP server github needs your input");
    CHECK(b.hook(with(k_notification_elicitation, {{"notification_type", "elicitation_complete"}}), 20.0)->to ==
          as::running);
}

TEST_CASE("the workspace-trust dialog, before any hook, is needs_answer; accepting it starts the session") {
    const std::string trust = "Do you trust the files in this folder?";
    Agent a;
    a.output("\x1b[2J Do you trust the files in this folder?", 0.3);
    auto c = a.screen("trust", trust, 0.35);
    REQUIRE(c);
    CHECK(c->to == as::needs_answer);
    CHECK(c->reason == "screen trust");
    CHECK(c->question == trust);
    CHECK_FALSE(a.output("\x1b[5;3H", 1.0));
    CHECK_FALSE(a.input("\x1b[I", 30.0));  // attach: focus-in
    CHECK(a.input("\x1b[B", 31.0)->reason == "input");
    CHECK_FALSE(a.screen("trust", trust, 31.1));  // the same dialog redrawn
    CHECK_FALSE(a.input("\r", 31.5));
    CHECK_FALSE(a.hook(k_session_start, 31.8));
    CHECK(a.path() == Path{"starting>running", "running>needs_answer", "needs_answer>running"});

    Agent b;  // the person never came; SessionStart after trust given some other way
    b.screen("trust", trust, 0.35);
    CHECK(b.status.state == as::needs_answer);
    CHECK(b.hook(k_session_start, 40.0)->to == as::running);

    Agent c2;  // Enter on the default "No, exit"
    c2.output("x", 0.3);
    c2.screen("trust", trust, 0.35);
    CHECK(c2.input("\r", 5.0)->to == as::running);
    CHECK(c2.exited({{"code", 1}}, 5.2)->to == as::exited);
}

TEST_CASE("the child's exit ends the session from any state, without SessionEnd; exited is final") {
    for (const char* state : {as::starting, as::running, as::needs_permission, as::needs_answer, as::idle}) {
        CAPTURE(state);
        Agent a;
        if (state != as::starting) a.output("x", 0.1);
        if (state == as::needs_permission) a.hook(k_permission_request, 1.0);
        if (state == as::needs_answer) a.hook(k_pre_tool_use_ask, 1.0);
        if (state == as::idle) a.hook(k_stop, 1.0);
        REQUIRE(a.status.state == state);
        auto c = a.exited({{"signal", 15}, {"core_dumped", false}}, 2.0);  // SIGTERM, no SessionEnd (run 3)
        REQUIRE(c);
        CHECK(c->from == state);
        CHECK(c->to == as::exited);
        CHECK(c->message == "signal 15");
        CHECK_FALSE(a.hook(k_session_end, 2.1));
        CHECK_FALSE(a.hook(k_user_prompt_submit, 2.2));
        CHECK_FALSE(a.output("late", 2.3));
        CHECK_FALSE(a.notify("idle", "", 2.4));
        CHECK_FALSE(a.exited({{"code", 0}}, 2.5));
    }
}

TEST_CASE("SessionEnd alone changes nothing: /clear ends one Claude session and starts another") {
    Agent a;
    a.output("x", 0.1);
    a.hook(k_user_prompt_submit, 7.0);
    a.hook(k_stop, 9.0);
    CHECK_FALSE(a.hook(with(k_session_end, {{"reason", "clear"}}), 30.0));
    CHECK_FALSE(a.hook(with(k_session_start, {{"source", "clear"}}), 30.1));
    CHECK(a.status.state == as::idle);
    CHECK_FALSE(a.hook(k_session_end, 40.0));  // prompt_input_exit
    CHECK(a.status.state == as::idle);
}

TEST_CASE("Stop after every turn is one idle per turn") {
    Agent a;
    a.output("x", 0.1);
    a.hook(k_session_start, 0.2);
    for (int turn = 0; turn < 3; ++turn) {
        double t = 10.0 + turn * 100.0;
        std::string prompt_id = "prompt-" + std::to_string(turn);
        CHECK(a.hook(with(k_user_prompt_submit, {{"prompt_id", prompt_id}}), t).has_value() == (turn > 0));
        CHECK_FALSE(a.hook(with(k_pre_tool_use, {{"prompt_id", prompt_id}}), t + 0.3));
        CHECK_FALSE(a.hook(with(k_post_tool_use, {{"prompt_id", prompt_id}}), t + 0.4));
        CHECK(a.hook(with(k_stop, {{"prompt_id", prompt_id}}), t + 2.0)->to == as::idle);
        for (int dup = 1; dup < 13; ++dup)  // #9602: up to 13 times per response
            CHECK_FALSE(a.hook(with(k_stop, {{"prompt_id", prompt_id}}), t + 2.0 + dup * 0.01));
        CHECK_FALSE(a.hook(with(k_notification_idle_prompt, {{"prompt_id", prompt_id}}), t + 62.0));
    }
    CHECK(a.path() == Path{"starting>running", "running>idle", "idle>running", "running>idle", "idle>running",
                           "running>idle"});
}

TEST_CASE("a late copy of an earlier turn's Stop does not end the next turn") {
    Agent a;
    a.output("x", 0.1);
    a.hook(with(k_user_prompt_submit, {{"prompt_id", "P"}}), 1.0);
    CHECK(a.hook(with(k_stop, {{"prompt_id", "P"}}), 2.0));
    CHECK(a.hook(with(k_user_prompt_submit, {{"prompt_id", "Q"}}), 2.5));
    CHECK_FALSE(a.hook(with(k_stop, {{"prompt_id", "P"}}), 2.6));
    CHECK(a.status.state == as::running);
    CHECK(a.hook(with(k_stop, {{"prompt_id", "Q"}}), 9.0)->to == as::idle);
    // A Stop hook that blocks makes Claude go on in the same turn; its next Stop counts.
    CHECK(a.hook(with(k_pre_tool_use, {{"prompt_id", "Q"}}), 9.5)->to == as::running);
    CHECK(a.hook(with(k_stop, {{"prompt_id", "Q"}, {"stop_hook_active", true}}), 12.0)->to == as::idle);
}

TEST_CASE("tool hooks that straggle in after Stop do not wake an idle session") {
    Agent a;
    a.output("x", 0.1);
    a.hook(k_user_prompt_submit, 7.0);
    a.hook(k_pre_tool_use, 7.3);
    CHECK(a.hook(k_stop, 20.30)->to == as::idle);
    CHECK_FALSE(a.hook(k_post_tool_use, 20.31));
    CHECK_FALSE(a.hook(k_notification_permission_prompt, 20.4));
    CHECK_FALSE(a.hook(with(k_notification_permission_prompt, {{"prompt_id", "9168b273-f868-4143-bd22-040a20852ed7"}}), 40.0));
    CHECK(a.status.state == as::idle);
    CHECK(a.status.message == "Done. This is a mock reply.");
}

TEST_CASE("StopFailure is idle with the error as the message") {
    Agent a;
    a.output("x", 0.1);
    a.hook(k_docs_pre_tool_use, 1.0);
    auto c = a.hook(k_docs_stop_failure, 3.0);
    REQUIRE(c);
    CHECK(c->to == as::idle);
    CHECK(c->reason == "hook StopFailure");
    CHECK(c->message == "rate_limit: 429 Too Many Requests");
}

TEST_CASE("the docs' and the legacy payload shapes drive the same transitions") {
    Agent a;
    a.output("x", 0.1);
    CHECK_FALSE(a.hook(k_docs_pre_tool_use, 1.0));
    CHECK(a.hook(k_docs_permission_request, 1.1)->tool_input["command"] == "rm -rf node_modules");
    CHECK_FALSE(a.hook(k_docs_notification, 7.2));
    CHECK(a.input("1", 8.0)->to == as::running);
    auto stop = a.hook(k_docs_stop, 9.0);
    REQUIRE(stop);
    CHECK(stop->message == "I've completed the refactoring. Here's a summary...");
    CHECK_FALSE(a.hook(k_docs_session_end, 10.0));

    Agent legacy;  // no prompt_id, no cwd, no notification_type
    legacy.output("x", 0.1);
    CHECK(legacy.hook(k_legacy_stop, 5.0)->to == as::idle);
    CHECK_FALSE(legacy.hook(k_legacy_stop, 5.01));
    CHECK_FALSE(legacy.hook(k_legacy_notification, 6.0));
}

TEST_CASE("PostToolUse of another tool does not end a permission wait") {
    Agent a;
    a.output("x", 0.1);
    a.hook(k_pre_tool_use, 7.3);
    a.hook(k_permission_request, 7.4);
    CHECK_FALSE(a.hook(with(k_post_tool_use, {{"tool_name", "Read"}, {"tool_input", {{"file_path", "/home/u/a"}}}}), 7.6));
    CHECK(a.status.state == as::needs_permission);
    CHECK_FALSE(a.hook(k_pre_tool_use, 7.7));  // the same call again: still waiting for it
    CHECK(a.status.state == as::needs_permission);
    CHECK(a.hook(with(k_post_tool_use, {{"hook_event_name", "PostToolUseFailure"}}), 9.0)->to == as::running);
}

TEST_CASE("a second PermissionRequest while waiting refines the wait without a transition") {
    Agent a;
    a.output("x", 0.1);
    a.hook(k_permission_request, 7.4);
    CHECK_FALSE(a.hook(k_permission_request, 7.41));
    CHECK_FALSE(a.hook(with(k_permission_request, {{"tool_name", "Write"}, {"tool_input", {{"file_path", "/x"}}}}), 9.0));
    CHECK(a.status.tool == "Write");
    CHECK(a.hook(with(k_post_tool_use, {{"tool_name", "Write"}}), 10.0)->to == as::running);
}

TEST_CASE("a session without hooks follows Claude's titles and OSC 9") {
    Agent a;
    CHECK(a.output("\x1b[2J Claude Code", 0.1));
    CHECK_FALSE(a.title("\xe2\x9c\xb3 Claude Code", 0.2));  // up, at its prompt: not "done"
    CHECK_FALSE(a.input("fix the bug\r", 5.0));
    CHECK_FALSE(a.title("\xe2\x97\x90 Claude Code", 5.1));
    for (int i = 0; i < 10; ++i)
        CHECK_FALSE(a.title(i % 2 ? "\xe2\xa0\x82 Claude Code" : "\xe2\xa0\x90 Claude Code", 5.2 + i * 0.1));
    auto idle = a.title("\xe2\x9c\xb3 Claude Code", 30.0);
    REQUIRE(idle);
    CHECK(idle->to == as::idle);
    CHECK(idle->reason == "title idle");
    CHECK_FALSE(a.title("\xe2\x9c\xb3 Claude Code", 30.5));
    CHECK_FALSE(a.title("\xe2\x9c\xb3 Fix the login bug", 31.0));  // the session title replaces the name
    CHECK_FALSE(a.output("\x1b[?25h", 31.0));

    CHECK_FALSE(a.input("now run the tests\r", 40.0));
    CHECK(a.title("\xe2\xa0\x82 Fix the login bug", 40.2)->reason == "title busy");
    auto perm = a.osc("Claude needs your permission", 46.3);
    REQUIRE(perm);
    CHECK(perm->to == as::needs_permission);
    CHECK(perm->reason == "osc permission");
    CHECK_FALSE(a.bell(46.3));
    CHECK_FALSE(a.title("\xe2\x9c\xb3 Fix the login bug", 46.4));  // titles never end a wait
    CHECK_FALSE(a.output("\xe2\x94\x82 1. Yes", 47.0));
    CHECK(a.input("1", 50.0)->to == as::running);
    CHECK_FALSE(a.title("\xe2\x97\x90 Fix the login bug", 50.1));
    CHECK(a.title("\xe2\x9c\xb3 Fix the login bug", 60.0)->to == as::idle);
    CHECK_FALSE(a.osc("Claude is waiting for your input", 120.0));
    CHECK_FALSE(a.bell(120.0));
    CHECK(a.path() == Path{"starting>running", "running>idle", "idle>running", "running>needs_permission",
                           "needs_permission>running", "running>idle"});
}

TEST_CASE("OSC 9 'waiting for your input' ends a turn whose end was missed") {
    Agent a;
    a.output("x", 0.1);
    a.input("go\r", 1.0);
    CHECK(a.osc("Claude is waiting for your input", 70.0)->reason == "osc waiting for input");

    Agent b;  // the hook twin, when Stop was lost
    b.output("x", 0.1);
    b.hook(k_user_prompt_submit, 1.0);
    CHECK(b.hook(k_notification_idle_prompt, 70.0)->to == as::idle);
}

TEST_CASE("once turn hooks are seen, titles no longer move the state, except after an interrupt") {
    Agent a;
    a.output("x", 0.1);
    a.hook(k_user_prompt_submit, 7.0);
    CHECK_FALSE(a.title("\xe2\x97\x90 Claude Code", 7.1));
    CHECK_FALSE(a.title("\xe2\x9c\xb3 Claude Code", 8.0));  // e.g. between API calls
    CHECK(a.status.state == as::running);
    CHECK_FALSE(a.input("\x1b", 9.0));  // Esc: interrupt, and no Stop will come (§0.1)
    auto c = a.title("\xe2\x9c\xb3 Claude Code", 9.1);
    REQUIRE(c);
    CHECK(c->to == as::idle);
    CHECK(c->reason == "title idle after interrupt");
    CHECK_FALSE(a.title("\xe2\x97\x90 Claude Code", 12.0));  // busy titles still do nothing
    CHECK(a.hook(k_user_prompt_submit, 12.0)->to == as::running);
}

TEST_CASE("Codex notify agent-turn-complete is idle, once per turn") {
    Agent a("codex");
    a.output("\x1b[2J>_ OpenAI Codex", 0.1);
    a.input("Rename `foo` to `bar` and update the callsites.\r", 3.0);
    auto c = a.hook(k_codex_notify, 40.0, "codex");
    REQUIRE(c);
    CHECK(c->to == as::idle);
    CHECK(c->reason == "codex agent-turn-complete");
    CHECK(c->message == "Rename complete and verified `cargo build` succeeds.");
    CHECK_FALSE(a.hook(k_codex_notify, 40.01, "codex"));
    // notify alone never says work started: typed Enter and output do.
    CHECK_FALSE(a.output("\x1b[?25h", 41.0));
    CHECK_FALSE(a.input("now the tests", 50.0));
    CHECK_FALSE(a.output("now the tests", 50.01));
    CHECK_FALSE(a.input("\r", 51.0));
    CHECK(a.output("\xe2\x80\xa2 Working", 51.1)->reason == "output after input");
    CHECK(a.hook(with(k_codex_notify, {{"turn-id", "12346"}}), 90.0, "codex")->to == as::idle);

    Agent h("codex");  // Codex's own hooks copy Claude's shape
    h.output("x", 0.1);
    auto p = h.hook(k_codex_permission_request, 5.0, "codex");
    REQUIRE(p);
    CHECK(p->to == as::needs_permission);
    CHECK(p->tool == "Bash");
    CHECK(p->tool_input == json{{"command", "rm -f /tmp/example"}});
}

TEST_CASE("Gemini CLI hooks map to Claude's by meaning") {
    Agent a("gemini");
    a.output("x", 0.1);
    a.hook(k_gemini_after_agent, 0.5, "gemini");  // a turn from before, to leave running
    CHECK(a.hook(k_gemini_before_agent, 1.0, "gemini")->reason == "hook BeforeAgent");
    CHECK_FALSE(a.hook(k_gemini_before_tool, 1.1, "gemini"));
    auto p = a.hook(k_gemini_tool_permission, 1.2, "gemini");
    REQUIRE(p);
    CHECK(p->to == as::needs_permission);
    CHECK(p->tool == "run_shell_command");
    CHECK(p->message == "Tool run_shell_command requires permission");
    CHECK(a.hook(k_gemini_after_tool, 9.0, "gemini")->to == as::running);
    auto done = a.hook(k_gemini_after_agent, 10.0, "gemini");
    REQUIRE(done);
    CHECK(done->to == as::idle);
    CHECK(done->message == "There are three files.");
}

TEST_CASE("tether notify sets the state it names") {
    Agent a("aider");
    a.output("x", 0.1);
    auto q = a.notify("needs_answer", "Aider is waiting for your input", 5.0);
    REQUIRE(q);
    CHECK(q->to == as::needs_answer);
    CHECK(q->reason == "notify needs_answer");
    CHECK(q->question == "Aider is waiting for your input");
    CHECK_FALSE(a.notify("needs_answer", "again", 6.0));
    CHECK(a.notify("running", "", 7.0)->to == as::running);
    CHECK(a.notify("idle", "done", 8.0)->message == "done");
    CHECK(a.notify("needs_permission", "approve?", 9.0)->to == as::needs_permission);
    CHECK_FALSE(a.notify("exited", "", 10.0));
    CHECK_FALSE(a.notify("starting", "", 10.0));
    CHECK_FALSE(a.notify("bogus", "", 10.0));
    CHECK_FALSE(a.notify("", "", 10.0));
    CHECK(a.status.state == as::needs_permission);
}

TEST_CASE("a bell from a program without hooks means it wants attention, unless it answers a keystroke") {
    Agent a("aider");
    a.output("aider v0.86", 0.1);
    CHECK_FALSE(a.input("\t", 2.0));
    CHECK_FALSE(a.bell(2.01));  // completion bell
    auto c = a.bell(30.0);      // "ring when the LLM has finished" (§3.3)
    REQUIRE(c);
    CHECK(c->to == as::idle);
    CHECK(c->reason == "bell");
    CHECK_FALSE(a.bell(30.1));

    Agent o("");  // any CLI; an unknown OSC 9 reads the same way
    o.output("x", 0.1);
    auto d = o.osc("Build finished", 12.0);
    REQUIRE(d);
    CHECK(d->to == as::idle);
    CHECK(d->message == "Build finished");

    Agent h;  // with turn hooks, bells and unknown OSC 9 are noise
    h.output("x", 0.1);
    h.hook(k_user_prompt_submit, 1.0);
    CHECK_FALSE(h.bell(30.0));
    CHECK_FALSE(h.osc("Build finished", 30.0));
}

TEST_CASE("output after idle means running only after a typed Enter, never a redraw") {
    Agent a("");
    a.output("$ ", 0.1);
    a.bell(5.0);
    REQUIRE(a.status.state == as::idle);
    CHECK_FALSE(a.output(std::string(8000, 'x'), 6.0));  // attach or resize: a full redraw
    CHECK_FALSE(a.input("make", 7.0));
    CHECK_FALSE(a.output("make", 7.01));                   // the echo
    CHECK_FALSE(a.input("\x1b[200~a\nb\x1b[201~", 7.5));   // a pasted newline submits nothing
    CHECK_FALSE(a.output("a\r\nb", 7.51));
    CHECK_FALSE(a.input("\r", 8.0));
    CHECK(a.output("cc -c main.c", 8.1)->reason == "output after input");

    Agent h;  // with hooks, UserPromptSubmit says it; Enter on an empty prompt does not
    h.output("x", 0.1);
    h.hook(k_user_prompt_submit, 1.0);
    h.hook(k_stop, 2.0);
    CHECK_FALSE(h.input("\r", 3.0));
    CHECK_FALSE(h.output("\x1b[2K> ", 3.01));
    CHECK(h.status.state == as::idle);
}

TEST_CASE("output and terminal noise never end a wait") {
    Agent a;
    a.output("x", 0.1);
    a.hook(k_permission_request, 1.0);
    for (int i = 0; i < 200; ++i) {
        double t = 1.0 + i * 0.05;
        CHECK_FALSE(a.output("\r\x1b[2K\xe2\xa0\x8b", t));
        CHECK_FALSE(a.title(i % 2 ? "\xe2\x97\x90 Claude Code" : "\xe2\x9c\xb3 Claude Code", t));
    }
    CHECK_FALSE(a.bell(20.0));
    CHECK_FALSE(a.osc("Claude is waiting for your input", 70.0));
    CHECK_FALSE(a.hook(k_notification_idle_prompt, 70.0));
    CHECK(a.status.state == as::needs_permission);
}

TEST_CASE("focus changes and answers to terminal queries are not keystrokes") {
    for (const char* bytes : {"\x1b[I", "\x1b[O", "\x1b[12;40R", "\x1b[?62;22c", "\x1b[>41;380;0c", "\x1b[0n",
                              "\x1b[?2026;2$y", "\x1b]11;rgb:0000/0000/0000\x1b\\", "\x1b]10;rgb:ffff/ffff/ffff\x07",
                              "\x1bP>|xterm(380)\x1b\\", "\x1b[<0;10;5M\x1b[<0;10;5m", "\x1b[I\x1b[O", ""}) {
        CAPTURE(std::string(bytes));
        Agent a;
        a.output("x", 0.1);
        a.hook(k_permission_request, 1.0);
        CHECK_FALSE(a.input(bytes, 2.0));
    }
    for (const char* bytes : {"y", "\r", "\x1b", "\x03", "\x1b[A", "\x1bOB", "\x1b[I1", "\x1b[3~", "\x1b" "f"}) {
        CAPTURE(std::string(bytes));
        Agent a;
        a.output("x", 0.1);
        a.hook(k_permission_request, 1.0);
        CHECK(a.input(bytes, 2.0)->to == as::running);
    }
}

TEST_CASE("a hook forwarded as an unparsed string is read the same") {
    Agent a;
    a.output("x", 0.1);
    auto c = a.feed(make_json_event(1, EventKind::HookReceived, {{"agent", "claude"}, {"payload", k_permission_request}}), 1.0);
    REQUIRE(c);
    CHECK(c->tool == "Bash");
}

TEST_CASE("long assistant messages are clipped on a character boundary") {
    Agent a;
    a.output("x", 0.1);
    std::string text;
    for (int i = 0; i < 1000; ++i) text += "\xc3\xa9";  // é, 2 bytes each
    auto c = a.hook(with(k_stop, {{"last_assistant_message", text}}), 2.0);
    REQUIRE(c);
    CHECK(c->message.size() <= 1024);
    CHECK(c->message.size() % 2 == 0);
    CHECK(json(c->message).dump().size() > 0);  // valid UTF-8, or dump() would throw
}

TEST_CASE("malformed payloads never crash and carry no information") {
    const std::vector<std::string> junk = {
        "", "null", "[]", "42", "\"text\"", "{", "{\"payload\":", "\xff\xfe", "{}",
        R"({"payload":5})", R"({"payload":null})", R"({"payload":[1,2]})", R"({"payload":"{not json"})",
        R"({"payload":"[1]"})", R"({"payload":{}})", R"({"payload":{"hook_event_name":5}})",
        R"({"payload":{"hook_event_name":null,"tool_name":"Bash"}})", R"({"payload":{"hook_event_name":["Stop"]}})",
        R"({"payload":{"hook_event_name":"NoSuchEvent"}})", R"({"payload":{"type":5}})",
        R"({"payload":{"type":"agent-turn-started"}})", R"({"state":5})", R"({"state":["idle"]})",
        R"({"state":"exited"})", R"({"title":7})", R"({"title":"\u2733"})", R"({"title":"plain title"})",
        R"({"message":{}})", R"({"message":""})", R"({"prompt":5,"text":"x"})", R"({"prompt":"unknown"})",
        R"({"request":"abc","decision":7})",
    };
    const std::vector<EventKind> kinds = {
        EventKind::HookReceived, EventKind::TitleChanged, EventKind::TerminalNotified, EventKind::AgentNotified,
        EventKind::ScreenPromptSeen, EventKind::MarkerAdded, EventKind::Resized, EventKind::ClientAttached,
        static_cast<EventKind>(999)};
    for (const char* state : {as::running, as::needs_permission, as::idle}) {
        for (EventKind kind : kinds) {
            for (const auto& payload : junk) {
                CAPTURE(state);
                CAPTURE(static_cast<int>(kind));
                CAPTURE(payload);
                Agent a;
                a.output("x", 0.1);
                a.hook(k_user_prompt_submit, 0.5);
                if (state == as::needs_permission) a.hook(k_permission_request, 1.0);
                if (state == as::idle) a.hook(k_stop, 1.0);
                REQUIRE(a.status.state == state);
                Event ev;
                ev.kind = kind;
                ev.payload = payload;
                CHECK_FALSE(a.feed(ev, 10.0));
            }
        }
    }
}

TEST_CASE("wrong field types in known hooks never crash, and the hook still counts") {
    const std::vector<std::string> hooks = {
        R"({"hook_event_name":"PermissionRequest","tool_name":7,"tool_input":"x","prompt_id":3})",
        R"({"hook_event_name":"PreToolUse","tool_name":"AskUserQuestion","tool_input":{"questions":"nope"}})",
        R"({"hook_event_name":"PreToolUse","tool_name":"AskUserQuestion","tool_input":{"questions":[1,{"question":5},{"question":"ok?"}]}})",
        R"({"hook_event_name":"PreToolUse","tool_name":"AskUserQuestion"})",
        R"({"hook_event_name":"Notification","notification_type":["permission_prompt"],"message":{}})",
        R"({"hook_event_name":"Stop","last_assistant_message":12,"prompt_id":{"a":1}})",
        R"({"hook_event_name":"StopFailure","error":null,"error_details":false})",
        R"({"hook_event_name":"PostToolBatch","tool_calls":"none"})",
        R"({"hook_event_name":"PostToolBatch","tool_calls":[5,null,{"tool_name":[]}]})",
        R"({"hook_event_name":"Elicitation","message":7,"url":[]})",
        R"({"hook_event_name":"SessionStart","source":9})",
        R"({"type":"agent-turn-complete","last-assistant-message":[],"turn-id":5})",
    };
    for (const auto& h : hooks) {
        for (const char* state : {as::starting, as::running, as::needs_permission, as::idle}) {
            CAPTURE(h);
            CAPTURE(state);
            Agent a;
            if (state != as::starting) a.output("x", 0.1);
            if (state == as::needs_permission) a.hook(k_permission_request, 1.0);
            if (state == as::idle) a.notify("idle", "", 1.0);
            REQUIRE(a.status.state == state);
            a.hook(h, 10.0);  // Agent::feed checks from != to and the status
            a.feed(make_json_event(1, EventKind::PermissionDecided, {{"request", "x"}, {"by", 5}}), 11.0);
            a.feed(make_json_event(1, EventKind::SessionExited, {{"code", "zero"}}), 12.0);
            CHECK(a.status.state == as::exited);
            CHECK(a.changes.back().message.empty());
        }
    }
    Agent q;
    q.output("x", 0.1);
    CHECK(q.hook(hooks[2], 1.0)->question == "ok?");
}

TEST_CASE("state_changed_payload carries every field of the transition") {
    StateChange c{as::running, as::needs_permission, "hook PermissionRequest", "Bash", {{"command", "ls"}}, "m", ""};
    CHECK(state_changed_payload(c) == json{{"from", "running"}, {"to", "needs_permission"},
                                           {"reason", "hook PermissionRequest"}, {"tool", "Bash"},
                                           {"tool_input", {{"command", "ls"}}}, {"message", "m"}, {"question", ""}});
}

TEST_CASE("SessionStarted starts afresh") {
    Agent a("claude", false);
    CHECK_FALSE(a.feed(make_json_event(1, EventKind::SessionStarted, {{"agent", "claude"}}), 0.0));
    a.output("x", 0.1);
    a.hook(k_user_prompt_submit, 1.0);
    auto c = a.feed(make_json_event(1, EventKind::SessionStarted, {{"agent", "claude"}}), 2.0);
    REQUIRE(c);
    CHECK(c->to == as::starting);
    AgentStatus fresh;
    fresh.since_us = a.status.since_us;
    CHECK(a.status == fresh);
}

TEST_CASE("no sequence of events yields a transition to the same state, and replay is deterministic") {
    // Every signal the reducer knows, real payloads and junk, in random order and timing.
    std::vector<std::pair<EventKind, std::string>> pool;
    for (const char* h : {k_session_start, k_user_prompt_submit, k_pre_tool_use, k_permission_request,
                          k_notification_permission_prompt, k_post_tool_use, k_stop, k_notification_idle_prompt,
                          k_session_end, k_docs_stop_failure, k_legacy_notification, k_legacy_stop, k_codex_notify,
                          k_codex_permission_request, k_pre_tool_use_ask, k_permission_request_ask,
                          k_post_tool_use_ask, k_elicitation, k_notification_elicitation, k_elicitation_result,
                          k_notification_agent_needs_input, k_gemini_before_agent, k_gemini_before_tool,
                          k_gemini_tool_permission, k_gemini_after_tool, k_gemini_after_agent})
        pool.emplace_back(EventKind::HookReceived,
                          json{{"agent", "claude"}, {"payload", json::parse(h)}}.dump());
    for (const char* t : {"\xe2\x9c\xb3 Claude Code", "\xe2\x97\x90 Claude Code", "\xe2\xa0\x82 Claude Code", "vim"})
        pool.emplace_back(EventKind::TitleChanged, json{{"title", t}}.dump());
    for (const char* b : {"x", "\r", "\x1b", "\x03", "\x1b[I", "fix it\r"}) pool.emplace_back(EventKind::InputSent, b);
    for (const char* b : {"x", "", "\x1b[2K\xe2\xa0\x8b"}) pool.emplace_back(EventKind::OutputChunk, b);
    pool.emplace_back(EventKind::BellRang, "{}");
    for (const char* m : {"Claude needs your permission", "Claude is waiting for your input", "Build finished"})
        pool.emplace_back(EventKind::TerminalNotified, json{{"message", m}}.dump());
    for (const char* p : {"trust", "permission"})
        pool.emplace_back(EventKind::ScreenPromptSeen, json{{"prompt", p}, {"text", "?"}}.dump());
    for (const char* s : {"needs_answer", "idle", "running", "bogus"})
        pool.emplace_back(EventKind::AgentNotified, json{{"state", s}, {"message", "m"}}.dump());
    pool.emplace_back(EventKind::PermissionDecided, R"({"request":1,"decision":"allow","by":"cli"})");
    pool.emplace_back(EventKind::PermissionDecided, R"({"request":999999,"decision":"deny","by":"rule"})");
    pool.emplace_back(EventKind::HookReceived, "not json");
    const size_t exit_index = pool.size();
    pool.emplace_back(EventKind::SessionExited, R"({"code":0})");
    pool.emplace_back(EventKind::SessionStarted, R"({"agent":"claude"})");

    const std::set<std::string> states = {as::starting, as::running, as::needs_permission, as::needs_answer,
                                          as::idle, as::exited};
    std::mt19937 rng(20261124);
    for (int run = 0; run < 300; ++run) {
        std::vector<Event> events;
        int64_t t = Agent::k_t0;
        for (int i = 0; i < 200; ++i) {
            size_t pick = rng() % pool.size();
            if (pick >= exit_index && rng() % 4 != 0) pick = rng() % exit_index;  // keep sessions mostly alive
            Event ev;
            ev.seq = i + 1;
            ev.session = 1;
            t += static_cast<int64_t>(rng() % 3'000'000);
            ev.time_us = t;
            ev.kind = pool[pick].first;
            ev.payload = pool[pick].second;
            events.push_back(std::move(ev));
        }
        AgentStatus first, second;
        std::vector<StateChange> out1, out2;
        for (const auto& ev : events) {
            std::string before = first.state;
            auto c = reduce(first, ev);
            if (!c) {
                if (first.state != before) FAIL("state changed without a transition at seq " << ev.seq);
                continue;
            }
            if (c->from == c->to || c->from != before || c->to != first.state || !states.count(c->to))
                FAIL("bad transition " << c->from << " -> " << c->to << " (" << c->reason << ") at seq " << ev.seq);
            if (before == as::exited && ev.kind != EventKind::SessionStarted)
                FAIL("left exited at seq " << ev.seq);
            out1.push_back(*c);
        }
        for (const auto& ev : events)
            if (auto c = reduce(second, ev)) out2.push_back(*c);
        CHECK(out1 == out2);
        CHECK(first == second);
    }
}

TEST_CASE("a permission that nobody answered in time leaves the session waiting") {
    AgentStatus s;
    Event start = make_json_event(1, EventKind::SessionStarted, {{"name", "c"}, {"agent", "claude"}});
    start.seq = 1;
    start.time_us = 1000;
    reduce(s, start);
    Event hook = make_json_event(1, EventKind::HookReceived,
                                 {{"agent", "claude"}, {"payload", {{"hook_event_name", "PermissionRequest"}, {"tool_name", "Bash"},
                                                                    {"tool_input", {{"command", "make"}}}}}});
    hook.seq = 2;
    hook.time_us = 2000;
    auto change = reduce(s, hook);
    REQUIRE(change);
    CHECK(change->to == "needs_permission");
    Event ask = make_json_event(1, EventKind::PermissionDecided, {{"request", 3}, {"decision", "ask"}, {"by", "timeout"}});
    ask.seq = 4;
    ask.time_us = 3000;
    CHECK_FALSE(reduce(s, ask));
    CHECK(s.state == "needs_permission");
    Event allow = make_json_event(1, EventKind::PermissionDecided, {{"request", 3}, {"decision", "allow"}, {"by", "cli"}});
    allow.seq = 5;
    allow.time_us = 4000;
    auto done = reduce(s, allow);
    REQUIRE(done);
    CHECK(done->to == "running");
}
