// The agent-state reducer's test fixtures: captured hook payloads (research/agent-hooks.md)
// and a fed session that checks every transition it yields. For agent_state_*_test.cc.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "state/agent_state.h"

namespace tether::agent_state_test {

using nlohmann::json;
namespace as = tether::agent_state;


// Payloads from the research notes (agent-hooks.md).
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
inline std::string with(const char* payload, const json& changes) {
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


}  // namespace tether::agent_state_test
