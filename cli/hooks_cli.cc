// CLI: what agents' hooks raise and how a person answers: `tether pending`, `approve`,
// `deny`, `notify`, `wait`, `ack`, `hook` (forwards to tether-hook) and `hooks
// install|uninstall|status` (claude_settings.h edits the settings files).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "agent/claude_settings.h"
#include "commands.h"

namespace tether {

namespace {

using nlohmann::json;

// A request number, or HOST:REQ for another host's (tether pending --fleet).
std::string request_text(const json& request) {
    return request.is_string() ? request.get<std::string>() : std::to_string(request.get<int64_t>());
}

// approve / deny: "allowed request 3 of session 1".
int cmd_answer(const Globals& g, const json& req, const char* verb) {
    return cmd_simple(g, req, [verb](const json& r) {
        std::printf("%s request %s of session %lld\n", verb, request_text(r["request"]).c_str(),
                    static_cast<long long>(r["session"].get<int64_t>()));
    });
}

int cmd_pending(const Globals& g, bool as_json, bool fleet) {
    auto c = connect_or_explain(g, true);
    if (!c) return k_exit_unreachable;
    auto r = c->request({{"cmd", fleet ? "fleet_pending" : "pending"}});
    if (!r) return fail(r.error().message);
    if (as_json) {
        std::cout << (*r)["pending"].dump(2) << "\n";
        return 0;
    }
    if ((*r)["pending"].empty()) {
        std::printf("no pending permission requests\n");
        return 0;
    }
    std::printf("%-14s %-5s %-16s %-12s %-7s %s\n", "REQUEST", "ID", "SESSION", "TOOL", "WAITING", "INPUT");
    for (auto& p : (*r)["pending"]) {
        std::string input = p["tool_input"].contains("command") && p["tool_input"]["command"].is_string()
                                ? p["tool_input"]["command"].get<std::string>()
                                : p["tool_input"].dump();
        if (input.size() > 60) input = input.substr(0, 57) + "...";
        std::printf("%-14s %-5lld %-16s %-12s %-7s %s\n", request_text(p["request"]).c_str(),
                    static_cast<long long>(p["session"].get<int64_t>()), p["name"].get<std::string>().c_str(),
                    p["tool"].get<std::string>().c_str(),
                    human_duration(p["waiting_ms"].get<int64_t>() * 1000).c_str(), input.c_str());
    }
    return 0;
}

int cmd_wait(const Globals& g, const std::string& session, const std::string& until, double timeout_s) {
    auto c = connect_or_explain(g, true);
    if (!c) return k_exit_unreachable;
    json req{{"cmd", "wait"}, {"session", session_ref(session)}, {"until", until}, {"id", 1}};
    if (auto s = c->send_frame(FrameType::Json, dump_json(req)); !s) return fail(s.error().message);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
    for (;;) {
        int left = -1;
        if (timeout_s > 0) {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
            if (ms <= 0) return fail("wait: timed out after " + std::to_string(timeout_s) + " s; session " + session + " is not " + until);
            left = static_cast<int>(ms);
        }
        auto frame = c->read_frame(left);
        if (!frame) return fail(frame.error().message);
        if (!*frame) continue;
        auto j = parse_json_object((*frame)->body);
        if (!j || j->value("id", 0) != 1) continue;
        if (!j->value("ok", false)) return fail(j->value("error", "wait failed"));
        return 0;
    }
}

int cmd_hooks(const std::string& what, bool project, long wait_s) {
    std::string path;
    if (project) {
        path = (std::filesystem::current_path() / ".claude" / "settings.local.json").string();
    } else {
        const char* home = std::getenv("HOME");
        if (!home || !*home) return fail("hooks: $HOME is not set");
        path = std::string(home) + "/.claude/settings.json";
    }
    auto settings = read_settings(path);
    if (!settings) return fail(settings.error().message);
    std::string hook = std::filesystem::path(tetherd_path()).parent_path() / "tether-hook";
    if (what == "status") {
        auto events = tether_hook_events(*settings);
        std::error_code ec;
        bool exists = std::filesystem::exists(hook, ec);
        std::printf("%s: %s\n", path.c_str(), events.empty() ? "no tether hooks" : "tether hooks installed");
        for (const auto& e : events) std::printf("  %s\n", e.c_str());
        std::printf("tether-hook: %s%s\n", hook.c_str(), exists ? "" : " (missing!)");
        return events.empty() ? k_exit_failed : 0;
    }
    json updated;
    if (what == "install") {
        auto merged = merge_tether_hooks(*settings, tether_hook_entries(hook, wait_s));
        if (!merged) return fail("hooks: " + path + ": " + merged.error().message + "; refusing to touch it");
        updated = *merged;
    } else {
        updated = remove_tether_hooks(*settings);
    }
    if (updated == *settings) {
        std::printf("%s: already %s\n", path.c_str(), what == "install" ? "has tether's hooks" : "free of tether's hooks");
        return 0;
    }
    auto backup = write_settings(path, updated);
    if (!backup) return fail(backup.error().message);
    std::printf("%s: tether hooks %s%s\n", path.c_str(), what == "install" ? "installed" : "removed",
                backup->empty() ? "" : (" (backup: " + *backup + ")").c_str());
    return 0;
}

// The hot path is the small static tether-hook binary; this only forwards to it.
int exec_tether_hook(const std::vector<std::string>& rest) {
    std::string exe = std::filesystem::path(tetherd_path()).parent_path() / "tether-hook";
    std::vector<std::string> args{exe};
    for (auto& a : rest) args.push_back(a);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(exe.c_str(), argv.data());
    return 0;  // fail open: no hook binary, no output, exit 0
}

struct HooksOptions {
    std::string session, target, message, notify_state, until;
    double timeout_s = 0;
    bool as_json = false, always = false, project = false, user = false, fleet = false;
    long hooks_wait = 120;
};

void add_answer_commands(CLI::App& app, Cli& cli, const std::shared_ptr<HooksOptions>& o) {
    auto* pending = app.add_subcommand("pending", "List permission requests waiting for an answer");
    pending->add_flag("--json", o->as_json, "Machine-readable output");
    pending->add_flag("--fleet", o->fleet, "Every host's requests (answer one with tether approve HOST:REQ)");
    pending->callback([&cli, o] { cli.rc = cmd_pending(cli.g, o->as_json, o->fleet); });

    auto* approve = app.add_subcommand("approve", "Allow a pending permission request");
    approve->add_option("request", o->target, "Request number (tether pending), a session with one pending request, or HOST:REQ (tether pending --fleet)")->required();
    approve->add_flag("--always", o->always, "Also allow it from now on, as the agent's own \"always allow\" does");
    approve->callback([&cli, o] {
        cli.rc = cmd_answer(cli.g, {{"cmd", "approve"}, {"target", session_ref(o->target)}, {"always", o->always}}, "allowed");
    });
    auto* deny = app.add_subcommand("deny", "Deny a pending permission request");
    deny->add_option("request", o->target, "Request number (tether pending), a session with one pending request, or HOST:REQ (tether pending --fleet)")->required();
    deny->add_option("-m,--message", o->message, "Why, for the agent");
    deny->callback([&cli, o] {
        cli.rc = cmd_answer(cli.g, {{"cmd", "deny"}, {"target", session_ref(o->target)}, {"message", o->message}}, "denied");
    });
}

void add_state_commands(CLI::App& app, Cli& cli, const std::shared_ptr<HooksOptions>& o) {
    auto* notify = app.add_subcommand("notify", "Tell tether what an agent without hooks is doing (any CLI)");
    notify->add_option("--state", o->notify_state, "needs_answer, needs_permission, idle or running")->required();
    notify->add_option("-m,--message", o->message, "What the agent said or asks");
    notify->add_option("-s,--session", o->session, "Session id or name (default: $TETHER_SESSION)");
    notify->callback([&cli, o] {
        std::string s = o->session;
        if (s.empty())
            if (const char* env = std::getenv("TETHER_SESSION")) s = env;
        json req{{"cmd", "notify"}, {"state", o->notify_state}, {"session", session_ref(s)}};
        if (!o->message.empty()) req["message"] = o->message;
        cli.rc = cmd_simple(cli.g, req, nullptr);
    });

    auto* wait = app.add_subcommand("wait", "Block until a session reaches a state (for scripts and tests)");
    wait->add_option("session", o->session, "Session id or name")->required();
    wait->add_option("--until", o->until, "starting, running, needs_permission, needs_answer, idle or exited")->required();
    wait->add_option("--timeout", o->timeout_s, "Give up after this many seconds (exit 1)");
    wait->callback([&cli, o] { cli.rc = cmd_wait(cli.g, o->session, o->until, o->timeout_s); });

    auto* ack = app.add_subcommand("ack", "Acknowledge a session: cancels its pending escalations");
    ack->add_option("session", o->session, "Session id or name")->required();
    ack->callback([&cli, o] { cli.rc = cmd_simple(cli.g, {{"cmd", "ack"}, {"session", session_ref(o->session)}}, nullptr); });
}

}  // namespace

void add_hooks_commands(CLI::App& app, Cli& cli) {
    auto o = std::make_shared<HooksOptions>();
    add_answer_commands(app, cli, o);
    add_state_commands(app, cli, o);

    auto* hook = app.add_subcommand("hook", "What an agent's hook runs (fails open; see tether-hook)");
    hook->allow_extras();
    hook->callback([&cli, hook] { cli.rc = exec_tether_hook(hook->remaining()); });

    auto* hooks = app.add_subcommand("hooks", "Claude Code hooks for agents tether did not start");
    hooks->require_subcommand(1);
    for (const char* what : {"install", "uninstall", "status"}) {
        auto* sub = hooks->add_subcommand(what, std::string(what) + " tether's entries in ~/.claude/settings.json (or --project)");
        sub->add_flag("--user", o->user, "~/.claude/settings.json (the default)");
        sub->add_flag("--project", o->project, ".claude/settings.local.json in this directory");
        if (std::string(what) == "install")
            sub->add_option("--wait", o->hooks_wait, "Seconds a permission request waits for an answer from tether");
        sub->callback([&cli, o, what] { cli.rc = cmd_hooks(what, o->project, o->hooks_wait); });
    }
}

}  // namespace tether
