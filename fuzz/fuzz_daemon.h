// A real tetherd (the Daemon, with its store, sessions, hooks, rules and recordings) in
// the fuzzer's own process, on a state directory of its own, spoken to through its real
// control socket, the loop turned by the caller. One conversation = connect, hello, the
// frames, end of input; it returns once the daemon has closed the connection. Every
// `restart_every` conversations the daemon starts afresh on an empty state, so that
// state an input leaves behind (external sessions, events) stays small.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace tether {
class Daemon;
}

namespace tether::fuzz {

class FuzzDaemon {
public:
    explicit FuzzDaemon(int restart_every = 500);
    ~FuzzDaemon();

    // frames: encoded frames (protocol.h) sent after the client's hello. Returns what the
    // daemon wrote back, up to 1 MiB.
    std::string converse(const std::vector<std::string>& frames, bool send_hello = true);
    Daemon& daemon() { return *m_daemon; }

private:
    void start();
    void stop();
    void turn(int times);

    int m_restart_every;
    int m_conversations = 0;
    int m_generation = 0;
    std::string m_dir;
    std::string m_socket;
    std::unique_ptr<Daemon> m_daemon;
};

// Commands a fuzzer must not send to the in-process daemon: they start real programs,
// stop the daemon, or take over holders. Everything else is fair game.
bool is_unsafe_command(const std::string& cmd);

}  // namespace tether::fuzz
