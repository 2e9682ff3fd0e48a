// RAII over libevent: the loop, timers, signals and fd watchers. Every callback runs
// inside a catch-all, so no exception ever unwinds through libevent's C frames.
#pragma once

#include <functional>
#include <memory>

struct event_base;
struct event;

namespace tether {

class EventLoop {
public:
    EventLoop();
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    int run();   // until stop() or nothing is left to wait for
    int run_until_stopped();  // until stop(), even with nothing to wait for (work comes by Mailbox)
    // One turn: runs the callbacks that are ready now, waits for nothing (tests, fuzzers).
    void run_ready();
    void stop();  // from a callback on the loop thread
    event_base* base() const { return m_base; }

private:
    event_base* m_base;
};

// Runs fn, logging and swallowing any exception: for use inside C callbacks.
void run_guarded(const char* where, const std::function<void()>& fn);

class Timer {
public:
    Timer(EventLoop& loop, std::function<void()> fn);
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    void arm_ms(long ms);  // (re)arms: replaces a pending deadline
    void cancel();
    bool armed() const;

private:
    static void trampoline(int, short, void* self);
    event* m_ev;
    std::function<void()> m_fn;
};

class SignalWatcher {
public:
    SignalWatcher(EventLoop& loop, int signo, std::function<void()> fn);
    ~SignalWatcher();
    SignalWatcher(const SignalWatcher&) = delete;
    SignalWatcher& operator=(const SignalWatcher&) = delete;

private:
    static void trampoline(int, short, void* self);
    event* m_ev;
    std::function<void()> m_fn;
};

// Work that runs only when nothing of normal priority is ready (the loop is otherwise
// idle): the screen model catching up behind the log. schedule() is idempotent.
class IdleTask {
public:
    IdleTask(EventLoop& loop, std::function<void()> fn);
    ~IdleTask();
    IdleTask(const IdleTask&) = delete;
    IdleTask& operator=(const IdleTask&) = delete;

    void schedule();

private:
    static void trampoline(int, short, void* self);
    event* m_ev;
    std::function<void()> m_fn;
};

// Watches an fd for readability or writability (persistently, until disabled).
class FdWatcher {
public:
    enum Interest : short { Read = 0x02, Write = 0x04 };  // EV_READ, EV_WRITE
    FdWatcher(EventLoop& loop, int fd, short interest, std::function<void()> fn);
    ~FdWatcher();
    FdWatcher(const FdWatcher&) = delete;
    FdWatcher& operator=(const FdWatcher&) = delete;

    void enable();
    void disable();
    bool enabled() const { return m_enabled; }

private:
    static void trampoline(int, short, void* self);
    event* m_ev;
    std::function<void()> m_fn;
    bool m_enabled = false;
};

}  // namespace tether
