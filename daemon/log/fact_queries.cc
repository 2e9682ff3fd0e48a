// The SQL of fact_queries.h, written from EventKind values.
#include "log/fact_queries.h"

#include "base/bug.h"

namespace tether {

namespace {

// Kinds from here up are in the partial index events_attention (schema version 4, whose
// migration says "kind >= 21"); SQLite uses it only when the query says so too.
constexpr int k_attention_from = static_cast<int>(EventKind::NotificationQueued);

// "e.kind >= 21 AND e.kind = K": the index's own condition first.
std::string kind_is(const std::string& alias, EventKind kind) {
    int k = static_cast<int>(kind);
    std::string is = alias + ".kind = " + std::to_string(k);
    return k >= k_attention_from ? alias + ".kind >= " + std::to_string(k_attention_from) + " AND " + is : is;
}

std::string field(const std::string& alias, const std::string& name) {
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || c == '_')) TETHER_BUG(("fact_queries: field name " + name).c_str());
    return "json_extract(CAST(" + alias + ".payload AS TEXT), '$." + name + "')";
}

// The facts that name q: "FROM events r WHERE <kind> AND <field> = q.seq [AND only_if = 1]".
std::string naming(const std::string& alias, const FactRef& ref) {
    std::string sql = "FROM events " + alias + " WHERE " + kind_is(alias, ref.kind) + " AND " + field(alias, ref.field) + " = q.seq";
    if (!ref.only_if.empty()) sql += " AND " + field(alias, ref.only_if) + " = 1";
    return sql;
}

}  // namespace

Result<std::vector<OpenFact>> open_facts(EventLog& log, EventKind kind, const std::vector<FactRef>& closed_by,
                                         const std::optional<FactRef>& count) {
    std::string sql = "SELECT q.seq, q.session, CAST(q.payload AS TEXT), ";
    sql += count ? "(SELECT count(*) " + naming("n", *count) + ")" : std::string("0");
    sql += " FROM events q WHERE " + kind_is("q", kind);
    for (size_t i = 0; i < closed_by.size(); ++i)
        sql += " AND NOT EXISTS (SELECT 1 " + naming("c" + std::to_string(i), closed_by[i]) + ")";
    sql += " ORDER BY q.seq";
    auto q = log.db().prepare(sql);
    if (!q) return q.error();
    std::vector<OpenFact> open;
    for (;;) {
        auto row = q->step();
        if (!row) return row.error();
        if (!*row) break;
        open.push_back({q->column_int(0), q->column_int(1), q->column_text(2), q->column_int(3)});
    }
    return open;
}

Result<std::vector<SentReceipt>> sent_receipts(EventLog& log) {
    // Updates revise a message; their receipts name the same one, so only first deliveries.
    std::string sql = "SELECT s.session, " + field("s", "notifier") + ", " + field("s", "receipt") + " FROM events s WHERE " +
                      kind_is("s", EventKind::NotificationSent) + " AND " + field("s", "receipt") + " IS NOT NULL AND " +
                      field("s", "update_of") + " IS NULL ORDER BY s.seq";
    auto q = log.db().prepare(sql);
    if (!q) return q.error();
    std::vector<SentReceipt> out;
    for (;;) {
        auto row = q->step();
        if (!row) return row.error();
        if (!*row) break;
        out.push_back({q->column_int(0), q->column_text(1), q->column_text(2)});
    }
    return out;
}

}  // namespace tether
