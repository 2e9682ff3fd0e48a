// DeadlinePool: a few worker threads that run blocking calls (plugin sends), each with a
// deadline. A call past its deadline is reported as timed out at once, and its thread is
// abandoned (detached, left to finish the call on its own) and replaced, so one hung call
// never holds a worker forever. Knows nothing of plugins or of the event loop.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

namespace tether {

class DeadlinePool {
public:
    // in_time: work returned before its deadline (done runs on the worker, after work);
    // otherwise done runs on the watchdog thread while work may still be running.
    using Done = std::function<void(bool in_time)>;

    explicit DeadlinePool(int threads);
    // Waits for the calls in progress (each at most until its deadline) and drops the
    // queued ones without calling their done. Abandoned calls keep running detached:
    // whatever work captured must stay valid on its own (own it by shared_ptr).
    ~DeadlinePool();
    DeadlinePool(const DeadlinePool&) = delete;
    DeadlinePool& operator=(const DeadlinePool&) = delete;

    // Any thread. work must not throw (an exception is logged and counts as returned).
    // done is called exactly once.
    void submit(std::function<void()> work, std::chrono::milliseconds timeout, Done done);

    // Threads abandoned past a deadline whose call has not returned yet.
    size_t abandoned_running() const;

private:
    struct State;
    struct Worker;
    static void spawn(const std::shared_ptr<State>& s);  // with s->mutex held
    static void work_loop(std::shared_ptr<State> s, std::shared_ptr<Worker> self);
    static void watch_loop(std::shared_ptr<State> s);

    std::shared_ptr<State> m_state;
    std::thread m_watchdog;
};

}  // namespace tether
