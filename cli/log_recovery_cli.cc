// tether admin recover.
#include "log_recovery_cli.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "base/lock_file.h"
#include "log/event_log_recovery.h"

namespace tether {

namespace {

// The database and the files SQLite keeps beside it move together.
void move_db(const std::string& from, const std::string& to, std::error_code& ec) {
    std::filesystem::rename(from, to, ec);
    for (const char* side : {"-wal", "-shm"}) {
        std::error_code ignored;
        if (std::filesystem::exists(from + side, ignored)) std::filesystem::rename(from + side, to + side, ignored);
    }
}

}  // namespace

int admin_recover(const Paths& paths) {
    namespace fs = std::filesystem;
    auto lock = LockFile::acquire(paths.lock_file());
    if (!lock) {
        std::fprintf(stderr, "tether: recover: %s; stop the daemon first (tether daemon stop: its sessions keep running "
                             "in their holders)\n", lock.error().message.c_str());
        return 1;
    }
    const std::string log = paths.event_log();
    std::error_code ec;
    if (!fs::exists(log, ec)) {
        std::fprintf(stderr, "tether: recover: there is no event log at %s\n", log.c_str());
        return 1;
    }
    auto stamp = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const std::string damaged = log + ".damaged-" + std::to_string(stamp);
    move_db(log, damaged, ec);
    if (ec) {
        std::fprintf(stderr, "tether: recover: cannot move %s aside: %s\n", log.c_str(), ec.message().c_str());
        return 1;
    }
    auto report = recover_event_log(damaged, log);
    if (!report) {
        std::error_code ignored;
        for (const char* f : {"", "-wal", "-shm"}) fs::remove(log + f, ignored);
        move_db(damaged, log, ignored);
        std::fprintf(stderr, "tether: recover: %s (the log is left as it was)\n", report.error().message.c_str());
        return 1;
    }
    // Keyframes are derived from the log: the daemon takes them again from what is kept.
    for (const char* f : {"", "-wal", "-shm"}) fs::remove(paths.state_dir + "/keyframes.db" + f, ec);
    std::printf("recovered %lld events", static_cast<long long>(report->events));
    if (report->events > 0)
        std::printf(" (seq %lld to %lld)", static_cast<long long>(report->first_seq), static_cast<long long>(report->last_seq));
    std::printf(" into %s\n", log.c_str());
    for (const auto& [from, to] : report->skipped)
        std::printf("  unreadable, skipped: seq %lld to %lld\n", static_cast<long long>(from), static_cast<long long>(to));
    if (report->tail_lost)
        std::printf("  unreadable: whatever followed seq %lld (the damage reaches the end of the file)\n",
                    static_cast<long long>(report->last_seq));
    if (!report->first_error.empty()) std::printf("  first damage: %s\n", report->first_error.c_str());
    std::printf("the damaged file is kept as %s\nstart the daemon: it rebuilds the sessions from what was recovered "
                "(tether daemon start)\n", damaged.c_str());
    return report->events > 0 ? 0 : 1;
}

}  // namespace tether
