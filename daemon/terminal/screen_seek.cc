// Seeking a session's screen through keyframes, and the seek worker.
#include "terminal/screen_seek.h"

#include "base/log.h"

namespace tether {

Result<ScreenAt> screen_at(EventLog& log, KeyframeStore* keyframes, int64_t session, int64_t target_seq) {
    ScreenAt at;
    int64_t from = 1;
    if (keyframes) {
        auto kf = keyframes->latest(session, target_seq);
        if (!kf) return kf.error();
        if (*kf) {
            at.screen = std::make_unique<Screen>((*kf)->cols, (*kf)->rows);
            at.screen->feed((*kf)->state);
            at.seq = at.keyframe_seq = (*kf)->seq;
            at.time_us = (*kf)->time_us;
            from = (*kf)->seq + 1;
        }
    }
    auto cursor = log.read(EventQuery{.session = session, .from_seq = from, .to_seq = target_seq});
    if (!cursor) return cursor.error();
    KeyframeCadence cadence;
    std::vector<Keyframe> crossed;
    for (;;) {
        auto ev = cursor->next();
        if (!ev) return ev.error();
        if (!*ev) break;
        const Event& e = **ev;
        if (!at.screen) {
            if (e.kind != EventKind::SessionStarted) continue;
            auto j = e.json();
            at.screen = std::make_unique<Screen>(j.value("cols", 80), j.value("rows", 24));
        } else if (e.kind == EventKind::OutputChunk) {
            at.screen->feed(e.payload);
            (void)at.screen->take_replies();
            at.replayed_bytes += e.payload.size();
        } else if (e.kind == EventKind::Resized) {
            auto j = e.json();
            at.screen->resize(j.value("cols", at.screen->cols()), j.value("rows", at.screen->rows()));
        }
        at.seq = e.seq;
        at.time_us = e.time_us;
        if (e.kind == EventKind::OutputChunk || e.kind == EventKind::Resized) cadence.after(*at.screen, e, crossed);
        if (e.kind == EventKind::SessionExited) cadence.finish(*at.screen, e, crossed);
    }
    if (!at.screen) return Error{"screen: session " + std::to_string(session) + " has no recorded start"};
    if (keyframes && !crossed.empty())
        if (auto s = keyframes->put(crossed); !s) log_warn("keyframes: " + s.error().message);
    return at;
}

Result<int64_t> seq_at_time(EventLog& log, int64_t session, int64_t time_us) {
    auto stmt = log.db().prepare("SELECT coalesce(max(seq), 0) FROM events WHERE session = ?1 AND time <= ?2");
    if (!stmt) return stmt.error();
    stmt->bind(1, session).bind(2, time_us);
    auto row = stmt->step();
    if (!row) return row.error();
    return stmt->column_int(0);
}

// The worker thread's connections, opened on first use on that thread.
struct ScreenSeeker::Worker {
    std::string log_path;
    std::unique_ptr<EventLog> log;
    std::unique_ptr<KeyframeStore> keyframes;

    Status open() {
        if (!log) {
            auto l = EventLog::open_readonly(log_path);
            if (!l) return l.error();
            log = std::move(*l);
        }
        if (!keyframes) {
            auto k = KeyframeStore::open(KeyframeStore::path_beside(log_path));
            if (!k) return k.error();
            keyframes = std::move(*k);
        }
        return {};
    }
};

ScreenSeeker::ScreenSeeker(EventLoop& loop, std::string log_path)
    : m_loop(loop), m_log_path(std::move(log_path)), m_mailbox(loop, "screen seek reply") {
    m_thread = std::thread([this] { run(); });
}

ScreenSeeker::~ScreenSeeker() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
        m_jobs.clear();
    }
    m_wake.notify_all();
    m_thread.join();
}

void ScreenSeeker::submit(Job job) {
    {
        std::lock_guard lock(m_mutex);
        m_jobs.push_back(std::move(job));
    }
    m_wake.notify_one();
}

void ScreenSeeker::run() {
    Worker worker;
    worker.log_path = m_log_path;
    for (;;) {
        Job job;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stop || !m_jobs.empty(); });
            if (m_stop) return;
            job = std::move(m_jobs.front());
            m_jobs.pop_front();
        }
        run_guarded("screen seek", [&] { job(worker); });
    }
}

void ScreenSeeker::seek(Target target, Done done) {
    submit([this, target, done = std::move(done)](Worker& w) {
        auto view = [&]() -> Result<ScreenView> {
            if (auto s = w.open(); !s) return s.error();
            int64_t seq = target.seq.value_or(std::numeric_limits<int64_t>::max());
            if (target.time_us) {
                auto at = seq_at_time(*w.log, target.session, *target.time_us);
                if (!at) return at.error();
                seq = *at;
            }
            auto at = screen_at(*w.log, w.keyframes.get(), target.session, seq);
            if (!at) return at.error();
            const Screen& s = *at->screen;
            return ScreenView{.seq = at->seq, .time_us = at->time_us, .keyframe_seq = at->keyframe_seq,
                              .replayed_bytes = at->replayed_bytes, .cols = s.cols(), .rows = s.rows(),
                              .cursor_row = s.cursor_row(), .cursor_col = s.cursor_col(), .alt_screen = s.alt_screen(),
                              .title = s.title(), .text = s.text(), .ansi = s.render_screen()};
        }();
        m_mailbox.post([done, view = std::move(view)] { done(view); });
    });
}

void ScreenSeeker::rebuild(std::vector<int64_t> sessions) {
    submit([](Worker& w) {
        if (auto s = w.open(); !s) return log_error("keyframes: " + s.error().message);
        if (auto s = w.keyframes->clear(); !s) log_error("keyframes: " + s.error().message);
    });
    for (int64_t session : sessions)
        submit([session](Worker& w) {
            if (auto s = w.open(); !s) return;
            if (auto at = screen_at(*w.log, w.keyframes.get(), session, std::numeric_limits<int64_t>::max()); !at)
                log_warn("keyframes for session " + std::to_string(session) + ": " + at.error().message);
        });
}

void ScreenSeeker::search(std::string phrase, std::optional<int64_t> session, size_t limit, SearchDone done) {
    submit([this, phrase, session, limit, done = std::move(done)](Worker& w) {
        auto hits = [&]() -> Result<std::vector<TextHit>> {
            if (auto s = w.open(); !s) return s.error();
            return w.keyframes->search(phrase, session, limit);
        }();
        m_mailbox.post([done, hits = std::move(hits)] { done(hits); });
    });
}

void ScreenSeeker::forget(int64_t session) {
    submit([session](Worker& w) {
        if (auto s = w.open(); !s) return;
        if (auto s = w.keyframes->remove_session(session); !s) log_warn("keyframes: " + s.error().message);
    });
}

}  // namespace tether
