// The screen-follower thread.
#include "terminal/screen_follower.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

#include "base/bug.h"
#include "log/event_log.h"
#include "base/log.h"

namespace tether {

// Two locks, always taken queue-then-screen: the loop thread hands over chunks under
// queue_mutex only, so it never waits for a slice being parsed under screen_mutex.
struct ScreenFollower::Followed {
    Followed(int cols, int rows, size_t history, int64_t start)
        : screen(cols, rows, history), fed_seq(start), committed_seq(start) {}

    std::mutex screen_mutex;  // guards screen; held while parsing one slice
    Screen screen;
    std::atomic<int64_t> fed_seq;

    bool watch_prompts = false;
    KeyframeCadence cadence;   // follower thread only
    bool keyframes_ok = true;  // false once the screen missed output (a damaged log)
    std::string shown_prompt;  // the dialog on screen after the last slice ("" for none)

    std::mutex queue_mutex;  // guards everything below
    std::deque<Event> queue;
    size_t queue_bytes = 0;
    bool from_log = false;
    int64_t committed_seq;
    std::vector<std::pair<int64_t, ScreenFn>> waiters;  // (target seq, fn)
};

ScreenFollower::ScreenFollower(EventLoop& loop, std::string log_path, ScreenFollowerOptions options)
    : m_loop(loop), m_log_path(std::move(log_path)), m_options(options), m_mailbox(loop, "screen follower") {
    m_thread = std::thread([this] { run(); });
}

ScreenFollower::~ScreenFollower() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_work.notify_all();
    // An idle-priority thread may not get the CPU soon on a busy machine: lift it to exit.
    sched_param param{};
    pthread_setschedparam(m_thread.native_handle(), SCHED_OTHER, &param);
    m_thread.join();
}

namespace {

// Dialogs Claude Code shows before any hook can fire (the workspace-trust question) or
// while a hook waits (its permission dialog); agent-hooks.md 1.8, claude-bg.md 2.
std::string recognise_prompt(const std::string& text) {
    if (text.find("No, exit") != std::string::npos && text.find("trust") != std::string::npos) return "trust";
    if (text.find("Do you want to proceed?") != std::string::npos) return "permission";
    return "";
}

}  // namespace

void ScreenFollower::add_session(int64_t session, int cols, int rows, int64_t start_seq, bool watch_prompts,
                                 int64_t committed_seq) {
    auto f = std::make_shared<Followed>(cols, rows, m_options.history_lines, start_seq);
    f->watch_prompts = watch_prompts;
    if (committed_seq > start_seq) {
        f->committed_seq = committed_seq;
        f->from_log = true;
    }
    {
        std::lock_guard lock(m_mutex);
        m_sessions[session] = std::move(f);
    }
    if (committed_seq > start_seq) kick();
}

void ScreenFollower::remove_session(int64_t session) {
    std::lock_guard lock(m_mutex);
    m_sessions.erase(session);
}

void ScreenFollower::committed(const Event& ev) {
    std::shared_ptr<Followed> f;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_sessions.find(ev.session);
        if (it == m_sessions.end()) return;
        f = it->second;
    }
    {
        std::lock_guard lock(f->queue_mutex);
        f->committed_seq = ev.seq;
        if (!f->from_log) {
            f->queue_bytes += ev.payload.size();
            f->queue.push_back(ev);
            if (f->queue_bytes > m_options.queue_bytes) {
                // The parser is far behind: stop holding copies; the log has them.
                f->queue.clear();
                f->queue_bytes = 0;
                f->from_log = true;
            }
        }
    }
    kick();
}

void ScreenFollower::kick() {
    {
        std::lock_guard lock(m_mutex);
        m_kicked = true;
    }
    m_work.notify_one();
}

void ScreenFollower::when_caught_up(int64_t session, ScreenFn fn) {
    std::shared_ptr<Followed> f;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_sessions.find(session);
        if (it == m_sessions.end()) TETHER_BUG("when_caught_up for a session that is not followed");
        f = it->second;
    }
    std::unique_lock queue_lock(f->queue_mutex);
    if (f->fed_seq >= f->committed_seq) {
        // Already current: no round trip through the thread.
        std::lock_guard screen_lock(f->screen_mutex);
        fn(f->screen, f->fed_seq);
        return;
    }
    f->waiters.emplace_back(f->committed_seq, std::move(fn));
    ++m_waiting;
    queue_lock.unlock();
    kick();
}

// Parsing is catch-up work: on a busy machine the PTY drain and the program itself come
// first, so the thread runs under SCHED_IDLE (only on otherwise idle CPU; nice 19 where
// that is refused). But someone waiting for a screen (an attach) must not wait for idle
// CPU: while anyone waits, the thread runs at normal priority.
void ScreenFollower::set_urgent(bool urgent) {
    if (urgent == m_urgent) return;
    m_urgent = urgent;
    sched_param param{};
    if (urgent) {
        pthread_setschedparam(pthread_self(), SCHED_OTHER, &param);
        setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 0);
    } else if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) != 0) {
        setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
    }
}

void ScreenFollower::run() {
    m_urgent = true;
    set_urgent(false);
    std::unique_ptr<EventLog> log;  // opened on first need, on this thread
    for (;;) {
        std::vector<std::pair<int64_t, std::shared_ptr<Followed>>> sessions;
        {
            std::unique_lock lock(m_mutex);
            m_work.wait(lock, [this] { return m_stop || m_kicked; });
            if (m_stop) return;
            m_kicked = false;
            for (auto& [id, f] : m_sessions) sessions.emplace_back(id, f);
        }
        // One slice per session per pass, so a flood in one does not starve the others.
        bool more = true;
        while (more) {
            more = false;
            set_urgent(m_waiting.load() > 0);
            for (auto& [id, f] : sessions) more = feed_slice(*f, id, log) || more;
            std::lock_guard lock(m_mutex);
            if (m_stop) return;
        }
    }
}

// Parses up to one slice of the session's committed output; true if more remains.
bool ScreenFollower::feed_slice(Followed& f, int64_t session, std::unique_ptr<EventLog>& log) {
    std::vector<Event> batch;
    bool from_log;
    int64_t target;
    {
        std::lock_guard lock(f.queue_mutex);
        target = f.committed_seq;
        if (f.fed_seq >= target) {
            post_ready(f, session);
            return false;
        }
        from_log = f.from_log;
        size_t budget = m_options.slice_bytes;
        while (!from_log && !f.queue.empty() && budget > 0) {
            budget -= std::min(budget, f.queue.front().payload.size());
            f.queue_bytes -= f.queue.front().payload.size();
            batch.push_back(std::move(f.queue.front()));
            f.queue.pop_front();
        }
    }
    if (from_log && !read_slice(f, session, target, log, batch)) {
        // Render what we have rather than spin on a log we cannot read.
        f.keyframes_ok = false;
        std::lock_guard lock(f.queue_mutex);
        f.fed_seq = target;
        f.from_log = false;
        post_ready(f, session);
        return false;
    }
    std::vector<Keyframe> keyframes = parse(f, session, batch);
    {
        // A session removed meanwhile (pruned) must not get keyframes back.
        std::lock_guard lock(m_mutex);
        if (!m_sessions.count(session)) keyframes.clear();
    }
    store_keyframes(keyframes);
    std::lock_guard lock(f.queue_mutex);
    if (f.from_log && f.fed_seq >= f.committed_seq) f.from_log = false;
    post_ready(f, session);
    return f.fed_seq < f.committed_seq;
}

// Reads up to one slice of the session's events after fed_seq from the log (the thread's
// own connection, opened on first need); false if the log cannot be read.
bool ScreenFollower::read_slice(Followed& f, int64_t session, int64_t target, std::unique_ptr<EventLog>& log,
                                std::vector<Event>& batch) {
    if (!log) {
        auto opened = EventLog::open_readonly(m_log_path);
        if (!opened) {
            log_error("screen follower: " + opened.error().message);
            return false;
        }
        log = std::move(*opened);
    }
    auto cursor = log->read(EventQuery{.session = session, .from_seq = f.fed_seq + 1, .to_seq = target});
    if (!cursor) return false;
    size_t budget = m_options.slice_bytes;
    while (budget > 0) {
        auto ev = cursor->next();
        if (!ev) {
            log_error("screen follower: " + ev.error().message);
            return false;
        }
        if (!*ev) break;
        budget -= std::min(budget, (*ev)->payload.size());
        batch.push_back(std::move(**ev));
    }
    return true;
}

// Feeds the batch to the session's screen (locked), takes keyframes on their cadence and
// tells the prompt listener when a known dialog appears.
std::vector<Keyframe> ScreenFollower::parse(Followed& f, int64_t session, const std::vector<Event>& batch) {
    std::vector<Keyframe> keyframes;
    std::lock_guard lock(f.screen_mutex);
    for (const Event& ev : batch) {
        if (ev.kind == EventKind::OutputChunk) {
            f.screen.feed(ev.payload);
            (void)f.screen.take_replies();  // an attached terminal answers queries
        } else if (ev.kind == EventKind::Resized) {
            auto j = ev.json();
            f.screen.resize(j.value("cols", f.screen.cols()), j.value("rows", f.screen.rows()));
        }
        f.fed_seq = ev.seq;
        if (m_options.keyframes && f.keyframes_ok) {
            if (ev.kind == EventKind::SessionExited) f.cadence.finish(f.screen, ev, keyframes);
            else f.cadence.after(f.screen, ev, keyframes);
        }
    }
    if (f.watch_prompts && !batch.empty() && m_on_prompt) {
        std::string text = f.screen.text();
        std::string prompt = recognise_prompt(text);
        if (prompt != f.shown_prompt) {
            f.shown_prompt = prompt;
            if (!prompt.empty())
                m_mailbox.post([this, session, prompt, text] {
                    run_on_screen(session, [&](const Screen&, int64_t) { m_on_prompt(session, prompt, text); });
                });
        }
    }
    return keyframes;
}

void ScreenFollower::store_keyframes(const std::vector<Keyframe>& frames) {
    if (frames.empty()) return;
    if (!m_keyframes) {
        auto opened = KeyframeStore::open(KeyframeStore::path_beside(m_log_path));
        if (!opened) return log_error("screen follower: " + opened.error().message);
        m_keyframes = std::move(*opened);
    }
    // A keyframe lost is only a longer seek later: say so, and go on.
    if (auto s = m_keyframes->put(frames); !s) log_warn("screen follower: " + s.error().message);
}

// Called with f.queue_mutex held: moves the waiters that are satisfied to the loop thread.
void ScreenFollower::post_ready(Followed& f, int64_t session) {
    if (f.waiters.empty()) return;
    std::vector<std::pair<int64_t, ScreenFn>> keep;
    for (auto& [target, fn] : f.waiters) {
        if (f.fed_seq >= target) {
            m_mailbox.post([this, session, fn = std::move(fn)] { run_on_screen(session, fn); });
            --m_waiting;
        } else {
            keep.emplace_back(target, std::move(fn));
        }
    }
    f.waiters = std::move(keep);
}

// On the loop thread: fn with the session's screen locked, unless it was removed meanwhile.
void ScreenFollower::run_on_screen(int64_t session, const ScreenFn& fn) {
    std::shared_ptr<Followed> f;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_sessions.find(session);
        if (it == m_sessions.end()) return;
        f = it->second;
    }
    std::lock_guard lock(f->screen_mutex);
    run_guarded("screen callback", [&] { fn(f->screen, f->fed_seq); });
}

}  // namespace tether
