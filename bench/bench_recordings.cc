// bench_recordings: the recording side of the log, on one long synthetic agent session.
//  - seek: `screen --seq` through keyframes (screen_seek.h) at random moments, beside
//    the baseline of a replay from the start to a few of the same moments;
//  - export: log cursor + asciicast encoding throughput;
//  - storage: event log and keyframe bytes per output byte, and what zstd would save on
//    the same chunks (per-chunk compression, as a stored payload would be).
// The last line of output is the one-line summary that bench/run collects.
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "agent_output.h"
#include "recordings/asciicast.h"
#include "log/event_log.h"
#include "terminal/keyframes.h"
#include "terminal/screen_seek.h"

using namespace tether;
namespace fs = std::filesystem;
using namespace tether::bench;

namespace {

constexpr size_t k_chunk = size_t{64} << 10;  // the daemon coalesces reads up to 64 KiB

int fail(const std::string& what) {
    std::fprintf(stderr, "bench_recordings: %s\n", what.c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Seek, export and storage of a long recorded session"};
    double mib = 1024;
    int seeks = 40, baseline = 3, rounds = 0;
    bool quick = false;
    std::string dir = fs::temp_directory_path().string();
    app.add_option("--mib", mib, "Output in the session (MiB)");
    app.add_option("--seeks", seeks, "Random moments sought through keyframes");
    app.add_option("--baseline", baseline, "Of those, how many are also replayed from the start");
    app.add_flag("--quick", quick, "64 MiB");
    app.add_option("--rounds", rounds, "(accepted for bench/run; unused)");
    app.add_option("--dir", dir, "Where the temporary databases go");
    CLI11_PARSE(app, argc, argv);
    if (quick) mib = 64;

    fs::path work = fs::path(dir) / ("bench-recordings-" + std::to_string(::getpid()));
    fs::create_directories(work);
    struct Cleanup {
        fs::path p;
        ~Cleanup() {
            std::error_code ec;
            fs::remove_all(p, ec);
        }
    } cleanup{work};
    std::string log_path = (work / "events.db").string();

    // 1. The recording: one session, 64 KiB chunks, a resize every 256 MiB.
    auto log = EventLog::open(log_path);
    if (!log) return fail(log.error().message);
    (*log)->append(make_json_event(1, EventKind::SessionStarted, {{"name", "bench"}, {"cols", 120}, {"rows", 40}}));
    Rng rng;
    size_t total = static_cast<size_t>(mib * 1024 * 1024), written = 0, compressed1 = 0, compressed3 = 0;
    double zstd_ms = 0;
    std::vector<char> zbuf(ZSTD_compressBound(k_chunk + 4096));
    std::string pending;
    int64_t t = 1'700'000'000'000'000;
    while (written < total) {
        while (pending.size() < k_chunk) agent_output(pending, rng);
        std::string chunk = pending.substr(0, k_chunk);
        pending.erase(0, k_chunk);
        auto z0 = Clock::now();
        compressed3 += ZSTD_compress(zbuf.data(), zbuf.size(), chunk.data(), chunk.size(), 3);
        zstd_ms += ms_since(z0);
        compressed1 += ZSTD_compress(zbuf.data(), zbuf.size(), chunk.data(), chunk.size(), 1);
        Event ev = make_bytes_event(1, EventKind::OutputChunk, std::move(chunk));
        ev.time_us = t += 3000;
        written += ev.payload.size();
        (*log)->append(std::move(ev));
        if (written % (size_t{256} << 20) < k_chunk) {
            Event r = make_json_event(1, EventKind::Resized, {{"cols", 100 + static_cast<int>(written >> 28) % 40}, {"rows", 40}});
            r.time_us = t;
            (*log)->append(std::move(r));
        }
        if ((*log)->pending_bytes() >= (size_t{1} << 20))
            if (auto s = (*log)->commit(); !s) return fail(s.error().message);
    }
    if (auto s = (*log)->commit(); !s) return fail(s.error().message);
    (void)(*log)->db().exec("PRAGMA wal_checkpoint(TRUNCATE)");
    int64_t last = (*log)->last_seq();
    double log_ratio = static_cast<double>(fs::file_size(log_path)) / written;
    std::printf("session: %.0f MiB of agent-like output in %lld events; events.db %.3f bytes per output byte\n",
                written / 1048576.0, static_cast<long long>(last), log_ratio);
    std::printf("zstd per 64 KiB chunk: level 1 ratio %.2f, level 3 ratio %.2f (%.0f MB/s at level 3)\n",
                static_cast<double>(written) / compressed1, static_cast<double>(written) / compressed3,
                written / 1e6 / (zstd_ms / 1000));

    // 2. Random moments (the same ones for both methods).
    std::vector<int64_t> moments;
    for (int i = 0; i < seeks; ++i) moments.push_back(2 + static_cast<int64_t>(rng.below(static_cast<size_t>(last - 1))));

    // 3. Baseline: replay from the start, no keyframes.
    std::vector<double> base_ms;
    for (int i = 0; i < std::min(baseline, seeks); ++i) {
        auto t0 = Clock::now();
        auto at = screen_at(**log, nullptr, 1, moments[static_cast<size_t>(i)]);
        if (!at) return fail(at.error().message);
        base_ms.push_back(ms_since(t0));
        std::printf("  replay from start to seq %lld: %.0f ms\n", static_cast<long long>(moments[static_cast<size_t>(i)]), base_ms.back());
    }

    // 4. Keyframes, taken once in a full pass (what the screen follower does live).
    auto keyframes = KeyframeStore::open((work / "keyframes.db").string());
    if (!keyframes) return fail(keyframes.error().message);
    auto t0 = Clock::now();
    if (auto at = screen_at(**log, keyframes->get(), 1, last); !at) return fail(at.error().message);
    double pass_s = ms_since(t0) / 1000;
    (void)SqliteDb::open((work / "keyframes.db").string(), SqliteDb::Mode::ReadWrite)->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    double kf_ratio = static_cast<double>(fs::file_size(work / "keyframes.db")) / written;
    std::printf("keyframes: full pass %.1f s (%.1f MB/s through libvterm), keyframes.db %.4f bytes per output byte\n",
                pass_s, written / 1e6 / pass_s, kf_ratio);

    // 5. Seeks through keyframes: restore + tail + the text, as `tether screen --seq` does.
    std::vector<double> seek_ms;
    size_t tail_max = 0;
    for (int64_t m : moments) {
        auto s0 = Clock::now();
        auto at = screen_at(**log, keyframes->get(), 1, m);
        if (!at) return fail(at.error().message);
        std::string text = at->screen->text();
        seek_ms.push_back(ms_since(s0));
        tail_max = std::max(tail_max, at->replayed_bytes);
    }
    std::printf("seek through keyframes (%d moments): p50 %.1f ms, p95 %.1f ms, max %.1f ms; longest tail %zu KiB\n", seeks,
                percentile(seek_ms, 0.5), percentile(seek_ms, 0.95), percentile(seek_ms, 1.0), tail_max / 1024);

    // 6. Export: cursor + asciicast encoding, to nowhere.
    auto e0 = Clock::now();
    auto cursor = (*log)->read(EventQuery{.session = 1});
    if (!cursor) return fail(cursor.error().message);
    AsciicastEncoder enc(0);
    size_t cast_bytes = 0;
    for (;;) {
        auto ev = cursor->next();
        if (!ev) return fail(ev.error().message);
        if (!*ev) break;
        if ((*ev)->kind == EventKind::OutputChunk) cast_bytes += enc.output((*ev)->time_us, (*ev)->payload).size();
    }
    double export_s = ms_since(e0) / 1000;
    std::printf("export: %.0f MB/s of output (%.2f asciicast bytes per output byte)\n", written / 1e6 / export_s,
                static_cast<double>(cast_bytes) / written);

    double base50 = base_ms.empty() ? 0 : percentile(base_ms, 0.5);
    std::printf("bench_recordings: %.0f MiB session: seek p50 %.1f ms / p95 %.1f ms / max %.1f ms vs replay from start "
                "p50 %.0f ms; export %.0f MB/s; storage %.3f B/B + keyframes %.4f B/B; zstd-3 would store %.2fx less\n",
                written / 1048576.0, percentile(seek_ms, 0.5), percentile(seek_ms, 0.95), percentile(seek_ms, 1.0), base50,
                written / 1e6 / export_s, log_ratio, kf_ratio, static_cast<double>(written) / compressed3);
    return 0;
}
