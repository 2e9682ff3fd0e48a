// Event log salvage: read around damaged pages, copy what reads.
#include "log/event_log_recovery.h"

#include <filesystem>
#include <optional>

#include "base/sqlite.h"
#include "log/event_log.h"
#include "log/zstd_codec.h"

namespace tether {

namespace {

constexpr int64_t k_batch = 4096;  // events per transaction in the fresh log

struct Row {
    int64_t seq, time, session, kind;
    std::string payload;
    int64_t codec;  // as stored: a compressed payload is copied compressed
};

// Whether the damaged log's events table has the codec column (schema 5 on); an older
// one's payloads are all as written.
bool has_codec(SqliteDb& db) {
    auto q = db.prepare("SELECT codec FROM events LIMIT 0");
    return static_cast<bool>(q);
}

// From `after` on, the rows that read, up to the first damage; error set at damage. A
// compressed payload that does not decompress is damage too (a page overwritten inside
// the blob reads back without SQLite noticing).
std::vector<Row> read_run(SqliteDb& db, int64_t after, size_t max, std::string& error) {
    ZstdDecompressor zstd;
    std::vector<Row> rows;
    auto q = db.prepare(std::string("SELECT seq, time, session, kind, payload, ") + (has_codec(db) ? "coalesce(codec, 0)" : "0") +
                        " FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    if (!q) {
        error = q.error().message;
        return rows;
    }
    q->bind(1, after).bind(2, static_cast<int64_t>(max));
    for (;;) {
        auto more = q->step();
        if (!more) {
            error = more.error().message;
            break;
        }
        if (!*more) break;
        Row row{q->column_int(0), q->column_int(1), q->column_int(2), q->column_int(3), q->column_blob(4), q->column_int(5)};
        if (row.codec == 1) {
            if (auto raw = zstd.decompress(row.payload, EventLog::k_max_payload_bytes); !raw) {
                error = "event " + std::to_string(row.seq) + " has a damaged compressed payload (" + raw.error().message + ")";
                break;
            }
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

// The first seq at or after `from` that a lookup reaches: nullopt when damage is in
// the way, 0 when nothing lies beyond.
std::optional<int64_t> probe(SqliteDb& db, int64_t from) {
    auto q = db.prepare("SELECT seq FROM events WHERE seq >= ?1 ORDER BY seq LIMIT 1");
    if (!q) return std::nullopt;
    q->bind(1, from);
    auto row = q->step();
    if (!row) return std::nullopt;
    return *row ? q->column_int(0) : 0;
}

// The first seq after `after` that can be reached past damage (looking ever further,
// then narrowing down to where the damage ends); 0 if none.
int64_t next_readable(SqliteDb& db, int64_t after) {
    int64_t bad = after, step = 1;
    std::optional<int64_t> hit;
    for (; step < (int64_t{1} << 60); step *= 2) {
        hit = probe(db, after + step);
        if (hit) break;
        bad = after + step;
    }
    if (!hit || *hit == 0) return 0;
    int64_t good = after + step, found = *hit;
    while (good - bad > 1) {
        int64_t mid = bad + (good - bad) / 2;
        auto h = probe(db, mid);
        if (!h) {
            bad = mid;
        } else {
            good = mid;
            if (*h > 0) found = *h;
        }
    }
    return found;
}

Status write_rows(SqliteDb& out, const std::vector<Row>& rows) {
    if (auto s = out.exec("BEGIN IMMEDIATE"); !s) return s;
    auto ins = out.prepare("INSERT INTO events(seq, time, session, kind, payload, codec) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    if (!ins) return ins.error();
    for (const auto& r : rows) {
        ins->bind(1, r.seq).bind(2, r.time).bind(3, r.session).bind(4, r.kind).bind_blob(5, r.payload).bind(6, r.codec);
        if (auto s = ins->run(); !s) {
            (void)out.exec("ROLLBACK");
            return s;
        }
    }
    return out.exec("COMMIT");
}

}  // namespace

bool is_damage_error(const Error& e) {
    return e.message.find("malformed") != std::string::npos || e.message.find("not a database") != std::string::npos ||
           e.message.find("damaged compressed payload") != std::string::npos;
}

Error with_damage_hint(Error e) {
    if (!is_damage_error(e) || e.message.find("tether admin recover") != std::string::npos) return e;
    e.message += "; the event log is damaged: with the daemon stopped, `tether admin recover` copies every event that "
                 "can still be read into a new log and keeps the damaged file beside it";
    return e;
}

Result<RecoveryReport> recover_event_log(const std::string& damaged, const std::string& fresh) {
    std::error_code ec;
    if (std::filesystem::exists(fresh, ec)) return Error{"recover: " + fresh + " exists already"};
    auto in = SqliteDb::open(damaged, SqliteDb::Mode::ReadOnly);
    if (!in) return Error{"recover: cannot open " + damaged + ": " + in.error().message};
    // A file shorter than its header says is refused as a whole unless SQLite is told
    // to read what is there (nothing is written: the connection is read-only).
    (void)in->exec("PRAGMA writable_schema=ON");
    auto log = EventLog::open(fresh);  // the current schema, empty
    if (!log) return log.error();
    SqliteDb& out = (*log)->db();

    RecoveryReport report;
    int64_t after = 0;
    for (;;) {
        std::string error;
        auto rows = read_run(*in, after, k_batch, error);
        if (!rows.empty()) {
            if (auto s = write_rows(out, rows); !s) return s.error();
            if (report.events == 0) report.first_seq = rows.front().seq;
            report.events += static_cast<int64_t>(rows.size());
            report.last_seq = after = rows.back().seq;
        }
        if (error.empty()) {
            if (rows.size() < static_cast<size_t>(k_batch)) break;  // the end
            continue;
        }
        if (report.first_error.empty()) report.first_error = error;
        int64_t next = next_readable(*in, after);
        if (next == 0) {
            report.tail_lost = true;
            break;
        }
        // A row the index reaches but whose payload does not read is skipped alone.
        if (next <= after + 1) next = after + 2;
        report.skipped.emplace_back(after + 1, next - 1);
        after = next - 1;
    }
    return report;
}

}  // namespace tether
