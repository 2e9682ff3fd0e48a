// The command groups of the tether CLI, one file each (as tmux has cmd-*.c): each adds
// its subcommands, their options and callbacks to the app. tether_main.cc calls them in
// the order of this list, which is the order `tether --help` shows.
#pragma once

#include <CLI/CLI.hpp>

#include "cli_common.h"

namespace tether {

// Adds a group's subcommands to app. Their callbacks set cli.rc; the options they
// parse into live as long as the app (the callbacks own them).
using CommandGroup = void (*)(CLI::App& app, Cli& cli);

void add_daemon_commands(CLI::App& app, Cli& cli);      // daemon_cli.cc: daemon start|stop|restart|status
void add_session_commands(CLI::App& app, Cli& cli);     // session_cli.cc: ls mark run attach detach send kill screen
void add_recording_commands(CLI::App& app, Cli& cli);   // recording_cli.cc: timeline export replay grep gc
void add_hooks_commands(CLI::App& app, Cli& cli);       // hooks_cli.cc: pending approve deny notify wait ack hook hooks
void add_config_commands(CLI::App& app, Cli& cli);      // config_cli.cc: config check|reload, rules test
void add_doctor_commands(CLI::App& app, Cli& cli);      // doctor_cli.cc: doctor, admin rebuild|verify|recover

}  // namespace tether
