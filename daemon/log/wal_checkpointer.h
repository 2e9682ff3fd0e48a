// WalCheckpointer: SQLite's WAL checkpoints on a thread and a connection of their own, so
// no commit on the loop thread pays for one (an automatic checkpoint made the commit
// that triggered it take 10-13 ms instead of under 2). It replaces the writer's
// automatic checkpoint with a WAL hook that only looks at the WAL's size and wakes the
// thread, which then runs a PASSIVE checkpoint: it never blocks the writer, and once it
// has copied every frame the writer's next transaction starts the WAL over, so the WAL
// stays bounded while output keeps coming.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.h"
#include "base/sqlite.h"

namespace tether {

class WalCheckpointer {
public:
    static constexpr int k_default_pages = 1000;  // SQLite's own wal_autocheckpoint default

    // Opens its own connection to writer's database and hooks the writer. The writer must
    // outlive the checkpointer.
    static Result<std::unique_ptr<WalCheckpointer>> start(SqliteDb& writer, int pages = k_default_pages);
    ~WalCheckpointer();  // unhooks the writer, lets a checkpoint under way finish, joins
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

    uint64_t checkpoints() const { return m_done.load(); }  // completed, for tests and benches
    int largest_wal_pages() const { return m_largest.load(); }  // as the writer's commits saw it
    int last_wal_pages() const { return m_last.load(); }        // after the writer's last commit

private:
    WalCheckpointer(SqliteDb& writer, SqliteDb own, int pages);
    static int on_commit(void* self, sqlite3* db, const char* name, int pages);
    void run();

    SqliteDb& m_writer;
    SqliteDb m_db;  // used by the thread only
    int m_pages;

    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_wanted = false;
    bool m_stop = false;
    std::atomic<uint64_t> m_done{0};
    std::atomic<int> m_largest{0};
    std::atomic<int> m_last{0};
    std::thread m_thread;
};

}  // namespace tether
