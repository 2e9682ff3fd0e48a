// tether: the command-line client. Each subcommand is a request to the daemon; the
// groups of subcommands are in their own files (commands.h). This file has the global
// options, the table of groups, --help and --version, and the exit codes: 0 success;
// 1 the command failed (message on stderr); 2 usage error; 3 the daemon is not running
// or not reachable.
#include <CLI/CLI.hpp>

#include "commands.h"

using namespace tether;

namespace {

constexpr CommandGroup k_groups[] = {
    add_daemon_commands, add_session_commands, add_recording_commands,
    add_hooks_commands, add_config_commands, add_doctor_commands,
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tether: run coding agents in the background, within reach."};
    app.require_subcommand(1);
    app.set_version_flag("--version", "tether " TETHER_VERSION);
    app.footer("Exit codes: 0 success, 1 failure, 2 usage error, 3 daemon not reachable.");
    Cli cli;
    app.add_option("--state-dir", cli.g.state_dir, "State directory (default $TETHER_STATE_DIR, else $XDG_STATE_HOME/tether)");
    app.add_option("--socket", cli.g.socket, "Control socket (default $TETHER_SOCKET, else $XDG_RUNTIME_DIR/tether/tetherd.sock)");
    app.add_option("--config", cli.g.config, "Configuration for a daemon this command starts (default $TETHER_CONFIG, else $XDG_CONFIG_HOME/tether/config.yaml)");
    for (CommandGroup add : k_groups) add(app, cli);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? 0 : k_exit_usage;
    }
    return cli.rc;
}
