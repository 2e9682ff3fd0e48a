// Keyframes: serialized screens (Screen::snapshot) of a session at points of its output,
// so that the screen at any moment costs one restore plus a short tail of output instead
// of a replay from the start. A derived projection in its own file beside the log
// (keyframes.db, so that its writers never contend with the log's): it can be dropped
// at any time and is rebuilt from the log. Each thread opens its own connection.
//
// On disk (PRAGMA user_version = 2):
//   keyframes(session, seq, time, cols, rows, state BLOB, codec, PRIMARY KEY(session, seq))
//   -- the screen after event `seq` of `session`; state is Screen::snapshot() bytes (codec
//   -- 0) or a zstd frame of them (codec 1, version 2 on), or empty for a moment indexed
//   -- for search only (the end of a session); latest() is the one reader of states
//   screen_text USING fts5(text, session UNINDEXED, seq UNINDEXED, time UNINDEXED)
//   -- rowid = the keyframe's rowid; the rendered text there: the lines that scrolled
//   -- off since the previous keyframe, then the screen (for `tether grep`)
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "log/events.h"
#include "log/zstd_codec.h"
#include "base/result.h"
#include "terminal/screen.h"
#include "base/sqlite.h"

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
    std::string state;  // empty: text only
    std::string text;   // scrolled-off lines since the previous keyframe, then the screen
};

struct TextHit {
    int64_t session = 0, seq = 0, time_us = 0;
    std::string line;
    bool on_screen = false;  // false: it had scrolled off by seq (it was shown before)
};

class KeyframeStore {
public:
    static std::string path_beside(const std::string& event_log_path);
    static Result<std::unique_ptr<KeyframeStore>> open(const std::string& path);

    // A keyframe already stored for (session, seq) is kept as it is (they are equal).
    Status put(const std::vector<Keyframe>& frames);
    // The newest keyframe of the session at or before seq.
    Result<std::optional<Keyframe>> latest(int64_t session, int64_t at_most_seq);
    Status clear();
    Status remove_session(int64_t session);
    // Full-text search (an FTS5 phrase) in the rendered text; the lines that contain the
    // phrase's words, newest moments first.
    Result<std::vector<TextHit>> search(const std::string& phrase, std::optional<int64_t> session, size_t limit);

private:
    SqliteDb m_db;
    ZstdCompressor m_zstd;
    ZstdDecompressor m_unzstd;
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
    // At the session's end (`ev` is SessionExited): the last screen, for search, with a
    // snapshot when one can be taken.
    void finish(const Screen& screen, const Event& ev, std::vector<Keyframe>& out);

private:
    Keyframe take(const Screen& screen, const Event& ev, std::string state);

    size_t m_interval;
    size_t m_since = 0;
    uint64_t m_pushed = 0;  // screen.history_pushed() at the last keyframe
    std::optional<Keyframe> m_pending;
};

}  // namespace tether
