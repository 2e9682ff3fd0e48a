// EventLog: schema, migrations, group commit, reads.
#include "log/event_log.h"

#include <algorithm>

#include "log/event_log_recovery.h"

namespace tether {

namespace {

constexpr const char* k_schema_v1 = R"sql(
CREATE TABLE IF NOT EXISTS events(
    seq INTEGER PRIMARY KEY,
    time INTEGER NOT NULL,
    session INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    payload BLOB NOT NULL
) STRICT;
)sql";

// Migration from version N-1 to N is k_migrations[N-1]; projections are derived, so a
// migration may drop and recreate them and leave them to be rebuilt.
constexpr const char* k_migrations[] = {
    k_schema_v1,
    R"sql(
CREATE INDEX IF NOT EXISTS events_by_session ON events(session, seq);
CREATE TABLE IF NOT EXISTS sessions(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    command TEXT NOT NULL,
    cwd TEXT NOT NULL,
    agent TEXT NOT NULL,
    state TEXT NOT NULL,
    state_since INTEGER NOT NULL,
    started INTEGER NOT NULL,
    last_activity INTEGER NOT NULL,
    bytes_out INTEGER NOT NULL,
    bytes_in INTEGER NOT NULL,
    cols INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    title TEXT NOT NULL,
    exit_code INTEGER,
    exit_signal INTEGER,
    error TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS projection_meta(
    name TEXT PRIMARY KEY,
    applied_seq INTEGER NOT NULL
) STRICT;
)sql",
    // 3: agent states. The sessions table is derived: recreate it and let load() rebuild.
    R"sql(
DROP TABLE IF EXISTS sessions;
CREATE TABLE sessions(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    command TEXT NOT NULL,
    cwd TEXT NOT NULL,
    agent TEXT NOT NULL,
    state TEXT NOT NULL,
    state_since INTEGER NOT NULL,
    started INTEGER NOT NULL,
    last_activity INTEGER NOT NULL,
    bytes_out INTEGER NOT NULL,
    bytes_in INTEGER NOT NULL,
    cols INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    title TEXT NOT NULL,
    exit_code INTEGER,
    exit_signal INTEGER,
    error TEXT NOT NULL,
    waiting_tool TEXT NOT NULL,
    waiting_input TEXT NOT NULL,
    message TEXT NOT NULL,
    state_reason TEXT NOT NULL,
    external INTEGER NOT NULL,
    agent_session TEXT NOT NULL
) STRICT;
DELETE FROM projection_meta WHERE name = 'sessions';
)sql",
    // 4: the notification facts (kinds 21 and up) are found without scanning the log;
    // partial, so output chunks do not pay for it.
    R"sql(
CREATE INDEX IF NOT EXISTS events_attention ON events(kind, seq) WHERE kind >= 21;
)sql",
    // 5: output compressed. Rows written before keep codec 0: nothing is rewritten.
    R"sql(
ALTER TABLE events ADD COLUMN codec INTEGER NOT NULL DEFAULT 0;
)sql",
};
static_assert(std::size(k_migrations) == EventLog::k_schema_version);

Status check_version(SqliteDb& db, int version) {
    if (version > EventLog::k_schema_version)
        return Error{"event log: " + db.path() + " has schema version " +
                     std::to_string(version) + ", newer than this tether understands (" +
                     std::to_string(EventLog::k_schema_version) +
                     "); use the tether that wrote it, or a newer one"};
    return {};
}

}  // namespace

Result<std::optional<Event>> EventCursor::next() {
    auto row = m_stmt.step();
    if (!row) return with_damage_hint(row.error());
    if (!*row) return std::optional<Event>{};
    Event ev;
    ev.seq = m_stmt.column_int(0);
    ev.time_us = m_stmt.column_int(1);
    ev.session = m_stmt.column_int(2);
    ev.kind = static_cast<EventKind>(m_stmt.column_int(3));
    ev.payload = m_stmt.column_blob(4);
    int64_t codec = m_stmt.column_int(5);
    if (codec == 1) {
        if (!m_zstd) m_zstd = std::make_unique<ZstdDecompressor>();
        auto raw = m_zstd->decompress(ev.payload, EventLog::k_max_payload_bytes);
        if (!raw)
            return with_damage_hint(Error{m_path + ": event " + std::to_string(ev.seq) +
                                          " has a damaged compressed payload (" + raw.error().message + ")"});
        ev.payload = std::move(*raw);
    } else if (codec != 0) {
        return Error{"event log: event " + std::to_string(ev.seq) + " has payload codec " + std::to_string(codec) +
                     ", unknown to this tether"};
    }
    return std::optional<Event>(std::move(ev));
}

Result<std::unique_ptr<EventLog>> EventLog::open(const std::string& path) {
    auto db = SqliteDb::open(path, SqliteDb::Mode::ReadWrite);
    if (!db) return db.error();
    std::unique_ptr<EventLog> log(new EventLog());
    log->m_db = std::move(*db);
    if (auto s = log->init_readwrite(); !s) return s.error();
    auto checkpointer = WalCheckpointer::start(log->m_db);
    if (!checkpointer) return checkpointer.error();
    log->m_checkpointer = std::move(*checkpointer);
    return log;
}

Result<std::unique_ptr<EventLog>> EventLog::open_readonly(const std::string& path) {
    auto db = SqliteDb::open(path, SqliteDb::Mode::ReadOnly);
    if (!db) return db.error();
    std::unique_ptr<EventLog> log(new EventLog());
    log->m_db = std::move(*db);
    if (auto s = log->check_readable(); !s) return s.error();
    auto version = log->m_db.query_int("PRAGMA user_version");
    if (!version) return version.error();
    if (auto s = check_version(log->m_db, static_cast<int>(*version)); !s) return s.error();
    if (*version < k_schema_version)
        return Error{"event log: " + path + " has schema version " + std::to_string(*version) +
                     "; start the daemon once to migrate it to " +
                     std::to_string(k_schema_version)};
    return log;
}

// A file that is not SQLite, or is damaged, must fail here with its name, not later.
Status EventLog::check_readable() {
    auto n = m_db.query_int("SELECT count(*) FROM sqlite_master");
    if (!n) return Error{"event log: cannot read " + m_db.path() + ": " + n.error().message};
    return {};
}

Status EventLog::init_readwrite() {
    if (auto s = check_readable(); !s) return s;
    if (auto s = m_db.exec("PRAGMA journal_mode=WAL"); !s) return s;
    // NORMAL in WAL: a commit survives a crash of the process (kill -9); only an OS
    // crash or power loss can take back the last commits.
    if (auto s = m_db.exec("PRAGMA synchronous=NORMAL"); !s) return s;
    // A burst can grow the WAL past its usual size; when it starts over, it is cut back.
    if (auto s = m_db.exec("PRAGMA journal_size_limit=67108864"); !s) return s;

    auto version = m_db.query_int("PRAGMA user_version");
    if (!version) return version.error();
    int v = static_cast<int>(*version);
    if (auto s = check_version(m_db, v); !s) return s;
    if (v < k_schema_version) {
        if (auto s = m_db.exec("BEGIN IMMEDIATE"); !s) return s;
        for (int step = v; step < k_schema_version; ++step) {
            if (auto s = m_db.exec(k_migrations[step]); !s) {
                (void)m_db.exec("ROLLBACK");
                return Error{"event log: migrating " + m_db.path() + " from version " +
                             std::to_string(step) + " failed: " + s.error().message};
            }
        }
        (void)m_db.exec("PRAGMA user_version=" + std::to_string(k_schema_version));
        if (auto s = m_db.exec("COMMIT"); !s) return s;
        m_migrated_from = v == 0 ? 0 : v;
    }

    auto max_seq = m_db.query_int("SELECT coalesce(max(seq), 0) FROM events");
    if (!max_seq) return max_seq.error();
    m_durable_seq = *max_seq;
    m_next_seq = *max_seq + 1;
    auto max_time = m_db.query_int("SELECT coalesce(max(time), 0) FROM events");
    if (!max_time) return max_time.error();
    m_last_time_us = *max_time;

    auto ins = m_db.prepare(
        "INSERT INTO events(seq, time, session, kind, payload, codec) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    if (!ins) return ins.error();
    m_insert = std::move(*ins);
    return {};
}

const Event& EventLog::append(Event ev) {
    ev.seq = m_next_seq++;
    if (ev.time_us == 0) ev.time_us = now_us();
    // Time never runs backwards in the log, even when the wall clock does: readers
    // seek by time and expect it sorted.
    ev.time_us = std::max(ev.time_us, m_last_time_us);
    m_last_time_us = ev.time_us;
    m_pending_bytes += ev.payload.size();
    Stored& stored = m_pending_stored.emplace_back();
    if (ev.kind == EventKind::OutputChunk && ev.payload.size() >= k_compress_from_bytes) {
        if (!m_zstd) m_zstd = std::make_unique<ZstdCompressor>();
        if (m_zstd->compress(ev.payload, stored.bytes)) stored.codec = 1;
        else stored.bytes.clear();
    }
    m_pending.push_back(std::move(ev));
    return m_pending.back();
}

Status EventLog::commit(const std::function<Status(SqliteDb&)>& also, std::vector<Event>* committed) {
    if (m_pending.empty() && !also) return {};
    if (auto s = m_db.exec("BEGIN IMMEDIATE"); !s) return s;
    auto fail = [&](Error e) -> Status {
        (void)m_db.exec("ROLLBACK");
        return e;
    };
    for (size_t i = 0; i < m_pending.size(); ++i) {
        const Event& ev = m_pending[i];
        const Stored& stored = m_pending_stored[i];
        m_insert.bind(1, ev.seq)
            .bind(2, ev.time_us)
            .bind(3, ev.session)
            .bind(4, static_cast<int64_t>(ev.kind))
            .bind_blob_static(5, stored.codec == 0 ? std::string_view(ev.payload) : std::string_view(stored.bytes))
            .bind(6, stored.codec);
        if (auto s = m_insert.run(); !s) return fail(s.error());
    }
    if (also)
        if (auto s = also(m_db); !s) return fail(s.error());
    if (auto s = m_db.exec("COMMIT"); !s) return fail(s.error());
    if (!m_pending.empty()) m_durable_seq = m_pending.back().seq;
    if (committed) {
        committed->clear();
        committed->swap(m_pending);
    }
    m_pending.clear();
    m_pending_stored.clear();
    m_pending_bytes = 0;
    return {};
}

Result<EventCursor> EventLog::read(const EventQuery& q) {
    std::string sql = q.session ? "SELECT seq, time, session, kind, payload, codec FROM events WHERE session = ?1 "
                                : "SELECT seq, time, session, kind, payload, codec FROM events WHERE ?1 IS NULL ";
    sql += "AND seq BETWEEN ?2 AND ?3 AND time BETWEEN ?4 AND ?5 ";
    if (q.skip_terminal_data) sql += "AND kind NOT IN (5, 6) ";
    sql += "ORDER BY seq";
    auto stmt = m_db.prepare(sql);
    if (!stmt) return stmt.error();
    if (q.session)
        stmt->bind(1, *q.session);
    else
        stmt->bind_null(1);
    stmt->bind(2, q.from_seq).bind(3, q.to_seq).bind(4, q.from_time_us).bind(5, q.to_time_us);
    return EventCursor(std::move(*stmt), m_db.path());
}

}  // namespace tether
