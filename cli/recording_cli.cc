// CLI: the recording commands: `tether timeline`, `export`, `replay` (replay_player.h
// plays), `grep` and `gc`.
#include "recording_cli.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <ctime>
#include <iostream>

#include "commands.h"
#include "replay_player.h"
#include "timeline_text.h"

namespace tether {

Result<nlohmann::json> stream_request(Client& client, nlohmann::json req,
                                      const std::function<Status(std::string_view)>& on_bytes) {
    req["id"] = 1;
    if (auto s = client.send_frame(FrameType::Json, dump_json(req)); !s) return s.error();
    for (;;) {
        auto frame = client.read_frame(-1);
        if (!frame) return frame.error();
        if (!*frame) continue;
        if ((*frame)->type == FrameType::Bytes) {
            if (auto s = on_bytes((*frame)->body); !s) return s.error();
            continue;
        }
        auto j = parse_json_object((*frame)->body);
        if (!j) return j.error();
        if (j->value("id", 0) != 1 && !j->value("fatal", false)) continue;
        if (!j->value("ok", false)) return Error{j->value("error", "the daemon refused the request")};
        return *j;
    }
}

bool add_moment(nlohmann::json& req, const std::string& key, const std::string& text) {
    auto m = parse_moment(text);
    if (!m) return false;
    req[key + (m->from_start ? "_offset_us" : "_us")] = m->us;
    return true;
}

int cli_timeline(const Paths& paths, const nlohmann::json& session, bool as_json) {
    auto c = connect_or_explain(paths, true);
    if (!c) return k_exit_unreachable;
    std::string pending;
    int64_t start_us = -1;
    auto r = stream_request(*c, {{"cmd", "timeline"}, {"session", session}}, [&](std::string_view bytes) -> Status {
        if (as_json) {
            std::fwrite(bytes.data(), 1, bytes.size(), stdout);
            return {};
        }
        pending.append(bytes);
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
            auto entry = parse_json_object(std::string_view(pending).substr(0, nl));
            pending.erase(0, nl + 1);
            if (!entry) return entry.error();
            if (start_us < 0) start_us = entry->value("time_us", int64_t{0});
            std::printf("%s\n", timeline_line(*entry, start_us).c_str());
        }
        return {};
    });
    std::fflush(stdout);
    if (!r) return fail("timeline: " + r.error().message);
    return 0;
}

int cli_export(const Paths& paths, const nlohmann::json& session, const std::string& format, const std::string& out_path) {
    auto c = connect_or_explain(paths, true);
    if (!c) return k_exit_unreachable;
    // Into a temporary file renamed at the end: a failed export leaves no half file.
    std::string tmp = out_path.empty() ? "" : out_path + ".part";
    FILE* out = out_path.empty() ? stdout : std::fopen(tmp.c_str(), "wb");
    if (!out) return fail("export: cannot write " + tmp + ": " + std::strerror(errno));
    auto r = stream_request(*c, {{"cmd", "export"}, {"session", session}, {"format", format}}, [&](std::string_view bytes) -> Status {
        if (std::fwrite(bytes.data(), 1, bytes.size(), out) != bytes.size())
            return Error{"cannot write " + (out_path.empty() ? std::string("stdout") : tmp) + ": " + std::strerror(errno)};
        return {};
    });
    bool flushed = std::fflush(out) == 0;
    if (out != stdout) std::fclose(out);
    if (!r || !flushed) {
        if (!tmp.empty()) std::remove(tmp.c_str());
        return fail("export: " + (r ? std::string("cannot write ") + (out_path.empty() ? "stdout" : tmp) : r.error().message));
    }
    if (!tmp.empty()) {
        std::error_code ec;
        std::filesystem::rename(tmp, out_path, ec);
        if (ec) return fail("export: cannot rename " + tmp + " to " + out_path + ": " + ec.message());
    }
    return 0;
}

int cli_replay(const Paths& paths, const nlohmann::json& session, const ReplayArgs& args) {
    nlohmann::json req{{"cmd", "export"}, {"session", session}, {"format", "asciicast"}};
    if (!args.from.empty() && !add_moment(req, "from", args.from)) return fail("replay: --from: not a moment: \"" + args.from + "\"");
    if (!args.to.empty() && !add_moment(req, "to", args.to)) return fail("replay: --to: not a moment: \"" + args.to + "\"");
    if (!(args.speed > 0)) return fail("replay: --speed must be above 0");
    auto c = connect_or_explain(paths, true);
    if (!c) return k_exit_unreachable;
    return play_recording(*c, req, PlayOptions{.speed = args.speed, .max_idle_s = args.max_idle_s});
}

namespace {

using nlohmann::json;

int cmd_grep(const Globals& g, const std::string& pattern, const std::string& session, bool as_json) {
    json req{{"cmd", "grep"}, {"pattern", pattern}};
    if (!session.empty()) req["session"] = session_ref(session);
    return cmd_simple(g, req, [&](const json& r) {
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
}

int cmd_gc(const Globals& g, double age_days, double total_mib, bool dry) {
    json req{{"cmd", "gc"}, {"dry_run", dry}};
    if (age_days >= 0) req["max_age_s"] = age_days * 86400;
    if (total_mib >= 0) req["max_total_bytes"] = static_cast<int64_t>(total_mib * 1048576);
    return cmd_simple(g, req, [&](const json& r) {
        for (const auto& p : r["pruned"])
            std::printf("%s session %lld (%s), %s: %s\n", dry ? "would prune" : "pruned",
                        static_cast<long long>(p["session"].get<int64_t>()), p["name"].get<std::string>().c_str(),
                        human_bytes(p["bytes"].get<int64_t>()).c_str(), p["reason"].get<std::string>().c_str());
        if (r["pruned"].empty()) std::printf("nothing to prune\n");
    });
}

struct RecordingOptions {
    std::string session, export_format = "asciicast", export_out, grep_pattern, grep_session;
    ReplayArgs replay;
    double gc_age_days = -1, gc_total_mib = -1;
    bool as_json = false, gc_dry = false;
};

void add_playback_commands(CLI::App& app, Cli& cli, const std::shared_ptr<RecordingOptions>& o) {
    auto* timeline = app.add_subcommand("timeline", "What happened in a session, with times: states, hooks, answers, notifications, markers");
    timeline->add_option("session", o->session, "Session id or name")->required();
    timeline->add_flag("--json", o->as_json, "One JSON object per line");
    timeline->callback([&cli, o] { cli.rc = cli_timeline(cli.g.paths(), session_ref(o->session), o->as_json); });
    auto* exp = app.add_subcommand("export", "Write a session's recording in another format");
    exp->add_option("session", o->session, "Session id or name")->required();
    exp->add_option("--format", o->export_format, "asciicast (v2, for asciinema)")->check(CLI::IsMember({"asciicast"}));
    exp->add_option("-o,--output", o->export_out, "Write to this file (default: stdout)");
    exp->callback([&cli, o] { cli.rc = cli_export(cli.g.paths(), session_ref(o->session), o->export_format, o->export_out); });
    auto* replay = app.add_subcommand("replay", "Play a session's output again with its timing (space pause, n next moment, +/- speed, q quit)");
    replay->add_option("session", o->session, "Session id or name")->required();
    replay->add_option("--from", o->replay.from, "Start at this moment: an offset (90s, 1m30s) or a date and time");
    replay->add_option("--to", o->replay.to, "Stop at this moment");
    replay->add_option("--speed", o->replay.speed, "Playback speed (default 1)");
    replay->add_option("--max-idle", o->replay.max_idle_s, "Shorten pauses longer than this many seconds");
    replay->callback([&cli, o] { cli.rc = cli_replay(cli.g.paths(), session_ref(o->session), o->replay); });
}

}  // namespace

void add_recording_commands(CLI::App& app, Cli& cli) {
    auto o = std::make_shared<RecordingOptions>();
    add_playback_commands(app, cli, o);

    auto* grep = app.add_subcommand("grep", "Search every recorded session's screens (rendered text, not escapes)");
    grep->add_option("pattern", o->grep_pattern, "Words to find (a phrase; case does not matter)")->required();
    grep->add_option("-s,--session", o->grep_session, "Only this session");
    grep->add_flag("--json", o->as_json, "The hits as JSON");
    grep->callback([&cli, o] { cli.rc = cmd_grep(cli.g, o->grep_pattern, o->grep_session, o->as_json); });

    auto* gc = app.add_subcommand("gc", "Prune old recordings of ended sessions (config retention:, or these limits)");
    gc->add_option("--max-age", o->gc_age_days, "Prune sessions ended more than this many days ago");
    gc->add_option("--max-total", o->gc_total_mib, "Then prune the oldest until all recordings fit in this many MiB");
    gc->add_flag("-n,--dry-run", o->gc_dry, "Only say what would be pruned");
    gc->callback([&cli, o] { cli.rc = cmd_gc(cli.g, o->gc_age_days, o->gc_total_mib, o->gc_dry); });
}

}  // namespace tether
