// ScreenFollower: one thread that keeps every session's Screen up to date with the
// output already committed to the log. libvterm parses an order of magnitude slower than
// a PTY delivers, so parsing stays off the loop thread that drains PTYs into the log:
// the loop hands over committed chunks (copies, bounded per session; past the bound the
// thread re-reads them from the log through its own read-only connection) and the
// thread catches up as fast as it can. Whoever needs a screen (attach, `tether screen`)
// asks when_caught_up() and is called back on the loop thread with the screen locked.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/event_loop.h"
#include "base/mailbox.h"
#include "log/events.h"
#include "terminal/keyframes.h"
#include "terminal/screen.h"

namespace tether {

struct ScreenFollowerOptions {
    size_t queue_bytes = 1u << 20;  // per session; beyond it the thread reads the log
    size_t slice_bytes = 256u << 10;  // parsed per turn, so renders wait at most one slice
    size_t history_lines = 50000;
    bool keyframes = true;  // store keyframes (keyframes.h) as the screens follow the output
};

class ScreenFollower {
public:
    using ScreenFn = std::function<void(const Screen& screen, int64_t fed_seq)>;

    ScreenFollower(EventLoop& loop, std::string log_path, ScreenFollowerOptions options);
    ~ScreenFollower();
    ScreenFollower(const ScreenFollower&) = delete;
    ScreenFollower& operator=(const ScreenFollower&) = delete;

    // start_seq: the session's screen reflects nothing after this seq (its start).
    // watch_prompts: look for dialogs an agent shows before (or without) any hook.
    // committed_seq: for a session adopted with history, the last seq already in the
    // log: the thread catches the screen up from the log.
    void add_session(int64_t session, int cols, int rows, int64_t start_seq, bool watch_prompts = false,
                     int64_t committed_seq = 0);
    // Called on the loop thread when a watched session's screen starts showing a known
    // dialog: prompt is "trust" or "permission", text the screen's text.
    using PromptFn = std::function<void(int64_t session, const std::string& prompt, const std::string& text)>;
    void set_prompt_listener(PromptFn fn) { m_on_prompt = std::move(fn); }
    void remove_session(int64_t session);
    // Loop thread, after commit: OutputChunk, Resized and SessionExited events of followed
    // sessions (the end takes a last keyframe, for search).
    void committed(const Event& ev);
    // Runs fn on the loop thread once the screen has parsed everything committed for the
    // session so far, with the screen locked; fed_seq is the last event it reflects.
    // fn must not call back into the follower.
    void when_caught_up(int64_t session, ScreenFn fn);

private:
    struct Followed;
    void run();
    bool feed_slice(Followed& f, int64_t session, std::unique_ptr<class EventLog>& log);
    bool read_slice(Followed& f, int64_t session, int64_t target, std::unique_ptr<class EventLog>& log,
                    std::vector<Event>& batch);
    std::vector<Keyframe> parse(Followed& f, int64_t session, const std::vector<Event>& batch);
    void post_ready(Followed& f, int64_t session);
    void kick();
    void set_urgent(bool urgent);  // on the follower thread only
    void run_on_screen(int64_t session, const ScreenFn& fn);  // loop thread
    void store_keyframes(const std::vector<Keyframe>& frames);  // follower thread

    EventLoop& m_loop;
    std::string m_log_path;
    ScreenFollowerOptions m_options;

    std::mutex m_mutex;  // guards m_sessions (the map) and the work flags
    std::condition_variable m_work;
    std::map<int64_t, std::shared_ptr<Followed>> m_sessions;
    bool m_stop = false;
    bool m_kicked = false;  // work may have arrived since the thread last looked
    std::atomic<int> m_waiting{0};  // when_caught_up callers not yet served
    bool m_urgent = false;          // the follower thread's current priority (its own)

    Mailbox m_mailbox;  // what is ready -> the loop thread
    PromptFn m_on_prompt;
    std::unique_ptr<KeyframeStore> m_keyframes;  // follower thread only, opened on first use

    std::thread m_thread;
};

}  // namespace tether
