// The in-process daemon for the control-socket and hook fuzzers.
#include "fuzz_daemon.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "daemon.h"
#include "fuzz_support.h"
#include "wire/protocol.h"

namespace tether::fuzz {

bool is_unsafe_command(const std::string& cmd) {
    return cmd == "run" || cmd == "stop" || cmd == "adopt";
}

FuzzDaemon::FuzzDaemon(int restart_every) : m_restart_every(restart_every) {
    signal(SIGPIPE, SIG_IGN);
    quiet_daemon_logs();
    start();
}

FuzzDaemon::~FuzzDaemon() { stop(); }

void FuzzDaemon::start() {
    m_dir = scratch_dir() + "/daemon-" + std::to_string(++m_generation);
    std::filesystem::create_directories(m_dir + "/run");
    m_socket = m_dir + "/run/tetherd.sock";
    DaemonOptions options;
    options.paths.state_dir = m_dir + "/state";
    options.paths.socket_path = m_socket;
    auto config = load_config("");
    FUZZ_CHECK(bool(config), "default configuration");
    options.config = *config;
    options.store.flush_interval_ms = 0;  // commits on the next turn: no waiting on timers
    options.control.frame_timeout_ms = 60000;
    auto d = Daemon::start(options);
    if (!d) check_failed("Daemon::start", d.error().message, __FILE__, __LINE__);
    m_daemon = std::move(*d);
    turn(4);
}

void FuzzDaemon::stop() {
    m_daemon.reset();
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
}

void FuzzDaemon::turn(int times) {
    for (int i = 0; i < times; ++i) m_daemon->loop().run_ready();
}

namespace {

int connect_to(const std::string& path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    FUZZ_CHECK(fd >= 0, "socket");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::copy(path.begin(), path.end(), addr.sun_path);
    int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    FUZZ_CHECK(rc == 0, "connect to the in-process daemon");
    return fd;
}

}  // namespace

std::string FuzzDaemon::converse(const std::vector<std::string>& frames, bool send_hello) {
    if (m_conversations++ >= m_restart_every) {
        stop();
        start();
        m_conversations = 1;
    }
    std::string out = send_hello ? encode_json_frame(make_hello("tether")) : std::string();
    for (const auto& f : frames) out += f;
    int fd = connect_to(m_socket);
    std::string got;
    bool eof = false, shut = false;
    size_t sent = 0;
    auto started = std::chrono::steady_clock::now();
    int idle = 0;
    while (!eof) {
        turn(1);
        bool progress = false;
        if (sent < out.size()) {
            ssize_t n = send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
            if (n > 0) {
                sent += static_cast<size_t>(n);
                progress = true;
            } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                sent = out.size();  // the daemon closed on us: a fatal error reply, fine
            }
        } else if (!shut) {
            shutdown(fd, SHUT_WR);
            shut = true;
        }
        char buf[65536];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            if (got.size() < (1u << 20)) got.append(buf, static_cast<size_t>(n));
            progress = true;
        } else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            eof = true;
        }
        if (progress) {
            idle = 0;
            continue;
        }
        // Threads (the screen follower, seeks) answer through the loop: give them time.
        if (++idle > 8) {
            pollfd p{fd, POLLIN, 0};
            poll(&p, 1, 1);
        }
        FUZZ_CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20),
                   "the daemon did not close a connection whose client had left");
    }
    close(fd);
    turn(4);  // the commits and listeners the conversation caused
    return got;
}

}  // namespace tether::fuzz
