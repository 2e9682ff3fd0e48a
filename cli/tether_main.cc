// tether: the command-line client. Each subcommand is a request to the daemon.
// Exit codes: 0 success; 1 the command failed (message on stderr); 2 usage error;
// 3 the daemon is not running or not reachable.
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include "attach_client.h"
#include "agent/claude_settings.h"
#include "config/config.h"
#include "base/event_loop.h"
#include "notify/plugin_host.h"
#include "notify/rules.h"
#include "wire/client.h"
#include "wire/holder_link.h"
#include "base/clock.h"
#include "base/lock_file.h"
#include "holder_survey.h"
#include "base/paths.h"
#include "recording_cli.h"

using namespace tether;
using nlohmann::json;

namespace {

constexpr int k_exit_failed = 1;
constexpr int k_exit_usage = 2;
constexpr int k_exit_unreachable = 3;

struct Globals {
    std::string state_dir;
    std::string socket;
    std::string config;
    Paths paths() const { return resolve_paths(state_dir, socket, config); }
};

int fail(const std::string& message, int code = k_exit_failed) {
    std::fprintf(stderr, "tether: %s\n", message.c_str());
    return code;
}

std::string human_duration(int64_t us) {
    int64_t s = us / 1000000;
    if (s < 0) s = 0;
    if (s < 60) return std::to_string(s) + "s";
    if (s < 3600) return std::to_string(s / 60) + "m";
    if (s < 86400) return std::to_string(s / 3600) + "h" + std::to_string(s % 3600 / 60) + "m";
    return std::to_string(s / 86400) + "d" + std::to_string(s % 86400 / 3600) + "h";
}

std::string human_bytes(int64_t n) {
    const char* units[] = {"B", "K", "M", "G", "T"};
    double v = static_cast<double>(n);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s" : "%.1f%s", v, units[u]);
    return buf;
}

std::string join_command(const json& cmd) {
    std::string out;
    for (const auto& part : cmd) {
        if (!out.empty()) out += ' ';
        std::string s = part.get<std::string>();
        bool plain = !s.empty() && s.find_first_of(" \t\"'\\$`") == std::string::npos;
        out += plain ? s : "'" + s + "'";
    }
    return out;
}

// Connects, or explains why not with exit code 3.
Result<Client> connect_or_explain(const Globals& g, bool autostart) {
    auto c = Client::connect(g.paths(), autostart);
    if (!c) std::fprintf(stderr, "tether: %s\n", c.error().message.c_str());
    return c;
}

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

// Holders nobody adopted, dead holder sockets, and the two repairs.
int cmd_doctor(const Globals& g, int64_t adopt, int64_t end) {
    const std::string dir = holders_dir_for(g.paths().socket_path);
    auto c = Client::connect(g.paths(), false);
    if (adopt > 0) {
        if (!c) return fail("adopting needs the daemon: tether daemon start adopts every holder of its sessions", k_exit_unreachable);
        auto r = c->request({{"cmd", "adopt"}, {"session", adopt}});
        if (!r) return fail(r.error().message);
        int64_t id = r->value("session", adopt);
        if (id == adopt) std::printf("session %lld adopted\n", static_cast<long long>(adopt));
        else std::printf("the orphaned holder of session %lld is now session %lld\n", static_cast<long long>(adopt), static_cast<long long>(id));
        return 0;
    }
    if (end > 0) {
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
    for (const auto& r : survey_holders(dir)) {
        if (r.status == HolderReport::Status::Connected) {
            std::printf("  session %-5lld adopted by the daemon\n", static_cast<long long>(r.session));
            continue;
        }
        if (r.status == HolderReport::Status::Dead) {
            ++problems;
            std::printf("  session %-5lld DEAD: nothing answers %s (%s)\n", static_cast<long long>(r.session), r.socket.c_str(),
                        r.detail.c_str());
            continue;
        }
        const HolderHello& h = r.hello;
        std::string program = h.exited ? (h.signaled ? "ended by signal " + std::to_string(h.code) : "exited with code " + std::to_string(h.code))
                                       : "running";
        std::printf("  session %-5lld holder pid %d, program pid %d %s, %llu bytes not yet logged, state %s\n",
                    static_cast<long long>(r.session), h.holder_pid, h.agent_pid, program.c_str(),
                    static_cast<unsigned long long>(h.produced - h.acked), h.state_dir.c_str());
        if (c) {
            ++problems;
            auto why = reasons.find(r.session);
            std::printf("      ORPHANED: %s\n      tether doctor --adopt %lld   or   tether doctor --end %lld\n",
                        why != reasons.end() ? why->second.c_str() : "the daemon has not adopted it",
                        static_cast<long long>(r.session), static_cast<long long>(r.session));
        }
    }
    std::printf(problems ? "%d problem%s found\n" : "no problems found\n", problems, problems == 1 ? "" : "s");
    return problems ? k_exit_failed : 0;
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
    return 0;
}

// What a session waits for, for the WAITING FOR column: the tool and its command or file,
// else the question or the agent's last message.
std::string waiting_for(const json& s) {
    if (s.contains("waiting_tool")) {
        json in = s.value("waiting_input", json());
        std::string detail;
        for (const char* key : {"command", "file_path"})
            if (detail.empty() && in.is_object() && in.contains(key) && in[key].is_string()) detail = in[key].get<std::string>();
        return s["waiting_tool"].get<std::string>() + (detail.empty() ? "" : ": " + detail);
    }
    std::string state = s.value("state", "");
    if ((state == "needs_answer" || state == "idle") && s.contains("message")) return s["message"].get<std::string>();
    return "";
}

int cmd_ls(const Globals& g, bool as_json, bool all) {
    auto c = connect_or_explain(g, true);
    if (!c) return k_exit_unreachable;
    auto r = c->request({{"cmd", "ls"}});
    if (!r) return fail(r.error().message);
    json sessions = json::array();
    for (auto& s : (*r)["sessions"])
        if (all || (s["state"] != "exited" && s["state"] != "failed")) sessions.push_back(s);
    if (as_json) {
        std::cout << sessions.dump(2) << "\n";
        return 0;
    }
    if (sessions.empty()) {
        std::printf(all ? "no sessions\n" : "no live sessions (tether ls --all shows ended ones)\n");
        return 0;
    }
    int64_t now = now_us();
    std::printf("%-5s %-16s %-16s %-7s %-7s %-8s %-8s %-30s %s\n", "ID", "NAME", "STATE", "AGE", "ACTIVE", "OUT",
                "HOLDER", "COMMAND", "WAITING FOR / CWD");
    for (auto& s : sessions) {
        std::string state = s["state"].get<std::string>();
        if (s.contains("exit_code")) state += "(" + std::to_string(s["exit_code"].get<int>()) + ")";
        if (s.contains("exit_signal")) state += "(sig" + std::to_string(s["exit_signal"].get<int>()) + ")";
        std::string cmd = s.value("external", false) ? "(external " + s["agent"].get<std::string>() + ")" : join_command(s["command"]);
        if (cmd.size() > 30) cmd = cmd.substr(0, 27) + "...";
        // What the session waits for, where it waits; else where it runs.
        std::string where = waiting_for(s);
        if (where.empty()) where = s["cwd"].get<std::string>();
        if (where.size() > 60) where = where.substr(0, 57) + "...";
        // The process that holds the session's terminal; "-" once it has ended (or for
        // an external session, whose agent runs elsewhere).
        std::string holder = s.contains("holder_pid") ? std::to_string(s["holder_pid"].get<int64_t>()) : "-";
        std::printf("%-5lld %-16s %-16s %-7s %-7s %-8s %-8s %-30s %s\n", static_cast<long long>(s["id"].get<int64_t>()),
                    s["name"].get<std::string>().c_str(), state.c_str(),
                    human_duration(now - s["started_us"].get<int64_t>()).c_str(),
                    human_duration(now - s["last_activity_us"].get<int64_t>()).c_str(),
                    human_bytes(s["bytes_out"].get<int64_t>()).c_str(), holder.c_str(), cmd.c_str(), where.c_str());
    }
    return 0;
}

// `tether ls --fleet`: every host's sessions, from the fleet stream.
int cmd_ls_fleet(const Globals& g, bool as_json, bool all) {
    auto c = connect_or_explain(g, true);
    if (!c) return k_exit_unreachable;
    auto r = c->request({{"cmd", "fleet_ls"}});
    if (!r) return fail(r.error().message);
    if (as_json) {
        std::cout << r->dump(2) << "\n";
        return 0;
    }
    const json& f = (*r)["fleet"];
    int64_t now = now_us();
    std::printf("fleet: this host %s, %s (%s ago), stream %s\n", f["host"].get<std::string>().c_str(),
                f["connected"].get<bool>() ? "connected" : ("not connected: " + f["link"].get<std::string>()).c_str(),
                human_duration(now - f["link_since_us"].get<int64_t>()).c_str(), f["stream"].get<std::string>().c_str());
    if (std::string e = f.value("server_error", ""); !e.empty()) std::printf("  the server says: %s\n", e.c_str());
    if (std::string e = f["published"].value("last_error", ""); !e.empty()) std::printf("  publishing: %s\n", e.c_str());
    const json& sk = f["skipped"];
    int64_t skipped = sk["repeated"].get<int64_t>() + sk["older_epoch"].get<int64_t>() + sk["unknown_host"].get<int64_t>() + sk["malformed"].get<int64_t>();
    if (skipped) std::printf("  skipped %lld stream messages; last: %s\n", static_cast<long long>(skipped), sk["last_reason"].get<std::string>().c_str());
    if ((*r)["hosts"].empty()) std::printf("no host has published yet\n");
    for (const auto& h : (*r)["hosts"]) {
        // A host whose daemon's start has left the stream (max_age) has no daemon fact.
        int64_t since = h["daemon_since_us"].get<int64_t>();
        std::string daemon = since == 0 ? "daemon ?" : std::string("daemon ") + (h["daemon_up"].get<bool>() ? "started " : "stopped ") +
                                                           human_duration(now - since) + " ago";
        std::printf("\n%s%s: %s, last fact %s ago\n", h["host"].get<std::string>().c_str(), h["self"].get<bool>() ? " (this host)" : "",
                    daemon.c_str(), human_duration(now - h["last_time_us"].get<int64_t>()).c_str());
        size_t shown = 0;
        for (const auto& s : h["sessions"]) {
            std::string state = s["state"].get<std::string>();
            if (!all && (state == "exited" || state == "failed")) continue;
            if (shown++ == 0) std::printf("  %-5s %-16s %-16s %-7s %s\n", "ID", "NAME", "STATE", "AGE", "WAITING FOR / CWD");
            std::string where = waiting_for(s);
            if (where.empty()) where = s["cwd"].get<std::string>();
            if (where.size() > 60) where = where.substr(0, 57) + "...";
            std::printf("  %-5lld %-16s %-16s %-7s %s\n", static_cast<long long>(s["id"].get<int64_t>()), s["name"].get<std::string>().c_str(),
                        state.c_str(), human_duration(now - s["started_us"].get<int64_t>()).c_str(), where.c_str());
        }
        if (!shown) std::printf("  no %ssessions\n", all ? "" : "live ");
    }
    return 0;
}

int cmd_mark(const Globals& g, const std::string& session, const std::string& text) {
    auto c = connect_or_explain(g, true);
    if (!c) return k_exit_unreachable;
    json req{{"cmd", "mark"}, {"text", text}};
    if (!session.empty()) req["session"] = session;
    auto r = c->request(req);
    if (!r) return fail(r.error().message);
    std::printf("%lld\n", static_cast<long long>((*r)["seq"].get<int64_t>()));
    return 0;
}

// "120x40" -> (120, 40)
std::optional<std::pair<int, int>> parse_size(const std::string& s) {
    int cols = 0, rows = 0;
    char x = 0, extra = 0;
    if (std::sscanf(s.c_str(), "%d%c%d%c", &cols, &x, &rows, &extra) != 3 || (x != 'x' && x != 'X')) return std::nullopt;
    if (cols < 1 || rows < 1 || cols > 1000 || rows > 1000) return std::nullopt;
    return std::make_pair(cols, rows);
}

// The detach key from --detach-key or $TETHER_DETACH_KEY; nullopt inside means "the
// daemon's configured key"; an outer nullopt is an invalid spec.
std::optional<std::optional<unsigned char>> detach_key_from(const std::string& flag) {
    std::string spec = flag;
    if (spec.empty())
        if (const char* env = std::getenv("TETHER_DETACH_KEY")) spec = env;
    if (spec.empty()) return std::optional<unsigned char>{};
    auto key = parse_detach_key(spec);
    if (!key) return std::nullopt;
    return key;
}

// A string that names a session: all digits is an id (sent as a number), else a name.
json session_ref(const std::string& s) {
    if (!s.empty() && s.size() < 18 && s.find_first_not_of("0123456789") == std::string::npos) return std::stoll(s);
    return s;
}

struct RunArgs {
    std::string name, cwd, size, detach_key;
    std::vector<std::string> env, command;
    bool attach = false, detach = false, as_json = false;
};

int cmd_run(const Globals& g, const RunArgs& a) {
    if (a.command.empty()) return fail("run: no command given (tether run [options] -- CMD [ARGS...])", k_exit_usage);
    if (a.attach && a.detach) return fail("run: --attach and --detach exclude each other", k_exit_usage);
    auto key = detach_key_from(a.detach_key);
    if (!key) return fail("run: invalid detach key \"" + a.detach_key + "\" (use ^X, e.g. ^\\ or ^])", k_exit_usage);
    int cols = 80, rows = 24;
    if (!a.size.empty()) {
        auto sz = parse_size(a.size);
        if (!sz) return fail("run: invalid size \"" + a.size + "\" (want COLSxROWS, each 1 to 1000)", k_exit_usage);
        std::tie(cols, rows) = *sz;
    } else {
        winsize ws{};
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
            cols = ws.ws_col;
            rows = ws.ws_row;
        }
    }
    json env = json::array();
    for (char** e = environ; *e; ++e) env.push_back(*e);
    for (const auto& kv : a.env) {
        if (kv.find('=') == std::string::npos || kv[0] == '=')
            return fail("run: --env wants K=V, got \"" + kv + "\"", k_exit_usage);
        env.push_back(kv);  // later entries win: execve takes the first, so dedupe below
    }
    // Keep the last value of each variable.
    std::map<std::string, std::string> merged;
    std::vector<std::string> order;
    for (const auto& kv : env) {
        std::string s = kv.get<std::string>();
        std::string k = s.substr(0, s.find('='));
        if (!merged.count(k)) order.push_back(k);
        merged[k] = s;
    }
    json final_env = json::array();
    for (const auto& k : order) final_env.push_back(merged[k]);

    std::error_code ec;
    std::string cwd = a.cwd.empty() ? std::filesystem::current_path(ec).string() : std::filesystem::absolute(a.cwd, ec).string();
    if (!a.cwd.empty() && !std::filesystem::is_directory(cwd, ec)) return fail("run: --cwd " + a.cwd + ": not a directory");

    auto c = connect_or_explain(g, true);
    if (!c) return k_exit_unreachable;
    mode_t mask = umask(0);  // read it: umask has no getter
    umask(mask);
    json req{{"cmd", "run"}, {"argv", a.command}, {"env", final_env}, {"cwd", cwd}, {"cols", cols}, {"rows", rows},
             {"umask", static_cast<int>(mask)}};
    if (!a.name.empty()) req["name"] = a.name;
    auto r = c->request(req);
    if (!r) return fail(r.error().message);
    int64_t id = (*r)["session"].get<int64_t>();
    if (a.as_json) {
        std::cout << json{{"session", id}, {"name", (*r)["name"]}, {"pid", (*r)["pid"]}}.dump() << std::endl;
    } else {
        std::printf("session %lld (%s) started, pid %lld\n", static_cast<long long>(id),
                    (*r)["name"].get<std::string>().c_str(), static_cast<long long>((*r)["pid"].get<int64_t>()));
        std::fflush(stdout);
    }
    bool attach = a.attach || (!a.detach && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO));
    if (!attach) return 0;
    return attach_session(*c, id, AttachOptions{.read_only = false, .detach_key = *key});
}

int cmd_attach(const Globals& g, const std::string& session, bool read_only, const std::string& key_flag) {
    auto key = detach_key_from(key_flag);
    if (!key) return fail("attach: invalid detach key \"" + key_flag + "\" (use ^X, e.g. ^\\ or ^])", k_exit_usage);
    auto c = connect_or_explain(g, true);
    if (!c) return k_exit_unreachable;
    return attach_session(*c, session_ref(session), AttachOptions{.read_only = read_only, .detach_key = *key});
}

int cmd_simple(const Globals& g, json req, const std::function<void(const json&)>& print) {
    auto c = connect_or_explain(g, true);
    if (!c) return k_exit_unreachable;
    auto r = c->request(std::move(req));
    if (!r) return fail(r.error().message);
    if (print) print(*r);
    return 0;
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
        std::string request = p["request"].is_string() ? p["request"].get<std::string>() : std::to_string(p["request"].get<int64_t>());
        std::printf("%-14s %-5lld %-16s %-12s %-7s %s\n", request.c_str(),
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

int cmd_config_check(const Globals& g, const std::string& file) {
    std::string path = file.empty() ? g.paths().config_path : file;
    if (path.empty()) {
        std::printf("no configuration file (%s does not exist): the defaults apply\n", default_config_path().c_str());
        return 0;
    }
    auto config = load_config(path);
    if (!config) return fail(config.error().message);
    // Load every notifier's plugin and check its options, as the daemon will.
    EventLoop loop;
    PluginHost host(loop, PluginHostOptions{.search_path = plugin_search_path(config->plugin_path)});
    std::string errors;
    for (const auto& [name, n] : config->rules->notifiers) {
        PluginOptions options;
        for (const auto& o : n.options) options[o.key] = o.value;
        auto id = host.create(n.plugin, options, name);
        if (!id) errors += "\n  notifier " + name + ": " + id.error().message;
        else host.destroy(*id);
    }
    if (!errors.empty()) return fail(path + ": notifiers that cannot be loaded:" + errors);
    std::printf("%s: ok (%zu notifiers, %zu rules, %zu quiet-hours windows)\n", path.c_str(), config->rules->notifiers.size(),
                config->rules->rules.size(), config->rules->quiet_hours.size());
    for (const auto& [name, n] : config->rules->notifiers) std::printf("  %s\n", describe_notifier(n).c_str());
    return 0;
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
    auto& t = (*r)["transition"];
    std::printf("transition: %s %s -> %s%s\n", t["session"].get<std::string>().c_str(), t["from"].get<std::string>().c_str(),
                t["to"].get<std::string>().c_str(), t["tool"].get<std::string>().empty() ? "" : (" (" + t["tool"].get<std::string>() + ")").c_str());
    if (!(*r)["quiet_hours"].get<std::string>().empty()) std::printf("quiet hours: %s\n", (*r)["quiet_hours"].get<std::string>().c_str());
    bool any = false;
    for (auto& v : (*r)["verdicts"]) {
        std::printf("  %-24s %s%s\n", v["rule"].get<std::string>().c_str(),
                    v["decides"].get<bool>() ? "DECIDES" : v["matched"].get<bool>() ? "matches (an earlier rule decides)" : "no: ",
                    v["matched"].get<bool>() ? "" : v["why"].get<std::string>().c_str());
        for (auto& a : v["actions"]) std::printf("      would %s\n", a.get<std::string>().c_str());
        any = any || v["decides"].get<bool>();
    }
    if (!any) std::printf("no rule matches: nothing would be sent\n");
    return 0;
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

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tether: run coding agents in the background, within reach."};
    app.require_subcommand(1);
    app.set_version_flag("--version", "tether " TETHER_VERSION);
    app.footer("Exit codes: 0 success, 1 failure, 2 usage error, 3 daemon not reachable.");
    Globals g;
    app.add_option("--state-dir", g.state_dir, "State directory (default $TETHER_STATE_DIR, else $XDG_STATE_HOME/tether)");
    app.add_option("--socket", g.socket, "Control socket (default $TETHER_SOCKET, else $XDG_RUNTIME_DIR/tether/tetherd.sock)");
    app.add_option("--config", g.config, "Configuration for a daemon this command starts (default $TETHER_CONFIG, else $XDG_CONFIG_HOME/tether/config.yaml)");

    int rc = 0;
    bool as_json = false, all = false;

    auto* daemon = app.add_subcommand("daemon", "Start, stop or inspect the daemon");
    daemon->require_subcommand(1);
    daemon->add_subcommand("start", "Start the daemon in the background")->callback([&] { rc = cmd_daemon_start(g); });
    bool end_sessions = false;
    auto* stop = daemon->add_subcommand("stop", "Stop the daemon (the event log is flushed; sessions keep running in their holders)");
    stop->add_flag("--end-sessions", end_sessions, "Hang up every session first (SIGHUP, then SIGKILL after 3 s)");
    stop->callback([&] { rc = cmd_daemon_stop(g, end_sessions); });
    daemon->add_subcommand("restart", "Stop and start the daemon; the new one adopts every session")->callback([&] { rc = cmd_daemon_restart(g); });
    auto* status = daemon->add_subcommand("status", "Is the daemon running? (exit 3 when not)");
    status->add_flag("--json", as_json, "Machine-readable output");
    status->callback([&] { rc = cmd_daemon_status(g, as_json); });

    auto* ls = app.add_subcommand("ls", "List sessions");
    ls->add_flag("--json", as_json, "Machine-readable output (every field)");
    ls->add_flag("-a,--all", all, "Include sessions that have ended");
    bool fleet = false;
    ls->add_flag("--fleet", fleet, "Every host's sessions (config fleet:), from the fleet stream");
    ls->callback([&] { rc = fleet ? cmd_ls_fleet(g, as_json, all) : cmd_ls(g, as_json, all); });

    std::string mark_session, mark_text;
    auto* mark = app.add_subcommand("mark", "Add a note to the timeline (prints its seq)");
    mark->add_option("-s,--session", mark_session, "Session id or name the note belongs to");
    mark->add_option("text", mark_text, "The note")->required();
    mark->callback([&] { rc = cmd_mark(g, mark_session, mark_text); });

    RunArgs run_args;
    auto* run = app.add_subcommand("run", "Start a command in a new session (attaches when on a terminal)");
    run->add_option("-n,--name", run_args.name, "Session name (default: command-ID)");
    run->add_option("-C,--cwd", run_args.cwd, "Working directory (default: the current one)");
    run->add_option("-e,--env", run_args.env, "Extra environment K=V (repeatable)");
    run->add_option("-s,--size", run_args.size, "Terminal size COLSxROWS (default: this terminal's, else 80x24)");
    run->add_flag("-a,--attach", run_args.attach, "Attach even when not on a terminal");
    run->add_flag("-d,--detach", run_args.detach, "Start in the background, do not attach");
    run->add_flag("--json", run_args.as_json, "Print the new session as JSON");
    run->add_option("--detach-key", run_args.detach_key, "Detach key, e.g. ^\\ (default) or ^] ($TETHER_DETACH_KEY)");
    run->add_option("command", run_args.command, "The command and its arguments (after --)")->required();
    run->positionals_at_end();
    run->callback([&] { rc = cmd_run(g, run_args); });

    std::string session, key_flag, text, sig = "TERM";
    bool read_only = false, enter = false, ansi = false;
    auto* attach = app.add_subcommand("attach", "Attach this terminal to a session (detach with Ctrl-\\)");
    attach->add_option("session", session, "Session id or name")->required();
    attach->add_flag("-r,--read-only", read_only, "Watch only: keystrokes are not sent, the size is not changed");
    attach->add_option("--detach-key", key_flag, "Detach key, e.g. ^\\ (default) or ^] ($TETHER_DETACH_KEY)");
    attach->callback([&] { rc = cmd_attach(g, session, read_only, key_flag); });

    auto* detach = app.add_subcommand("detach", "Detach every client attached to a session");
    detach->add_option("session", session, "Session id or name")->required();
    detach->callback([&] {
        rc = cmd_simple(g, {{"cmd", "detach"}, {"session", session_ref(session)}}, [](const json& r) {
            std::printf("detached %d client(s)\n", r.value("detached", 0));
        });
    });

    auto* send = app.add_subcommand("send", "Type text into a session without attaching");
    send->add_option("session", session, "Session id or name")->required();
    send->add_option("text", text, "The text to type (escape sequences are sent as they are)");
    send->add_flag("--enter", enter, "Press Enter after the text (as a separate keystroke)");
    send->callback([&] { rc = cmd_simple(g, {{"cmd", "send"}, {"session", session_ref(session)}, {"data", text}, {"enter", enter}}, nullptr); });

    auto* kill = app.add_subcommand("kill", "Send a signal to a session's process group");
    kill->add_option("session", session, "Session id or name")->required();
    kill->add_option("--signal", sig, "Signal name or number (default TERM)");
    kill->callback([&] { rc = cmd_simple(g, {{"cmd", "kill"}, {"session", session_ref(session)}, {"signal", sig}}, nullptr); });

    auto* screen = app.add_subcommand("screen", "Print a session's screen, now or at a past moment");
    screen->add_option("session", session, "Session id or name")->required();
    screen->add_flag("--ansi", ansi, "With colours, attributes and modes, as a redraw");
    screen->add_flag("--json", as_json, "The screen and the cursor as JSON");
    std::string screen_at;
    int64_t screen_seq = 0;
    screen->add_option("--at", screen_at, "The screen as it was at this moment: an offset (90s, 1m30s) or a date and time");
    screen->add_option("--seq", screen_seq, "The screen as it was after this event (a seq from tether timeline or grep)");
    screen->callback([&] {
        json req{{"cmd", "screen"}, {"session", session_ref(session)}, {"ansi", ansi}};
        if (screen_seq > 0) req["seq"] = screen_seq;
        if (!screen_at.empty() && !add_moment(req, "at", screen_at)) {
            rc = fail("screen: --at: not a moment: \"" + screen_at + "\" (an offset like 90s or 1m30s, or YYYY-MM-DD HH:MM:SS)", k_exit_usage);
            return;
        }
        rc = cmd_simple(g, req, [&](const json& r) {
            if (as_json) {
                json out = r;
                out.erase("ok");
                out.erase("id");
                std::cout << out.dump() << "\n";
                return;
            }
            std::string text = r["screen"].get<std::string>();
            std::fwrite(text.data(), 1, text.size(), stdout);
            if (!ansi && (text.empty() || text.back() != '\n')) std::fputc('\n', stdout);
        });
    });

    // Recordings: the log played back (recording_cli.h).
    std::string export_format = "asciicast", export_out;
    ReplayArgs replay_args;
    auto* timeline = app.add_subcommand("timeline", "What happened in a session, with times: states, hooks, answers, notifications, markers");
    timeline->add_option("session", session, "Session id or name")->required();
    timeline->add_flag("--json", as_json, "One JSON object per line");
    timeline->callback([&] { rc = cli_timeline(g.paths(), session_ref(session), as_json); });
    auto* exp = app.add_subcommand("export", "Write a session's recording in another format");
    exp->add_option("session", session, "Session id or name")->required();
    exp->add_option("--format", export_format, "asciicast (v2, for asciinema)")->check(CLI::IsMember({"asciicast"}));
    exp->add_option("-o,--output", export_out, "Write to this file (default: stdout)");
    exp->callback([&] { rc = cli_export(g.paths(), session_ref(session), export_format, export_out); });
    auto* replay = app.add_subcommand("replay", "Play a session's output again with its timing (space pause, n next moment, +/- speed, q quit)");
    replay->add_option("session", session, "Session id or name")->required();
    replay->add_option("--from", replay_args.from, "Start at this moment: an offset (90s, 1m30s) or a date and time");
    replay->add_option("--to", replay_args.to, "Stop at this moment");
    replay->add_option("--speed", replay_args.speed, "Playback speed (default 1)");
    replay->add_option("--max-idle", replay_args.max_idle_s, "Shorten pauses longer than this many seconds");
    replay->callback([&] { rc = cli_replay(g.paths(), session_ref(session), replay_args); });

    std::string grep_pattern, grep_session;
    auto* grep = app.add_subcommand("grep", "Search every recorded session's screens (rendered text, not escapes)");
    grep->add_option("pattern", grep_pattern, "Words to find (a phrase; case does not matter)")->required();
    grep->add_option("-s,--session", grep_session, "Only this session");
    grep->add_flag("--json", as_json, "The hits as JSON");
    grep->callback([&] {
        json req{{"cmd", "grep"}, {"pattern", grep_pattern}};
        if (!grep_session.empty()) req["session"] = session_ref(grep_session);
        rc = cmd_simple(g, req, [&](const json& r) {
            if (as_json) {
                std::cout << r["hits"].dump() << "\n";
                return;
            }
            for (const auto& h : r["hits"]) {
                time_t secs = static_cast<time_t>(h["time_us"].get<int64_t>() / 1000000);
                char when[32];
                std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::localtime(&secs));
                std::printf("%s (%lld)  %s  --seq %lld%s  %s\n", h["name"].get<std::string>().c_str(),
                            static_cast<long long>(h["session"].get<int64_t>()), when,
                            static_cast<long long>(h["seq"].get<int64_t>()), h["on_screen"].get<bool>() ? "" : " (scrolled off by then)",
                            h["line"].get<std::string>().c_str());
            }
            if (r["hits"].empty()) std::printf("no match\n");
        });
    });

    double gc_age_days = -1, gc_total_mib = -1;
    bool gc_dry = false;
    auto* gc = app.add_subcommand("gc", "Prune old recordings of ended sessions (config retention:, or these limits)");
    gc->add_option("--max-age", gc_age_days, "Prune sessions ended more than this many days ago");
    gc->add_option("--max-total", gc_total_mib, "Then prune the oldest until all recordings fit in this many MiB");
    gc->add_flag("-n,--dry-run", gc_dry, "Only say what would be pruned");
    gc->callback([&] {
        json req{{"cmd", "gc"}, {"dry_run", gc_dry}};
        if (gc_age_days >= 0) req["max_age_s"] = gc_age_days * 86400;
        if (gc_total_mib >= 0) req["max_total_bytes"] = static_cast<int64_t>(gc_total_mib * 1048576);
        rc = cmd_simple(g, req, [&](const json& r) {
            for (const auto& p : r["pruned"])
                std::printf("%s session %lld (%s), %s: %s\n", gc_dry ? "would prune" : "pruned",
                            static_cast<long long>(p["session"].get<int64_t>()), p["name"].get<std::string>().c_str(),
                            human_bytes(p["bytes"].get<int64_t>()).c_str(), p["reason"].get<std::string>().c_str());
            if (r["pruned"].empty()) std::printf("nothing to prune\n");
        });
    });

    auto* pending = app.add_subcommand("pending", "List permission requests waiting for an answer");
    pending->add_flag("--json", as_json, "Machine-readable output");
    pending->add_flag("--fleet", fleet, "Every host's requests (answer one with tether approve HOST:REQ)");
    pending->callback([&] { rc = cmd_pending(g, as_json, fleet); });

    std::string target, message;
    bool always = false;
    auto* approve = app.add_subcommand("approve", "Allow a pending permission request");
    approve->add_option("request", target, "Request number (tether pending), a session with one pending request, or HOST:REQ (tether pending --fleet)")->required();
    approve->add_flag("--always", always, "Also allow it from now on, as the agent's own \"always allow\" does");
    approve->callback([&] {
        rc = cmd_simple(g, {{"cmd", "approve"}, {"target", session_ref(target)}, {"always", always}}, [](const json& r) {
            std::string request = r["request"].is_string() ? r["request"].get<std::string>() : std::to_string(r["request"].get<int64_t>());
            std::printf("allowed request %s of session %lld\n", request.c_str(), static_cast<long long>(r["session"].get<int64_t>()));
        });
    });
    auto* deny = app.add_subcommand("deny", "Deny a pending permission request");
    deny->add_option("request", target, "Request number (tether pending), or a session with one pending request")->required();
    deny->add_option("-m,--message", message, "Why, for the agent");
    deny->callback([&] {
        rc = cmd_simple(g, {{"cmd", "deny"}, {"target", session_ref(target)}, {"message", message}}, [](const json& r) {
            std::string request = r["request"].is_string() ? r["request"].get<std::string>() : std::to_string(r["request"].get<int64_t>());
            std::printf("denied request %s of session %lld\n", request.c_str(), static_cast<long long>(r["session"].get<int64_t>()));
        });
    });

    std::string notify_state;
    auto* notify = app.add_subcommand("notify", "Tell tether what an agent without hooks is doing (any CLI)");
    notify->add_option("--state", notify_state, "needs_answer, needs_permission, idle or running")->required();
    notify->add_option("-m,--message", message, "What the agent said or asks");
    notify->add_option("-s,--session", session, "Session id or name (default: $TETHER_SESSION)");
    notify->callback([&] {
        std::string s = session;
        if (s.empty())
            if (const char* env = std::getenv("TETHER_SESSION")) s = env;
        json req{{"cmd", "notify"}, {"state", notify_state}, {"session", session_ref(s)}};
        if (!message.empty()) req["message"] = message;
        rc = cmd_simple(g, req, nullptr);
    });

    std::string until;
    double timeout_s = 0;
    auto* wait = app.add_subcommand("wait", "Block until a session reaches a state (for scripts and tests)");
    wait->add_option("session", session, "Session id or name")->required();
    wait->add_option("--until", until, "starting, running, needs_permission, needs_answer, idle or exited")->required();
    wait->add_option("--timeout", timeout_s, "Give up after this many seconds (exit 1)");
    wait->callback([&] { rc = cmd_wait(g, session, until, timeout_s); });

    auto* ack = app.add_subcommand("ack", "Acknowledge a session: cancels its pending escalations");
    ack->add_option("session", session, "Session id or name")->required();
    ack->callback([&] { rc = cmd_simple(g, {{"cmd", "ack"}, {"session", session_ref(session)}}, nullptr); });

    auto* hook = app.add_subcommand("hook", "What an agent's hook runs (fails open; see tether-hook)");
    hook->allow_extras();
    hook->callback([&] {
        // The hot path is the small static tether-hook binary; this only forwards to it.
        std::string exe = std::filesystem::path(tetherd_path()).parent_path() / "tether-hook";
        std::vector<std::string> args{exe};
        for (auto& a : hook->remaining()) args.push_back(a);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(exe.c_str(), argv.data());
        rc = 0;  // fail open: no hook binary, no output, exit 0
    });

    bool project = false, user = false;
    long hooks_wait = 120;
    auto* hooks = app.add_subcommand("hooks", "Claude Code hooks for agents tether did not start");
    hooks->require_subcommand(1);
    for (const char* what : {"install", "uninstall", "status"}) {
        auto* sub = hooks->add_subcommand(what, std::string(what) + " tether's entries in ~/.claude/settings.json (or --project)");
        sub->add_flag("--user", user, "~/.claude/settings.json (the default)");
        sub->add_flag("--project", project, ".claude/settings.local.json in this directory");
        if (std::string(what) == "install")
            sub->add_option("--wait", hooks_wait, "Seconds a permission request waits for an answer from tether");
        sub->callback([&, what] { rc = cmd_hooks(what, project, hooks_wait); });
    }

    std::string config_file;
    auto* config = app.add_subcommand("config", "Check or reload the configuration");
    config->require_subcommand(1);
    auto* check = config->add_subcommand("check", "Check a configuration file: every error with file:line:column");
    check->add_option("file", config_file, "The file (default: the daemon's, see --config)");
    check->callback([&] { rc = cmd_config_check(g, config_file); });
    config->add_subcommand("reload", "Make the daemon re-read its configuration (kept as it was if invalid)")->callback([&] {
        rc = cmd_simple(g, {{"cmd", "config_reload"}}, [](const json& r) { std::printf("reloaded %s\n", r["path"].get<std::string>().c_str()); });
    });

    std::string t_from, t_to, t_tool, t_input, t_message;
    double t_previous = -1;
    bool t_attached = false, t_stdin = false;
    auto* rules = app.add_subcommand("rules", "The notification rules");
    rules->require_subcommand(1);
    auto* rtest = rules->add_subcommand("test", "Dry-run a transition through the rules: what would be sent (nothing is)");
    rtest->add_option("-s,--session", session, "Take name, cwd, agent and current state from this session");
    rtest->add_option("--from", t_from, "The previous state");
    rtest->add_option("--to", t_to, "The new state (needs_permission, needs_answer, idle, ...)");
    rtest->add_option("--tool", t_tool, "The tool waited for");
    rtest->add_option("--input", t_input, "The tool's command (tool_input.command)");
    rtest->add_option("-m,--message", t_message, "The agent's message");
    rtest->add_option("--previous", t_previous, "Seconds spent in the previous state");
    rtest->add_flag("--attached", t_attached, "As if a client were attached");
    rtest->add_flag("--stdin", t_stdin, "Read the transition as JSON on stdin (e.g. a StateChanged payload)");
    rtest->add_flag("--json", as_json, "Machine-readable output");
    rtest->callback([&] {
        json req = json::object();
        if (!session.empty()) req["session"] = session_ref(session);
        if (!t_from.empty()) req["from"] = t_from;
        if (!t_to.empty()) req["to"] = t_to;
        if (!t_tool.empty()) req["tool"] = t_tool;
        if (!t_input.empty()) req["tool_input"] = {{"command", t_input}};
        if (!t_message.empty()) req["message"] = t_message;
        if (t_previous >= 0) req["previous_s"] = t_previous;
        req["attached"] = t_attached;
        rc = cmd_rules_test(g, req, t_stdin, as_json);
    });

    int64_t doctor_adopt = 0, doctor_end = 0;
    auto* doctor = app.add_subcommand("doctor", "Find holders no daemon adopted (orphans) and adopt or end them");
    doctor->add_option("--adopt", doctor_adopt, "Ask the daemon to adopt the holder of this session");
    doctor->add_option("--end", doctor_end, "End the program of this orphaned holder (its unlogged output is discarded)");
    doctor->callback([&] { rc = cmd_doctor(g, doctor_adopt, doctor_end); });

    auto* admin = app.add_subcommand("admin", "Maintenance of the event log and its projections");
    admin->require_subcommand(1);
    admin->add_subcommand("rebuild", "Rebuild every projection from the first event")->callback([&] { rc = cmd_admin(g, "rebuild"); });
    admin->add_subcommand("verify", "Check that a rebuild equals the live projections")->callback([&] { rc = cmd_admin(g, "verify"); });

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? 0 : k_exit_usage;
    }
    return rc;
}
