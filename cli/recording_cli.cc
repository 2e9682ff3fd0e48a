// CLI: timeline, export, replay.
#include "recording_cli.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "replay_player.h"
#include "timeline_text.h"

namespace tether {

namespace {

constexpr int k_exit_failed = 1;
constexpr int k_exit_unreachable = 3;

int fail(const std::string& message) {
    std::fprintf(stderr, "tether: %s\n", message.c_str());
    return k_exit_failed;
}

}  // namespace

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
    auto c = Client::connect(paths, true);
    if (!c) {
        std::fprintf(stderr, "tether: %s\n", c.error().message.c_str());
        return k_exit_unreachable;
    }
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
    auto c = Client::connect(paths, true);
    if (!c) {
        std::fprintf(stderr, "tether: %s\n", c.error().message.c_str());
        return k_exit_unreachable;
    }
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
    auto c = Client::connect(paths, true);
    if (!c) {
        std::fprintf(stderr, "tether: %s\n", c.error().message.c_str());
        return k_exit_unreachable;
    }
    return play_recording(*c, req, PlayOptions{.speed = args.speed, .max_idle_s = args.max_idle_s});
}

}  // namespace tether
