// Projections: pure folds over the event log, apply(State&, const Event&), and their
// SQLite tables. The live daemon folds each event as it is appended and writes the
// rows it changed in the same transaction as the events; rebuild() folds from seq 1.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "state/agent_state.h"
#include "log/event_log.h"
#include "log/events.h"
#include "base/result.h"
#include "base/sqlite.h"

namespace tether {

// The lifecycle states are the agent states (agent_state.h); the projection adds one:
namespace session_state {
inline constexpr const char* failed = "failed";  // the command could not be started
}  // namespace session_state

struct SessionRow {
    int64_t id = 0;
    std::string name;
    std::vector<std::string> command;
    std::string cwd;
    std::string agent;
    std::string state;
    int64_t state_since_us = 0;
    int64_t started_us = 0;
    int64_t last_activity_us = 0;
    int64_t bytes_out = 0;
    int64_t bytes_in = 0;
    int cols = 0;
    int rows = 0;
    int64_t pid = 0;
    std::string title;
    std::optional<int> exit_code;
    std::optional<int> exit_signal;
    std::string error;
    // What the agent waits for (from StateChanged): the tool and its input, or the
    // question, or the agent's last message; and which signal caused the state.
    std::string waiting_tool;
    std::string waiting_input;  // JSON text
    std::string message;
    std::string state_reason;
    bool external = false;       // hooks from an agent tether did not start (no PTY)
    std::string agent_session;   // the agent's own session id (Claude's session_id)

    bool operator==(const SessionRow&) const = default;
    bool live() const { return state != agent_state::exited && state != session_state::failed; }
};

struct SessionsState {
    std::map<int64_t, SessionRow> sessions;
    int64_t applied_seq = 0;

    bool operator==(const SessionsState&) const = default;
    const SessionRow* find(int64_t id) const;
    const SessionRow* find_by_name(const std::string& name) const;
    // A session named the way users name it: a number (id), or a string that is a name
    // or id digits. nullptr when nothing matches.
    const SessionRow* resolve(const nlohmann::json& ref) const;
};

// The pure fold. Returns the id of the session whose row changed, or 0.
int64_t apply(SessionsState& state, const Event& ev);

// All projections together, with the bookkeeping to persist only what changed.
class Projections {
public:
    // Folds ev and remembers which rows to write at the next persist().
    void apply(const Event& ev);
    // Writes changed rows; call inside the transaction that commits the events.
    Status persist(SqliteDb& db);

    // Loads the tables; when they lag the log (new or migrated database), rebuilds.
    Status load(EventLog& log);
    // Replaces the state with a fold of the whole log and rewrites every table.
    Status rebuild(EventLog& log);
    // A fold of the whole log into a fresh state, leaving this one untouched.
    static Result<SessionsState> fold_all(EventLog& log);
    // Reads the persisted tables, for comparing them with the live state.
    static Result<SessionsState> read_tables(SqliteDb& db);

    const SessionsState& sessions() const { return m_sessions; }

private:
    SessionsState m_sessions;
    std::set<int64_t> m_dirty;
    bool m_rewrite_all = false;
};

}  // namespace tether
