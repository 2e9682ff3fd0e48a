// Recordings: a session's log read back as a recording. The control commands
// `timeline` (the facts a person reads, as JSON lines) and `export` (asciicast v2) are
// streamed with ReplyStream, reading the log in bounded batches between commits on the
// loop thread; `screen` at a past moment and `grep` (the text kept with keyframes) run
// on the seek worker (screen_seek.h). Sessions and their live screens stay Sessions' business.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "wire/control_socket.h"
#include "terminal/screen_seek.h"
#include "state/store.h"

namespace tether {

class Recordings {
public:
    Recordings(EventLoop& loop, Store& store, std::string log_path);
    ~Recordings();

    // True when cmd was one of ours (answered now or later). `screen` reaches here when
    // it names a moment, or a session whose live screen is not in memory.
    bool handle(const std::shared_ptr<Connection>& conn, const std::string& cmd, const nlohmann::json& req);
    // After `admin rebuild`: the keyframes are taken again from the log, in the background.
    void rebuild();
    // A session pruned from the log: its keyframes go too.
    void forget(int64_t session) { m_seeker.forget(session); }

private:
    const SessionRow* session_of(const std::shared_ptr<Connection>& conn, const nlohmann::json& req, const char* what);
    void cmd_timeline(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_export(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_screen(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);
    void cmd_grep(const std::shared_ptr<Connection>& conn, const nlohmann::json& req);

    Store& m_store;
    ScreenSeeker m_seeker;
};

// The label of an asciicast "m" marker for an event, "" when it is not a moment to mark
// (state changes, the exit among them, and markers).
std::string marker_label(const Event& ev);

}  // namespace tether
