// bench_event_log: EventLog write throughput for OutputChunk events, with the daemon's
// group commit (StoreOptions defaults, read from store.h) against one transaction per
// event. Configurations alternate in rounds; ratios are taken per round, then the median.
// The last line of output is the one-line summary that bench/run collects.
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "agent_output.h"
#include "base/bug.h"
#include "log/event_log.h"
#include "log/events.h"
#include "state/store.h"

using namespace tether;
namespace fs = std::filesystem;
using namespace tether::bench;

namespace {

constexpr size_t k_chunk_bytes = 4096;
constexpr int k_sessions = 4;
constexpr size_t k_pool_max_bytes = 8u << 20;

struct Options {
    double mib = 200;
    int rounds = 5;
    int per_event_divisor = 10;
    std::string dir;
};

// A whole number of chunks of terminal-ish bytes; chunk i is cut at i * k_chunk_bytes,
// across line boundaries, as PTY reads are.
std::string make_pool(size_t bytes) {
    size_t chunks = std::max<size_t>(1, std::min(bytes, k_pool_max_bytes) / k_chunk_bytes);
    std::string pool;
    pool.reserve(chunks * k_chunk_bytes + 256);
    Rng rng(0x7e7e7e7eull);
    while (pool.size() < chunks * k_chunk_bytes) agent_output(pool, rng);
    pool.resize(chunks * k_chunk_bytes);
    return pool;
}

enum class Policy { GroupCommit, PerEvent };

struct Config {
    const char* name;
    Policy policy;
    int divisor;  // runs on events / divisor; rates, not totals, are compared
};

struct Run {
    size_t events = 0;
    size_t payload_bytes = 0;
    double seconds = 0;
    double worst_commit_ms = 0;
    uintmax_t db_bytes = 0;

    double events_per_s() const { return events / seconds; }
    double mb_per_s() const { return payload_bytes / seconds / 1e6; }
    double size_ratio() const { return static_cast<double>(db_bytes) / payload_bytes; }
};

// The daemon's Store arms a timer of flush_interval_ms at a group's first append and
// commits at once when flush_bytes or flush_events are staged. Here appends come in a
// tight loop, so the clock is read at each append instead of a timer firing.
class Committer {
public:
    Committer(EventLog& log, Policy policy) : m_log(log), m_policy(policy) {}

    Status append(Event ev) {
        if (m_log.pending_events() == 0) m_group_start = Clock::now();
        m_log.append(std::move(ev));
        if (m_policy == Policy::PerEvent || due()) return commit();
        return {};
    }

    Status commit() {
        auto t0 = Clock::now();
        if (auto s = m_log.commit(); !s) return s;
        m_worst = std::max(m_worst, Clock::now() - t0);
        return {};
    }

    double worst_commit_ms() const { return std::chrono::duration<double, std::milli>(m_worst).count(); }

private:
    bool due() const {
        return m_log.pending_bytes() >= m_store.flush_bytes ||
               m_log.pending_events() >= m_store.flush_events ||
               Clock::now() - m_group_start >= std::chrono::milliseconds(m_store.flush_interval_ms);
    }

    EventLog& m_log;
    Policy m_policy;
    StoreOptions m_store;
    Clock::time_point m_group_start;
    Clock::duration m_worst{};
};

uintmax_t file_size_or_zero(const fs::path& p) {
    std::error_code ec;
    auto n = fs::file_size(p, ec);
    return ec ? 0 : n;
}

// Open and close (with its checkpoint) are outside the timed part; the last partial
// group's commit is inside it.
Result<Run> run_once(const Config& config, size_t events, const std::string& pool, const std::string& dir) {
    std::string tmpl = (fs::path(dir) / "tether-bench-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) return errno_error("bench: mkdtemp " + tmpl + " failed");
    fs::path tmp = tmpl;
    fs::path db = tmp / "events.db";

    Run run;
    Status status = [&]() -> Status {
        auto log = EventLog::open(db.string());
        if (!log) return log.error();
        Committer committer(**log, config.policy);
        size_t pool_chunks = pool.size() / k_chunk_bytes;
        auto t0 = Clock::now();
        for (size_t i = 0; i < events; ++i) {
            std::string bytes = pool.substr((i % pool_chunks) * k_chunk_bytes, k_chunk_bytes);
            run.payload_bytes += bytes.size();
            auto ev = make_bytes_event(1 + static_cast<int64_t>(i % k_sessions), EventKind::OutputChunk,
                                       std::move(bytes));
            if (auto s = committer.append(std::move(ev)); !s) return s;
        }
        if ((*log)->pending_events() > 0)
            if (auto s = committer.commit(); !s) return s;
        run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        run.events = events;
        run.worst_commit_ms = committer.worst_commit_ms();
        TETHER_ASSERT((*log)->durable_seq() == static_cast<int64_t>(events));
        return {};
    }();
    run.db_bytes = file_size_or_zero(db) + file_size_or_zero(db.string() + "-wal");
    std::error_code ec;
    fs::remove_all(tmp, ec);
    if (!status) return status.error();
    return run;
}

double median(std::vector<double> v) {
    TETHER_ASSERT(!v.empty());
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// 61400 -> "61,400"
std::string grouped(double x) {
    std::string digits = std::to_string(static_cast<long long>(x + 0.5));
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

struct Summary {
    double events_per_s, events_min, events_max, mb_per_s, size_ratio, worst_ms;
};

Summary summarize(const std::vector<Run>& runs) {
    std::vector<double> eps, mbs, sizes, worst;
    for (const Run& r : runs) {
        eps.push_back(r.events_per_s());
        mbs.push_back(r.mb_per_s());
        sizes.push_back(r.size_ratio());
        worst.push_back(r.worst_commit_ms);
    }
    return {median(eps), *std::min_element(eps.begin(), eps.end()), *std::max_element(eps.begin(), eps.end()),
            median(mbs), median(sizes), *std::max_element(worst.begin(), worst.end())};
}

int run_benchmark(const Options& opt) {
    StoreOptions store;
    const std::vector<Config> configs = {
        {"group commit", Policy::GroupCommit, 1},
        {"per-event commit", Policy::PerEvent, opt.per_event_divisor},
    };
    size_t events = std::max<size_t>(1, static_cast<size_t>(opt.mib * (1 << 20)) / k_chunk_bytes);
    std::string pool = make_pool(events * k_chunk_bytes);

    std::printf("event_log: %zu x %zu-byte OutputChunk events (%.0f MiB), %d sessions round robin, "
                "%d rounds alternating\n",
                events, k_chunk_bytes, opt.mib, k_sessions, opt.rounds);
    std::printf("  group commit: at %ld ms after a group's first append, %zu KiB or %zu events staged "
                "(StoreOptions defaults)\n",
                store.flush_interval_ms, store.flush_bytes >> 10, store.flush_events);
    std::printf("  per-event commit: append + commit each event, on 1/%d of the events\n", opt.per_event_divisor);
    std::printf("  databases in %s (fresh per run, removed after)\n\n", opt.dir.c_str());
    std::printf("%-5s %-17s %8s %8s %10s %8s %12s %8s\n", "round", "config", "events", "seconds", "events/s",
                "MB/s", "worst commit", "db/payld");
    std::fflush(stdout);

    std::vector<std::vector<Run>> runs(configs.size());
    std::vector<double> ratios;
    for (int round = 1; round <= opt.rounds; ++round) {
        for (size_t c = 0; c < configs.size(); ++c) {
            auto run = run_once(configs[c], std::max<size_t>(1, events / configs[c].divisor), pool, opt.dir);
            if (!run) {
                std::fprintf(stderr, "bench_event_log: %s\n", run.error().message.c_str());
                return 1;
            }
            std::printf("%-5d %-17s %8zu %8.3f %10s %8.1f %9.2f ms %8.3f\n", round, configs[c].name, run->events,
                        run->seconds, grouped(run->events_per_s()).c_str(), run->mb_per_s(), run->worst_commit_ms,
                        run->size_ratio());
            std::fflush(stdout);
            runs[c].push_back(*run);
        }
        ratios.push_back(runs[0].back().events_per_s() / runs[1].back().events_per_s());
    }

    std::printf("\n%-17s %10s %21s %8s %12s %8s %22s\n", "config", "events/s", "(min - max)", "MB/s",
                "worst commit", "db/payld", "ratio vs per-event");
    std::vector<Summary> sums;
    for (size_t c = 0; c < configs.size(); ++c) {
        Summary s = summarize(runs[c]);
        sums.push_back(s);
        std::string range = "(" + grouped(s.events_min) + " - " + grouped(s.events_max) + ")";
        char ratio[64];
        if (c == 0)
            std::snprintf(ratio, sizeof ratio, "%.2f (%.2f - %.2f)", median(ratios),
                          *std::min_element(ratios.begin(), ratios.end()),
                          *std::max_element(ratios.begin(), ratios.end()));
        else
            std::snprintf(ratio, sizeof ratio, "1");
        std::printf("%-17s %10s %21s %8.1f %9.2f ms %8.3f %22s\n", configs[c].name, grouped(s.events_per_s).c_str(),
                    range.c_str(), s.mb_per_s, s.worst_ms, s.size_ratio, ratio);
    }
    std::printf("(medians over rounds; the ratio is events/s of group commit / per-event commit in the same "
                "round, median of %d rounds; worst commit is the max over rounds)\n\n",
                opt.rounds);
    std::printf("event_log: group commit %s events/s (%.0f MB/s), per-event commit %s events/s, ratio %.1f x\n",
                grouped(sums[0].events_per_s).c_str(), sums[0].mb_per_s, grouped(sums[1].events_per_s).c_str(),
                median(ratios));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    bool quick = false;
    const char* tmpdir = std::getenv("TMPDIR");
    opt.dir = tmpdir && *tmpdir ? tmpdir : "/tmp";

    CLI::App app{"EventLog write throughput: daemon group commit against one transaction per event"};
    app.add_option("--mib", opt.mib, "payload MiB for group commit")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--rounds", opt.rounds, "alternating rounds")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--per-event-divisor", opt.per_event_divisor, "per-event commit runs on events / this")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--dir", opt.dir, "where the temporary databases go ($TMPDIR or /tmp)")->capture_default_str();
    app.add_flag("--quick", quick, "20 MiB, 3 rounds (unless --mib / --rounds say otherwise)");
    CLI11_PARSE(app, argc, argv);
    if (quick) {
        if (app.count("--mib") == 0) opt.mib = 20;
        if (app.count("--rounds") == 0) opt.rounds = 3;
    }
    return run_benchmark(opt);
}
