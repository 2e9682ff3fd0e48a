// The background WAL checkpointer.
#include "log/wal_checkpointer.h"

#include "base/log.h"

namespace tether {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::start(SqliteDb& writer, int pages) {
    auto own = SqliteDb::open(writer.path(), SqliteDb::Mode::ReadWrite);
    if (!own) return own.error();
    // A connection that has not read the database does not know it is in WAL mode, and
    // its checkpoints would do nothing.
    if (auto s = own->exec("PRAGMA journal_mode=WAL"); !s) return s.error();
    return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(writer, std::move(*own), pages));
}

WalCheckpointer::WalCheckpointer(SqliteDb& writer, SqliteDb own, int pages)
    : m_writer(writer), m_db(std::move(own)), m_pages(pages) {
    // Replaces the automatic checkpoint (sqlite3_wal_autocheckpoint is a WAL hook too).
    sqlite3_wal_hook(m_writer.handle(), &WalCheckpointer::on_commit, this);
    m_thread = std::thread([this] { run(); });
}

WalCheckpointer::~WalCheckpointer() {
    sqlite3_wal_hook(m_writer.handle(), nullptr, nullptr);
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_one();
    m_thread.join();
}

// On the writer's thread, after each commit, with the WAL's size in pages: no I/O here.
int WalCheckpointer::on_commit(void* self, sqlite3*, const char*, int pages) {
    auto* c = static_cast<WalCheckpointer*>(self);
    c->m_last.store(pages, std::memory_order_relaxed);
    if (pages > c->m_largest.load(std::memory_order_relaxed)) c->m_largest.store(pages, std::memory_order_relaxed);
    if (pages >= c->m_pages) {
        {
            std::lock_guard lock(c->m_mutex);
            c->m_wanted = true;
        }
        c->m_wake.notify_one();
    }
    return SQLITE_OK;
}

void WalCheckpointer::run() {
    for (;;) {
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stop || m_wanted; });
            if (m_stop) return;
            m_wanted = false;
        }
        int frames = 0, copied = 0;
        int rc = sqlite3_wal_checkpoint_v2(m_db.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
        // BUSY: another checkpoint is running (a reader closing last); the next commit asks again.
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) log_warn("event log: " + m_db.error("WAL checkpoint", rc).message);
        else if (rc == SQLITE_OK && frames >= 0) m_done.fetch_add(1);
    }
}

}  // namespace tether
