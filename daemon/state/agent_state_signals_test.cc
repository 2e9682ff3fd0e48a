// The reducer on what is not a Claude hook: titles, OSC 9, bells, output and keystrokes, the
// other agents' hooks, tether notify; and on bad input, replay and random sequences.
#include "state/agent_state.h"

#include <doctest/doctest.h>

#include "state/agent_state_test_support.h"

using namespace tether;
using namespace tether::agent_state_test;

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
