// Fuzz target `agent_state`: any sequence of the events the agent-state reducer reads
// (hooks with any payload, titles, bells, OSC notifications, input, output, decisions,
// `tether notify`, screen prompts, start and exit), folded by reduce() and, with the
// StateChanged facts it yields, by the sessions projection. Input: records separated
// by 0x1e, each a kind selector byte, a time step byte (x 50 ms), then the payload.
// Checks: every transition changes the state, to a known state, and leaves the status
// in it; the fold is pure (the same events give the same transitions twice).
#include <set>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "fuzz_target.h"
#include "state/agent_state.h"
#include "state/projections.h"
#include "wire/protocol.h"

using namespace tether;

namespace {

constexpr EventKind k_kinds[] = {
    EventKind::HookReceived,     EventKind::HookReceived,     EventKind::HookReceived,   EventKind::OutputChunk,
    EventKind::InputSent,        EventKind::TitleChanged,     EventKind::BellRang,       EventKind::TerminalNotified,
    EventKind::PermissionDecided, EventKind::AgentNotified,   EventKind::ScreenPromptSeen, EventKind::SessionStarted,
    EventKind::SessionExited,    EventKind::Resized,          EventKind::PermissionRequested, EventKind::SessionAdopted,
};

std::vector<Event> events_of(const uint8_t* data, size_t size) {
    fuzz::FuzzInput in(data, size);
    std::vector<Event> out;
    int64_t time = 1'700'000'000'000'000;
    int64_t seq = 1;
    // The session exists first, as in the log.
    out.push_back(make_json_event(1, EventKind::SessionStarted, {{"name", "s"}, {"agent", "claude"}, {"cols", 80}, {"rows", 24}}));
    out.back().seq = seq++;
    out.back().time_us = time;
    while (!in.empty() && out.size() < 2000) {
        EventKind kind = k_kinds[in.byte() % std::size(k_kinds)];
        time += int64_t{in.byte()} * 50'000;
        std::string payload(in.until("\x1e"));
        Event ev;
        ev.seq = seq++;
        ev.time_us = time;
        ev.session = 1;
        ev.kind = kind;
        if (kind == EventKind::HookReceived && !payload.empty() && payload[0] == '{') {
            // Mostly as the intake writes it: the agent's JSON under "payload".
            auto j = nlohmann::json::parse(payload, nullptr, false);
            ev.payload = j.is_discarded() ? payload : dump_json(nlohmann::json{{"agent", "claude"}, {"payload", j}});
        } else {
            ev.payload = payload;
        }
        out.push_back(std::move(ev));
    }
    return out;
}

}  // namespace

TETHER_FUZZ_TARGET(agent_state) {
    static const std::set<std::string> k_states = {"starting", "running", "needs_permission", "needs_answer", "idle", "exited"};
    std::vector<Event> events = events_of(data, size);
    std::vector<std::optional<StateChange>> first;
    for (int pass = 0; pass < 2; ++pass) {
        AgentStatus status;
        SessionsState sessions;
        int64_t seq = 1'000'000;
        for (size_t i = 0; i < events.size(); ++i) {
            const Event& ev = events[i];
            apply(sessions, ev);
            auto change = reduce(status, ev);
            if (pass == 0) first.push_back(change);
            else FUZZ_CHECK(first[i] == change, "the reducer is pure: the same events, the same transitions");
            if (!change) continue;
            FUZZ_CHECK(change->from != change->to, "a transition changes the state");
            FUZZ_CHECK(k_states.count(change->to), change->to);
            FUZZ_CHECK(status.state == change->to, "the status is in the state it moved to");
            nlohmann::json fact = state_changed_payload(*change);
            fact["cause"] = ev.seq;
            Event changed = make_json_event(1, EventKind::StateChanged, fact);
            changed.seq = seq++;
            changed.time_us = ev.time_us;
            apply(sessions, changed);
            const SessionRow* row = sessions.find(1);
            FUZZ_CHECK(row != nullptr, "the session's row");
            if (row->state != "failed") FUZZ_CHECK(row->state == change->to, "the projection follows StateChanged");
        }
    }
    return 0;
}
