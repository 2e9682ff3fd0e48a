// Questions the daemon asks of the log by event kind, so that kind numbers and the SQL
// over them stay in this module: facts still open (a queued notification neither sent
// nor finally failed, an escalation neither cancelled nor fired), found through the
// partial index events_attention.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "log/event_log.h"
#include "log/events.h"

namespace tether {

// A later fact that names an earlier one's seq in a payload field, e.g. NotificationSent's
// "queued"; only_if: a payload field that must also be true (NotificationFailed's "final").
struct FactRef {
    EventKind kind;
    std::string field;
    std::string only_if;
};

struct OpenFact {
    int64_t seq = 0, session = 0;
    std::string payload;  // the JSON text
    int64_t counted = 0;  // how many facts of `count` name it
};

// The facts of `kind` that no fact of closed_by names, in seq order, each with how many
// facts of `count` name it (0 without one). Field names are identifiers from the code.
Result<std::vector<OpenFact>> open_facts(EventLog& log, EventKind kind, const std::vector<FactRef>& closed_by,
                                         const std::optional<FactRef>& count = std::nullopt);

// The receipts plugins gave for first deliveries (NotificationSent with a receipt, not an
// update of an earlier one), in seq order.
struct SentReceipt {
    int64_t session = 0;
    std::string notifier, receipt;
};
Result<std::vector<SentReceipt>> sent_receipts(EventLog& log);

}  // namespace tether
