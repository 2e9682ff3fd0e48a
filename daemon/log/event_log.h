// The append-only event log in SQLite (WAL): open with schema versioning, staged appends
// committed in groups, streaming reads; WAL checkpoints on a thread of their own
// (wal_checkpointer.h). It knows nothing of projections beyond running
// the caller's writes inside the same transaction as the events.
//
// On disk (PRAGMA user_version = k_schema_version):
//   events(seq INTEGER PRIMARY KEY, time INTEGER, session INTEGER, kind INTEGER,
//          payload BLOB,                 -- the log; rows are never updated, and deleted only
//                                        -- by retention (Store::prune, with a tombstone)
//          codec INTEGER)                -- 0: payload as written; 1: a zstd frame of it
//                                        -- (OutputChunk only); EventCursor::next decodes
//   index events_by_session(session, seq)
//   projection tables (projections.h), derived and rebuildable from events.
// History: 1 = events only; 2 = + events_by_session, sessions projection;
// 3 = agent-state columns in sessions; 4 = + events_attention (kinds >= 21);
// 5 = + codec (compressed output; older rows stay as they were, codec 0).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "log/events.h"
#include "log/wal_checkpointer.h"
#include "log/zstd_codec.h"
#include "base/result.h"
#include "base/sqlite.h"

namespace tether {

struct EventQuery {
    std::optional<int64_t> session;
    int64_t from_seq = 1;
    int64_t to_seq = std::numeric_limits<int64_t>::max();
    int64_t from_time_us = 0;
    int64_t to_time_us = std::numeric_limits<int64_t>::max();
    bool skip_terminal_data = false;  // leave out OutputChunk and InputSent (timelines)
};

// Streams rows of one query; never holds more than one event in memory. Must not
// outlive the EventLog it came from.
class EventCursor {
public:
    EventCursor(SqliteStmt stmt, std::string path) : m_stmt(std::move(stmt)), m_path(std::move(path)) {}
    // nullopt at the end; an Error (naming the file) for a damaged database. The one
    // place that reads events back: payloads come out as they were appended, whatever
    // their codec (every reader of output, export, replay, seek, grep, the screen
    // follower, adoption and `admin verify`, comes through here).
    Result<std::optional<Event>> next();

private:
    SqliteStmt m_stmt;
    std::string m_path;  // of the database, for errors
    std::unique_ptr<ZstdDecompressor> m_zstd;  // made on the first compressed payload
};

class EventLog {
public:
    static constexpr int k_schema_version = 5;
    // OutputChunk payloads from this size on are stored compressed (when that is smaller).
    static constexpr size_t k_compress_from_bytes = 128;
    // What a stored payload may decompress to at most (a damaged frame claims anything).
    static constexpr size_t k_max_payload_bytes = size_t{64} << 20;

    // Creates the database when missing, migrates an older schema, refuses a newer one.
    static Result<std::unique_ptr<EventLog>> open(const std::string& path);
    // For readers beside a running daemon (WAL allows it). Refuses any other version.
    static Result<std::unique_ptr<EventLog>> open_readonly(const std::string& path);

    // Stages ev for the next commit: assigns seq, and time when ev has none.
    const Event& append(Event ev);
    size_t pending_events() const { return m_pending.size(); }
    size_t pending_bytes() const { return m_pending_bytes; }

    // Writes every staged event in one transaction, runs `also` inside it (projection
    // writes), commits. On failure nothing is dropped: the events stay staged.
    // On success the committed events are moved into *committed when it is given.
    Status commit(const std::function<Status(SqliteDb&)>& also = {},
                  std::vector<Event>* committed = nullptr);

    int64_t last_seq() const { return m_next_seq - 1; }   // staged included
    int64_t durable_seq() const { return m_durable_seq; }
    int migrated_from() const { return m_migrated_from; }  // 0 when no migration ran

    Result<EventCursor> read(const EventQuery& q);
    SqliteDb& db() { return m_db; }
    // The read-write log's checkpoints run off the committing thread; null when read-only.
    const WalCheckpointer* checkpointer() const { return m_checkpointer.get(); }

private:
    EventLog() = default;
    Status init_readwrite();
    Status check_readable();

    SqliteDb m_db;
    std::unique_ptr<WalCheckpointer> m_checkpointer;  // declared after m_db: stops before it closes
    SqliteStmt m_insert;
    std::vector<Event> m_pending;
    struct Stored {
        int64_t codec = 0;  // as in the codec column
        std::string bytes;  // the compressed payload when codec is 1
    };
    std::vector<Stored> m_pending_stored;  // beside m_pending
    std::unique_ptr<ZstdCompressor> m_zstd;  // made on the first output appended
    size_t m_pending_bytes = 0;
    int64_t m_next_seq = 1;
    int64_t m_durable_seq = 0;
    int64_t m_last_time_us = 0;
    int m_migrated_from = 0;
};

}  // namespace tether
