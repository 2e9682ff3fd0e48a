// CLI: `tether daemon start|stop|restart|status`: the daemon's life, seen from outside.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "base/lock_file.h"
#include "commands.h"

namespace tether {

namespace {

using nlohmann::json;

int cmd_daemon_start(const Globals& g) {
    if (auto c = Client::connect(g.paths(), false)) {
        auto st = c->request({{"cmd", "status"}});
        if (st) std::printf("tetherd already running (pid %lld)\n", static_cast<long long>((*st)["pid"].get<int64_t>()));
        return 0;
    }
    if (auto s = start_daemon(g.paths()); !s) return fail(s.error().message);
    auto c = Client::connect(g.paths(), false);
    if (!c) return fail(c.error().message, k_exit_unreachable);
    auto st = c->request({{"cmd", "status"}});
    if (!st) return fail(st.error().message);
    std::printf("tetherd started (pid %lld), log: %s\n", static_cast<long long>((*st)["pid"].get<int64_t>()),
                g.paths().daemon_log().c_str());
    return 0;
}

int cmd_daemon_stop(const Globals& g, bool end_sessions) {
    auto c = Client::connect(g.paths(), false);
    if (!c) {
        std::printf("tetherd is not running\n");
        return 0;
    }
    auto st = c->request({{"cmd", "status"}});
    if (!st) return fail(st.error().message);
    auto r = c->request({{"cmd", "stop"}, {"end_sessions", end_sessions}});
    if (!r) return fail(r.error().message);
    // Wait for the daemon to let go of its socket, bounded.
    for (int i = 0; i < 200; ++i) {
        if (!Client::connect(g.paths(), false)) {
            std::printf("tetherd stopped (pid %lld)", static_cast<long long>((*st)["pid"].get<int64_t>()));
            int64_t kept = r->value("sessions_kept", int64_t(0));
            if (kept > 0)
                std::printf("; %lld session%s keep%s running in %s holder%s (the next start adopts them; "
                            "stop --end-sessions ends them)",
                            static_cast<long long>(kept), kept == 1 ? "" : "s", kept == 1 ? "s" : "", kept == 1 ? "its" : "their",
                            kept == 1 ? "" : "s");
            std::printf("\n");
            return 0;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return fail("tetherd did not stop within 10 s");
}

// Stop and start again: the new daemon (perhaps a newly installed binary) adopts every
// session from its holder.
int cmd_daemon_restart(const Globals& g) {
    if (int rc = cmd_daemon_stop(g, false); rc != 0) return rc;
    // The socket goes first; the state lock is free once the old process has exited.
    for (int i = 0; i < 200 && !LockFile::acquire(g.paths().lock_file()); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (auto s = start_daemon(g.paths()); !s) return fail(s.error().message);
    auto c = Client::connect(g.paths(), false);
    if (!c) return fail(c.error().message, k_exit_unreachable);
    auto st = c->request({{"cmd", "status"}});
    auto ls = c->request({{"cmd", "ls"}});
    if (!st || !ls) return fail((!st ? st.error() : ls.error()).message);
    size_t adopted = 0;
    for (const auto& s : (*ls)["sessions"]) adopted += s.contains("holder_pid");
    std::printf("tetherd started (pid %lld); adopted %zu session%s\n", static_cast<long long>((*st)["pid"].get<int64_t>()),
                adopted, adopted == 1 ? "" : "s");
    return 0;
}

int cmd_daemon_status(const Globals& g, bool as_json) {
    auto c = Client::connect(g.paths(), false);
    if (!c) {
        if (as_json) std::printf("{\"running\":false}\n");
        else std::printf("tetherd is not running (socket %s)\n", g.paths().socket_path.c_str());
        return k_exit_unreachable;
    }
    auto st = c->request({{"cmd", "status"}});
    if (!st) return fail(st.error().message);
    if (as_json) {
        (*st)["running"] = true;
        st->erase("ok");
        st->erase("id");
        std::cout << st->dump() << "\n";
        return 0;
    }
    std::printf("tetherd %s running, pid %lld\n  state dir: %s\n  socket:    %s\n  events:    %lld\n  sessions:  %zu\n",
                (*st)["version"].get<std::string>().c_str(), static_cast<long long>((*st)["pid"].get<int64_t>()),
                (*st)["state_dir"].get<std::string>().c_str(), (*st)["socket"].get<std::string>().c_str(),
                static_cast<long long>((*st)["events"].get<int64_t>()), (*st)["sessions"].get<size_t>());
    warn_log_health(*st, stdout);
    return 0;
}

struct DaemonOptions {
    bool end_sessions = false;
    bool as_json = false;
};

}  // namespace

void add_daemon_commands(CLI::App& app, Cli& cli) {
    auto o = std::make_shared<DaemonOptions>();
    auto* daemon = app.add_subcommand("daemon", "Start, stop or inspect the daemon");
    daemon->require_subcommand(1);
    daemon->add_subcommand("start", "Start the daemon in the background")->callback([&cli] { cli.rc = cmd_daemon_start(cli.g); });
    auto* stop = daemon->add_subcommand("stop", "Stop the daemon (the event log is flushed; sessions keep running in their holders)");
    stop->add_flag("--end-sessions", o->end_sessions, "Hang up every session first (SIGHUP, then SIGKILL after 3 s)");
    stop->callback([&cli, o] { cli.rc = cmd_daemon_stop(cli.g, o->end_sessions); });
    daemon->add_subcommand("restart", "Stop and start the daemon; the new one adopts every session")->callback([&cli] { cli.rc = cmd_daemon_restart(cli.g); });
    auto* status = daemon->add_subcommand("status", "Is the daemon running? (exit 3 when not)");
    status->add_flag("--json", o->as_json, "Machine-readable output");
    status->callback([&cli, o] { cli.rc = cmd_daemon_status(cli.g, o->as_json); });
}

}  // namespace tether
