// SQLite RAII wrappers.
#include "base/sqlite.h"

#include <fcntl.h>
#include <unistd.h>

namespace tether {

SqliteStmt& SqliteStmt::operator=(SqliteStmt&& o) noexcept {
    if (this != &o) {
        if (m_stmt) sqlite3_finalize(m_stmt);
        m_db = o.m_db;
        m_stmt = o.m_stmt;
        o.m_stmt = nullptr;
    }
    return *this;
}

SqliteStmt::~SqliteStmt() {
    if (m_stmt) sqlite3_finalize(m_stmt);
}

SqliteStmt& SqliteStmt::bind(int i, int64_t v) {
    sqlite3_bind_int64(m_stmt, i, v);
    return *this;
}

SqliteStmt& SqliteStmt::bind(int i, std::string_view text) {
    sqlite3_bind_text(m_stmt, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
}

SqliteStmt& SqliteStmt::bind_null(int i) {
    sqlite3_bind_null(m_stmt, i);
    return *this;
}

SqliteStmt& SqliteStmt::bind_blob(int i, std::string_view bytes) {
    // A zero-length blob must still be a blob, not NULL: pass a non-null pointer.
    sqlite3_bind_blob(m_stmt, i, bytes.empty() ? "" : bytes.data(),
                      static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    return *this;
}

SqliteStmt& SqliteStmt::bind_blob_static(int i, std::string_view bytes) {
    sqlite3_bind_blob(m_stmt, i, bytes.empty() ? "" : bytes.data(),
                      static_cast<int>(bytes.size()), SQLITE_STATIC);
    return *this;
}

Result<bool> SqliteStmt::step() {
    int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    Error e = m_db->error("step", rc);
    sqlite3_reset(m_stmt);
    return e;
}

Status SqliteStmt::run() {
    for (;;) {
        auto r = step();
        if (!r) return r.error();
        if (!*r) break;
    }
    reset();
    return {};
}

void SqliteStmt::reset() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

int64_t SqliteStmt::column_int(int i) const { return sqlite3_column_int64(m_stmt, i); }

bool SqliteStmt::column_is_null(int i) const {
    return sqlite3_column_type(m_stmt, i) == SQLITE_NULL;
}

std::string SqliteStmt::column_text(int i) const {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, i));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(m_stmt, i))) : std::string();
}

std::string SqliteStmt::column_blob(int i) const {
    auto p = static_cast<const char*>(sqlite3_column_blob(m_stmt, i));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(m_stmt, i))) : std::string();
}

Result<SqliteDb> SqliteDb::open(const std::string& path, Mode mode) {
    if (mode == Mode::ReadWrite) {
        // SQLite would create the file with the umask's mode; we want 0600 whatever it is.
        int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) return errno_error("event log: open " + path);
        ::close(fd);
    }
    SqliteDb db;
    db.m_path = path;
    int flags = (mode == Mode::ReadWrite ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) |
                SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path.c_str(), &db.m_db, flags, nullptr);
    if (rc != SQLITE_OK) return db.error("open", rc);
    sqlite3_extended_result_codes(db.m_db, 1);
    sqlite3_busy_timeout(db.m_db, 5000);
    return db;
}

SqliteDb& SqliteDb::operator=(SqliteDb&& o) noexcept {
    if (this != &o) {
        if (m_db) sqlite3_close_v2(m_db);
        m_db = o.m_db;
        m_path = std::move(o.m_path);
        o.m_db = nullptr;
    }
    return *this;
}

SqliteDb::~SqliteDb() {
    if (m_db) sqlite3_close_v2(m_db);
}

Status SqliteDb::exec(std::string_view sql) {
    std::string s(sql);
    char* msg = nullptr;
    int rc = sqlite3_exec(m_db, s.c_str(), nullptr, nullptr, &msg);
    if (rc != SQLITE_OK) {
        std::string text = msg ? msg : sqlite3_errstr(rc);
        sqlite3_free(msg);
        return Error{m_path + ": " + text + " (" + sqlite3_errstr(rc) + ")"};
    }
    return {};
}

Result<SqliteStmt> SqliteDb::prepare(std::string_view sql) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(m_db, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return error("prepare", rc);
    return SqliteStmt(this, stmt);
}

Result<int64_t> SqliteDb::query_int(std::string_view sql) {
    auto stmt = prepare(sql);
    if (!stmt) return stmt.error();
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return Error{m_path + ": no row for " + std::string(sql)};
    return stmt->column_int(0);
}

Error SqliteDb::error(std::string_view what) const {
    return error(what, m_db ? sqlite3_errcode(m_db) : SQLITE_ERROR);
}

Error SqliteDb::error(std::string_view what, int rc) const {
    std::string msg = m_db ? sqlite3_errmsg(m_db) : sqlite3_errstr(rc);
    return Error{m_path + ": " + std::string(what) + " failed: " + msg + " (" +
                 sqlite3_errstr(rc) + ")"};
}

}  // namespace tether
