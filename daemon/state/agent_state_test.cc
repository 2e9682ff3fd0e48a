// The reducer on Claude Code's hooks: turns, permissions, questions, the session's end.
#include "state/agent_state.h"

#include <doctest/doctest.h>

#include "state/agent_state_test_support.h"

using namespace tether;
using namespace tether::agent_state_test;


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
