// CLI: `tether doctor` (holders no daemon adopted, looked at directly through
// holder_survey.h, and the two repairs) and `tether admin rebuild|verify` (the
// projections against a fold of the whole log).
#include <cstdio>
#include <map>

#include "commands.h"
#include "holder_survey.h"
#include "log_recovery_cli.h"
#include "wire/holder_link.h"

namespace tether {

namespace {

using nlohmann::json;

int doctor_adopt(Result<Client>& c, int64_t adopt) {
    if (!c) return fail("adopting needs the daemon: tether daemon start adopts every holder of its sessions", k_exit_unreachable);
    auto r = c->request({{"cmd", "adopt"}, {"session", adopt}});
    if (!r) return fail(r.error().message);
    int64_t id = r->value("session", adopt);
    if (id == adopt) std::printf("session %lld adopted\n", static_cast<long long>(adopt));
    else std::printf("the orphaned holder of session %lld is now session %lld\n", static_cast<long long>(adopt), static_cast<long long>(id));
    return 0;
}

int doctor_end(Result<Client>& c, const std::string& dir, int64_t end) {
    if (c) {
        auto ls = c->request({{"cmd", "ls"}});
        if (ls)
            for (const auto& s : (*ls)["sessions"])
                if (s["id"] == end && s.contains("holder_pid"))
                    return fail("session " + std::to_string(end) + " is live in the daemon: use tether kill " + std::to_string(end));
    }
    if (auto s = end_holder(holder_socket_path(dir, end), 2000); !s) return fail("ending the holder of session " + std::to_string(end) + ": " + s.error().message);
    std::printf("ended the program of holder %lld; its holder is gone\n", static_cast<long long>(end));
    return 0;
}

// One holder's line (and, for an orphan, what to do); true if it is a problem.
bool print_holder(const HolderReport& r, bool daemon_running, const std::map<int64_t, std::string>& reasons) {
    if (r.status == HolderReport::Status::Connected) {
        std::printf("  session %-5lld adopted by the daemon\n", static_cast<long long>(r.session));
        return false;
    }
    if (r.status == HolderReport::Status::Dead) {
        std::printf("  session %-5lld DEAD: nothing answers %s (%s)\n", static_cast<long long>(r.session), r.socket.c_str(),
                    r.detail.c_str());
        return true;
    }
    const HolderHello& h = r.hello;
    std::string program = h.exited ? (h.signaled ? "ended by signal " + std::to_string(h.code) : "exited with code " + std::to_string(h.code))
                                   : "running";
    std::printf("  session %-5lld holder pid %d, program pid %d %s, %llu bytes not yet logged, state %s\n",
                static_cast<long long>(r.session), h.holder_pid, h.agent_pid, program.c_str(),
                static_cast<unsigned long long>(h.produced - h.acked), h.state_dir.c_str());
    if (!daemon_running) return false;
    auto why = reasons.find(r.session);
    std::printf("      ORPHANED: %s\n      tether doctor --adopt %lld   or   tether doctor --end %lld\n",
                why != reasons.end() ? why->second.c_str() : "the daemon has not adopted it",
                static_cast<long long>(r.session), static_cast<long long>(r.session));
    return true;
}

// Holders nobody adopted, dead holder sockets, and the two repairs.
int cmd_doctor(const Globals& g, int64_t adopt, int64_t end) {
    const std::string dir = holders_dir_for(g.paths().socket_path);
    auto c = Client::connect(g.paths(), false);
    if (adopt > 0) return doctor_adopt(c, adopt);
    if (end > 0) return doctor_end(c, dir, end);
    std::map<int64_t, std::string> reasons;  // the daemon's word on holders it did not adopt
    std::printf("holders directory: %s\n", dir.c_str());
    if (c) {
        auto st = c->request({{"cmd", "status"}});
        auto h = c->request({{"cmd", "holders"}});
        if (st) std::printf("daemon: running, pid %lld\n", static_cast<long long>((*st)["pid"].get<int64_t>()));
        if (h)
            for (const auto& o : (*h)["orphans"]) reasons[o["session"].get<int64_t>()] = o["reason"].get<std::string>();
    } else {
        std::printf("daemon: not running (its next start adopts the holders of its live sessions)\n");
    }
    int problems = 0;
    for (const auto& r : survey_holders(dir)) problems += print_holder(r, static_cast<bool>(c), reasons);
    std::printf(problems ? "%d problem%s found\n" : "no problems found\n", problems, problems == 1 ? "" : "s");
    return problems ? k_exit_failed : 0;
}

int cmd_admin(const Globals& g, const std::string& what) {
    auto c = connect_or_explain(g, true);
    if (!c) return k_exit_unreachable;
    if (what == "rebuild") {
        auto r = c->request({{"cmd", "rebuild"}});
        if (!r) return fail(r.error().message);
        std::printf("rebuilt projections from %lld events: %zu sessions\n",
                    static_cast<long long>((*r)["events"].get<int64_t>()), (*r)["sessions"].get<size_t>());
        return 0;
    }
    auto r = c->request({{"cmd", "verify"}});
    if (!r) return fail(r.error().message);
    bool ok = (*r)["live_matches"].get<bool>() && (*r)["tables_match"].get<bool>();
    std::printf("%s: a rebuild from %lld events %s the live projections (%zu sessions)\n", ok ? "ok" : "MISMATCH",
                static_cast<long long>((*r)["events"].get<int64_t>()), ok ? "equals" : "differs from",
                (*r)["sessions"].get<size_t>());
    return ok ? 0 : k_exit_failed;
}

struct DoctorOptions {
    int64_t adopt = 0, end = 0;
};

}  // namespace

void add_doctor_commands(CLI::App& app, Cli& cli) {
    auto o = std::make_shared<DoctorOptions>();
    auto* doctor = app.add_subcommand("doctor", "Find holders no daemon adopted (orphans) and adopt or end them");
    doctor->add_option("--adopt", o->adopt, "Ask the daemon to adopt the holder of this session");
    doctor->add_option("--end", o->end, "End the program of this orphaned holder (its unlogged output is discarded)");
    doctor->callback([&cli, o] { cli.rc = cmd_doctor(cli.g, o->adopt, o->end); });

    auto* admin = app.add_subcommand("admin", "Maintenance of the event log and its projections");
    admin->require_subcommand(1);
    admin->add_subcommand("rebuild", "Rebuild every projection from the first event")->callback([&cli] { cli.rc = cmd_admin(cli.g, "rebuild"); });
    admin->add_subcommand("verify", "Check that a rebuild equals the live projections")->callback([&cli] { cli.rc = cmd_admin(cli.g, "verify"); });
    admin->add_subcommand("recover", "With the daemon stopped: copy every readable event of a damaged log into a new one")
        ->callback([&cli] { cli.rc = admin_recover(cli.g.paths()); });
}

}  // namespace tether
