// CLI: `tether config check|reload` and `tether rules test` (a dry run of a transition
// through the daemon's rules). check loads the file and every notifier's plugin here,
// as the daemon would.
#include <cstdio>
#include <iostream>
#include <iterator>

#include "commands.h"
#include "config/config.h"
#include "notifier/notifier_instance.h"
#include "notify/rules.h"

namespace tether {

namespace {

using nlohmann::json;

int cmd_config_check(const Globals& g, const std::string& file) {
    std::string path = file.empty() ? g.paths().config_path : file;
    if (path.empty()) {
        std::printf("no configuration file (%s does not exist): the defaults apply\n", default_config_path().c_str());
        return 0;
    }
    auto config = load_config(path);
    if (!config) return fail(config.error().message);
    // Load every notifier's plugin and check its options, as the daemon will.
    NotifierLibraries libraries(plugin_search_path(config->plugin_path));
    std::string errors;
    for (const auto& [name, n] : config->rules->notifiers) {
        PluginOptions options;
        for (const auto& o : n.options) options[o.key] = o.value;
        auto instance = create_notifier(libraries, n.plugin, options, name);
        if (!instance) errors += "\n  notifier " + name + ": " + instance.error().message;
    }
    if (!errors.empty()) return fail(path + ": notifiers that cannot be loaded:" + errors);
    std::printf("%s: ok (%zu notifiers, %zu rules, %zu quiet-hours windows)\n", path.c_str(), config->rules->notifiers.size(),
                config->rules->rules.size(), config->rules->quiet_hours.size());
    for (const auto& [name, n] : config->rules->notifiers) std::printf("  %s\n", describe_notifier(n).c_str());
    return 0;
}

void print_verdicts(const json& r) {
    auto& t = r["transition"];
    std::printf("transition: %s %s -> %s%s\n", t["session"].get<std::string>().c_str(), t["from"].get<std::string>().c_str(),
                t["to"].get<std::string>().c_str(), t["tool"].get<std::string>().empty() ? "" : (" (" + t["tool"].get<std::string>() + ")").c_str());
    if (!r["quiet_hours"].get<std::string>().empty()) std::printf("quiet hours: %s\n", r["quiet_hours"].get<std::string>().c_str());
    bool any = false;
    for (auto& v : r["verdicts"]) {
        std::printf("  %-24s %s%s\n", v["rule"].get<std::string>().c_str(),
                    v["decides"].get<bool>() ? "DECIDES" : v["matched"].get<bool>() ? "matches (an earlier rule decides)" : "no: ",
                    v["matched"].get<bool>() ? "" : v["why"].get<std::string>().c_str());
        for (auto& a : v["actions"]) std::printf("      would %s\n", a.get<std::string>().c_str());
        any = any || v["decides"].get<bool>();
    }
    if (!any) std::printf("no rule matches: nothing would be sent\n");
}

int cmd_rules_test(const Globals& g, json req, bool from_stdin, bool as_json) {
    if (from_stdin) {
        std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
        auto j = json::parse(text, nullptr, false);
        if (j.is_discarded() || !j.is_object()) return fail("rules test: stdin is not a JSON object", k_exit_usage);
        // A StateChanged payload, or any object with the same fields.
        for (auto it = j.begin(); it != j.end(); ++it) req[it.key()] = it.value();
    }
    auto c = connect_or_explain(g, true);
    if (!c) return k_exit_unreachable;
    req["cmd"] = "rules_test";
    auto r = c->request(req);
    if (!r) return fail(r.error().message);
    if (as_json) {
        std::cout << r->dump(2) << "\n";
        return 0;
    }
    print_verdicts(*r);
    return 0;
}

struct RulesTestArgs {
    std::string session, from, to, tool, input, message;
    double previous = -1;
    bool attached = false, from_stdin = false, as_json = false;

    json request() const {
        json req = json::object();
        if (!session.empty()) req["session"] = session_ref(session);
        if (!from.empty()) req["from"] = from;
        if (!to.empty()) req["to"] = to;
        if (!tool.empty()) req["tool"] = tool;
        if (!input.empty()) req["tool_input"] = {{"command", input}};
        if (!message.empty()) req["message"] = message;
        if (previous >= 0) req["previous_s"] = previous;
        req["attached"] = attached;
        return req;
    }
};

void add_rules_command(CLI::App& app, Cli& cli) {
    auto t = std::make_shared<RulesTestArgs>();
    auto* rules = app.add_subcommand("rules", "The notification rules");
    rules->require_subcommand(1);
    auto* rtest = rules->add_subcommand("test", "Dry-run a transition through the rules: what would be sent (nothing is)");
    rtest->add_option("-s,--session", t->session, "Take name, cwd, agent and current state from this session");
    rtest->add_option("--from", t->from, "The previous state");
    rtest->add_option("--to", t->to, "The new state (needs_permission, needs_answer, idle, ...)");
    rtest->add_option("--tool", t->tool, "The tool waited for");
    rtest->add_option("--input", t->input, "The tool's command (tool_input.command)");
    rtest->add_option("-m,--message", t->message, "The agent's message");
    rtest->add_option("--previous", t->previous, "Seconds spent in the previous state");
    rtest->add_flag("--attached", t->attached, "As if a client were attached");
    rtest->add_flag("--stdin", t->from_stdin, "Read the transition as JSON on stdin (e.g. a StateChanged payload)");
    rtest->add_flag("--json", t->as_json, "Machine-readable output");
    rtest->callback([&cli, t] { cli.rc = cmd_rules_test(cli.g, t->request(), t->from_stdin, t->as_json); });
}

}  // namespace

void add_config_commands(CLI::App& app, Cli& cli) {
    auto config_file = std::make_shared<std::string>();
    auto* config = app.add_subcommand("config", "Check or reload the configuration");
    config->require_subcommand(1);
    auto* check = config->add_subcommand("check", "Check a configuration file: every error with file:line:column");
    check->add_option("file", *config_file, "The file (default: the daemon's, see --config)");
    check->callback([&cli, config_file] { cli.rc = cmd_config_check(cli.g, *config_file); });
    config->add_subcommand("reload", "Make the daemon re-read its configuration (kept as it was if invalid)")->callback([&cli] {
        cli.rc = cmd_simple(cli.g, {{"cmd", "config_reload"}}, [](const json& r) { std::printf("reloaded %s\n", r["path"].get<std::string>().c_str()); });
    });
    add_rules_command(app, cli);
}

}  // namespace tether
