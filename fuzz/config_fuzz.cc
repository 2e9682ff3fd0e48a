// Fuzz target `config`: a config.yaml (daemon, sessions, hooks, attach, ui, retention,
// plugin_path, notifiers with their secrets, quiet hours, rules) through load_config,
// and, when it loads, a few transitions through the rules it defines (evaluate, dry run,
// quiet hours). Checks: an error always names the file; a refused file says why.
#include <fstream>

#include "config/config.h"
#include "config/rule_config.h"
#include "fuzz_support.h"
#include "fuzz_target.h"
#include "notify/rules.h"

using namespace tether;

namespace {

std::vector<Transition> transitions() {
    Transition perm{.session_id = 1, .session_name = "api", .cwd = "/home/u/src/api", .agent = "claude", .from = "running",
                    .to = "needs_permission", .previous_us = 90'000'000, .tool = "Bash",
                    .tool_input = {{"command", "rm -rf build && make test"}}};
    Transition idle = perm;
    idle.from = "running";
    idle.to = "idle";
    idle.tool.clear();
    idle.tool_input = nullptr;
    idle.message = "All tests pass.";
    Transition question = perm;
    question.to = "needs_answer";
    question.tool = "AskUserQuestion";
    question.question = "Which database?";
    question.attached = true;
    return {perm, idle, question};
}

}  // namespace

TETHER_FUZZ_TARGET(config) {
    static const std::string path = fuzz::scratch_dir() + "/config.yaml";
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    Config c;
    auto errors = check_config(path, c);
    for (const auto& e : errors) {
        FUZZ_CHECK(e.file == path, e.to_string());
        FUZZ_CHECK(!e.message.empty(), e.to_string());
    }
    auto loaded = load_config(path);
    FUZZ_CHECK(bool(loaded) == errors.empty(), "load_config agrees with check_config");
    if (!loaded) {
        FUZZ_CHECK(loaded.error().message.find(path) != std::string::npos, loaded.error().message);
        return 0;
    }
    FUZZ_CHECK(loaded->rules != nullptr, "a loaded configuration has rules");
    RuleMemory memory;
    int64_t now = 1'767'225'600'000'000;  // 2026-01-01T00:00Z
    for (const auto& t : transitions()) {
        (void)dry_run(*loaded->rules, t, memory, now);
        for (const auto& a : evaluate(*loaded->rules, t, memory, now)) (void)describe_action(a);
        (void)evaluate(*loaded->rules, t, memory, now + 30'000'000);
        (void)in_quiet_hours(*loaded->rules, t.to, now + 13 * 3600'000'000LL);
    }
    return 0;
}
