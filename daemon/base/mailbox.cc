// The mailbox: a mutex-guarded queue and a libevent event activated from any thread
// (libevent is thread-enabled by EventLoop).
#include "base/mailbox.h"

#include <event2/event.h>

#include <mutex>
#include <vector>

#include "base/bug.h"

namespace tether {

struct Mailbox::Poster::State : std::enable_shared_from_this<State> {
    std::mutex mutex;
    event* ev = nullptr;  // null once the mailbox is closed
    std::vector<std::function<void()>> ready;
    std::string where;

    static void run(int, short, void* self) {
        // Kept alive by this call: a closure may destroy the mailbox that owns it.
        auto s = static_cast<State*>(self)->shared_from_this();
        std::vector<std::function<void()>> batch;
        {
            std::lock_guard lock(s->mutex);
            batch.swap(s->ready);
        }
        for (auto& fn : batch) {
            {
                std::lock_guard lock(s->mutex);
                if (!s->ev) return;  // closed by a closure of this batch: drop the rest
            }
            run_guarded(s->where.c_str(), fn);
        }
    }

    bool post(std::function<void()> fn) {
        std::lock_guard lock(mutex);
        if (!ev) return false;
        ready.push_back(std::move(fn));
        event_active(ev, EV_TIMEOUT, 0);
        return true;
    }
};

Mailbox::Mailbox(EventLoop& loop, std::string where) : m_state(std::make_shared<Poster::State>()) {
    m_state->where = std::move(where);
    m_state->ev = event_new(loop.base(), -1, 0, &Poster::State::run, m_state.get());
    if (!m_state->ev) TETHER_BUG("event_new failed");
}

Mailbox::~Mailbox() {
    event* ev;
    std::vector<std::function<void()>> dropped;
    {
        std::lock_guard lock(m_state->mutex);
        ev = m_state->ev;
        m_state->ev = nullptr;
        dropped.swap(m_state->ready);
    }
    event_free(ev);
    // Outside the lock: a dropped closure's captures may post again (and are refused).
    dropped.clear();
}

void Mailbox::post(std::function<void()> fn) const { (void)m_state->post(std::move(fn)); }

Mailbox::Poster Mailbox::poster() const {
    Poster p;
    p.m_state = m_state;
    return p;
}

bool Mailbox::Poster::post(std::function<void()> fn) const {
    auto s = m_state.lock();
    return s && s->post(std::move(fn));
}

}  // namespace tether
