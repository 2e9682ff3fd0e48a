// Keyframes: their SQLite file and when to take one.
#include "terminal/keyframes.h"

#include <cctype>

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
    codec INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY(session, seq)
) STRICT;
CREATE VIRTUAL TABLE IF NOT EXISTS screen_text USING fts5(text, session UNINDEXED, seq UNINDEXED, time UNINDEXED);
PRAGMA user_version = 2;
)sql";

// Version 1 stored every state as it is: those rows keep codec 0.
constexpr const char* k_from_v1 = "ALTER TABLE keyframes ADD COLUMN codec INTEGER NOT NULL DEFAULT 0";

// A screen state is at most a few hundred KiB: a frame that says more is damage.
constexpr size_t k_max_state_bytes = size_t{64} << 20;

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
    if (*version > 2)
        return Error{"keyframes: " + path + " has version " + std::to_string(*version) +
                     ", newer than this tether understands; delete it, it is rebuilt from the log"};
    if (auto s = store->m_db.exec("PRAGMA journal_mode=WAL"); !s) return s.error();
    if (auto s = store->m_db.exec("PRAGMA synchronous=NORMAL"); !s) return s.error();
    if (*version == 1)
        if (auto s = store->m_db.exec(k_from_v1); !s) return s.error();
    if (auto s = store->m_db.exec(k_schema); !s) return s.error();
    return store;
}

Status KeyframeStore::put(const std::vector<Keyframe>& frames) {
    if (frames.empty()) return {};
    if (auto s = m_db.exec("BEGIN IMMEDIATE"); !s) return s;
    auto fail = [&](Error e) -> Status {
        (void)m_db.exec("ROLLBACK");
        return e;
    };
    auto frame = m_db.prepare(
        "INSERT OR IGNORE INTO keyframes(session, seq, time, cols, rows, state, codec) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!frame) return fail(frame.error());
    auto text = m_db.prepare("INSERT INTO screen_text(rowid, text, session, seq, time) VALUES(?1, ?2, ?3, ?4, ?5)");
    if (!text) return fail(text.error());
    std::string packed;
    for (const Keyframe& k : frames) {
        bool zstd = !k.state.empty() && m_zstd.compress(k.state, packed);
        frame->bind(1, k.session).bind(2, k.seq).bind(3, k.time_us).bind(4, k.cols).bind(5, k.rows);
        frame->bind_blob_static(6, zstd ? std::string_view(packed) : std::string_view(k.state)).bind(7, zstd ? 1 : 0);
        if (auto s = frame->run(); !s) return fail(s.error());
        if (sqlite3_changes(m_db.handle()) == 0) continue;  // already there, with its text
        text->bind(1, sqlite3_last_insert_rowid(m_db.handle())).bind(2, k.text).bind(3, k.session).bind(4, k.seq).bind(5, k.time_us);
        if (auto s = text->run(); !s) return fail(s.error());
    }
    return m_db.exec("COMMIT");
}

Result<std::optional<Keyframe>> KeyframeStore::latest(int64_t session, int64_t at_most_seq) {
    auto stmt = m_db.prepare("SELECT seq, time, cols, rows, state, codec FROM keyframes WHERE session = ?1 AND seq <= ?2 "
                             "AND length(state) > 0 ORDER BY seq DESC LIMIT 1");
    if (!stmt) return stmt.error();
    stmt->bind(1, session).bind(2, at_most_seq);
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return std::optional<Keyframe>();
    Keyframe k{.session = session, .seq = stmt->column_int(0), .time_us = stmt->column_int(1),
               .cols = static_cast<int>(stmt->column_int(2)), .rows = static_cast<int>(stmt->column_int(3)),
               .state = stmt->column_blob(4), .text = {}};
    if (stmt->column_int(5) == 1) {
        auto state = m_unzstd.decompress(k.state, k_max_state_bytes);
        if (!state)
            return Error{"keyframes: " + m_db.path() + ": keyframe " + std::to_string(k.seq) + " of session " +
                         std::to_string(session) + " is damaged: " + state.error().message};
        k.state = std::move(*state);
    }
    return std::optional<Keyframe>(std::move(k));
}

Status KeyframeStore::clear() { return m_db.exec("BEGIN; DELETE FROM screen_text; DELETE FROM keyframes; COMMIT"); }

Status KeyframeStore::remove_session(int64_t session) {
    if (auto s = m_db.exec("BEGIN IMMEDIATE"); !s) return s;
    for (const char* sql : {"DELETE FROM screen_text WHERE rowid IN (SELECT rowid FROM keyframes WHERE session = ?1)",
                            "DELETE FROM keyframes WHERE session = ?1"}) {
        auto stmt = m_db.prepare(sql);
        if (!stmt) {
            (void)m_db.exec("ROLLBACK");
            return stmt.error();
        }
        stmt->bind(1, session);
        if (auto s = stmt->run(); !s) {
            (void)m_db.exec("ROLLBACK");
            return s;
        }
    }
    return m_db.exec("COMMIT");
}

namespace {

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

Result<std::vector<TextHit>> KeyframeStore::search(const std::string& phrase, std::optional<int64_t> session, size_t limit) {
    // The words as one FTS5 phrase: quotes doubled, so no query syntax gets through.
    std::string quoted = "\"";
    for (char c : phrase) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    quoted += "\"";
    auto stmt = m_db.prepare(std::string("SELECT session, seq, time, text FROM screen_text WHERE screen_text MATCH ?1") +
                             (session ? " AND session = ?2" : "") + " ORDER BY seq DESC LIMIT 1000");
    if (!stmt) return stmt.error();
    stmt->bind(1, quoted);
    if (session) stmt->bind(2, *session);
    std::vector<std::string> words;
    for (size_t i = 0; i < phrase.size();) {
        size_t j = phrase.find(' ', i);
        if (j == std::string::npos) j = phrase.size();
        if (j > i) words.push_back(lower(phrase.substr(i, j - i)));
        i = j + 1;
    }
    std::vector<TextHit> hits;
    for (;;) {
        auto row = stmt->step();
        if (!row) return Error{"grep: " + row.error().message};
        if (!*row || hits.size() >= limit) break;
        std::string text = stmt->column_text(3);
        // The first lines are the scrolled-off ones; the last `rows` lines the screen. A
        // line is a hit when it holds every word of the phrase.
        size_t screen_from = text.rfind("\f");
        size_t pos = 0;
        while (pos <= text.size() && hits.size() < limit) {
            size_t nl = text.find('\n', pos);
            if (nl == std::string::npos) nl = text.size();
            std::string line = text.substr(pos, nl - pos);
            std::string low = lower(line);
            bool all = !words.empty();
            for (const auto& w : words) all = all && low.find(w) != std::string::npos;
            if (all)
                hits.push_back({stmt->column_int(0), stmt->column_int(1), stmt->column_int(2),
                                line.substr(line.empty() || line[0] != '\f' ? 0 : 1),
                                screen_from != std::string::npos && pos >= screen_from});
            pos = nl + 1;
        }
    }
    return hits;
}

Keyframe KeyframeCadence::take(const Screen& screen, const Event& ev, std::string state) {
    // Lines scrolled off since the last keyframe (as many as history still holds), then a
    // form feed, then the screen: search tells the two apart.
    uint64_t pushed = screen.history_pushed();
    std::string text = screen.history_tail_text(static_cast<size_t>(pushed - m_pushed));
    m_pushed = pushed;
    if (!text.empty()) text += '\n';
    text += '\f' + screen.text();
    return Keyframe{.session = ev.session, .seq = ev.seq, .time_us = ev.time_us, .cols = screen.cols(),
                    .rows = screen.rows(), .state = std::move(state), .text = std::move(text)};
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
    Keyframe k = take(screen, ev, std::move(*state));
    if (screen.after_text()) m_pending = std::move(k);
    else out.push_back(std::move(k));
}

void KeyframeCadence::finish(const Screen& screen, const Event& ev, std::vector<Keyframe>& out) {
    if (m_pending) out.push_back(std::move(*m_pending));  // nothing follows it
    m_pending.reset();
    // No output follows the end: a snapshot after text holds.
    out.push_back(take(screen, ev, screen.snapshot(k_keyframe_history_lines).value_or("")));
}

}  // namespace tether
