// Keyframes: serialized screens (Screen::snapshot) of a session at points of its output,
// so that the screen at any moment costs one restore plus a short tail of output instead
// of a replay from the start. A derived projection in its own file beside the log
// (keyframes.db, so that its writers never contend with the log's): it can be dropped
// at any time and is rebuilt from the log. Each thread opens its own connection.
//
// On disk (PRAGMA user_version = 1):
//   keyframes(session, seq, time, cols, rows, state BLOB, PRIMARY KEY(session, seq))
//   -- the screen after event `seq` of `session`; state is Screen::snapshot() bytes
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "events.h"
#include "result.h"
#include "screen.h"
#include "sqlite.h"

namespace tether {

// A keyframe after about this much output; the seek's tail is at most this long plus
// the moments when no snapshot can be taken (screen.h).
inline constexpr size_t k_keyframe_interval_bytes = size_t{128} << 10;
// History lines a keyframe keeps: a later resize that grows the screen brings them back.
inline constexpr size_t k_keyframe_history_lines = 200;

struct Keyframe {
    int64_t session = 0;
    int64_t seq = 0;
    int64_t time_us = 0;
    int cols = 0, rows = 0;
    std::string state;
};

class KeyframeStore {
public:
    static std::string path_beside(const std::string& event_log_path);
    static Result<std::unique_ptr<KeyframeStore>> open(const std::string& path);

    Status put(const std::vector<Keyframe>& frames);
    // The newest keyframe of the session at or before seq.
    Result<std::optional<Keyframe>> latest(int64_t session, int64_t at_most_seq);
    Status clear();
    Status remove_session(int64_t session);

private:
    SqliteDb m_db;
};

// Decides when a screen that follows a session's output takes a keyframe. A snapshot
// taken right after text waits for the next chunk: it is kept if that chunk begins with
// ASCII (nothing that could combine with the text), dropped otherwise.
class KeyframeCadence {
public:
    explicit KeyframeCadence(size_t interval = k_keyframe_interval_bytes) : m_interval(interval) {}
    // After `ev` (an OutputChunk or a Resized) has been fed to `screen`; appends the
    // keyframes that are certain to `out`.
    void after(const Screen& screen, const Event& ev, std::vector<Keyframe>& out);

private:
    size_t m_interval;
    size_t m_since = 0;
    std::optional<Keyframe> m_pending;
};

}  // namespace tether
