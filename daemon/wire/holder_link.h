// HolderLink: the daemon's end of one session's holder process (tether-holder, see
// holder/holder.h and holder_protocol.h). start() runs a new holder for a new session;
// connect() reaches a holder that outlived an earlier daemon. After that the link is a
// non-blocking framed socket: the session reads output frames from it and queues
// input, resizes, signals and acknowledgements on it.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wire/holder_protocol.h"
#include "base/result.h"

namespace tether {

struct HolderStart {
    int64_t session = 0;
    std::string holder_binary;  // tether-holder
    std::string socket_path;    // where it listens for later daemons
    std::string state_dir;
    size_t window = 1u << 20;
    SpawnRequest spawn;
};

class HolderLink {
public:
    // Runs a holder, which starts the agent. Returns once the agent has exec'd; a command
    // that cannot run is an error with the same text a direct spawn gives.
    static Result<std::unique_ptr<HolderLink>> start(const HolderStart& req);
    // Connects to a running holder and reads its hello (peer uid checked).
    static Result<std::unique_ptr<HolderLink>> connect(const std::string& socket_path, int timeout_ms);

    ~HolderLink();
    HolderLink(const HolderLink&) = delete;
    HolderLink& operator=(const HolderLink&) = delete;

    const HolderHello& hello() const { return m_hello; }
    int fd() const { return m_fd; }
    pid_t agent_pid() const { return m_hello.agent_pid; }
    pid_t holder_pid() const { return m_hello.holder_pid; }

    // Queued; write() sends what the socket takes.
    void resume(uint64_t offset);
    void ack(uint64_t offset);
    void input(std::string_view bytes);
    void resize(int cols, int rows);
    void signal(int sig);
    void collect();
    // Makes the holder session `session` of this daemon's log (adopting an orphan).
    void rebind(int64_t session, const std::string& state_dir, const std::string& socket_path);
    bool wants_write() const { return !m_outgoing.empty(); }
    // False once the holder is gone.
    bool write();

    // Reads up to max_bytes into the frame buffer. False once the holder is gone (after
    // the frames it sent before that have been taken with next()).
    bool read(size_t max_bytes);
    // The next whole frame; an error text (and nullopt) for a malformed stream.
    std::optional<HolderFrame> next(std::string* error) { return m_reader.next(error); }

private:
    explicit HolderLink(int fd) : m_fd(fd) {}
    Status read_hello(int timeout_ms);

    int m_fd;
    HolderHello m_hello;
    std::string m_outgoing;
    HolderFrameReader m_reader;
};

// Where a daemon's holders listen: beside its control socket, "<socket>-holders/<id>.sock".
std::string holders_dir_for(const std::string& control_socket);
std::string holder_socket_path(const std::string& holders_dir, int64_t session);
// The holder sockets in a holders directory ("<id>.sock"), by session id.
Result<std::vector<std::pair<int64_t, std::string>>> list_holder_sockets(const std::string& holders_dir);

}  // namespace tether
