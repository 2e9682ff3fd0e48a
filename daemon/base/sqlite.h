// Thin RAII over the SQLite C API: a connection and prepared statements whose failures
// come back as Error values naming the database file. No SQL lives here.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace tether {

class SqliteDb;

class SqliteStmt {
public:
    SqliteStmt() = default;
    SqliteStmt(SqliteDb* db, sqlite3_stmt* stmt) : m_db(db), m_stmt(stmt) {}
    SqliteStmt(SqliteStmt&& o) noexcept : m_db(o.m_db), m_stmt(o.m_stmt) { o.m_stmt = nullptr; }
    SqliteStmt& operator=(SqliteStmt&& o) noexcept;
    SqliteStmt(const SqliteStmt&) = delete;
    SqliteStmt& operator=(const SqliteStmt&) = delete;
    ~SqliteStmt();

    // Binds are 1-based like SQLite's. Text and blobs are copied (SQLITE_TRANSIENT)
    // unless bind_blob_static is used, whose bytes must live until the next step/reset.
    SqliteStmt& bind(int i, int64_t v);
    SqliteStmt& bind(int i, std::string_view text);
    SqliteStmt& bind_null(int i);
    SqliteStmt& bind_blob(int i, std::string_view bytes);
    SqliteStmt& bind_blob_static(int i, std::string_view bytes);

    // true: a row is ready; false: done. Errors name the database file.
    Result<bool> step();
    Status run();  // step until done, then reset
    void reset();

    int64_t column_int(int i) const;
    bool column_is_null(int i) const;
    std::string column_text(int i) const;
    std::string column_blob(int i) const;

    explicit operator bool() const { return m_stmt != nullptr; }

private:
    SqliteDb* m_db = nullptr;
    sqlite3_stmt* m_stmt = nullptr;
};

class SqliteDb {
public:
    enum class Mode { ReadWrite, ReadOnly };

    // Creates the file with mode 0600 when missing (ReadWrite). Does not touch the schema.
    static Result<SqliteDb> open(const std::string& path, Mode mode);

    SqliteDb() = default;
    SqliteDb(SqliteDb&& o) noexcept : m_db(o.m_db), m_path(std::move(o.m_path)) { o.m_db = nullptr; }
    SqliteDb& operator=(SqliteDb&& o) noexcept;
    SqliteDb(const SqliteDb&) = delete;
    SqliteDb& operator=(const SqliteDb&) = delete;
    ~SqliteDb();

    Status exec(std::string_view sql);
    Result<SqliteStmt> prepare(std::string_view sql);
    Result<int64_t> query_int(std::string_view sql);

    const std::string& path() const { return m_path; }
    sqlite3* handle() const { return m_db; }

    // "<path>: <sqlite message> (<code name>)"
    Error error(std::string_view what) const;
    Error error(std::string_view what, int rc) const;

private:
    sqlite3* m_db = nullptr;
    std::string m_path;
};

}  // namespace tether
