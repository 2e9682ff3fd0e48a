// Keyframes: their SQLite file and when to take one.
#include "keyframes.h"

namespace tether {

namespace {

constexpr const char* k_schema = R"sql(
CREATE TABLE IF NOT EXISTS keyframes(
    session INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    time INTEGER NOT NULL,
    cols INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    state BLOB NOT NULL,
    PRIMARY KEY(session, seq)
) STRICT;
PRAGMA user_version = 1;
)sql";

}  // namespace

std::string KeyframeStore::path_beside(const std::string& event_log_path) {
    size_t slash = event_log_path.rfind('/');
    return (slash == std::string::npos ? std::string() : event_log_path.substr(0, slash + 1)) + "keyframes.db";
}

Result<std::unique_ptr<KeyframeStore>> KeyframeStore::open(const std::string& path) {
    auto db = SqliteDb::open(path, SqliteDb::Mode::ReadWrite);
    if (!db) return db.error();
    std::unique_ptr<KeyframeStore> store(new KeyframeStore());
    store->m_db = std::move(*db);
    auto version = store->m_db.query_int("PRAGMA user_version");
    if (!version) return Error{"keyframes: cannot read " + path + ": " + version.error().message};
    if (*version > 1)
        return Error{"keyframes: " + path + " has version " + std::to_string(*version) +
                     ", newer than this tether understands; delete it, it is rebuilt from the log"};
    if (auto s = store->m_db.exec("PRAGMA journal_mode=WAL"); !s) return s.error();
    if (auto s = store->m_db.exec("PRAGMA synchronous=NORMAL"); !s) return s.error();
    if (auto s = store->m_db.exec(k_schema); !s) return s.error();
    return store;
}

Status KeyframeStore::put(const std::vector<Keyframe>& frames) {
    if (frames.empty()) return {};
    if (auto s = m_db.exec("BEGIN IMMEDIATE"); !s) return s;
    auto stmt = m_db.prepare("INSERT OR REPLACE INTO keyframes(session, seq, time, cols, rows, state) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    if (!stmt) {
        (void)m_db.exec("ROLLBACK");
        return stmt.error();
    }
    for (const Keyframe& k : frames) {
        stmt->bind(1, k.session).bind(2, k.seq).bind(3, k.time_us).bind(4, k.cols).bind(5, k.rows).bind_blob_static(6, k.state);
        if (auto s = stmt->run(); !s) {
            (void)m_db.exec("ROLLBACK");
            return s;
        }
    }
    return m_db.exec("COMMIT");
}

Result<std::optional<Keyframe>> KeyframeStore::latest(int64_t session, int64_t at_most_seq) {
    auto stmt = m_db.prepare("SELECT seq, time, cols, rows, state FROM keyframes WHERE session = ?1 AND seq <= ?2 "
                             "ORDER BY seq DESC LIMIT 1");
    if (!stmt) return stmt.error();
    stmt->bind(1, session).bind(2, at_most_seq);
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return std::optional<Keyframe>();
    Keyframe k{.session = session, .seq = stmt->column_int(0), .time_us = stmt->column_int(1),
               .cols = static_cast<int>(stmt->column_int(2)), .rows = static_cast<int>(stmt->column_int(3)),
               .state = stmt->column_blob(4)};
    return std::optional<Keyframe>(std::move(k));
}

Status KeyframeStore::clear() { return m_db.exec("DELETE FROM keyframes"); }

Status KeyframeStore::remove_session(int64_t session) {
    auto stmt = m_db.prepare("DELETE FROM keyframes WHERE session = ?1");
    if (!stmt) return stmt.error();
    stmt->bind(1, session);
    return stmt->run();
}

void KeyframeCadence::after(const Screen& screen, const Event& ev, std::vector<Keyframe>& out) {
    if (ev.kind == EventKind::OutputChunk) {
        if (m_pending) {
            bool ascii = !ev.payload.empty() && static_cast<unsigned char>(ev.payload[0]) < 0x80;
            if (ascii) out.push_back(std::move(*m_pending));
            else m_since = m_interval;  // dropped: try again at once
            m_pending.reset();
        }
        m_since += ev.payload.size();
    }
    if (m_since < m_interval || m_pending) return;
    auto state = screen.snapshot(k_keyframe_history_lines);
    if (!state) return;  // try again after the next chunk
    m_since = 0;
    Keyframe k{.session = ev.session, .seq = ev.seq, .time_us = ev.time_us, .cols = screen.cols(),
               .rows = screen.rows(), .state = std::move(*state)};
    if (screen.after_text()) m_pending = std::move(k);
    else out.push_back(std::move(k));
}

}  // namespace tether
