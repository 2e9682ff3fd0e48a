// libevent wrappers.
#include "base/event_loop.h"

#include <event2/event.h>
#include <event2/thread.h>

#include <exception>
#include <string>

#include "base/bug.h"
#include "base/log.h"

namespace tether {

EventLoop::EventLoop() {
    static const bool threads_ready = [] { return evthread_use_pthreads() == 0; }();
    (void)threads_ready;
    // Precise timers: the default coarse clock has a 4 ms resolution here, more than the
    // group-commit interval itself.
    event_config* cfg = event_config_new();
    if (!cfg) TETHER_BUG("event_config_new failed");
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    m_base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (!m_base) TETHER_BUG("event_base_new failed");
    // Three priorities: 1 (the default, everything) and 2 for IdleTask.
    if (event_base_priority_init(m_base, 3) != 0) TETHER_BUG("event_base_priority_init failed");
}

EventLoop::~EventLoop() { event_base_free(m_base); }

int EventLoop::run() { return event_base_dispatch(m_base); }

int EventLoop::run_until_stopped() { return event_base_loop(m_base, EVLOOP_NO_EXIT_ON_EMPTY); }
void EventLoop::run_ready() { event_base_loop(m_base, EVLOOP_NONBLOCK); }

void EventLoop::stop() { event_base_loopbreak(m_base); }

void run_guarded(const char* where, const std::function<void()>& fn) {
    try {
        fn();
    } catch (const std::exception& e) {
        log_error(std::string(where) + ": unexpected exception: " + e.what());
    } catch (...) {
        log_error(std::string(where) + ": unexpected exception");
    }
}

Timer::Timer(EventLoop& loop, std::function<void()> fn)
    : m_ev(evtimer_new(loop.base(), &Timer::trampoline, this)), m_fn(std::move(fn)) {
    if (!m_ev) TETHER_BUG("evtimer_new failed");
}

Timer::~Timer() { event_free(m_ev); }

void Timer::arm_ms(long ms) {
    struct timeval tv { ms / 1000, (ms % 1000) * 1000 };
    evtimer_add(m_ev, &tv);
}

void Timer::cancel() { evtimer_del(m_ev); }

bool Timer::armed() const { return evtimer_pending(m_ev, nullptr); }

void Timer::trampoline(int, short, void* self) {
    run_guarded("timer", static_cast<Timer*>(self)->m_fn);
}

SignalWatcher::SignalWatcher(EventLoop& loop, int signo, std::function<void()> fn)
    : m_ev(evsignal_new(loop.base(), signo, &SignalWatcher::trampoline, this)), m_fn(std::move(fn)) {
    if (!m_ev) TETHER_BUG("evsignal_new failed");
    evsignal_add(m_ev, nullptr);
}

SignalWatcher::~SignalWatcher() { event_free(m_ev); }

void SignalWatcher::trampoline(int, short, void* self) {
    run_guarded("signal", static_cast<SignalWatcher*>(self)->m_fn);
}

IdleTask::IdleTask(EventLoop& loop, std::function<void()> fn)
    : m_ev(event_new(loop.base(), -1, 0, &IdleTask::trampoline, this)), m_fn(std::move(fn)) {
    if (!m_ev) TETHER_BUG("event_new failed");
    event_priority_set(m_ev, 2);
}

IdleTask::~IdleTask() { event_free(m_ev); }

void IdleTask::schedule() {
    if (!event_pending(m_ev, EV_TIMEOUT, nullptr)) event_active(m_ev, EV_TIMEOUT, 0);
}

void IdleTask::trampoline(int, short, void* self) {
    run_guarded("idle task", static_cast<IdleTask*>(self)->m_fn);
}

FdWatcher::FdWatcher(EventLoop& loop, int fd, short interest, std::function<void()> fn)
    : m_ev(event_new(loop.base(), fd, static_cast<short>(interest | EV_PERSIST), &FdWatcher::trampoline, this)),
      m_fn(std::move(fn)) {
    if (!m_ev) TETHER_BUG("event_new failed");
}

FdWatcher::~FdWatcher() { event_free(m_ev); }

void FdWatcher::enable() {
    if (!m_enabled) event_add(m_ev, nullptr);
    m_enabled = true;
}

void FdWatcher::disable() {
    if (m_enabled) event_del(m_ev);
    m_enabled = false;
}

void FdWatcher::trampoline(int, short, void* self) {
    run_guarded("fd watcher", static_cast<FdWatcher*>(self)->m_fn);
}

}  // namespace tether
