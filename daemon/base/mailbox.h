// Mailbox: the one way work comes back to the loop thread. Any thread posts a closure;
// the loop runs it on its own thread, in the order posted, inside run_guarded. The
// plugin host's completions, a plugin's decisions, the screen follower's and the seek
// worker's answers, and the window's requests to its link thread all come through one.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/event_loop.h"

namespace tether {

class Mailbox {
public:
    // where names the mailbox in the log when a closure throws.
    Mailbox(EventLoop& loop, std::string where);
    // On the loop thread. Closures not run yet are dropped (destroyed here, after the
    // mailbox is closed), and so is whatever is posted afterwards.
    ~Mailbox();
    Mailbox(const Mailbox&) = delete;
    Mailbox& operator=(const Mailbox&) = delete;

    // Any thread.
    void post(std::function<void()> fn) const;

    // A handle for threads that may outlive the mailbox (an abandoned plugin call): its
    // posts after the mailbox is gone are dropped.
    class Poster {
    public:
        Poster() = default;
        // False when the mailbox is gone or closed: the closure will never run.
        bool post(std::function<void()> fn) const;

    private:
        friend class Mailbox;
        struct State;
        std::weak_ptr<State> m_state;
    };
    Poster poster() const;

private:
    std::shared_ptr<Poster::State> m_state;
};

}  // namespace tether
