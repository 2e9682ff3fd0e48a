// A fleet fact: one committed event of a host's log as it travels on NATS JetStream, and
// which events travel at all (pure; no NATS here). The wire form:
//   subject   tether.<host>.<Kind>                 e.g. tether.devbox.StateChanged
//   headers   Nats-Msg-Id: <host>:<seq>            the server drops a republished one
//             Tether-Host, Tether-Seq, Tether-Epoch, Tether-Time (us), Tether-Session
//   body      the event's payload as in the log (JSON, or raw bytes for OutputChunk)
// seq is the host's log seq (gaps: kinds that do not travel); epoch is the time of the
// first event of that log, so a host whose log was recreated starts a new sequence.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "log/events.h"

namespace tether {

struct FleetFact {
    std::string host;
    int64_t epoch = 0;
    int64_t seq = 0;
    int64_t time_us = 0;
    int64_t session = 0;
    EventKind kind = EventKind::MarkerAdded;
    std::string payload;

    Event event() const { return Event{seq, time_us, session, kind, payload}; }
};

// The facts that matter beyond the host: sessions, states, permissions, attaches,
// markers, the daemon's starts and stops; terminal output only when asked for.
bool fleet_publishes(EventKind kind, bool output);

std::string fleet_subject(const std::string& host, EventKind kind);  // tether.<host>.<Kind>
std::string fleet_msg_id(const std::string& host, int64_t seq);      // <host>:<seq>
inline constexpr const char* k_fleet_subjects = "tether.*.*";        // the stream's subjects
// Where a host's daemon answers requests (approve/deny from another host): the last token
// names the asker, so that the server's publish permissions vouch for it.
std::string fleet_request_subject(const std::string& to, const std::string& from);  // tether-rpc.<to>.decide.<from>
std::string fleet_inbox_prefix(const std::string& host);             // _INBOX_<host>: replies to this host only

// Reads a received message. header(name) gives a header's value or nullptr. The error
// says what is wrong, for the report of a skipped message.
Result<FleetFact> decode_fleet_fact(std::string_view subject, const std::function<const char*(const char*)>& header,
                                    std::string_view body);

}  // namespace tether
