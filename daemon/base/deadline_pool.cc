// Worker threads with deadlines, and the watchdog that abandons and replaces a worker
// whose call overran.
#include "base/deadline_pool.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "base/bug.h"
#include "base/log.h"

namespace tether {

using Clock = std::chrono::steady_clock;

struct DeadlinePool::Worker {
    std::thread thread;
    bool busy = false;       // running a call whose done is still ours to call
    bool abandoned = false;  // the watchdog reported the call and detached the thread
    Clock::time_point deadline;
    Done done;
};

struct DeadlinePool::State {
    struct Job {
        std::function<void()> work;
        std::chrono::milliseconds timeout;
        Done done;
    };

    std::mutex mutex;  // guards everything below, and every Worker's fields
    std::condition_variable work_cv;   // a job was queued, or stop
    std::condition_variable watch_cv;  // a deadline started, a worker exited, or stop
    std::deque<Job> queue;
    std::list<std::shared_ptr<Worker>> workers;  // not abandoned; exited ones until joined
    int live = 0;                                // workers still in work_loop
    size_t abandoned_running = 0;
    bool stop = false;
};

DeadlinePool::DeadlinePool(int threads) : m_state(std::make_shared<State>()) {
    TETHER_ASSERT(threads > 0);
    std::lock_guard lock(m_state->mutex);
    for (int i = 0; i < threads; ++i) spawn(m_state);
    m_watchdog = std::thread(&DeadlinePool::watch_loop, m_state);
}

DeadlinePool::~DeadlinePool() {
    std::deque<State::Job> dropped;  // destroyed outside the lock: captures may be heavy
    {
        std::lock_guard lock(m_state->mutex);
        m_state->stop = true;
        dropped.swap(m_state->queue);
    }
    m_state->work_cv.notify_all();
    m_state->watch_cv.notify_all();
    // The watchdog returns once every worker has left work_loop, abandoning those that
    // overrun meanwhile; the ones left in the list have exited or are about to.
    m_watchdog.join();
    std::list<std::shared_ptr<Worker>> workers;
    {
        std::lock_guard lock(m_state->mutex);
        workers.swap(m_state->workers);
    }
    for (auto& w : workers) w->thread.join();
}

void DeadlinePool::spawn(const std::shared_ptr<State>& s) {
    auto w = std::make_shared<Worker>();
    w->thread = std::thread(&DeadlinePool::work_loop, s, w);
    s->workers.push_back(std::move(w));
    ++s->live;
}

void DeadlinePool::submit(std::function<void()> work, std::chrono::milliseconds timeout, Done done) {
    {
        std::lock_guard lock(m_state->mutex);
        if (m_state->stop) return;
        m_state->queue.push_back({std::move(work), timeout, std::move(done)});
    }
    m_state->work_cv.notify_one();
}

size_t DeadlinePool::abandoned_running() const {
    std::lock_guard lock(m_state->mutex);
    return m_state->abandoned_running;
}

void DeadlinePool::work_loop(std::shared_ptr<State> s, std::shared_ptr<Worker> self) {
    std::unique_lock lock(s->mutex);
    for (;;) {
        s->work_cv.wait(lock, [&] { return s->stop || !s->queue.empty(); });
        if (s->stop) break;
        State::Job job = std::move(s->queue.front());
        s->queue.pop_front();
        self->busy = true;
        self->deadline = Clock::now() + job.timeout;
        self->done = std::move(job.done);
        s->watch_cv.notify_one();
        lock.unlock();

        try {
            job.work();
        } catch (const std::exception& e) {
            log_error(std::string("deadline pool: work threw: ") + e.what());
        } catch (...) {
            log_error("deadline pool: work threw");
        }
        job.work = nullptr;  // release what it captured outside the lock

        lock.lock();
        if (self->abandoned) {
            // The watchdog already reported this call and started a replacement.
            --s->abandoned_running;
            return;
        }
        self->busy = false;
        Done done = std::move(self->done);
        lock.unlock();
        done(true);
        done = nullptr;
        lock.lock();
    }
    --s->live;
    s->watch_cv.notify_all();
}

void DeadlinePool::watch_loop(std::shared_ptr<State> s) {
    std::unique_lock lock(s->mutex);
    while (!(s->stop && s->live == 0)) {
        auto now = Clock::now();
        std::vector<Done> expired;
        std::optional<Clock::time_point> next;
        for (auto it = s->workers.begin(); it != s->workers.end();) {
            Worker& w = **it;
            if (w.busy && w.deadline <= now) {
                w.busy = false;
                w.abandoned = true;
                ++s->abandoned_running;
                expired.push_back(std::move(w.done));
                w.thread.detach();
                it = s->workers.erase(it);
                --s->live;
                if (!s->stop) {
                    try {
                        spawn(s);
                    } catch (const std::system_error& e) {
                        log_error(std::string("deadline pool: cannot replace a worker: ") + e.what());
                    }
                }
                continue;
            }
            if (w.busy && (!next || w.deadline < *next)) next = w.deadline;
            ++it;
        }
        if (!expired.empty()) {
            lock.unlock();
            for (auto& done : expired) done(false);
            expired.clear();
            lock.lock();
            continue;
        }
        if (next)
            s->watch_cv.wait_until(lock, *next);
        else
            s->watch_cv.wait(lock);
    }
}

}  // namespace tether
