// The screen of a session at a past moment: the newest keyframe at or before it
// (keyframes.h), then the output after it through libvterm. Keyframes crossed on the way
// are stored, so the first seek into a session recorded without them (before an upgrade,
// after `admin rebuild`, a daemon that crashed) pays for the replay once. ScreenSeeker
// runs seeks on a worker thread of its own, with its own read-only connection to the
// log: a seek never blocks the loop that drains PTYs.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "log/event_log.h"
#include "base/event_loop.h"
#include "base/mailbox.h"
#include "terminal/keyframes.h"
#include "terminal/screen.h"

namespace tether {

struct ScreenAt {
    int64_t seq = 0;      // the last event the screen reflects
    int64_t time_us = 0;  // its time
    int64_t keyframe_seq = 0;  // where the replay started (0: the session's start)
    size_t replayed_bytes = 0;
    std::unique_ptr<Screen> screen;
};

// target_seq beyond the session's end gives its last screen. Fails for a session with
// no recorded start.
Result<ScreenAt> screen_at(EventLog& log, KeyframeStore* keyframes, int64_t session, int64_t target_seq);
// The session's last event at or before time_us (0 when there is none).
Result<int64_t> seq_at_time(EventLog& log, int64_t session, int64_t time_us);

// What a seek hands back to the loop thread: a rendered copy, not the Screen.
struct ScreenView {
    int64_t seq = 0, time_us = 0, keyframe_seq = 0;
    size_t replayed_bytes = 0;
    int cols = 0, rows = 0, cursor_row = 0, cursor_col = 0;
    bool alt_screen = false;
    std::string title, text, ansi;
};

class ScreenSeeker {
public:
    ScreenSeeker(EventLoop& loop, std::string log_path);
    ~ScreenSeeker();
    ScreenSeeker(const ScreenSeeker&) = delete;
    ScreenSeeker& operator=(const ScreenSeeker&) = delete;

    struct Target {
        int64_t session = 0;
        std::optional<int64_t> seq;      // one of the two; neither: the session's end
        std::optional<int64_t> time_us;
    };
    using Done = std::function<void(const Result<ScreenView>&)>;
    // done runs on the loop thread (never if the seeker is destroyed first).
    void seek(Target target, Done done);
    // Drops every keyframe, then takes them again for these sessions in the background.
    void rebuild(std::vector<int64_t> sessions);
    // Drops one session's keyframes (retention).
    void forget(int64_t session);
    // Full-text search in the rendered text kept with the keyframes (KeyframeStore::search).
    using SearchDone = std::function<void(const Result<std::vector<TextHit>>&)>;
    void search(std::string phrase, std::optional<int64_t> session, size_t limit, SearchDone done);

private:
    struct Worker;
    using Job = std::function<void(Worker&)>;
    void submit(Job job);
    void run();

    EventLoop& m_loop;
    std::string m_log_path;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Job> m_jobs;
    bool m_stop = false;
    Mailbox m_mailbox;  // the worker's answers -> the loop thread
    std::thread m_thread;
};

}  // namespace tether
