// CLI: the session commands: `tether ls`, `mark`, `run`, `attach`, `detach`, `send`,
// `kill` and `screen` (now or at a past moment). attach_client.h does the terminal side
// of attach.
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>

#include "attach_client.h"
#include "base/clock.h"
#include "commands.h"
#include "config/config.h"
#include "recording_cli.h"

namespace tether {

namespace {

using nlohmann::json;

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

// What the session waits for, where it waits; else where it runs.
std::string ls_where(const json& s) {
    std::string where = waiting_for(s);
    if (where.empty()) where = s["cwd"].get<std::string>();
    if (where.size() > 60) where = where.substr(0, 57) + "...";
    return where;
}

void print_ls_row(const json& s, int64_t now) {
    std::string state = s["state"].get<std::string>();
    if (s.contains("exit_code")) state += "(" + std::to_string(s["exit_code"].get<int>()) + ")";
    if (s.contains("exit_signal")) state += "(sig" + std::to_string(s["exit_signal"].get<int>()) + ")";
    std::string cmd = s.value("external", false) ? "(external " + s["agent"].get<std::string>() + ")" : join_command(s["command"]);
    if (cmd.size() > 30) cmd = cmd.substr(0, 27) + "...";
    // The process that holds the session's terminal; "-" once it has ended (or for
    // an external session, whose agent runs elsewhere).
    std::string holder = s.contains("holder_pid") ? std::to_string(s["holder_pid"].get<int64_t>()) : "-";
    std::printf("%-5lld %-16s %-16s %-7s %-7s %-8s %-8s %-30s %s\n", static_cast<long long>(s["id"].get<int64_t>()),
                s["name"].get<std::string>().c_str(), state.c_str(),
                human_duration(now - s["started_us"].get<int64_t>()).c_str(),
                human_duration(now - s["last_activity_us"].get<int64_t>()).c_str(),
                human_bytes(s["bytes_out"].get<int64_t>()).c_str(), holder.c_str(), cmd.c_str(), ls_where(s).c_str());
}

int cmd_ls(const Globals& g, bool as_json, bool all) {
    auto c = connect_or_explain(g, true);
    if (!c) return k_exit_unreachable;
    auto r = c->request({{"cmd", "ls"}});
    if (!r) return fail(r.error().message);
    warn_log_health(*r, stderr);
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
    for (auto& s : sessions) print_ls_row(s, now);
    return 0;
}

// `tether ls --fleet`: every host's sessions, from the fleet stream.
void print_fleet_link(const json& f, int64_t now) {
    std::printf("fleet: this host %s, %s (%s ago), stream %s\n", f["host"].get<std::string>().c_str(),
                f["connected"].get<bool>() ? "connected" : ("not connected: " + f["link"].get<std::string>()).c_str(),
                human_duration(now - f["link_since_us"].get<int64_t>()).c_str(), f["stream"].get<std::string>().c_str());
    if (std::string e = f.value("server_error", ""); !e.empty()) std::printf("  the server says: %s\n", e.c_str());
    if (std::string e = f["published"].value("last_error", ""); !e.empty()) std::printf("  publishing: %s\n", e.c_str());
    const json& sk = f["skipped"];
    int64_t skipped = sk["repeated"].get<int64_t>() + sk["older_epoch"].get<int64_t>() + sk["unknown_host"].get<int64_t>() + sk["malformed"].get<int64_t>();
    if (skipped) std::printf("  skipped %lld stream messages; last: %s\n", static_cast<long long>(skipped), sk["last_reason"].get<std::string>().c_str());
}

void print_fleet_host(const json& h, int64_t now, bool all) {
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
        std::printf("  %-5lld %-16s %-16s %-7s %s\n", static_cast<long long>(s["id"].get<int64_t>()), s["name"].get<std::string>().c_str(),
                    state.c_str(), human_duration(now - s["started_us"].get<int64_t>()).c_str(), ls_where(s).c_str());
    }
    if (!shown) std::printf("  no %ssessions\n", all ? "" : "live ");
}

int cmd_ls_fleet(const Globals& g, bool as_json, bool all) {
    auto c = connect_or_explain(g, true);
    if (!c) return k_exit_unreachable;
    auto r = c->request({{"cmd", "fleet_ls"}});
    if (!r) return fail(r.error().message);
    if (as_json) {
        std::cout << r->dump(2) << "\n";
        return 0;
    }
    int64_t now = now_us();
    print_fleet_link((*r)["fleet"], now);
    if ((*r)["hosts"].empty()) std::printf("no host has published yet\n");
    for (const auto& h : (*r)["hosts"]) print_fleet_host(h, now, all);
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

struct RunArgs {
    std::string name, cwd, size, detach_key;
    std::vector<std::string> env, command;
    bool attach = false, detach = false, as_json = false;
};

// This environment with the --env entries on top; nullopt (after saying why) for a bad one.
std::optional<json> run_env(const RunArgs& a) {
    json env = json::array();
    for (char** e = environ; *e; ++e) env.push_back(*e);
    for (const auto& kv : a.env) {
        if (kv.find('=') == std::string::npos || kv[0] == '=') {
            fail("run: --env wants K=V, got \"" + kv + "\"", k_exit_usage);
            return std::nullopt;
        }
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
    return final_env;
}

// --size, else this terminal's size, else 80x24; false (after saying why) for a bad --size.
bool run_size(const RunArgs& a, int& cols, int& rows) {
    cols = 80;
    rows = 24;
    if (!a.size.empty()) {
        auto sz = parse_size(a.size);
        if (!sz) {
            fail("run: invalid size \"" + a.size + "\" (want COLSxROWS, each 1 to 1000)", k_exit_usage);
            return false;
        }
        std::tie(cols, rows) = *sz;
        return true;
    }
    winsize ws{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
        cols = ws.ws_col;
        rows = ws.ws_row;
    }
    return true;
}

int cmd_run(const Globals& g, const RunArgs& a) {
    if (a.command.empty()) return fail("run: no command given (tether run [options] -- CMD [ARGS...])", k_exit_usage);
    if (a.attach && a.detach) return fail("run: --attach and --detach exclude each other", k_exit_usage);
    auto key = detach_key_from(a.detach_key);
    if (!key) return fail("run: invalid detach key \"" + a.detach_key + "\" (use ^X, e.g. ^\\ or ^])", k_exit_usage);
    int cols, rows;
    if (!run_size(a, cols, rows)) return k_exit_usage;
    auto env = run_env(a);
    if (!env) return k_exit_usage;

    std::error_code ec;
    std::string cwd = a.cwd.empty() ? std::filesystem::current_path(ec).string() : std::filesystem::absolute(a.cwd, ec).string();
    if (!a.cwd.empty() && !std::filesystem::is_directory(cwd, ec)) return fail("run: --cwd " + a.cwd + ": not a directory");

    auto c = connect_or_explain(g, true);
    if (!c) return k_exit_unreachable;
    mode_t mask = umask(0);  // read it: umask has no getter
    umask(mask);
    json req{{"cmd", "run"}, {"argv", a.command}, {"env", *env}, {"cwd", cwd}, {"cols", cols}, {"rows", rows},
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

int cmd_screen(const Globals& g, const std::string& session, bool ansi, bool as_json, const std::string& at, int64_t seq) {
    json req{{"cmd", "screen"}, {"session", session_ref(session)}, {"ansi", ansi}};
    if (seq > 0) req["seq"] = seq;
    if (!at.empty() && !add_moment(req, "at", at))
        return fail("screen: --at: not a moment: \"" + at + "\" (an offset like 90s or 1m30s, or YYYY-MM-DD HH:MM:SS)", k_exit_usage);
    return cmd_simple(g, req, [&](const json& r) {
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
}

struct SessionOptions {
    RunArgs run;
    std::string session, mark_session, mark_text, key_flag, text, sig = "TERM", screen_at;
    int64_t screen_seq = 0;
    bool as_json = false, all = false, read_only = false, enter = false, ansi = false, fleet = false;
};

void add_run_command(CLI::App& app, Cli& cli, const std::shared_ptr<SessionOptions>& o) {
    RunArgs& a = o->run;
    auto* run = app.add_subcommand("run", "Start a command in a new session (attaches when on a terminal)");
    run->add_option("-n,--name", a.name, "Session name (default: command-ID)");
    run->add_option("-C,--cwd", a.cwd, "Working directory (default: the current one)");
    run->add_option("-e,--env", a.env, "Extra environment K=V (repeatable)");
    run->add_option("-s,--size", a.size, "Terminal size COLSxROWS (default: this terminal's, else 80x24)");
    run->add_flag("-a,--attach", a.attach, "Attach even when not on a terminal");
    run->add_flag("-d,--detach", a.detach, "Start in the background, do not attach");
    run->add_flag("--json", a.as_json, "Print the new session as JSON");
    run->add_option("--detach-key", a.detach_key, "Detach key, e.g. ^\\ (default) or ^] ($TETHER_DETACH_KEY)");
    run->add_option("command", a.command, "The command and its arguments (after --)")->required();
    run->positionals_at_end();
    run->callback([&cli, o] { cli.rc = cmd_run(cli.g, o->run); });
}

void add_terminal_commands(CLI::App& app, Cli& cli, const std::shared_ptr<SessionOptions>& o) {
    auto* attach = app.add_subcommand("attach", "Attach this terminal to a session (detach with Ctrl-\\)");
    attach->add_option("session", o->session, "Session id or name")->required();
    attach->add_flag("-r,--read-only", o->read_only, "Watch only: keystrokes are not sent, the size is not changed");
    attach->add_option("--detach-key", o->key_flag, "Detach key, e.g. ^\\ (default) or ^] ($TETHER_DETACH_KEY)");
    attach->callback([&cli, o] { cli.rc = cmd_attach(cli.g, o->session, o->read_only, o->key_flag); });

    auto* detach = app.add_subcommand("detach", "Detach every client attached to a session");
    detach->add_option("session", o->session, "Session id or name")->required();
    detach->callback([&cli, o] {
        cli.rc = cmd_simple(cli.g, {{"cmd", "detach"}, {"session", session_ref(o->session)}}, [](const json& r) {
            std::printf("detached %d client(s)\n", r.value("detached", 0));
        });
    });

    auto* send = app.add_subcommand("send", "Type text into a session without attaching");
    send->add_option("session", o->session, "Session id or name")->required();
    send->add_option("text", o->text, "The text to type (escape sequences are sent as they are)");
    send->add_flag("--enter", o->enter, "Press Enter after the text (as a separate keystroke)");
    send->callback([&cli, o] {
        cli.rc = cmd_simple(cli.g, {{"cmd", "send"}, {"session", session_ref(o->session)}, {"data", o->text}, {"enter", o->enter}}, nullptr);
    });

    auto* kill = app.add_subcommand("kill", "Send a signal to a session's process group");
    kill->add_option("session", o->session, "Session id or name")->required();
    kill->add_option("--signal", o->sig, "Signal name or number (default TERM)");
    kill->callback([&cli, o] { cli.rc = cmd_simple(cli.g, {{"cmd", "kill"}, {"session", session_ref(o->session)}, {"signal", o->sig}}, nullptr); });

    auto* screen = app.add_subcommand("screen", "Print a session's screen, now or at a past moment");
    screen->add_option("session", o->session, "Session id or name")->required();
    screen->add_flag("--ansi", o->ansi, "With colours, attributes and modes, as a redraw");
    screen->add_flag("--json", o->as_json, "The screen and the cursor as JSON");
    screen->add_option("--at", o->screen_at, "The screen as it was at this moment: an offset (90s, 1m30s) or a date and time");
    screen->add_option("--seq", o->screen_seq, "The screen as it was after this event (a seq from tether timeline or grep)");
    screen->callback([&cli, o] { cli.rc = cmd_screen(cli.g, o->session, o->ansi, o->as_json, o->screen_at, o->screen_seq); });
}

}  // namespace

void add_session_commands(CLI::App& app, Cli& cli) {
    auto o = std::make_shared<SessionOptions>();
    auto* ls = app.add_subcommand("ls", "List sessions");
    ls->add_flag("--json", o->as_json, "Machine-readable output (every field)");
    ls->add_flag("-a,--all", o->all, "Include sessions that have ended");
    ls->add_flag("--fleet", o->fleet, "Every host's sessions (config fleet:), from the fleet stream");
    ls->callback([&cli, o] { cli.rc = o->fleet ? cmd_ls_fleet(cli.g, o->as_json, o->all) : cmd_ls(cli.g, o->as_json, o->all); });

    auto* mark = app.add_subcommand("mark", "Add a note to the timeline (prints its seq)");
    mark->add_option("-s,--session", o->mark_session, "Session id or name the note belongs to");
    mark->add_option("text", o->mark_text, "The note")->required();
    mark->callback([&cli, o] { cli.rc = cmd_mark(cli.g, o->mark_session, o->mark_text); });

    add_run_command(app, cli, o);
    add_terminal_commands(app, cli, o);
}

}  // namespace tether
