// The blocking client side of the control socket, used by the tether CLI: connect
// (starting the daemon on demand), hello, request/reply, and raw frames for streams.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/paths.h"
#include "wire/protocol.h"
#include "base/result.h"

namespace tether {

class Client {
public:
    // Connects and exchanges hellos. With autostart, a missing daemon is started first.
    static Result<Client> connect(const Paths& paths, bool autostart);
    Client(Client&& o) noexcept : m_fd(o.m_fd), m_next_id(o.m_next_id), m_buf(std::move(o.m_buf)) { o.m_fd = -1; }
    Client& operator=(Client&&) = delete;
    ~Client();

    // Sends {"cmd": ..., args} and waits for the reply with the same id. A reply with
    // "ok": false becomes an Error carrying the daemon's message.
    Result<nlohmann::json> request(nlohmann::json req);

    Status send_frame(FrameType type, std::string_view body);
    // Waits up to timeout_ms (-1: forever); nullopt on timeout.
    Result<std::optional<Frame>> read_frame(int timeout_ms);
    int fd() const { return m_fd; }

private:
    explicit Client(int fd) : m_fd(fd) {}
    Result<std::optional<Frame>> take_buffered_frame();

    int m_fd;
    int64_t m_next_id = 1;
    std::string m_buf;
};

// Starts tetherd --daemonize for these paths and waits until it is ready.
Status start_daemon(const Paths& paths);
// The tetherd binary next to this executable, else "tetherd" from PATH.
std::string tetherd_path();

}  // namespace tether
