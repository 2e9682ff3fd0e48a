// AgentTracker: runs the agent-state reducer (agent_state.h) over every committed event
// of every session, appends a StateChanged for each transition, and answers those who
// wait for a state (`tether wait`). The reducer's memory lives here, one per session.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "state/agent_state.h"
#include "base/event_loop.h"
#include "state/store.h"

namespace tether {

class AgentTracker {
public:
    using StateFn = std::function<void(const std::string& state, bool final)>;

    AgentTracker(EventLoop& loop, Store& store);

    // Calls fn once the session is in `state` (at once if it is), or with final=true
    // when it exits without reaching it. Dropped when the returned token dies.
    std::shared_ptr<void> wait_for(int64_t session, const std::string& state, StateFn fn);
    const AgentStatus* status(int64_t session) const;
    // A session adopted from its holder: rebuild the reducer's memory by replaying the
    // session's logged events (the reducer is pure), appending nothing.
    Status restore(int64_t session);

    // The Store listener (the Daemon wires it, in the pipeline's order): each committed
    // event of a session through the reducer; a transition appends StateChanged.
    void on_committed(const Event& ev);

private:
    void notify_waiters(int64_t session, const std::string& state, bool final);

    Store& m_store;
    std::map<int64_t, AgentStatus> m_status;
    struct Waiter {
        int64_t session;
        std::string state;
        StateFn fn;
    };
    std::vector<std::weak_ptr<Waiter>> m_waiters;
};

}  // namespace tether
